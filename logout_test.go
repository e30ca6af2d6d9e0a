package singlesession_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// A logout request of session A, in flight while alice's login on B ends A,
// must not end B: whichever way round, B's login came after A's logout or A
// was already anonymous.
func TestLogoutOfEndedSessionEndsNothingElse(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withRoute("POST /slow-logout", func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				a.Entered <- struct{}{}
				<-a.Release
				if err := a.M.LogoutHook(r.Context()); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
				}
			}
		}))
		A, B := a.Browser("A"), a.Browser("B")
		A.MustLogin("alice")
		done := make(chan int, 1)
		go func() {
			res, _ := A.Do("POST", "/slow-logout", url.Values{})
			done <- res.StatusCode
		}()
		<-a.Entered
		B.MustLogin("alice") // ends A
		close(a.Release)
		assert.Equal(t, http.StatusOK, <-done)
		assert.Equal(t, "alice", B.WhoAmI())
		assert.Equal(t, "", A.WhoAmI())
		assert.Equal(t, 1, e.SessionsOf(t, "alice"))
	})
}

// Rule 3: logout ends the current session and every other one of the user.
func TestLogout(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withPolicy(singlesession.Never))
		one, two, bob := a.Browser("one"), a.Browser("two"), a.Browser("bob")
		one.MustLogin("alice")
		two.MustLogin("alice")
		bob.MustLogin("bob")
		require.Equal(t, 2, e.SessionsOf(t, "alice"), "Never keeps both")

		res := one.Logout()
		assert.Equal(t, http.StatusNoContent, res.StatusCode)
		assert.Equal(t, "", res.Header.Get("X-User-After"), "UserID is empty right after LogoutHook")
		assert.Equal(t, "", one.WhoAmI())
		assert.Equal(t, "", two.WhoAmI(), "logout ends the other session too, even with Never")
		assert.Equal(t, 0, e.SessionsOf(t, "alice"))
		assert.Equal(t, "bob", bob.WhoAmI(), "other users are untouched")
	})
}

// Rule 3: KeepOtherSessionsOnLogout ends only the current session.
func TestLogoutKeepOthers(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withPolicy(singlesession.Never), keepOthersOnLogout())
		one, two := a.Browser("one"), a.Browser("two")
		one.MustLogin("alice")
		two.MustLogin("alice")

		one.Logout()
		assert.Equal(t, "", one.WhoAmI())
		assert.Equal(t, "alice", two.WhoAmI())
		assert.Equal(t, 1, e.SessionsOf(t, "alice"))
	})
}

// Rule 3: logout of an anonymous session is no error and ends nothing else.
func TestLogoutAnonymous(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		alice, anon, fresh := a.Browser("alice"), a.Browser("anon"), a.Browser("fresh")
		alice.MustLogin("alice")
		anon.Put("cart", "pears")

		assert.Equal(t, http.StatusNoContent, anon.Logout().StatusCode)
		assert.Equal(t, http.StatusNoContent, fresh.Logout().StatusCode, "no cookie at all")
		assert.Equal(t, "", anon.Get("cart"), "the anonymous session itself is destroyed")
		assert.Equal(t, "alice", alice.WhoAmI())
		assert.Zero(t, a.Errors.Load())
	})
}
