package oteltest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
)

// Tokens collects every session token a test makes: the cookie values the
// server sets and browsers send, and every token the store is handed or
// returns.
type Tokens struct {
	mu     sync.Mutex
	seen   map[string]bool
	cookie string // the session cookie's name
}

// NewTokens returns an empty collection for the tokens of sessions whose
// cookie is named cookie.
func NewTokens(cookie string) *Tokens {
	return &Tokens{seen: map[string]bool{}, cookie: cookie}
}

func (k *Tokens) add(token string) {
	if token == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seen[token] = true
}

// Len returns how many distinct tokens were collected.
func (k *Tokens) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.seen)
}

// Watch records every session cookie that b sends and that the server sets
// for it, and returns b.
func (k *Tokens) Watch(b *testapp.Browser) *testapp.Browser {
	next := b.Client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	b.Client.Transport = roundTripper(func(r *http.Request) (*http.Response, error) {
		if c, err := r.Cookie(k.cookie); err == nil {
			k.add(c.Value)
		}
		res, err := next.RoundTrip(r)
		if err == nil {
			for _, c := range res.Cookies() {
				if c.Name == k.cookie {
					k.add(c.Value)
				}
			}
		}
		return res, err
	})
	return b
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Store returns s with every token it is handed, or returns, recorded; it
// has the optional interfaces of s.
func (k *Tokens) Store(s singlesession.Store) singlesession.Store {
	return Subset(recording{Delegate{s}, k}, Bits(s))
}

// Forms returns every form in which a collected token could leak: the
// token, its SHA-256 as scs's HashTokenInStore hands it to the store
// (base64url without padding), and its SHA-256 in hex.
func (k *Tokens) Forms() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for token := range k.seen {
		sum := sha256.Sum256([]byte(token))
		out = append(out, token, testapp.HashToken(token), hex.EncodeToString(sum[:]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// recording records the tokens a store is handed.
type recording struct {
	Delegate
	k *Tokens
}

func (r recording) Find(ctx context.Context, token string, staleAfter time.Duration) (singlesession.FindResult, error) {
	r.k.add(token)
	return r.Delegate.Find(ctx, token, staleAfter)
}

func (r recording) Insert(ctx context.Context, token string, data []byte, expiry time.Time) error {
	r.k.add(token)
	return r.Delegate.Insert(ctx, token, data, expiry)
}

func (r recording) Update(ctx context.Context, u singlesession.Update) (bool, error) {
	r.k.add(u.Token)
	return r.Delegate.Update(ctx, u)
}

func (r recording) Touch(ctx context.Context, token string) error {
	r.k.add(token)
	return r.Delegate.Touch(ctx, token)
}

func (r recording) Login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	r.k.add(l.Token)
	for _, t := range l.Replaces {
		r.k.add(t)
	}
	return r.Delegate.Login(ctx, l)
}

func (r recording) Logout(ctx context.Context, l singlesession.Logout) (singlesession.LogoutResult, error) {
	for _, t := range l.Tokens {
		r.k.add(t)
	}
	return r.Delegate.Logout(ctx, l)
}

func (r recording) EndSessions(ctx context.Context, e singlesession.EndSessions) (singlesession.EndSessionsResult, error) {
	r.k.add(e.By)
	return r.Delegate.EndSessions(ctx, e)
}

func (r recording) All(ctx context.Context) (map[string][]byte, error) {
	all, err := r.Delegate.All(ctx)
	for token := range all {
		r.k.add(token)
	}
	return all, err
}

// Mentions returns where what tel recorded contains one of words: span
// names, span attributes, span events' names and attributes, links, status
// descriptions, and the attributes of every metric data point. Each entry
// names the place and the word.
func Mentions(t testing.TB, tel *Telemetry, words []string) []string {
	t.Helper()
	var found []string
	check := func(where, text string) {
		for _, w := range words {
			if w != "" && strings.Contains(text, w) {
				found = append(found, fmt.Sprintf("%s holds %q: %q", where, w, text))
			}
		}
	}
	checkAttrs := func(where string, attrs []attribute.KeyValue) {
		for _, kv := range attrs {
			check(where+" attribute "+string(kv.Key), kv.Value.String())
		}
	}
	for _, s := range tel.Spans("") {
		where := "span " + s.Name()
		check(where+" name", s.Name())
		check(where+" status", s.Status().Description)
		checkAttrs(where, s.Attributes())
		for _, e := range s.Events() {
			check(where+" event name", e.Name)
			checkAttrs(where+" event "+e.Name, e.Attributes)
		}
		for _, l := range s.Links() {
			checkAttrs(where+" link", l.Attributes)
		}
	}
	for _, sm := range tel.Collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			where := "metric " + m.Name
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					checkAttrs(where, dp.Attributes.ToSlice())
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					checkAttrs(where, dp.Attributes.ToSlice())
				}
			default:
				t.Fatalf("%s: data of an unexpected type %T", where, m.Data)
			}
		}
	}
	return found
}
