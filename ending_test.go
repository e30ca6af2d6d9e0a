package singlesession_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// Rule 6.1.6: each reason, as the browser whose session was ended sees it on
// its next requests, with the acting request's User-Agent ("" for
// operators); and nothing once that browser signs in again.
func TestEndedTellsWhy(t *testing.T) {
	cases := []struct {
		name   string
		opts   []appOption
		end    func(t *testing.T, a *app, kicked, other *browser)
		reason singlesession.Reason
		agent  string
	}{
		{"signed in elsewhere", nil, func(t *testing.T, a *app, kicked, other *browser) {
			other.MustLogin("alice")
		}, singlesession.ReasonLogin, "Firefox on the laptop"},
		{"evicted by a limit", []appOption{withLimit(singlesession.Limit{Max: 2})}, func(t *testing.T, a *app, kicked, other *browser) {
			other.MustLogin("alice")
			as(a.Browser("third"), "Safari", "").MustLogin("alice")
		}, singlesession.ReasonLogin, "Safari"},
		{"signed out elsewhere", []appOption{withPolicy(singlesession.Never)}, func(t *testing.T, a *app, kicked, other *browser) {
			other.MustLogin("alice")
			require.Equal(t, http.StatusNoContent, other.Logout().StatusCode)
		}, singlesession.ReasonLogout, "Firefox on the laptop"},
		{"ended from another session", []appOption{withPolicy(singlesession.Never)}, func(t *testing.T, a *app, kicked, other *browser) {
			id := kicked.CurrentID()
			other.MustLogin("alice")
			res, body := other.Do("POST", "/end-session", url.Values{"id": {id}})
			require.Equal(t, http.StatusNoContent, res.StatusCode, body)
		}, singlesession.ReasonRevoked, "Firefox on the laptop"},
		{"all others ended", []appOption{withPolicy(singlesession.Never)}, func(t *testing.T, a *app, kicked, other *browser) {
			other.MustLogin("alice")
			_, body := other.Do("POST", "/end-others", url.Values{})
			require.Equal(t, "1", body)
		}, singlesession.ReasonRevoked, "Firefox on the laptop"},
		{"an operator", nil, func(t *testing.T, a *app, kicked, other *browser) {
			n, err := a.M.LogoutUser(context.Background(), "alice")
			require.NoError(t, err)
			require.Equal(t, 1, n)
		}, singlesession.ReasonAdmin, ""},
	}
	forEachStore(t, func(t *testing.T, e *env) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := newApp(t, e.Store, append([]appOption{}, c.opts...)...)
				_, err := a.M.LogoutUser(context.Background(), "alice") // the store is shared by the cases
				require.NoError(t, err)
				kicked := as(a.Browser("kicked"), "Chrome on the phone", "")
				other := as(a.Browser("other"), "Firefox on the laptop", "")
				kicked.MustLogin("alice")
				before := time.Now()
				c.end(t, a, kicked, other)

				for range 2 { // on every request, not only the first
					ending, ok := kicked.Ending()
					require.True(t, ok, "the kicked browser learns why")
					assert.Equal(t, c.reason, ending.Reason)
					assert.Equal(t, c.agent, ending.UserAgent)
					assert.WithinDuration(t, before, ending.At, time.Minute)
					assert.Equal(t, "", kicked.WhoAmI())
				}
				kicked.MustLogin("alice")
				_, ok := kicked.Ending()
				assert.False(t, ok, "nothing once the browser signed in again")
			})
		}
	})
}

// Rule 6.1.6: Ended says nothing for a live session, no cookie, an unknown
// token, a plain expiry, the browser's own logout (even with its old cookie
// sent again), or within the request that signs the browser in again.
func TestEndedSaysNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withRoute("POST /login-then-ended", func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				require.NoError(t, a.M.LoginHook(r.Context(), "alice"))
				_, ok := a.M.Ended(r.Context())
				fmt.Fprint(w, ok)
			}
		}))
		t.Run("live session", func(t *testing.T) {
			b := a.Browser("live")
			b.MustLogin("live")
			_, ok := b.Ending()
			assert.False(t, ok)
		})
		t.Run("no cookie", func(t *testing.T) {
			_, ok := a.Browser("new").Ending()
			assert.False(t, ok)
		})
		t.Run("unknown token", func(t *testing.T) {
			b := a.Browser("forged")
			b.SetCookie("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
			_, ok := b.Ending()
			assert.False(t, ok)
		})
		t.Run("plain expiry", func(t *testing.T) {
			b := a.Browser("expired")
			b.MustLogin("expiring")
			expire(t, e, a.StoreToken(b.Cookie()))
			_, ok := b.Ending()
			assert.False(t, ok)
			_, err := a.M.DeleteExpired(context.Background())
			require.NoError(t, err)
			_, ok = b.Ending()
			assert.False(t, ok)
		})
		t.Run("own logout, old cookie replayed", func(t *testing.T) {
			b := a.Browser("own")
			b.MustLogin("self")
			old := b.Cookie()
			require.Equal(t, http.StatusNoContent, b.Logout().StatusCode)
			_, ok := b.Ending()
			assert.False(t, ok)
			b.SetCookie(old)
			_, ok = b.Ending()
			assert.False(t, ok, "the browser's own logout records no reason")
		})
		t.Run("signing in again in the same request", func(t *testing.T) {
			kicked, other := a.Browser("kicked"), a.Browser("other")
			kicked.MustLogin("alice")
			other.MustLogin("alice")
			_, ok := kicked.Ending()
			require.True(t, ok)
			_, body := kicked.Do("POST", "/login-then-ended", url.Values{})
			assert.Equal(t, "false", body)
		})
	})
}

// Rule 6.1.6: what is remembered is keyed by a hash, never by the token (raw
// or as scs's store key), and DeleteExpired deletes it once the ended
// session would have expired; no table grows without bound.
func TestEndingsAreHashedAndBounded(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, hashed := range []bool{false, true} {
			t.Run(fmt.Sprint("HashTokenInStore ", hashed), func(t *testing.T) {
				a := newApp(t, e.Store, withSessions(func(s *scs.SessionManager) { s.HashTokenInStore = hashed }))
				var kicked []string
				for i := range 5 {
					b := a.Browser(fmt.Sprint(i))
					b.MustLogin("alice")
					kicked = append(kicked, b.Cookie())
				}
				a.Browser("last").MustLogin("alice")
				require.Equal(t, 5, endings(t, e))
				for _, token := range kicked {
					for _, secret := range []string{token, a.StoreToken(token)} {
						assert.False(t, holdsText(t, e, secret), "no table holds %s of an ended session", singlesession.SessionID(secret))
					}
				}

				// Once the ended sessions would have expired, cleanup deletes
				// what was remembered.
				_, err := a.M.DeleteExpired(context.Background())
				require.NoError(t, err)
				assert.Equal(t, 5, endings(t, e), "kept until the session would have expired")
				expireEndings(t, e)
				_, err = a.M.DeleteExpired(context.Background())
				require.NoError(t, err)
				assert.Zero(t, endings(t, e))
				_, err = a.M.LogoutUser(context.Background(), "alice")
				require.NoError(t, err)
				expireEndings(t, e)
				_, err = a.M.DeleteExpired(context.Background())
				require.NoError(t, err)
			})
		}
	})
}

// endings returns how many endings the store remembers.
func endings(t testing.TB, e *env) int {
	t.Helper()
	if s, ok := e.Store.(*singlesession.MemoryStore); ok {
		return s.Endings()
	}
	var n int
	require.NoError(t, e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM singlesession_endings`).Scan(&n))
	return n
}

// expireEndings makes every remembered ending past its session's expiry.
func expireEndings(t testing.TB, e *env) {
	t.Helper()
	if s, ok := e.Store.(*singlesession.MemoryStore); ok {
		s.ExpireEndings()
		return
	}
	_, err := e.Pool.Exec(context.Background(), `UPDATE singlesession_endings SET expiry = now() - interval '1 second'`)
	require.NoError(t, err)
}

// holdsText reports whether any row of any table of the store contains s.
func holdsText(t testing.TB, e *env, s string) bool {
	t.Helper()
	if m, ok := e.Store.(*singlesession.MemoryStore); ok {
		return m.Holds(s)
	}
	ctx := context.Background()
	rows, err := e.Pool.Query(ctx, `SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	for _, table := range tables {
		var n int
		require.NoError(t, e.Pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %q AS x WHERE strpos(x::text, $1) > 0`, table), s).Scan(&n))
		if n > 0 {
			t.Logf("%s holds it", table)
			return true
		}
	}
	return false
}
