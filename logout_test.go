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
		a := newApp(t, e.store, withRoute("POST /slow-logout", func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				a.entered <- struct{}{}
				<-a.release
				if err := a.m.LogoutHook(r.Context()); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
				}
			}
		}))
		A, B := a.browser("A"), a.browser("B")
		A.mustLogin("alice")
		done := make(chan int, 1)
		go func() {
			res, _ := A.do("POST", "/slow-logout", url.Values{})
			done <- res.StatusCode
		}()
		<-a.entered
		B.mustLogin("alice") // ends A
		close(a.release)
		assert.Equal(t, http.StatusOK, <-done)
		assert.Equal(t, "alice", B.whoami())
		assert.Equal(t, "", A.whoami())
		assert.Equal(t, 1, e.sessionsOf(t, "alice"))
	})
}

// Rule 3: logout ends the current session and every other one of the user.
func TestLogout(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store, withPolicy(singlesession.Never))
		one, two, bob := a.browser("one"), a.browser("two"), a.browser("bob")
		one.mustLogin("alice")
		two.mustLogin("alice")
		bob.mustLogin("bob")
		require.Equal(t, 2, e.sessionsOf(t, "alice"), "Never keeps both")

		res := one.logout()
		assert.Equal(t, http.StatusNoContent, res.StatusCode)
		assert.Equal(t, "", res.Header.Get("X-User-After"), "UserID is empty right after LogoutHook")
		assert.Equal(t, "", one.whoami())
		assert.Equal(t, "", two.whoami(), "logout ends the other session too, even with Never")
		assert.Equal(t, 0, e.sessionsOf(t, "alice"))
		assert.Equal(t, "bob", bob.whoami(), "other users are untouched")
	})
}

// Rule 3: KeepOtherSessionsOnLogout ends only the current session.
func TestLogoutKeepOthers(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store, withPolicy(singlesession.Never), keepOthersOnLogout())
		one, two := a.browser("one"), a.browser("two")
		one.mustLogin("alice")
		two.mustLogin("alice")

		one.logout()
		assert.Equal(t, "", one.whoami())
		assert.Equal(t, "alice", two.whoami())
		assert.Equal(t, 1, e.sessionsOf(t, "alice"))
	})
}

// Rule 3: logout of an anonymous session is no error and ends nothing else.
func TestLogoutAnonymous(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store)
		alice, anon, fresh := a.browser("alice"), a.browser("anon"), a.browser("fresh")
		alice.mustLogin("alice")
		anon.put("cart", "pears")

		assert.Equal(t, http.StatusNoContent, anon.logout().StatusCode)
		assert.Equal(t, http.StatusNoContent, fresh.logout().StatusCode, "no cookie at all")
		assert.Equal(t, "", anon.get("cart"), "the anonymous session itself is destroyed")
		assert.Equal(t, "alice", alice.whoami())
		assert.Zero(t, a.errors.Load())
	})
}
