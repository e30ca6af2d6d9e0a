package singlesession_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
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

// Rule 8: sessions that were never linked are not touched by login, logout or
// LogoutUser.
func TestUntrackedSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store)
		anon := a.browser("anon")
		anon.put("cart", "plums")

		one, two := a.browser("one"), a.browser("two")
		one.mustLogin("alice")
		two.mustLogin("alice")
		two.logout()
		n, err := a.m.LogoutUser(context.Background(), "alice")
		require.NoError(t, err)
		assert.Zero(t, n)

		assert.Equal(t, "plums", anon.get("cart"))
		assert.True(t, anon.exists())
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

// LogoutUser ends every session of one user and says how many.
func TestLogoutUser(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store, withPolicy(singlesession.Never))
		one, two, bob := a.browser("one"), a.browser("two"), a.browser("bob")
		one.mustLogin("alice")
		two.mustLogin("alice")
		bob.mustLogin("bob")

		n, err := a.m.LogoutUser(context.Background(), "alice")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		assert.Equal(t, "", one.whoami())
		assert.Equal(t, "", two.whoami())
		assert.Equal(t, "bob", bob.whoami())

		n, err = a.m.LogoutUser(context.Background(), "nobody")
		require.NoError(t, err, "an unknown user is not an error")
		assert.Zero(t, n)

		n, err = a.m.LogoutUser(context.Background(), "")
		require.ErrorIs(t, err, singlesession.ErrInvalidUserID)
		assert.Zero(t, n)
		assert.Equal(t, "bob", bob.whoami(), "LogoutUser(\"\") ends nothing")
	})
}

// Bad input from the application or the network: clear errors or an
// anonymous session, never a panic or a 500.
func TestBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store)
		b := a.browser("b")
		b.mustLogin("alice")

		for name, id := range map[string]string{
			"empty":        "",
			"10 KB":        strings.Repeat("x", 10*1024),
			"invalid UTF8": "al\xffice",
			"NUL":          "al\x00ice",
		} {
			err := a.m.LoginHook(context.Background(), id)
			assert.Error(t, err, name)
			res := b.login(id)
			assert.Equal(t, http.StatusBadRequest, res.StatusCode, name)
			assert.Equal(t, "alice", b.whoami(), "%s: a refused login changes nothing", name)
		}
		_, err := a.m.LogoutUser(context.Background(), strings.Repeat("x", 10*1024))
		assert.ErrorIs(t, err, singlesession.ErrInvalidUserID)

		// A user ID at the limit is fine.
		long := strings.Repeat("é", singlesession.MaxUserIDLen/2)
		other := a.browser("long")
		other.mustLogin(long)
		assert.Equal(t, long, other.whoami())

		for _, cookie := range []string{
			"garbage", strings.Repeat("A", 43), strings.Repeat("z", 4000),
			"%00%ff", "a.b.c", b.cookie() + "x",
		} {
			forged := a.browser("forged")
			forged.setCookie(cookie)
			assert.Equal(t, "", forged.whoami(), "cookie %.20q", cookie)
		}
		assert.Equal(t, "alice", b.whoami())
		assert.Zero(t, a.errors.Load(), "no forged cookie reaches ErrorFunc")
	})
}

// Outside the middleware, or with a nil context, the hooks fail clearly and
// UserID is anonymous.
func TestOutsideMiddleware(t *testing.T) {
	m, err := singlesession.New(scs.New(), singlesession.NewMemoryStore(), singlesession.Config{})
	require.NoError(t, err)

	assert.ErrorIs(t, m.LoginHook(context.Background(), "alice"), singlesession.ErrNoMiddleware)
	assert.ErrorIs(t, m.LogoutHook(context.Background()), singlesession.ErrNoMiddleware)
	assert.Equal(t, "", m.UserID(context.Background()))
	//lint:ignore SA1012 a nil context is exactly what this test hands over
	assert.Equal(t, "", m.UserID(nil)) //nolint:staticcheck
	//lint:ignore SA1012 a nil context is exactly what this test hands over
	assert.ErrorIs(t, m.LoginHook(nil, "alice"), singlesession.ErrNoMiddleware) //nolint:staticcheck
	//lint:ignore SA1012 a nil context is exactly what this test hands over
	assert.ErrorIs(t, m.LogoutHook(nil), singlesession.ErrNoMiddleware) //nolint:staticcheck
	//lint:ignore SA1012 a nil context is exactly what this test hands over
	_, err = m.LogoutUser(nil, "alice") //nolint:staticcheck
	assert.Error(t, err)
}

// Rule 12: configuration errors fail in New, and New changes nothing then.
func TestNewRejectsBadConfig(t *testing.T) {
	mem := singlesession.NewMemoryStore()
	var nilMem *singlesession.MemoryStore
	var nilPG *singlesession.PostgresStore
	mod := func(f func(*scs.SessionManager)) *scs.SessionManager {
		s := scs.New()
		f(s)
		return s
	}
	taken := scs.New()
	_, err := singlesession.New(taken, mem, singlesession.Config{})
	require.NoError(t, err)

	for name, c := range map[string]struct {
		sessions *scs.SessionManager
		store    singlesession.Store
		want     string
	}{
		"nil sessions":       {nil, mem, "sessions is nil"},
		"nil store":          {scs.New(), nil, "store is nil"},
		"typed nil memory":   {scs.New(), nilMem, "store is nil"},
		"typed nil postgres": {scs.New(), nilPG, "store is nil"},
		"zero MemoryStore":   {scs.New(), &singlesession.MemoryStore{}, "NewMemoryStore"},
		"no pool":            {scs.New(), singlesession.NewPostgresStore(nil), "no pool"},
		"no codec":           {mod(func(s *scs.SessionManager) { s.Codec = nil }), mem, "Codec"},
		"no cookie name":     {mod(func(s *scs.SessionManager) { s.Cookie.Name = "" }), mem, "Cookie.Name"},
		"negative lifetime":  {mod(func(s *scs.SessionManager) { s.Lifetime = -1 }), mem, "Lifetime"},
		"negative idle":      {mod(func(s *scs.SessionManager) { s.IdleTimeout = -1 }), mem, "IdleTimeout"},
		"taken sessions":     {taken, mem, "already belongs"},
	} {
		before := c.sessions
		var store any
		if before != nil {
			store = before.Store
		}
		m, err := singlesession.New(c.sessions, c.store, singlesession.Config{})
		assert.Nil(t, m, name)
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), c.want, name)
			assert.True(t, strings.HasPrefix(err.Error(), "singlesession: "), name)
		}
		if before != nil {
			assert.Equal(t, store, before.Store, "%s: New left sessions.Store alone", name)
		}
	}
}

// Rule 13: store errors reach Config.ErrorFunc; without one, the reply is 500.
func TestStoreErrorsReachErrorFunc(t *testing.T) {
	broken := &failingStore{Store: singlesession.NewMemoryStore()}
	a := newApp(t, broken)
	b := a.browser("b")
	b.mustLogin("alice")

	broken.fail.Store(true)
	res, body := b.do("GET", "/whoami", nil)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Contains(t, body, "store error")
	assert.EqualValues(t, 1, a.errors.Load())

	// The default ErrorFunc: 500.
	s := scs.New()
	m, err := singlesession.New(s, broken, singlesession.Config{})
	require.NoError(t, err)
	srv := newServer(t, m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Put(r.Context(), "k", "v")
	})))
	res, err = http.Get(srv.URL)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
}

// LogoutUsers ends the sessions of many users in one operation.
func TestLogoutUsers(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store, withPolicy(singlesession.Never))
		for _, u := range []string{"u1", "u1", "u2", "u3"} {
			a.browser(u).mustLogin(u)
		}
		counts, err := a.m.LogoutUsers(context.Background(), []string{"u1", "u2", "u2", "ghost"})
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"u1": 2, "u2": 1}, counts)
		assert.Equal(t, 1, e.sessionsOf(t, "u3"))

		counts, err = a.m.LogoutUsers(context.Background(), nil)
		require.NoError(t, err)
		assert.Empty(t, counts)

		_, err = a.m.LogoutUsers(context.Background(), []string{"u3", ""})
		assert.ErrorIs(t, err, singlesession.ErrInvalidUserID)
		assert.Equal(t, 1, e.sessionsOf(t, "u3"), "a bad ID anywhere ends nothing")
	})
}
