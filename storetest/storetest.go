// Package storetest is the conformance suite of [singlesession.Store]: the
// behaviour tests that every store of singlesession passes, driven through a
// [singlesession.Manager] served by httptest, with browsers that are HTTP
// clients with cookie jars of their own. [singlesession.MemoryStore],
// [singlesession.PostgresStore] and the redisstore module run it; run it from
// the tests of a store of your own:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) singlesession.Store { return newEmptyStore(t) })
//	}
//
// Use [RunBackend] to also test two instances of the store on one backend
// (two pools, two clients) and what the backend leaves behind.
package storetest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
)

// Backend is one empty backend under test.
type Backend struct {
	// Store is the store under test. It must be empty.
	Store singlesession.Store

	// Second is another instance of the store over the same data (another
	// pool, another client), for the tests that run two application
	// instances. nil means Store again.
	Second singlesession.Store

	// Residue, when set, returns how many links (or index entries) and
	// recorded endings the backend holds, expired ones included, so that the
	// test of DeleteExpired can check that nothing is left behind.
	Residue func(t testing.TB) int

	// Seed, when set, gives user n signed-in sessions quickly, straight in
	// the backend, for the benchmarks of big users. nil means n logins
	// through the Store.
	Seed func(t testing.TB, user string, n int)
}

// Run runs the suite on the stores that newStore returns: each call must
// return a store over an empty backend of its own. The subtests run in
// parallel.
func Run(t *testing.T, newStore func(t *testing.T) singlesession.Store) {
	RunBackend(t, func(t *testing.T) Backend { return Backend{Store: newStore(t)} })
}

// RunBackend runs the suite on the backends that newBackend returns, one
// empty backend per subtest. The subtests run in parallel.
func RunBackend(t *testing.T, newBackend func(t *testing.T) Backend) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("the rule this case checks: %s", c.rule)
				}
			})
			b := newBackend(t)
			if b.Second == nil {
				b.Second = b.Store
			}
			c.run(t, &b)
		})
	}
}

// cases are the conformance cases, each with the rule it checks in words
// (and where SPEC.md states it), which a failure prints.
var cases = []struct {
	name string
	rule string
	run  func(t *testing.T, b *Backend)
}{
	{"LoginEndsOthers", "a login ends the user's other sessions under Always (1.1)", testLoginEndsOthers},
	{"NeverKeepsOthers", "under Never a login ends no other session (1.2)", testNeverKeepsOthers},
	{"LogoutEndsAll", "a logout ends every session of the user, even under Never (1.3)", testLogoutEndsAll},
	{"ReLogin", "signing in again on a signed-in browser works and retires the old token (1.4)", testReLogin},
	{"SwitchUser", "another user signing in on a browser ends that browser's session of the first, and nothing else of the first (1.5)", testSwitchUser},
	{"NoResurrection", "an ended session never comes back, not through a request in flight that saves it (1.6)", testNoResurrection},
	{"ConcurrentLoginsTwoInstances", "concurrent logins on two instances leave exactly as many sessions as the limit allows (1.7, 6.1.2)", testConcurrentLogins},
	{"ConcurrentRejectNew", "under RejectNew exactly Max of n concurrent logins succeed, and the refused leave nothing (6.1.2)", testConcurrentRejectNew},
	{"LeastRecentlyUsed", "a login past Max ends the least recently used session (6.1.1)", testLeastRecentlyUsed},
	{"Reasons", "an ended browser learns why (login, logout, revoked, admin), and nothing for its own logout or an expiry (6.1.6)", testReasons},
	{"EndSession", "EndSession ends one session of the user's own, never another user's (6.1.5)", testEndSession},
	{"EndOtherSessions", "EndOtherSessions ends every other session of the user and counts them (6.1.5)", testEndOtherSessions},
	{"Sessions", "Sessions lists the user's live sessions, most recently used first, by ID, never by token (6.1.5, 8.5)", testSessions},
	{"SessionsPages", "a session list comes in bounded pages with the user's total and a cursor to the next (8.5)", testSessionsPages},
	{"CountSessions", "CountSessions counts each user's live sessions (6.1.5)", testCountSessions},
	{"EndManyUsers", "an operators' sign-out of many users ends every session of each and records ReasonAdmin (1.11, 6.1.6)", testEndManyUsers},
	{"DeleteExpired", "cleanup leaves no link, index entry or ending of an expired session behind (1.9)", testDeleteExpired},
	{"Untracked", "sessions linked to no user are never touched by logins, logouts or operators (1.8)", testUntracked},
	{"IterateAndAll", "scs's Iterate sees every live session and commits updates without creating or signing in one (1.13)", testIterateAndAll},
	{"EveryPairOfChanges", "every path that changes sessions, racing every other on two instances, leaves the invariants whole and never fails (1.13)", testEveryPairOfChanges},
	{"EndedSessionEndsNothing", "a request of a session that ended while it ran ends nothing: EndOtherSessions, EndSession and LogoutHook leave the user's newer sessions and record no reason (8.3)", testEndedSessionEndsNothing},
	{"BigUser", "a user with thousands of sessions signs in, lists a page, ends the others, signs out and is signed out by an operator, all exactly (8.4, 8.5)", testBigUser},
	{"PanickingOnEvent", "a panicking or exiting OnEvent breaks nothing: the change stays, the response goes out with its cookie, no session is left that no browser holds (8.6)", testPanickingOnEvent},
	{"LiveEndings", "every way a session ends (a login elsewhere, a limit, a logout elsewhere, its own logout in another tab, a re-login, an operator, EndSession, EndOtherSessions) cancels its SessionContext on another instance within a second, with the reason (10)", testLiveEndings},
	{"LiveExpiry", "a session's expiry cancels its SessionContext at the expiry, which slides with IdleTimeout (10)", testLiveExpiry},
	{"RenewTokenThenLogout", "RenewToken before LogoutHook (scs's usual logout) still ends the user's other sessions; and ends nothing if the session had ended (8.7, 8.3)", testRenewTokenThenLogout},
}

// --- the application and its browsers ---------------------------------------

type (
	app     = testapp.App
	browser = testapp.Browser
	option  = testapp.Option
)

var (
	newApp               = testapp.New
	withPolicy           = testapp.WithPolicy
	withLimit            = testapp.WithLimit
	withSessions         = testapp.WithSessions
	withLastSeenInterval = testapp.WithLastSeenInterval
	count                = testapp.Count
)

// --- the cases ---------------------------------------------------------------

// Rule 1: a login ends the user's other sessions (Always, the default).
func testLoginEndsOthers(t *testing.T, b *Backend) {
	a := newApp(t, b.Store)
	one, two := a.Browser("one"), a.Browser("two")
	one.Put("cart", "apples")
	one.MustLogin("alice")
	assert.Equal(t, "apples", one.Get("cart"), "the cart survives the login")
	two.MustLogin("alice")
	assert.Equal(t, "", one.WhoAmI())
	assert.Equal(t, "alice", two.WhoAmI())
	assert.False(t, one.Exists())
	assert.Equal(t, 1, count(t, b.Store, "alice"))
	assert.Zero(t, a.Errors.Load())
}

// Rule 2: Never keeps every session.
func testNeverKeepsOthers(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	one, two := a.Browser("one"), a.Browser("two")
	one.MustLogin("alice")
	two.MustLogin("alice")
	assert.Equal(t, "alice", one.WhoAmI())
	assert.Equal(t, "alice", two.WhoAmI())
	assert.Equal(t, 2, count(t, b.Store, "alice"))
}

// aliceThriceAndBob signs alice in on three browsers of a and bob on a
// fourth.
func aliceThriceAndBob(a *app) (alice []*browser, bob *browser) {
	alice = []*browser{a.Browser("one"), a.Browser("two"), a.Browser("three")}
	for _, br := range alice {
		br.MustLogin("alice")
	}
	bob = a.Browser("bob")
	bob.MustLogin("bob")
	return alice, bob
}

// Rule 3: a logout ends every session of the user, even under Never.
func testLogoutEndsAll(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	bs, other := aliceThriceAndBob(a)
	bs[0].MustLogout()
	for _, br := range bs {
		assert.Equal(t, "", br.WhoAmI(), br.Name)
	}
	assert.Equal(t, 0, count(t, b.Store, "alice"))
	assert.Equal(t, "bob", other.WhoAmI(), "another user's session stays")
	anon := a.Browser("anon")
	anon.Put("k", "v")
	anon.MustLogout() // an anonymous logout ends nothing else
	assert.Equal(t, "bob", other.WhoAmI())
	assert.Zero(t, a.Errors.Load())
}

// Rule 4: signing in again on a live session works and retires the old token.
func testReLogin(t *testing.T, b *Backend) {
	a := newApp(t, b.Store)
	br := a.Browser("b")
	br.MustLogin("alice")
	first := br.Cookie()
	br.MustLogin("alice")
	assert.NotEqual(t, first, br.Cookie())
	assert.Equal(t, "alice", br.WhoAmI())
	assert.Equal(t, 1, count(t, b.Store, "alice"))
	replay := a.Browser("replay")
	replay.SetCookie(first)
	assert.Equal(t, "", replay.WhoAmI(), "the old token is retired")
	assert.Equal(t, "", replay.Ended(), "a browser's own re-login records no reason")
	assert.Zero(t, a.Errors.Load())
}

// Rule 5: switching user ends the first user's session on this browser only,
// and the first user's data does not carry over.
func testSwitchUser(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	br, elsewhere := a.Browser("b"), a.Browser("elsewhere")
	elsewhere.MustLogin("alice")
	br.MustLogin("alice")
	br.Put("secret", "alice's")
	br.MustLogin("bob")
	assert.Equal(t, "bob", br.WhoAmI())
	assert.Equal(t, "", br.Get("secret"), "the first user's data does not carry over")
	assert.Equal(t, 1, count(t, b.Store, "alice"), "alice's session elsewhere stays")
	assert.Equal(t, "alice", elsewhere.WhoAmI())
	assert.Equal(t, 1, count(t, b.Store, "bob"))
	assert.Zero(t, a.Errors.Load())
}

var variants = []struct {
	name string
	opt  func(*scs.SessionManager)
	idle bool
}{
	{"plain", func(*scs.SessionManager) {}, false},
	{"idle", func(s *scs.SessionManager) { s.IdleTimeout = time.Hour }, true},
	{"hashed", func(s *scs.SessionManager) { s.HashTokenInStore = true }, false},
	{"idle+hashed", func(s *scs.SessionManager) { s.IdleTimeout = time.Hour; s.HashTokenInStore = true }, true},
}

// Rule 6: a request of a session ended while it is in flight completes, its
// write is dropped, and the session never comes back.
func testNoResurrection(t *testing.T, b *Backend) {
	enders := map[string]func(a *app, other *browser){
		"login elsewhere": func(a *app, other *browser) { other.MustLogin("alice") },
		"LogoutUser": func(a *app, other *browser) {
			_, err := a.M.LogoutUser(context.Background(), "alice")
			require.NoError(t, err)
		},
	}
	for _, v := range variants {
		for ender, end := range enders {
			for _, path := range []string{"/slow-put", "/slow"} {
				if path == "/slow" && !v.idle {
					continue // without IdleTimeout a request that writes nothing never saves
				}
				t.Run(v.name+"/"+ender+path, func(t *testing.T) {
					a := newApp(t, b.Store, withSessions(v.opt))
					A, B := a.Browser("A"), a.Browser("B")
					A.MustLogin("alice")
					done := make(chan int, 1)
					go func() {
						method := map[string]string{"/slow": "GET", "/slow-put": "POST"}[path]
						res, _ := A.Do(method, path, url.Values{"key": {"k"}, "val": {"late"}})
						done <- res.StatusCode
					}()
					<-a.Entered
					end(a, B)
					require.False(t, A.Exists())
					close(a.Release)
					assert.Equal(t, http.StatusOK, <-done, "the in-flight request completes")
					assert.False(t, A.Exists(), "the in-flight save did not bring A back")
					assert.Equal(t, "", A.WhoAmI())
					assert.Equal(t, "", A.Get("k"))
					assert.Equal(t, 0, count(t, b.Store, "alice")-boolInt(ender == "login elsewhere"))
					assert.Zero(t, a.Errors.Load())
				})
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Rule 7 and 6.1.2: many concurrent logins of one user through two
// application instances on two store instances leave exactly as many
// sessions as the limit allows, round after round.
func testConcurrentLogins(t *testing.T, b *Backend) {
	for _, max := range []int{1, 3} {
		t.Run(fmt.Sprint("max ", max), func(t *testing.T) {
			user := fmt.Sprint("alice", max)
			opts := []option{withLimit(singlesession.Limit{Max: max})}
			apps := []*app{newApp(t, b.Store, opts...), newApp(t, b.Second, opts...)}
			browsers := make([]*browser, 16)
			for i := range browsers {
				browsers[i] = apps[i%2].Browser(fmt.Sprint("browser ", i))
			}
			for round := range 4 {
				var wg sync.WaitGroup
				start := make(chan struct{})
				for _, br := range browsers {
					wg.Go(func() { <-start; br.MustLogin(user) })
				}
				close(start)
				wg.Wait()
				signedIn := 0
				for _, br := range browsers {
					if br.WhoAmI() == user {
						signedIn++
					}
				}
				assert.Equal(t, max, signedIn, "round %d: signed-in browsers", round)
				assert.Equal(t, max, count(t, b.Store, user), "round %d: sessions in the store", round)
			}
			for _, a := range apps {
				assert.Zero(t, a.Errors.Load())
			}
		})
	}
}

// 6.1.1 and 6.1.2: with RejectNew, of many concurrent logins exactly Max
// succeed, and each refused one leaves nothing behind.
func testConcurrentRejectNew(t *testing.T, b *Backend) {
	const max = 3
	opts := []option{withLimit(singlesession.Limit{Max: max, RejectNew: true})}
	apps := []*app{newApp(t, b.Store, opts...), newApp(t, b.Second, opts...)}
	for round := range 3 {
		browsers := make([]*browser, 16)
		codes := make([]int, len(browsers))
		for i := range browsers {
			browsers[i] = apps[i%2].Browser(fmt.Sprint("browser ", i))
			browsers[i].Put("cart", "kept")
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, br := range browsers {
			wg.Go(func() { <-start; codes[i] = br.Login("alice").StatusCode })
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, br := range browsers {
			switch codes[i] {
			case http.StatusNoContent:
				ok++
				assert.Equal(t, "alice", br.WhoAmI())
			case http.StatusConflict:
				assert.Equal(t, "", br.WhoAmI(), "a refused login signs nothing in")
				assert.Equal(t, "kept", br.Get("cart"), "a refused login keeps what the browser had")
			default:
				t.Errorf("round %d: %s: login answered %d", round, br.Name, codes[i])
			}
		}
		assert.Equal(t, max, ok, "round %d: successful logins", round)
		assert.Equal(t, max, count(t, b.Store, "alice"), "round %d: sessions", round)
		_, err := apps[0].M.LogoutUser(context.Background(), "alice")
		require.NoError(t, err)
	}
	for _, a := range apps {
		assert.Zero(t, a.Errors.Load())
	}
}

// 6.1.1: a limit ends the least recently used session: least recent LastSeen
// first, then the oldest login.
func testLeastRecentlyUsed(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withLimit(singlesession.Limit{Max: 2}), withLastSeenInterval(time.Millisecond))
	one, two, three, four := a.Browser("one"), a.Browser("two"), a.Browser("three"), a.Browser("four")
	one.MustLogin("alice")
	time.Sleep(5 * time.Millisecond)
	two.MustLogin("alice")
	time.Sleep(5 * time.Millisecond)
	assert.Equal(t, "alice", one.WhoAmI(), "refreshes one's LastSeen")
	time.Sleep(5 * time.Millisecond)
	three.MustLogin("alice")
	assert.Equal(t, "", two.WhoAmI(), "two was the least recently used")
	assert.Equal(t, "login", two.Ended())
	assert.Equal(t, "alice", one.WhoAmI())
	time.Sleep(5 * time.Millisecond)
	four.MustLogin("alice") // one was seen last, three signed in after that
	assert.Equal(t, "", three.WhoAmI())
	assert.Equal(t, "alice", one.WhoAmI())
	assert.Equal(t, "alice", four.WhoAmI())
	assert.Equal(t, 2, count(t, b.Store, "alice"))
}

// 6.1.6: Manager.Ended tells a browser why its session ended, and nothing
// for its own logout, an expiry or an unknown token.
func testReasons(t *testing.T, b *Backend) {
	t.Run("login", func(t *testing.T) {
		a := newApp(t, b.Store)
		one, two := a.Browser("one"), a.Browser("two")
		one.MustLogin("alice")
		two.MustLogin("alice")
		assert.Equal(t, "login", one.Ended())
		assert.Equal(t, "", two.Ended())
		one.MustLogin("alice")
		assert.Equal(t, "", one.Ended(), "nothing after the browser signs in again")
	})
	t.Run("logout", func(t *testing.T) {
		a := newApp(t, b.Store, withPolicy(singlesession.Never))
		one, two := a.Browser("one"), a.Browser("two")
		one.MustLogin("bob")
		two.MustLogin("bob")
		old := two.Cookie()
		two.MustLogout()
		assert.Equal(t, "logout", one.Ended())
		two.SetCookie(old)
		assert.Equal(t, "", two.Ended(), "the browser's own logout, even replayed")
	})
	t.Run("revoked", func(t *testing.T) {
		a := newApp(t, b.Store, withPolicy(singlesession.Never))
		one, two, three := a.Browser("one"), a.Browser("two"), a.Browser("three")
		one.MustLogin("carol")
		two.MustLogin("carol")
		three.MustLogin("carol")
		res, _ := one.Do("POST", "/end-session", url.Values{"id": {two.ID()}})
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		assert.Equal(t, "revoked", two.Ended())
		_, n := one.Do("POST", "/end-others", url.Values{})
		assert.Equal(t, "1", n)
		assert.Equal(t, "revoked", three.Ended())
	})
	t.Run("admin", func(t *testing.T) {
		a := newApp(t, b.Store)
		one := a.Browser("one")
		one.MustLogin("dave")
		n, err := a.M.LogoutUser(context.Background(), "dave")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		assert.Equal(t, "admin", one.Ended())
	})
	t.Run("none", func(t *testing.T) {
		a := newApp(t, b.Store, withSessions(func(s *scs.SessionManager) { s.Lifetime = time.Second }))
		unknown := a.Browser("unknown")
		unknown.SetCookie("Mc1t8X3u7yqI2Bnt2cO1ExFLqGqVhW2ks3pI2Jjv5dA")
		assert.Equal(t, "", unknown.Ended())
		assert.Equal(t, "", a.Browser("no cookie").Ended())
		expiring := a.Browser("expiring")
		expiring.MustLogin("erin")
		time.Sleep(1100 * time.Millisecond)
		assert.Equal(t, "", expiring.WhoAmI())
		assert.Equal(t, "", expiring.Ended(), "a plain expiry records no reason")
	})
}

// 6.1.5: EndSession ends one of the user's sessions by ID; another user's
// ID is refused with ErrSessionNotFound and ends nothing.
func testEndSession(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	alice, alice2, bob := a.Browser("alice"), a.Browser("alice2"), a.Browser("bob")
	alice.MustLogin("alice")
	alice2.MustLogin("alice")
	bob.MustLogin("bob")
	res, _ := alice.Do("POST", "/end-session", url.Values{"id": {bob.ID()}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "another user's session")
	assert.Equal(t, "bob", bob.WhoAmI())
	res, _ = alice.Do("POST", "/end-session", url.Values{"id": {"nope"}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	err := a.M.EndUserSession(context.Background(), "alice", bob.ID())
	assert.ErrorIs(t, err, singlesession.ErrSessionNotFound)
	assert.Equal(t, "bob", bob.WhoAmI())
	res, _ = alice.Do("POST", "/end-session", url.Values{"id": {alice2.ID()}})
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Equal(t, "", alice2.WhoAmI())
	assert.Equal(t, "alice", alice.WhoAmI())
	res, _ = alice.Do("POST", "/end-session", url.Values{"id": {alice.ID()}})
	assert.Equal(t, http.StatusNoContent, res.StatusCode, "its own session")
	assert.Equal(t, "", alice.WhoAmI())
	assert.Equal(t, "", alice.Ended())
	assert.Equal(t, 0, count(t, b.Store, "alice"))
	assert.Equal(t, 1, count(t, b.Store, "bob"))
}

// 6.1.5: EndOtherSessions ends every other session of the user.
func testEndOtherSessions(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	bs, bob := aliceThriceAndBob(a)
	_, n := bs[0].Do("POST", "/end-others", url.Values{})
	assert.Equal(t, "2", n)
	assert.Equal(t, "alice", bs[0].WhoAmI())
	assert.Equal(t, "", bs[1].WhoAmI())
	assert.Equal(t, "", bs[2].WhoAmI())
	assert.Equal(t, "bob", bob.WhoAmI())
	_, n = a.Browser("anon").Do("POST", "/end-others", url.Values{})
	assert.Equal(t, "0", n)
}

// 6.1.5 and 8.5: the user's sessions, most recently used first, by ID
// (never a token), the request's own marked, with IP and User-Agent.
func testSessions(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never), withSessions(func(s *scs.SessionManager) { s.HashTokenInStore = true }))
	one, two := a.Browser("one"), a.Browser("two")
	one.MustLogin("alice")
	time.Sleep(2 * time.Millisecond)
	two.MustLogin("alice")
	list := two.Sessions()
	require.Len(t, list, 2)
	assert.Equal(t, []string{two.ID(), one.ID()}, []string{list[0].ID, list[1].ID}, "most recently used first")
	assert.True(t, list[0].Current)
	assert.False(t, list[1].Current)
	for i, s := range list {
		br := []*browser{two, one}[i]
		assert.NotEqual(t, br.Cookie(), s.ID)
		assert.NotEqual(t, a.StoreToken(br.Cookie()), s.ID)
		assert.NotContains(t, br.Cookie(), s.ID)
		assert.Equal(t, "127.0.0.1", s.IP)
		assert.Equal(t, "testapp/"+br.Name, s.UserAgent)
	}
	res, err := b.Store.Sessions(context.Background(), singlesession.SessionsQuery{UserID: "alice", Limit: 10})
	require.NoError(t, err)
	require.Len(t, res.Sessions, 2)
	assert.Equal(t, 2, res.Total)
	for _, s := range res.Sessions {
		assert.False(t, s.Current)
		assert.True(t, s.Expiry.After(time.Now()))
		assert.False(t, s.Created.After(s.LastSeen))
		assert.WithinDuration(t, time.Now(), s.Created, time.Minute)
	}
	assert.Empty(t, a.Browser("anon").Sessions())
	none, err := b.Store.Sessions(context.Background(), singlesession.SessionsQuery{UserID: "nobody", Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, none.Sessions)
	assert.Zero(t, none.Total)
}

// CountSessions counts each user's live sessions; users with none are absent.
func testCountSessions(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	a.Browser("a1").MustLogin("alice")
	a.Browser("a2").MustLogin("alice")
	a.Browser("b1").MustLogin("bob")
	a.Browser("anon").Put("k", "v")
	counts, err := b.Store.CountSessions(context.Background(), []string{"alice", "bob", "carol", "alice"})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"alice": 2, "bob": 1}, counts)
	counts, err = b.Store.CountSessions(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, counts)
}

// End signs many users out at once, and records ReasonAdmin.
func testEndManyUsers(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	var users []string
	var browsers []*browser
	for i := range 12 {
		u := fmt.Sprint("user", i)
		users = append(users, u)
		for j := range 2 {
			br := a.Browser(fmt.Sprint(u, "-", j))
			br.MustLogin(u)
			browsers = append(browsers, br)
		}
	}
	keep := a.Browser("kept")
	keep.MustLogin("kept")
	counts, err := a.M.LogoutUsers(context.Background(), append(slices.Clone(users), "unknown", users[0]))
	require.NoError(t, err)
	want := map[string]int{}
	for _, u := range users {
		want[u] = 2
	}
	assert.Equal(t, want, counts)
	for _, br := range browsers {
		assert.Equal(t, "", br.WhoAmI(), br.Name)
		assert.Equal(t, "admin", br.Ended(), br.Name)
	}
	assert.Equal(t, "kept", keep.WhoAmI())
}

// Rule 9 and 6.1.6: once sessions expire, DeleteExpired leaves no link,
// index entry or recorded ending behind.
func testDeleteExpired(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never), withSessions(func(s *scs.SessionManager) { s.Lifetime = time.Second }))
	for i := range 4 {
		a.Browser(fmt.Sprint("a", i)).MustLogin("alice")
		a.Browser(fmt.Sprint("b", i)).MustLogin("bob")
	}
	a.Browser("anon").Put("k", "v")
	_, err := a.M.LogoutUser(context.Background(), "bob") // endings to expire
	require.NoError(t, err)
	if b.Residue != nil {
		assert.Positive(t, b.Residue(t))
	}
	time.Sleep(1100 * time.Millisecond)
	assert.Equal(t, 0, count(t, b.Store, "alice"))
	_, err = a.M.DeleteExpired(context.Background())
	require.NoError(t, err)
	if b.Residue != nil {
		assert.Zero(t, b.Residue(t), "links and endings left after DeleteExpired")
	}
	if it, ok := b.Store.(singlesession.IterableStore); ok {
		all, err := it.All(context.Background())
		require.NoError(t, err)
		assert.Empty(t, all)
	}
	n, err := a.M.DeleteExpired(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "a second run finds nothing")
}

// Rule 8: sessions linked to no user are never touched by logins, logouts or
// operators.
func testUntracked(t *testing.T, b *Backend) {
	a := newApp(t, b.Store)
	anon := a.Browser("anon")
	anon.Put("cart", "pears")
	one, two := a.Browser("one"), a.Browser("two")
	one.MustLogin("alice")
	two.MustLogin("alice")
	two.MustLogout()
	_, err := a.M.LogoutUsers(context.Background(), []string{"alice", "bob"})
	require.NoError(t, err)
	_, err = b.Store.EndUsers(context.Background(), singlesession.EndUsers{UserIDs: []string{"alice"}, Reason: singlesession.ReasonAdmin})
	require.NoError(t, err)
	assert.Equal(t, "pears", anon.Get("cart"))
	assert.True(t, anon.Exists())
	assert.Equal(t, "", anon.WhoAmI())
}

// scs's Iterate (and the Store's All) see every live session, and commit
// updates inside a handler without creating or signing in one.
func testIterateAndAll(t *testing.T, b *Backend) {
	it, ok := b.Store.(singlesession.IterableStore)
	if !ok {
		t.Skipf("%T is not an IterableStore: scs's Iterate does not apply", b.Store)
	}
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	anon, alice := a.Browser("anon"), a.Browser("alice")
	anon.Put("k", "v")
	alice.MustLogin("alice")
	all, err := it.All(context.Background())
	require.NoError(t, err)
	assert.Len(t, all, 2)
	assert.Contains(t, all, a.StoreToken(anon.Cookie()))
	assert.Contains(t, all, a.StoreToken(alice.Cookie()))
	res, body := anon.Do("POST", "/iterate", url.Values{})
	require.Equal(t, http.StatusNoContent, res.StatusCode, body)
	assert.Equal(t, "yes", alice.Get("seen"))
	assert.Equal(t, "alice", alice.WhoAmI())
	assert.Equal(t, "", anon.WhoAmI())
	assert.Equal(t, 1, count(t, b.Store, "alice"))
	all, err = it.All(context.Background())
	require.NoError(t, err)
	assert.Len(t, all, 2, "Iterate created no session")
	// A session ended meanwhile is not revived by an update.
	found, err := b.Store.Update(context.Background(), singlesession.Update{Token: "never-stored-" + strconv.Itoa(len(all)), Data: []byte("x"), Expiry: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	assert.False(t, found)
	all, err = it.All(context.Background())
	require.NoError(t, err)
	assert.Len(t, all, 2)
}
