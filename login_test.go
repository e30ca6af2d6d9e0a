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
		a := newApp(t, e.store)
		one, two := a.browser("one"), a.browser("two")

		one.put("cart", "3 apples")
		before := one.cookie()
		require.NotEmpty(t, before)

		one.mustLogin("alice")
		assert.NotEqual(t, before, one.cookie(), "login renews the token")
		assert.Equal(t, "alice", one.whoami())
		assert.Equal(t, "3 apples", one.get("cart"), "the cart survives the login")
		assert.Equal(t, 1, e.sessionsOf(t, "alice"))

		two.mustLogin("alice")
		assert.Equal(t, "alice", two.whoami())
		assert.Equal(t, "", one.whoami(), "the older session ended")
		assert.False(t, one.exists(), "the older session's row is gone")
		assert.Equal(t, 1, e.sessionsOf(t, "alice"))
	})
}

// Rule 1: the other sessions end even when they have expired (their rows
// would otherwise linger until cleanup).
func TestLoginEndsExpiredSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store)
		old := a.browser("old")
		old.mustLogin("alice")
		expire(t, e, a.storeToken(old.cookie()))
		assert.Equal(t, "", old.whoami(), "an expired session is anonymous")

		a.browser("new").mustLogin("alice")
		assertGone(t, e, a.storeToken(old.cookie()))
	})
}

// Rule 4: signing in again on a live session works, as the same or another
// user, and retires the old token.
func TestReLoginOnLiveSession(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store)
		b := a.browser("b")
		b.mustLogin("alice")
		first := b.cookie()

		b.mustLogin("alice")
		second := b.cookie()
		assert.NotEqual(t, first, second)
		assert.Equal(t, "alice", b.whoami())
		assert.Equal(t, 1, e.sessionsOf(t, "alice"))

		replay := a.browser("replay")
		replay.setCookie(first)
		assert.Equal(t, "", replay.whoami(), "the old token is retired")
		assertGone(t, e, a.storeToken(first))

		b.mustLogin("bob")
		assert.Equal(t, "bob", b.whoami())
		assert.Equal(t, 0, e.sessionsOf(t, "alice"))
		assert.Zero(t, a.errors.Load())
	})
}

// Rules 5 and 13: switching user on one browser ends that browser's session of
// the first user, not the first user's sessions elsewhere, and the first
// user's data does not carry over; a same-user re-login keeps its data.
func TestSwitchUser(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store)
		here := a.browser("here")
		here.mustLogin("alice")
		aliceHere := here.cookie()
		// alice also signed in elsewhere under a policy that keeps sessions:
		// use a second app on the same store with Never.
		keep := newApp(t, e.store, withPolicy(singlesession.Never))
		other := keep.browser("other")
		other.mustLogin("alice")
		require.Equal(t, 2, e.sessionsOf(t, "alice"))

		here.put("secret", "alice's")
		here.mustLogin("bob")
		assert.Equal(t, "bob", here.whoami())
		assert.Equal(t, "", here.get("secret"), "none of alice's data carries over to bob (as Django's login() flushes)")
		assertGone(t, e, a.storeToken(aliceHere))
		assert.Equal(t, "alice", other.whoami(), "alice's session elsewhere survives the switch")
		assert.Equal(t, 1, e.sessionsOf(t, "alice"))
		assert.Equal(t, 1, e.sessionsOf(t, "bob"))

		here.put("basket", "bob's")
		here.mustLogin("bob")
		assert.Equal(t, "bob's", here.get("basket"), "a same-user re-login keeps the data")
	})
}
