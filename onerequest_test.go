package singlesession_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hooks combined in one request.
func TestHooksInOneRequest(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store,
			withRoute("POST /in-out", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					require.NoError(t, a.m.LoginHook(r.Context(), "bob"))
					require.NoError(t, a.m.LogoutHook(r.Context()))
					io.WriteString(w, a.m.UserID(r.Context()))
				}
			}),
			withRoute("POST /twice", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					require.NoError(t, a.m.LoginHook(r.Context(), "carol"))
					require.NoError(t, a.m.LoginHook(r.Context(), "dave"))
				}
			}),
			withRoute("POST /panic", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					require.NoError(t, a.m.LoginHook(r.Context(), "erin"))
					panic(http.ErrAbortHandler)
				}
			}),
		)

		// Login then logout: the browser ends anonymous, its old session
		// ended, and, like any logout, every other session of the user.
		elsewhere := a.browser("elsewhere")
		elsewhere.mustLogin("bob")
		b := a.browser("b")
		b.mustLogin("alice")
		old := a.storeToken(b.cookie())
		_, who := b.do("POST", "/in-out", url.Values{})
		assert.Equal(t, "", who)
		assert.Equal(t, "", b.whoami())
		assertGone(t, e, old)
		assert.Equal(t, "", elsewhere.whoami(), "bob's other session ended with the logout")
		assert.Equal(t, 0, e.sessionsOf(t, "bob"))

		// Twice: the second user wins, the first never had a session.
		c := a.browser("c")
		c.do("POST", "/twice", url.Values{})
		assert.Equal(t, "dave", c.whoami())
		assert.Equal(t, 0, e.sessionsOf(t, "carol"))

		// A panic after LoginHook saves nothing: the browser is as it was.
		p := a.browser("p")
		p.put("cart", "melon")
		cookie := p.cookie()
		req, _ := http.NewRequest("POST", a.srv.URL+"/panic", nil)
		if res, err := p.c.Do(req); err == nil {
			res.Body.Close()
		}
		assert.Equal(t, cookie, p.cookie())
		assert.Equal(t, "melon", p.get("cart"))
		assert.Equal(t, 0, e.sessionsOf(t, "erin"))
	})
}

// The application's own Destroy or RenewToken after LoginHook cancels the
// login (safely: the browser is signed out) and says so in the log.
func TestDestroyOrRenewAfterLoginHookCancelsLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for name, after := range map[string]func(*scs.SessionManager, context.Context) error{
			"Destroy":    (*scs.SessionManager).Destroy,
			"RenewToken": (*scs.SessionManager).RenewToken,
		} {
			t.Run(name, func(t *testing.T) {
				a := newApp(t, e.store, withRoute("POST /login-then", func(a *app) http.HandlerFunc {
					return func(w http.ResponseWriter, r *http.Request) {
						require.NoError(t, a.m.LoginHook(r.Context(), "bob"))
						require.NoError(t, after(a.sessions, r.Context()))
						io.WriteString(w, a.m.UserID(r.Context()))
					}
				}))
				b := a.browser("b")
				b.mustLogin("alice")
				old := a.storeToken(b.cookie())
				_, who := b.do("POST", "/login-then", url.Values{})
				assert.Equal(t, "", who)
				assert.Equal(t, "", b.whoami())
				assertGone(t, e, old)
				assert.Equal(t, 0, e.sessionsOf(t, "bob"))
				assert.Contains(t, a.logs.String(), "the login is cancelled")
			})
		}
	})
}

// Rule 13: within one request UserID follows LoginHook at once.
func TestUserIDRightAfterLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store)
		res := a.browser("b").login("alice")
		assert.Equal(t, "alice", res.Header.Get("X-User-After"))
	})
}
