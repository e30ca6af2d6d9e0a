package singlesession_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// Rule 1: login renews the token, records and links the user, ends the
// user's other sessions, and keeps what was in the session.
func TestLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		one, two := a.Browser("one"), a.Browser("two")

		one.Put("cart", "3 apples")
		before := one.Cookie()
		require.NotEmpty(t, before)

		one.MustLogin("alice")
		assert.NotEqual(t, before, one.Cookie(), "login renews the token")
		assert.Equal(t, "alice", one.WhoAmI())
		assert.Equal(t, "3 apples", one.Get("cart"), "the cart survives the login")
		assert.Equal(t, 1, e.SessionsOf(t, "alice"))

		two.MustLogin("alice")
		assert.Equal(t, "alice", two.WhoAmI())
		assert.Equal(t, "", one.WhoAmI(), "the older session ended")
		assert.False(t, one.Exists(), "the older session's row is gone")
		assert.Equal(t, 1, e.SessionsOf(t, "alice"))
	})
}

// Rule 1: the other sessions end even when they have expired (their rows
// would otherwise linger until cleanup).
func TestLoginEndsExpiredSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		old := a.Browser("old")
		old.MustLogin("alice")
		expire(t, e, a.StoreToken(old.Cookie()))
		assert.Equal(t, "", old.WhoAmI(), "an expired session is anonymous")

		a.Browser("new").MustLogin("alice")
		assertGone(t, e, a.StoreToken(old.Cookie()))
	})
}

// Rule 4: signing in again on a live session works, as the same or another
// user, and retires the old token.
func TestReLoginOnLiveSession(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		b := a.Browser("b")
		b.MustLogin("alice")
		first := b.Cookie()

		b.MustLogin("alice")
		second := b.Cookie()
		assert.NotEqual(t, first, second)
		assert.Equal(t, "alice", b.WhoAmI())
		assert.Equal(t, 1, e.SessionsOf(t, "alice"))

		replay := a.Browser("replay")
		replay.SetCookie(first)
		assert.Equal(t, "", replay.WhoAmI(), "the old token is retired")
		assertGone(t, e, a.StoreToken(first))

		b.MustLogin("bob")
		assert.Equal(t, "bob", b.WhoAmI())
		assert.Equal(t, 0, e.SessionsOf(t, "alice"))
		assert.Zero(t, a.Errors.Load())
	})
}

// Rules 5 and 13: switching user on one browser ends that browser's session of
// the first user, not the first user's sessions elsewhere, and the first
// user's data does not carry over; a same-user re-login keeps its data.
func TestSwitchUser(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		here := a.Browser("here")
		here.MustLogin("alice")
		aliceHere := here.Cookie()
		// alice also signed in elsewhere under a policy that keeps sessions:
		// use a second app on the same store with Never.
		keep := newApp(t, e.Store, withPolicy(singlesession.Never))
		other := keep.Browser("other")
		other.MustLogin("alice")
		require.Equal(t, 2, e.SessionsOf(t, "alice"))

		here.Put("secret", "alice's")
		here.MustLogin("bob")
		assert.Equal(t, "bob", here.WhoAmI())
		assert.Equal(t, "", here.Get("secret"), "none of alice's data carries over to bob (as Django's login() flushes)")
		assertGone(t, e, a.StoreToken(aliceHere))
		assert.Equal(t, "alice", other.WhoAmI(), "alice's session elsewhere survives the switch")
		assert.Equal(t, 1, e.SessionsOf(t, "alice"))
		assert.Equal(t, 1, e.SessionsOf(t, "bob"))

		here.Put("basket", "bob's")
		here.MustLogin("bob")
		assert.Equal(t, "bob's", here.Get("basket"), "a same-user re-login keeps the data")
	})
}
