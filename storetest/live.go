package storetest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
)

// The cases of SPEC 10: a request's SessionContext learns at once, on every
// instance, that its session ended.

// withAgent makes b send userAgent.
func withAgent(b *browser, userAgent string) *browser {
	b.Header = http.Header{"User-Agent": {userAgent}}
	return b
}

// maxDelay is how soon after the commit of the change that ended a session
// its watches must be cancelled over a NotifyingStore (SPEC 10: within 1 s).
const maxDelay = time.Second

// delayFor is how soon a store's watches must learn an ending: maxDelay
// over a NotifyingStore, within the 2 s poll otherwise.
func delayFor(store singlesession.Store) time.Duration {
	if _, ok := store.(singlesession.NotifyingStore); ok {
		return maxDelay
	}
	return 2*time.Second + maxDelay
}

// endedWithin reads the watch's next line, which must say that the session
// ended with reason, and come within delay of since; it returns the line.
func endedWithin(t *testing.T, s *testapp.Stream, since time.Time, delay time.Duration, reason singlesession.Reason) string {
	t.Helper()
	l, ok := s.Next(delay + 4*time.Second)
	require.True(t, ok, "the watch ends")
	took := l.At.Sub(since)
	t.Logf("cancelled %v after the commit: %q", took.Round(time.Millisecond), l.Text)
	require.True(t, strings.HasPrefix(l.Text, "ended "+string(reason)+" ") || l.Text == "ended "+string(reason)+" ", "ended with reason %q: %q", reason, l.Text)
	assert.Less(t, took, delay, "within %v of the commit", delay)
	return l.Text
}

// Every way a session ends cancels its watch, on another instance, within a
// second of the commit, with the reason: a login elsewhere, a limit, a
// logout elsewhere, this browser's own logout in another tab, a re-login on
// this browser, an operator, EndSession, EndOtherSessions.
func testLiveEndings(t *testing.T, b *Backend) {
	type setup struct {
		a1, a2 *app // the watching instance and the acting one
		A      *browser
	}
	ways := []struct {
		name   string
		opts   []option
		reason singlesession.Reason
		act    func(t *testing.T, s setup) // ends A's session
	}{
		{"login elsewhere", nil, singlesession.ReasonLogin, func(t *testing.T, s setup) {
			withAgent(s.a2.Browser("B"), "Agent/B").MustLogin("alice")
		}},
		{"limit", []option{withLimit(singlesession.Limit{Max: 2})}, singlesession.ReasonLogin, func(t *testing.T, s setup) {
			s.a2.Browser("C").MustLogin("alice")
			s.a2.Browser("B").MustLogin("alice") // A is the least recently used
		}},
		{"logout elsewhere", []option{withPolicy(singlesession.Never)}, singlesession.ReasonLogout, func(t *testing.T, s setup) {
			B := s.a2.Browser("B")
			B.MustLogin("alice")
			B.MustLogout()
		}},
		{"own logout in another tab", nil, "", func(t *testing.T, s setup) {
			tab := s.a2.Browser("tab")
			tab.SetCookie(s.A.Cookie())
			tab.MustLogout()
		}},
		{"re-login on this browser", nil, "", func(t *testing.T, s setup) {
			tab := s.a2.Browser("tab")
			tab.SetCookie(s.A.Cookie())
			tab.MustLogin("alice")
		}},
		{"operator", nil, singlesession.ReasonAdmin, func(t *testing.T, s setup) {
			_, err := s.a2.M.LogoutUsers(context.Background(), []string{"alice"})
			require.NoError(t, err)
		}},
		{"EndSession", []option{withPolicy(singlesession.Never)}, singlesession.ReasonRevoked, func(t *testing.T, s setup) {
			B := s.a2.Browser("B")
			B.MustLogin("alice")
			res, body := B.Do("POST", "/end-session", url.Values{"id": {s.A.ID()}})
			require.Equal(t, http.StatusNoContent, res.StatusCode, body)
		}},
		{"EndOtherSessions", []option{withPolicy(singlesession.Never)}, singlesession.ReasonRevoked, func(t *testing.T, s setup) {
			B := s.a2.Browser("B")
			B.MustLogin("alice")
			res, body := B.Do("POST", "/end-others", url.Values{})
			require.Equal(t, http.StatusOK, res.StatusCode, body)
		}},
	}
	{
		for _, way := range ways {
			t.Run(way.name, func(t *testing.T) {
				s := setup{a1: newApp(t, b.Store, way.opts...), a2: newApp(t, b.Second, way.opts...)}
				s.A = s.a1.Browser("A")
				s.A.MustLogin("alice")
				w := s.A.Watch()
				before := time.Now() // the commit comes after: the delay measured is at most the true one plus the act's requests
				way.act(t, s)
				endedWithin(t, w, before, delayFor(b.Store), way.reason)
				_, err := s.a1.M.LogoutUsers(context.Background(), []string{"alice"})
				require.NoError(t, err)
			})
		}
	}
}

// A session's expiry cancels its watch too, at the expiry, with
// ReasonExpired; with IdleTimeout the expiry slides while another request
// keeps the session alive, and the watch follows it.
func testLiveExpiry(t *testing.T, b *Backend) {
	{
		t.Run("lifetime", func(t *testing.T) {
			a := newApp(t, b.Store, withSessions(func(s *scs.SessionManager) { s.Lifetime = 2 * time.Second }))
			A := a.Browser("A")
			A.MustLogin("alice")
			expiry := time.Now().Add(2 * time.Second)
			w := A.Watch()
			endedWithin(t, w, expiry, delayFor(b.Store), singlesession.ReasonExpired)
		})
		t.Run("idle timeout", func(t *testing.T) {
			a := newApp(t, b.Store, withSessions(func(s *scs.SessionManager) { s.IdleTimeout = 2 * time.Second }))
			A := a.Browser("A")
			A.MustLogin("bob")
			w := A.Watch()
			for range 3 { // keep it alive past its first expiry from another tab
				time.Sleep(time.Second)
				require.Equal(t, "bob", A.WhoAmI())
			}
			_, ok := w.Next(100 * time.Millisecond)
			assert.False(t, ok, "the watch follows the sliding expiry")
			expiry := time.Now().Add(2 * time.Second)
			endedWithin(t, w, expiry, delayFor(b.Store), singlesession.ReasonExpired)
		})
	}
}
