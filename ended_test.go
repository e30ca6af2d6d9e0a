package singlesession_test

import (
	"context"
	"encoding/json"
	"errors"
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

// endedReply is what GET /ended answers: Manager.Ended of the request.
type endedReply struct {
	Ended  bool
	Ending singlesession.Ending
}

// withEndedRoute serves GET /ended, and the routes of the user's own
// sessions: GET /sessions (JSON), POST /end-session (id; 404 for
// ErrSessionNotFound), POST /end-others (the count).
func withEndedRoute() appOption {
	return func(s *appSetup) {
		s.routes["GET /ended"] = func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				e, ok := a.m.Ended(r.Context())
				json.NewEncoder(w).Encode(endedReply{Ended: ok, Ending: e})
			}
		}
		s.routes["GET /sessions"] = func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				list, err := a.m.Sessions(r.Context())
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				json.NewEncoder(w).Encode(list)
			}
		}
		s.routes["POST /end-session"] = func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				err := a.m.EndSession(r.Context(), r.FormValue("id"))
				switch {
				case errors.Is(err, singlesession.ErrSessionNotFound):
					http.Error(w, err.Error(), http.StatusNotFound)
				case err != nil:
					http.Error(w, err.Error(), http.StatusInternalServerError)
				default:
					w.WriteHeader(http.StatusNoContent)
				}
			}
		}
		s.routes["POST /end-others"] = func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				n, err := a.m.EndOtherSessions(r.Context())
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				fmt.Fprint(w, n)
			}
		}
	}
}

// ended asks the app why the browser's session ended.
func (b *browser) ended() (singlesession.Ending, bool) {
	b.t.Helper()
	res, body := b.do("GET", "/ended", nil)
	require.Equal(b.t, http.StatusOK, res.StatusCode, body)
	var r endedReply
	require.NoError(b.t, json.Unmarshal([]byte(body), &r))
	return r.Ending, r.Ended
}

// sessions returns the browser's own session list.
func (b *browser) sessions() []singlesession.SessionInfo {
	b.t.Helper()
	res, body := b.do("GET", "/sessions", nil)
	require.Equal(b.t, http.StatusOK, res.StatusCode, body)
	var list []singlesession.SessionInfo
	require.NoError(b.t, json.Unmarshal([]byte(body), &list))
	return list
}

// currentID returns the ID of the browser's own session.
func (b *browser) currentID() string {
	b.t.Helper()
	for _, s := range b.sessions() {
		if s.Current {
			return s.ID
		}
	}
	b.t.Fatalf("%s: no current session", b.name)
	return ""
}

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
			other.mustLogin("alice")
		}, singlesession.ReasonLogin, "Firefox on the laptop"},
		{"evicted by a limit", []appOption{withLimit(singlesession.Limit{Max: 2})}, func(t *testing.T, a *app, kicked, other *browser) {
			other.mustLogin("alice")
			a.browser("third").as("Safari", "").mustLogin("alice")
		}, singlesession.ReasonLogin, "Safari"},
		{"signed out elsewhere", []appOption{withPolicy(singlesession.Never)}, func(t *testing.T, a *app, kicked, other *browser) {
			other.mustLogin("alice")
			require.Equal(t, http.StatusNoContent, other.logout().StatusCode)
		}, singlesession.ReasonLogout, "Firefox on the laptop"},
		{"ended from another session", []appOption{withPolicy(singlesession.Never)}, func(t *testing.T, a *app, kicked, other *browser) {
			id := kicked.currentID()
			other.mustLogin("alice")
			res, body := other.do("POST", "/end-session", url.Values{"id": {id}})
			require.Equal(t, http.StatusNoContent, res.StatusCode, body)
		}, singlesession.ReasonRevoked, "Firefox on the laptop"},
		{"all others ended", []appOption{withPolicy(singlesession.Never)}, func(t *testing.T, a *app, kicked, other *browser) {
			other.mustLogin("alice")
			_, body := other.do("POST", "/end-others", url.Values{})
			require.Equal(t, "1", body)
		}, singlesession.ReasonRevoked, "Firefox on the laptop"},
		{"an operator", nil, func(t *testing.T, a *app, kicked, other *browser) {
			n, err := a.m.LogoutUser(context.Background(), "alice")
			require.NoError(t, err)
			require.Equal(t, 1, n)
		}, singlesession.ReasonAdmin, ""},
	}
	forEachStore(t, func(t *testing.T, e *env) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := newApp(t, e.store, append([]appOption{withEndedRoute()}, c.opts...)...)
				_, err := a.m.LogoutUser(context.Background(), "alice") // the store is shared by the cases
				require.NoError(t, err)
				kicked := a.browser("kicked").as("Chrome on the phone", "")
				other := a.browser("other").as("Firefox on the laptop", "")
				kicked.mustLogin("alice")
				before := time.Now()
				c.end(t, a, kicked, other)

				for range 2 { // on every request, not only the first
					ending, ok := kicked.ended()
					require.True(t, ok, "the kicked browser learns why")
					assert.Equal(t, c.reason, ending.Reason)
					assert.Equal(t, c.agent, ending.UserAgent)
					assert.WithinDuration(t, before, ending.At, time.Minute)
					assert.Equal(t, "", kicked.whoami())
				}
				kicked.mustLogin("alice")
				_, ok := kicked.ended()
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
		a := newApp(t, e.store, withEndedRoute(), withRoute("POST /login-then-ended", func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				require.NoError(t, a.m.LoginHook(r.Context(), "alice"))
				_, ok := a.m.Ended(r.Context())
				fmt.Fprint(w, ok)
			}
		}))
		t.Run("live session", func(t *testing.T) {
			b := a.browser("live")
			b.mustLogin("live")
			_, ok := b.ended()
			assert.False(t, ok)
		})
		t.Run("no cookie", func(t *testing.T) {
			_, ok := a.browser("new").ended()
			assert.False(t, ok)
		})
		t.Run("unknown token", func(t *testing.T) {
			b := a.browser("forged")
			b.setCookie("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
			_, ok := b.ended()
			assert.False(t, ok)
		})
		t.Run("plain expiry", func(t *testing.T) {
			b := a.browser("expired")
			b.mustLogin("expiring")
			expire(t, e, a.storeToken(b.cookie()))
			_, ok := b.ended()
			assert.False(t, ok)
			_, err := a.m.DeleteExpired(context.Background())
			require.NoError(t, err)
			_, ok = b.ended()
			assert.False(t, ok)
		})
		t.Run("own logout, old cookie replayed", func(t *testing.T) {
			b := a.browser("own")
			b.mustLogin("self")
			old := b.cookie()
			require.Equal(t, http.StatusNoContent, b.logout().StatusCode)
			_, ok := b.ended()
			assert.False(t, ok)
			b.setCookie(old)
			_, ok = b.ended()
			assert.False(t, ok, "the browser's own logout records no reason")
		})
		t.Run("signing in again in the same request", func(t *testing.T) {
			kicked, other := a.browser("kicked"), a.browser("other")
			kicked.mustLogin("alice")
			other.mustLogin("alice")
			_, ok := kicked.ended()
			require.True(t, ok)
			_, body := kicked.do("POST", "/login-then-ended", url.Values{})
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
				a := newApp(t, e.store, withEndedRoute(), withSessions(func(s *scs.SessionManager) { s.HashTokenInStore = hashed }))
				var kicked []string
				for i := range 5 {
					b := a.browser(fmt.Sprint(i))
					b.mustLogin("alice")
					kicked = append(kicked, b.cookie())
				}
				a.browser("last").mustLogin("alice")
				require.Equal(t, 5, endings(t, e))
				for _, token := range kicked {
					for _, secret := range []string{token, a.storeToken(token)} {
						assert.False(t, holdsText(t, e, secret), "no table holds %s of an ended session", singlesession.SessionID(secret))
					}
				}

				// Once the ended sessions would have expired, cleanup deletes
				// what was remembered.
				_, err := a.m.DeleteExpired(context.Background())
				require.NoError(t, err)
				assert.Equal(t, 5, endings(t, e), "kept until the session would have expired")
				expireEndings(t, e)
				_, err = a.m.DeleteExpired(context.Background())
				require.NoError(t, err)
				assert.Zero(t, endings(t, e))
				_, err = a.m.LogoutUser(context.Background(), "alice")
				require.NoError(t, err)
				expireEndings(t, e)
				_, err = a.m.DeleteExpired(context.Background())
				require.NoError(t, err)
			})
		}
	})
}

// endings returns how many endings the store remembers.
func endings(t testing.TB, e *env) int {
	t.Helper()
	if s, ok := e.store.(*singlesession.MemoryStore); ok {
		return s.Endings()
	}
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM singlesession_endings`).Scan(&n))
	return n
}

// expireEndings makes every remembered ending past its session's expiry.
func expireEndings(t testing.TB, e *env) {
	t.Helper()
	if s, ok := e.store.(*singlesession.MemoryStore); ok {
		s.ExpireEndings()
		return
	}
	_, err := e.pool.Exec(context.Background(), `UPDATE singlesession_endings SET expiry = now() - interval '1 second'`)
	require.NoError(t, err)
}

// holdsText reports whether any row of any table of the store contains s.
func holdsText(t testing.TB, e *env, s string) bool {
	t.Helper()
	if m, ok := e.store.(*singlesession.MemoryStore); ok {
		return m.Holds(s)
	}
	ctx := context.Background()
	rows, err := e.pool.Query(ctx, `SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()`)
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
		require.NoError(t, e.pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %q AS x WHERE strpos(x::text, $1) > 0`, table), s).Scan(&n))
		if n > 0 {
			t.Logf("%s holds it", table)
			return true
		}
	}
	return false
}
