package singlesession_test

import (
	"context"
	"fmt"
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
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// alwaysStale makes every signed-in request refresh LastSeen, so that "least
// recently used" follows the requests of a test exactly.
func alwaysStale() appOption {
	return withConfig(func(c *singlesession.Config) { c.LastSeenInterval = time.Nanosecond })
}

// as makes the browser send userAgent, and ip in X-Test-IP (which
// withTestClientIP takes for the client's address).
func as(b *browser, userAgent, ip string) *browser {
	b.Header = http.Header{"User-Agent": {userAgent}, "X-Test-Ip": {ip}}
	return b
}

// withTestClientIP takes the client's address from X-Test-IP.
func withTestClientIP() appOption {
	return withConfig(func(c *singlesession.Config) {
		c.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-IP") }
	})
}

// Rule 6.1.1: when a login would exceed Max, the least recently used of the
// user's other sessions ends: a session used after a newer login survives,
// the newer but idle one ends. (Ending the oldest login instead fails here.)
func TestLimitEndsLeastRecentlyUsed(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withLimit(singlesession.Limit{Max: 2}), alwaysStale())
		A, B, C := a.Browser("A"), a.Browser("B"), a.Browser("C")
		A.MustLogin("alice")
		B.MustLogin("alice")
		assert.Equal(t, "alice", A.WhoAmI(), "A is used after B signed in")
		C.MustLogin("alice")

		assert.Equal(t, "alice", A.WhoAmI(), "the recently used session survives")
		assert.Equal(t, "", B.WhoAmI(), "the least recently used one ended")
		assert.Equal(t, "alice", C.WhoAmI())
		assert.Equal(t, 2, e.SessionsOf(t, "alice"))

		// Without requests in between, the oldest login is the least
		// recently used.
		D := a.Browser("D")
		D.MustLogin("alice")
		assert.Equal(t, "", A.WhoAmI(), "A's last request came before C's login")
		assert.Equal(t, "alice", C.WhoAmI())
		assert.Equal(t, "alice", D.WhoAmI())
		assert.Zero(t, a.Errors.Load())
	})
}

// Rule 6.1.1: Limit{Max: 1} behaves as Always, and Limit{} as Never.
func TestLimitOneIsAlwaysAndZeroIsNever(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		t.Run("Max 1", func(t *testing.T) {
			a := newApp(t, e.Store, withLimit(singlesession.Limit{Max: 1}))
			A, B := a.Browser("A"), a.Browser("B")
			A.MustLogin("max1")
			B.MustLogin("max1")
			assert.Equal(t, "", A.WhoAmI())
			assert.Equal(t, "max1", B.WhoAmI())
			assert.Equal(t, 1, e.SessionsOf(t, "max1"))
		})
		t.Run("no limit", func(t *testing.T) {
			a := newApp(t, e.Store, withLimit(singlesession.Limit{}))
			browsers := make([]*browser, 5)
			for i := range browsers {
				browsers[i] = a.Browser(fmt.Sprint(i))
				browsers[i].MustLogin("unlimited")
			}
			for _, b := range browsers {
				assert.Equal(t, "unlimited", b.WhoAmI())
			}
			require.Equal(t, http.StatusNoContent, browsers[0].Logout().StatusCode)
			assert.Equal(t, 0, e.SessionsOf(t, "unlimited"), "logout still ends them all")
		})
	})
}

// Rules 6.1.1 and 6.1.3: with RejectNew, LoginHook itself refuses a login
// past Max with ErrTooManySessions and nothing changes; re-login on the
// browser that holds a session is never refused; expired sessions do not
// count, and the login deletes them without a reason.
func TestLimitRejectNew(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var mu sync.Mutex
		var loginErr error
		a := newApp(t, e.Store, withLimit(singlesession.Limit{Max: 2, RejectNew: true}),
			withRoute("POST /login-err", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					err := a.M.LoginHook(r.Context(), r.FormValue("user"))
					mu.Lock()
					loginErr = err
					mu.Unlock()
					if err != nil {
						http.Error(w, err.Error(), http.StatusConflict)
						return
					}
					w.WriteHeader(http.StatusNoContent)
				}
			}))
		A, B, C := a.Browser("A"), a.Browser("B"), a.Browser("C")
		A.MustLogin("alice")
		B.MustLogin("alice")
		C.Put("cart", "figs")
		cookie := C.Cookie()

		res, body := C.Do("POST", "/login-err", url.Values{"user": {"alice"}})
		assert.Equal(t, http.StatusConflict, res.StatusCode, body)
		mu.Lock()
		assert.ErrorIs(t, loginErr, singlesession.ErrTooManySessions)
		mu.Unlock()
		assert.Equal(t, cookie, C.Cookie(), "the refused browser keeps its session")
		assert.Equal(t, "figs", C.Get("cart"))
		assert.Equal(t, "", C.WhoAmI())
		assert.Equal(t, "alice", A.WhoAmI())
		assert.Equal(t, "alice", B.WhoAmI())
		assert.Equal(t, 2, e.SessionsOf(t, "alice"))

		for range 3 {
			A.MustLogin("alice") // its own session never counts
		}
		assert.Equal(t, "alice", A.WhoAmI())
		assert.Equal(t, "alice", B.WhoAmI())

		expire(t, e, a.StoreToken(B.Cookie()))
		C.MustLogin("alice")
		assert.Equal(t, "alice", C.WhoAmI(), "an expired session does not count")
		assert.Equal(t, "alice", A.WhoAmI())
		assert.False(t, hasRow(t, e, a.StoreToken(B.Cookie())), "the login deleted the expired session")
		_, ended := B.Ending()
		assert.False(t, ended, "with no reason recorded")
		assert.Zero(t, a.Errors.Load())
	})
}

// Rule 6.1.3: a RejectNew login that passes LoginHook's check but loses the
// race before its save is refused in the save: Config.ErrorFunc gets an
// error wrapping ErrTooManySessions, and nothing changes.
func TestLimitRejectNewInTheSave(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var saveErrs []error
		var mu sync.Mutex
		entered, release := make(chan struct{}), make(chan struct{})
		a := newApp(t, e.Store, withLimit(singlesession.Limit{Max: 1, RejectNew: true}),
			withConfig(func(c *singlesession.Config) {
				c.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
					mu.Lock()
					saveErrs = append(saveErrs, err)
					mu.Unlock()
					http.Error(w, err.Error(), http.StatusConflict)
				}
			}),
			withRoute("POST /login-wait", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					require.NoError(t, a.M.LoginHook(r.Context(), "alice"))
					entered <- struct{}{}
					<-release
					w.WriteHeader(http.StatusNoContent) // scs saves here
				}
			}))
		slow, fast := a.Browser("slow"), a.Browser("fast")
		slow.Put("cart", "pears")
		cookie := slow.Cookie()
		done := make(chan int)
		go func() {
			res, _ := slow.Do("POST", "/login-wait", url.Values{})
			done <- res.StatusCode
		}()
		<-entered
		fast.MustLogin("alice")
		close(release)
		assert.Equal(t, http.StatusConflict, <-done)

		mu.Lock()
		require.Len(t, saveErrs, 1)
		assert.ErrorIs(t, saveErrs[0], singlesession.ErrTooManySessions)
		mu.Unlock()
		assert.Equal(t, cookie, slow.Cookie(), "the refused browser keeps its session")
		assert.Equal(t, "pears", slow.Get("cart"))
		assert.Equal(t, "", slow.WhoAmI())
		assert.Equal(t, "alice", fast.WhoAmI())
		assert.Equal(t, 1, e.SessionsOf(t, "alice"))
	})
}

// Rules 6.1.1 and 12: Policy and Limit together fail New; a negative Max
// fails the login like a panicking policy, and nothing changes.
func TestLimitBadConfig(t *testing.T) {
	_, err := singlesession.New(scs.New(), singlesession.NewMemoryStore(), singlesession.Config{
		Policy: singlesession.Always,
		Limit:  func(context.Context, string) singlesession.Limit { return singlesession.Limit{Max: 1} },
	})
	assert.ErrorContains(t, err, "Limit")

	_, err = singlesession.New(scs.New(), singlesession.NewMemoryStore(), singlesession.Config{LastSeenInterval: -time.Second})
	assert.ErrorContains(t, err, "LastSeenInterval")

	forEachStore(t, func(t *testing.T, e *env) {
		var negative atomic.Bool
		a := newApp(t, e.Store, withConfig(func(c *singlesession.Config) {
			c.Limit = func(context.Context, string) singlesession.Limit {
				if negative.Load() {
					return singlesession.Limit{Max: -1}
				}
				return singlesession.Limit{Max: 1}
			}
		}))
		b := a.Browser("b")
		b.MustLogin("alice")
		cookie := b.Cookie()
		negative.Store(true)
		res, body := b.Do("POST", "/login", url.Values{"user": {"bob"}})
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assert.Contains(t, body, "negative")
		assert.Equal(t, cookie, b.Cookie())
		assert.Equal(t, "alice", b.WhoAmI())
	})
}

// twoInstances returns two apps (two Managers) that share e's store, the
// PostgreSQL one through two pools.
func twoInstances(t *testing.T, e *env, opts ...appOption) []*app {
	t.Helper()
	second := e.Store
	if e.Pool != nil {
		var schema string
		require.NoError(t, e.Pool.QueryRow(context.Background(), `SELECT current_schema()`).Scan(&schema))
		second = pgxstore.New(pgtest.Pool(t, schema, nil))
	}
	return []*app{newApp(t, e.Store, opts...), newApp(t, second, opts...)}
}

// Rule 6.1.2: 16 concurrent logins of one user under Max 3, through two
// Managers on two pools, leave exactly 3 sessions, round after round.
func TestLimitConcurrentLoginsLeaveExactlyMax(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		apps := twoInstances(t, e, withLimit(singlesession.Limit{Max: 3}))
		browsers := make([]*browser, 16)
		for i := range browsers {
			browsers[i] = apps[i%2].Browser(fmt.Sprint("browser ", i))
		}
		for round := range 5 {
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, b := range browsers {
				wg.Go(func() { <-start; b.MustLogin("alice") })
			}
			close(start)
			wg.Wait()
			signedIn := 0
			for _, b := range browsers {
				if b.WhoAmI() == "alice" {
					signedIn++
				}
			}
			assert.Equal(t, 3, signedIn, "round %d: signed-in browsers", round)
			assert.Equal(t, 3, e.SessionsOf(t, "alice"), "round %d: sessions in the store", round)
			_, links := rows(t, e)
			assert.Equal(t, 3, links, "round %d: links", round)
		}
		for _, a := range apps {
			assert.Zero(t, a.Errors.Load())
		}
	})
}

// Rule 6.1.2: 16 concurrent logins under Max 2 with RejectNew, from no
// session, give exactly 2 successes; every other login is refused and
// leaves nothing behind.
func TestLimitRejectNewConcurrentLoginsExactlyMaxSucceed(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		apps := twoInstances(t, e, withLimit(singlesession.Limit{Max: 2, RejectNew: true}))
		for round := range 4 {
			var ok, refused atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 16 {
				b := apps[i%2].Browser(fmt.Sprint("browser ", i))
				wg.Go(func() {
					<-start
					res, body := b.Do("POST", "/login", url.Values{"user": {"alice"}})
					switch {
					case res.StatusCode == http.StatusNoContent:
						ok.Add(1)
					case strings.Contains(body, singlesession.ErrTooManySessions.Error()):
						refused.Add(1) // by LoginHook (400) or in the save (ErrorFunc, 500)
					default:
						t.Errorf("round %d: %s: %d %s", round, b.Name, res.StatusCode, body)
					}
				})
			}
			close(start)
			wg.Wait()
			assert.Equal(t, int32(2), ok.Load(), "round %d: successes", round)
			assert.Equal(t, int32(14), refused.Load(), "round %d: refusals", round)
			sessions, links := rows(t, e)
			assert.Equal(t, 2, sessions, "round %d: refused logins left no session", round)
			assert.Equal(t, 2, links, "round %d", round)
			_, err := apps[0].M.LogoutUser(context.Background(), "alice")
			require.NoError(t, err)
		}
	})
}
