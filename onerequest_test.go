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
		a := newApp(t, e.Store,
			withRoute("POST /in-out", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					require.NoError(t, a.M.LoginHook(r.Context(), "bob"))
					require.NoError(t, a.M.LogoutHook(r.Context()))
					io.WriteString(w, a.M.UserID(r.Context()))
				}
			}),
			withRoute("POST /twice", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					require.NoError(t, a.M.LoginHook(r.Context(), "carol"))
					require.NoError(t, a.M.LoginHook(r.Context(), "dave"))
				}
			}),
			withRoute("POST /panic", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					require.NoError(t, a.M.LoginHook(r.Context(), "erin"))
					panic(http.ErrAbortHandler)
				}
			}),
		)

		// Login then logout: the browser ends anonymous, its old session
		// ended, and, like any logout, every other session of the user.
		elsewhere := a.Browser("elsewhere")
		elsewhere.MustLogin("bob")
		b := a.Browser("b")
		b.MustLogin("alice")
		old := a.StoreToken(b.Cookie())
		_, who := b.Do("POST", "/in-out", url.Values{})
		assert.Equal(t, "", who)
		assert.Equal(t, "", b.WhoAmI())
		assertGone(t, e, old)
		assert.Equal(t, "", elsewhere.WhoAmI(), "bob's other session ended with the logout")
		assert.Equal(t, 0, e.SessionsOf(t, "bob"))

		// Twice: the second user wins, the first never had a session.
		c := a.Browser("c")
		c.Do("POST", "/twice", url.Values{})
		assert.Equal(t, "dave", c.WhoAmI())
		assert.Equal(t, 0, e.SessionsOf(t, "carol"))

		// A panic after LoginHook saves nothing: the browser is as it was.
		p := a.Browser("p")
		p.Put("cart", "melon")
		cookie := p.Cookie()
		req, _ := http.NewRequest("POST", a.Srv.URL+"/panic", nil)
		if res, err := p.Client.Do(req); err == nil {
			res.Body.Close()
		}
		assert.Equal(t, cookie, p.Cookie())
		assert.Equal(t, "melon", p.Get("cart"))
		assert.Equal(t, 0, e.SessionsOf(t, "erin"))
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
				a := newApp(t, e.Store, withRoute("POST /login-then", func(a *app) http.HandlerFunc {
					return func(w http.ResponseWriter, r *http.Request) {
						require.NoError(t, a.M.LoginHook(r.Context(), "bob"))
						require.NoError(t, after(a.Sessions, r.Context()))
						io.WriteString(w, a.M.UserID(r.Context()))
					}
				}))
				b := a.Browser("b")
				b.MustLogin("alice")
				old := a.StoreToken(b.Cookie())
				_, who := b.Do("POST", "/login-then", url.Values{})
				assert.Equal(t, "", who)
				assert.Equal(t, "", b.WhoAmI())
				assertGone(t, e, old)
				assert.Equal(t, 0, e.SessionsOf(t, "bob"))
				assert.Contains(t, a.Logs.String(), "the login is cancelled")
			})
		}
	})
}

// Rule 13: within one request UserID follows LoginHook at once.
func TestUserIDRightAfterLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		res := a.Browser("b").Login("alice")
		assert.Equal(t, "alice", res.Header.Get("X-User-After"))
	})
}
