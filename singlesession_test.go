package singlesession_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// The rules of SPEC section 1, in rule order, each test citing its rule.
// Most run on the memory store and on PostgreSQL (forEachStore), as rule 13
// asks. A rule, or an edge of rule 13, whose code lives in one file is
// tested next to that file instead:
//
//   - rule 2 (Policy) and its edges (a policy that panics, blocks or calls
//     runtime.Goexit): policy_test.go;
//   - rule 9 (expiry and cleanup) and rule 13's bounded tables:
//     cleanup_test.go;
//   - rule 11 (operators): the admin tests (admin_test.go and those of the
//     admin page);
//   - rule 13: store errors that reach Config.ErrorFunc, the header tokens of
//     Manager.Load and Manager.Commit, and sessions.Load outside the
//     middleware: middleware_test.go; scs's Iterate and MergeSession in a
//     handler, and sessions.Commit outside a request: adapter_test.go;
//     operations that end one user's sessions at the same moment:
//     contention_test.go;
//   - what only PostgreSQL has: concurrent logins across instances and
//     under REPEATABLE READ, and scs's own cleanup (pgxstore/store_test.go);
//     a login that fails inside PostgreSQL (pgxstore/login_failure_test.go);
//     Migrate (pgxstore/migrate_test.go).

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

// Rule 3 (and SPEC 8.3): a logout request of session A, in flight while
// alice's login on B ends A, must not end B: whichever way round, B's login
// came after A's logout or A was already anonymous.
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

// Rule 6 and rule 13: a request of session A is in flight, and writes the
// session, while A is ended (alice signs in on B, alice signs out on B, an
// operator signs alice out). The request completes with its own status; A's
// token has no row afterwards and A is anonymous.
func TestNoResurrectionOfInFlightSession(t *testing.T) {
	enders := map[string]func(t *testing.T, a *app, b *browser){
		"login elsewhere": func(t *testing.T, a *app, b *browser) { b.MustLogin("alice") },
		"logout elsewhere": func(t *testing.T, a *app, b *browser) {
			b.MustLogin("alice")
			require.Equal(t, http.StatusNoContent, b.Logout().StatusCode)
		},
		"LogoutUser": func(t *testing.T, a *app, b *browser) {
			_, err := a.M.LogoutUser(context.Background(), "alice")
			require.NoError(t, err)
		},
	}
	forEachStore(t, func(t *testing.T, e *env) {
		for variant, opt := range scsVariants {
			for ender, end := range enders {
				for _, path := range []string{"/slow-put", "/slow"} {
					if path == "/slow" && !strings.Contains(variant, "idle") {
						continue // without IdleTimeout a request that writes nothing never saves
					}
					t.Run(fmt.Sprintf("%s/%s/%s", variant, ender, path), func(t *testing.T) {
						pol := singlesession.Always
						if ender == "logout elsewhere" {
							pol = singlesession.Never // so only the logout can end A
						}
						a := newApp(t, e.Store, withSessions(opt), withPolicy(pol))
						A, B := a.Browser("A"), a.Browser("B")
						A.MustLogin("alice")
						token := a.StoreToken(A.Cookie())

						type result struct {
							status int
							body   string
						}
						done := make(chan result, 1)
						go func() {
							method := "GET"
							if path == "/slow-put" {
								method = "POST"
							}
							res, body := A.Do(method, path, url.Values{"key": {"k"}, "val": {"written after the end"}})
							done <- result{res.StatusCode, body}
						}()
						<-a.Entered
						end(t, a, B)
						require.False(t, hasRow(t, e, token), "A ended while its request is in flight")
						close(a.Release)

						r := <-done
						assert.Equal(t, http.StatusOK, r.status, "the in-flight request completes normally")
						assert.Equal(t, "done", r.body)
						assert.False(t, hasRow(t, e, token), "the in-flight save did not bring A back")
						assert.Equal(t, "", A.WhoAmI(), "A is anonymous")
						assert.Equal(t, "", A.Get("k"), "A's late write was dropped")
						assert.False(t, hasRow(t, e, token))
						assert.Zero(t, a.Errors.Load())
					})
				}
			}
		}
	})
}

// Rule 6, any ordering: while A fires many concurrent requests (reads and
// writes), A is ended; once everything settles, A has no row and is anonymous.
func TestNoResurrectionUnderConcurrentRequests(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for variant, opt := range scsVariants {
			t.Run(variant, func(t *testing.T) {
				a := newApp(t, e.Store, withSessions(opt))
				for round := range 3 {
					A, B := a.Browser("A"), a.Browser("B")
					A.MustLogin("alice")
					token := a.StoreToken(A.Cookie())

					var wg sync.WaitGroup
					start := make(chan struct{})
					for i := range 12 {
						wg.Go(func() {
							<-start
							time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
							if i%2 == 0 {
								A.Do("POST", "/put", url.Values{"key": {"k"}, "val": {fmt.Sprint(i)}})
							} else {
								A.Do("GET", "/whoami", nil)
							}
						})
					}
					wg.Go(func() {
						<-start
						time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
						B.MustLogin("alice")
					})
					close(start)
					wg.Wait()

					assert.False(t, hasRow(t, e, token), "round %d: A came back", round)
					// Each request's response may have set A's cookie again; A stays anonymous.
					assert.Equal(t, "", A.WhoAmI(), "round %d", round)
					assert.Equal(t, "alice", B.WhoAmI(), "round %d", round)
					assert.Equal(t, 1, e.SessionsOf(t, "alice"), "round %d", round)
				}
				assert.Zero(t, a.Errors.Load())
			})
		}
	})
}

// Rules 4 and 6: an older request of the same browser, still in flight when
// the browser signs in, saves after the login: its session has ended, so its
// write is dropped, and it must not send the dead token back over the new
// one.
func TestInFlightRequestKeepsNewLoginCookie(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for name, c := range map[string]struct {
			opt  func(*scs.SessionManager)
			path string
		}{
			"write":        {func(*scs.SessionManager) {}, "/slow-put"},
			"idle timeout": {func(s *scs.SessionManager) { s.IdleTimeout = time.Hour }, "/slow"},
		} {
			t.Run(name, func(t *testing.T) {
				a := newApp(t, e.Store, withSessions(c.opt))
				b := a.Browser("b")
				b.Put("cart", "grapes")
				done := make(chan int, 1)
				go func() {
					method := map[string]string{"/slow": "GET", "/slow-put": "POST"}[c.path]
					res, _ := b.Do(method, c.path, url.Values{"key": {"late"}, "val": {"x"}})
					done <- res.StatusCode
				}()
				<-a.Entered
				b.MustLogin("alice")
				require.Equal(t, "alice", b.WhoAmI())
				close(a.Release)
				assert.Equal(t, http.StatusOK, <-done)

				assert.Equal(t, "alice", b.WhoAmI(), "the login is still in effect")
				assert.Equal(t, "grapes", b.Get("cart"))
				assert.Zero(t, a.Errors.Load())
			})
		}
	})
}

// Rule 7: many concurrent logins of one user leave exactly one signed-in
// browser, round after round.
func TestConcurrentLogins(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		concurrentLogins(t, e, []*app{a}, 24, 5)
	})
}

// Rule 7 with Never: every concurrent login survives.
func TestConcurrentLoginsNever(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withPolicy(singlesession.Never))
		browsers := make([]*browser, 16)
		for i := range browsers {
			browsers[i] = a.Browser(fmt.Sprint(i))
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, b := range browsers {
			wg.Go(func() { <-start; b.MustLogin("alice") })
		}
		close(start)
		wg.Wait()
		assert.Equal(t, 16, e.SessionsOf(t, "alice"))
	})
}

// Rule 8: sessions that were never linked are not touched by login, logout or
// LogoutUser.
func TestUntrackedSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		anon := a.Browser("anon")
		anon.Put("cart", "plums")

		one, two := a.Browser("one"), a.Browser("two")
		one.MustLogin("alice")
		two.MustLogin("alice")
		two.Logout()
		n, err := a.M.LogoutUser(context.Background(), "alice")
		require.NoError(t, err)
		assert.Zero(t, n)

		assert.Equal(t, "plums", anon.Get("cart"))
		assert.True(t, anon.Exists())
	})
}

// jsonCodec is a Codec other than scs's gob default.
type jsonCodec struct{}

func (jsonCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	return json.Marshal(struct {
		Deadline time.Time
		Values   map[string]any
	}{deadline, values})
}

func (jsonCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	var v struct {
		Deadline time.Time
		Values   map[string]any
	}
	err := json.Unmarshal(b, &v)
	return v.Deadline, v.Values, err
}

// Rule 10: the rules hold with each of scs's options, alone and together.
func TestScsOptions(t *testing.T) {
	options := []struct {
		name string
		set  func(*scs.SessionManager)
	}{
		{"hashed token", func(s *scs.SessionManager) { s.HashTokenInStore = true }},
		{"idle timeout", func(s *scs.SessionManager) { s.IdleTimeout = 10 * time.Minute }},
		{"lifetime", func(s *scs.SessionManager) { s.Lifetime = 2 * time.Hour }},
		{"cookie name", func(s *scs.SessionManager) { s.Cookie.Name = "sid" }},
		{"codec", func(s *scs.SessionManager) { s.Codec = jsonCodec{} }},
	}
	forEachStore(t, func(t *testing.T, e *env) {
		for mask := 0; mask < 1<<len(options); mask++ {
			name := ""
			var set []func(*scs.SessionManager)
			for i, o := range options {
				if mask&(1<<i) != 0 {
					name += "+" + o.name
					set = append(set, o.set)
				}
			}
			if name == "" {
				name = "+defaults"
			}
			t.Run(name[1:], func(t *testing.T) {
				a := newApp(t, e.Store, withSessions(func(s *scs.SessionManager) {
					for _, f := range set {
						f(s)
					}
				}))
				user := fmt.Sprint("user-", mask)
				one, two := a.Browser("one"), a.Browser("two")
				one.Put("cart", "kiwis")
				one.MustLogin(user)
				require.NotEmpty(t, one.Cookie(), "cookie %q is set", a.Sessions.Cookie.Name)
				assert.Equal(t, "kiwis", one.Get("cart"))
				assert.Equal(t, user, one.WhoAmI())

				res, err := e.Store.Sessions(t.Context(), singlesession.SessionsQuery{UserID: user, Limit: 10})
				require.NoError(t, err)
				list := res.Sessions
				require.Len(t, list, 1)
				want := time.Now().Add(a.Sessions.Lifetime)
				if a.Sessions.IdleTimeout > 0 {
					want = time.Now().Add(a.Sessions.IdleTimeout)
				}
				assert.WithinDuration(t, want, list[0].Expiry, time.Minute, "expiry follows Lifetime and IdleTimeout")

				two.MustLogin(user)
				assert.Equal(t, "", one.WhoAmI())
				assert.Equal(t, user, two.WhoAmI())
				assert.Equal(t, 1, e.SessionsOf(t, user))

				assert.Equal(t, http.StatusNoContent, two.Logout().StatusCode)
				assert.Equal(t, "", two.WhoAmI())
				assert.Equal(t, 0, e.SessionsOf(t, user))
				assert.Zero(t, a.Errors.Load())
			})
		}
	})
}

// Rule 12: configuration errors fail in New, and New changes nothing then.
func TestNewRejectsBadConfig(t *testing.T) {
	mem := singlesession.NewMemoryStore()
	var nilMem *singlesession.MemoryStore
	var nilPG *pgxstore.Store
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
		"no codec":           {mod(func(s *scs.SessionManager) { s.Codec = nil }), mem, "Codec"},
		"no cookie name":     {mod(func(s *scs.SessionManager) { s.Cookie.Name = "" }), mem, "Cookie.Name"},
		"negative lifetime":  {mod(func(s *scs.SessionManager) { s.Lifetime = -1 }), mem, "Lifetime"},
		"negative idle":      {mod(func(s *scs.SessionManager) { s.IdleTimeout = -1 }), mem, "IdleTimeout"},
		"taken sessions":     {taken, mem, "already belongs"},
	} {
		t.Run(name, func(t *testing.T) {
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
		})
	}
}

// Rule 13: within one request UserID follows LoginHook at once.
func TestUserIDRightAfterLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		res := a.Browser("b").Login("alice")
		assert.Equal(t, "alice", res.Header.Get("X-User-After"))
	})
}

// Rule 13, within one request: if the save of a login fails at the
// handler's first write, UserID goes back to what the browser still is;
// after two LoginHook calls, to the user from before the first (alice),
// never to the first login's user (carol), who never signed in.
func TestUserIDAfterFailedLoginSave(t *testing.T) {
	for _, logins := range [][]string{{"bob"}, {"carol", "dave"}} {
		t.Run(strings.Join(logins, ","), func(t *testing.T) {
			broken := &failingStore{Store: singlesession.NewMemoryStore(), only: "Login"}
			var after atomic.Value
			a := newApp(t, broken, withRoute("POST /login-then-write", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					for _, user := range logins {
						require.NoError(t, a.M.LoginHook(r.Context(), user))
					}
					broken.fail.Store(true)
					w.WriteHeader(http.StatusOK) // scs saves here, and fails
					broken.fail.Store(false)
					after.Store(a.M.UserID(r.Context()))
				}
			}))
			b := a.Browser("b")
			b.MustLogin("alice")
			b.Do("POST", "/login-then-write", url.Values{})
			assert.Equal(t, "alice", after.Load(), "UserID is the user from before the logins")
			assert.Equal(t, "alice", b.WhoAmI(), "the browser is still alice")
		})
	}
}

// Rule 13: LogoutUser ends every session of one user and says how many;
// LogoutUser("") ends nothing.
func TestLogoutUser(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withPolicy(singlesession.Never))
		one, two, bob := a.Browser("one"), a.Browser("two"), a.Browser("bob")
		one.MustLogin("alice")
		two.MustLogin("alice")
		bob.MustLogin("bob")

		n, err := a.M.LogoutUser(context.Background(), "alice")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		assert.Equal(t, "", one.WhoAmI())
		assert.Equal(t, "", two.WhoAmI())
		assert.Equal(t, "bob", bob.WhoAmI())

		n, err = a.M.LogoutUser(context.Background(), "nobody")
		require.NoError(t, err, "an unknown user is not an error")
		assert.Zero(t, n)

		n, err = a.M.LogoutUser(context.Background(), "")
		require.ErrorIs(t, err, singlesession.ErrInvalidUserID)
		assert.Zero(t, n)
		assert.Equal(t, "bob", bob.WhoAmI(), "LogoutUser(\"\") ends nothing")
	})
}

// Rule 13, for many users: LogoutUsers ends the sessions of many users in
// one operation; a bad ID anywhere ends nothing.
func TestLogoutUsers(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withPolicy(singlesession.Never))
		for _, u := range []string{"u1", "u1", "u2", "u3"} {
			a.Browser(u).MustLogin(u)
		}
		counts, err := a.M.LogoutUsers(context.Background(), []string{"u1", "u2", "u2", "ghost"})
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"u1": 2, "u2": 1}, counts)
		assert.Equal(t, 1, e.SessionsOf(t, "u3"))

		counts, err = a.M.LogoutUsers(context.Background(), nil)
		require.NoError(t, err)
		assert.Empty(t, counts)

		_, err = a.M.LogoutUsers(context.Background(), []string{"u3", ""})
		assert.ErrorIs(t, err, singlesession.ErrInvalidUserID)
		assert.Equal(t, 1, e.SessionsOf(t, "u3"), "a bad ID anywhere ends nothing")
	})
}

// Rule 13: a login whose save fails leaves no half state: the browser keeps
// its previous session and data, the user's other sessions do not end, and
// the error goes to ErrorFunc.
func TestFailedLoginChangesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		broken := &failingStore{Store: e.Store, only: "Login"}
		a := newApp(t, broken)
		elsewhere, here := a.Browser("elsewhere"), a.Browser("here")
		elsewhere.MustLogin("alice")
		here.Put("cart", "limes")
		cookie := here.Cookie()

		broken.fail.Store(true)
		res := here.Login("alice")
		assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
		assert.EqualValues(t, 1, a.Errors.Load())
		broken.fail.Store(false)

		assert.Equal(t, cookie, here.Cookie(), "no new cookie")
		assert.True(t, here.Exists(), "the previous token was not ended")
		assert.Equal(t, "limes", here.Get("cart"))
		assert.Equal(t, "", here.WhoAmI())
		assert.Equal(t, "alice", elsewhere.WhoAmI())
		assert.Equal(t, 1, e.SessionsOf(t, "alice"))
	})
}

// Rule 13, within one request: hooks combined in one request; LogoutHook
// after LoginHook ends every session of the user, like any logout.
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

// Rule 13, within one request: the application's own Destroy or RenewToken
// after LoginHook cancels the login (safely: the browser is signed out) and
// says so in the log.
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
