package singlesession_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// app is an HTTP application over a Manager, with routes that drive each hook.
type app struct {
	t        testing.TB
	sessions *scs.SessionManager
	store    singlesession.Store
	m        *singlesession.Manager
	srv      *httptest.Server
	hashed   bool

	// slowPut: the handler signals entered, then waits for release.
	entered chan struct{}
	release chan struct{}

	errors atomic.Int32 // calls of ErrorFunc
	logs   *syncBuffer  // the Manager's logs, Debug and up

}

// appSetup is what the options of newApp change.
type appSetup struct {
	sessions *scs.SessionManager
	cfg      singlesession.Config
	routes   map[string]func(a *app) http.HandlerFunc
}

type appOption func(*appSetup)

func withPolicy(p singlesession.Policy) appOption {
	return func(s *appSetup) { s.cfg.Policy = p }
}

func keepOthersOnLogout() appOption {
	return func(s *appSetup) { s.cfg.KeepOtherSessionsOnLogout = true }
}

func withSessions(f func(*scs.SessionManager)) appOption {
	return func(s *appSetup) { f(s.sessions) }
}

// withRoute adds a route whose handler is made once the app exists.
func withRoute(pattern string, h func(a *app) http.HandlerFunc) appOption {
	return func(s *appSetup) { s.routes[pattern] = h }
}

// newApp serves a Manager over store on an httptest server.
func newApp(t testing.TB, store singlesession.Store, opts ...appOption) *app {
	t.Helper()
	a := &app{t: t, store: store, entered: make(chan struct{}, 64), release: make(chan struct{}), logs: &syncBuffer{}}
	setup := &appSetup{sessions: scs.New(), routes: map[string]func(*app) http.HandlerFunc{}}
	setup.cfg = singlesession.Config{
		Logger: slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ErrorFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			a.errors.Add(1)
			t.Logf("ErrorFunc: %v", err)
			http.Error(w, "store error: "+err.Error(), http.StatusInternalServerError)
		},
	}
	for _, o := range opts {
		o(setup)
	}
	a.sessions = setup.sessions
	a.hashed = a.sessions.HashTokenInStore
	m, err := singlesession.New(a.sessions, store, setup.cfg)
	require.NoError(t, err)
	a.m = m
	mux := a.routes()
	for pattern, h := range setup.routes {
		mux.HandleFunc(pattern, h(a))
	}
	a.srv = httptest.NewServer(m.Middleware(mux))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if d, err := time.ParseDuration(r.FormValue("timeout")); err == nil {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		if err := a.m.LoginHook(ctx, r.FormValue("user")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("X-User-After", a.m.UserID(r.Context()))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.LogoutHook(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("X-User-After", a.m.UserID(r.Context()))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, a.m.UserID(r.Context()))
	})
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, a.sessions.Token(r.Context()))
	})
	mux.HandleFunc("POST /put", func(w http.ResponseWriter, r *http.Request) {
		a.sessions.Put(r.Context(), r.FormValue("key"), r.FormValue("val"))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, a.sessions.GetString(r.Context(), r.FormValue("key")))
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		a.entered <- struct{}{}
		<-a.release
		io.WriteString(w, "done")
	})
	mux.HandleFunc("POST /slow-put", func(w http.ResponseWriter, r *http.Request) {
		a.entered <- struct{}{}
		<-a.release
		a.sessions.Put(r.Context(), r.FormValue("key"), r.FormValue("val"))
		io.WriteString(w, "done")
	})
	return mux
}

// storeToken is the key the store keeps a cookie value under.
func (a *app) storeToken(cookie string) string {
	if !a.hashed {
		return cookie
	}
	h := sha256.Sum256([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// browser is one browser: its own cookie jar.
type browser struct {
	t    testing.TB
	a    *app
	c    *http.Client
	name string
}

func (a *app) browser(name string) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(a.t, err)
	return &browser{t: a.t, a: a, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}, name: name}
}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.a.srv.URL+path, body)
	require.NoError(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return res, string(text)
}

func (b *browser) login(user string) *http.Response {
	b.t.Helper()
	res, _ := b.do("POST", "/login", url.Values{"user": {user}})
	return res
}

func (b *browser) mustLogin(user string) {
	b.t.Helper()
	res := b.login(user)
	require.Equal(b.t, http.StatusNoContent, res.StatusCode, "%s: login as %q", b.name, user)
}

func (b *browser) logout() *http.Response {
	b.t.Helper()
	res, _ := b.do("POST", "/logout", url.Values{})
	return res
}

func (b *browser) whoami() string {
	b.t.Helper()
	res, body := b.do("GET", "/whoami", nil)
	require.Equal(b.t, http.StatusOK, res.StatusCode, "%s: whoami: %s", b.name, body)
	return body
}

func (b *browser) put(key, val string) {
	b.t.Helper()
	res, body := b.do("POST", "/put", url.Values{"key": {key}, "val": {val}})
	require.Equal(b.t, http.StatusNoContent, res.StatusCode, "%s: put: %s", b.name, body)
}

func (b *browser) get(key string) string {
	b.t.Helper()
	_, body := b.do("GET", "/get?key="+url.QueryEscape(key), nil)
	return body
}

// cookie returns the browser's session cookie value ("" when none).
func (b *browser) cookie() string {
	u, _ := url.Parse(b.a.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == b.a.sessions.Cookie.Name {
			return c.Value
		}
	}
	return ""
}

// setCookie replaces the browser's session cookie, as a replayed or forged one.
func (b *browser) setCookie(value string) {
	u, _ := url.Parse(b.a.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: b.a.sessions.Cookie.Name, Value: value, Path: "/"}})
}

// exists reports whether the store still holds the browser's session.
func (b *browser) exists() bool {
	b.t.Helper()
	f, err := b.a.store.Find(context.Background(), b.a.storeToken(b.cookie()), time.Minute)
	found := f.Found
	require.NoError(b.t, err)
	return found
}

// newServer serves h on an httptest server closed when t ends.
func newServer(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// scsVariants are the scs options under which sessions are saved differently:
// IdleTimeout saves on every request, HashTokenInStore changes the store key.
var scsVariants = map[string]func(*scs.SessionManager){
	"plain":           func(*scs.SessionManager) {},
	"idle timeout":    func(s *scs.SessionManager) { s.IdleTimeout = time.Hour },
	"hashed token":    func(s *scs.SessionManager) { s.HashTokenInStore = true },
	"idle and hashed": func(s *scs.SessionManager) { s.IdleTimeout = time.Hour; s.HashTokenInStore = true },
}
