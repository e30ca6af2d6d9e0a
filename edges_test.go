package singlesession_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
)

// An older request of the same browser, still in flight when the browser
// signs in, saves after the login: its session has ended, so its write is
// dropped, and it must not send the dead token back over the new one.
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
				a := newApp(t, e.store, withSessions(c.opt))
				b := a.browser("b")
				b.put("cart", "grapes")
				done := make(chan int, 1)
				go func() {
					method := map[string]string{"/slow": "GET", "/slow-put": "POST"}[c.path]
					res, _ := b.do(method, c.path, url.Values{"key": {"late"}, "val": {"x"}})
					done <- res.StatusCode
				}()
				<-a.entered
				b.mustLogin("alice")
				require.Equal(t, "alice", b.whoami())
				close(a.release)
				assert.Equal(t, http.StatusOK, <-done)

				assert.Equal(t, "alice", b.whoami(), "the login is still in effect")
				assert.Equal(t, "grapes", b.get("cart"))
				assert.Zero(t, a.errors.Load())
			})
		}
	})
}

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

// The store's Logout ends the user's other sessions only when the browser's
// own session was still there, linked to that user.
func TestStoreLogoutIsConditional(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		login := func(user, token string) {
			_, err := e.store.Login(ctx, singlesession.Login{UserID: user, Token: token, Data: []byte{1}, Expiry: time.Now().Add(time.Hour)})
			require.NoError(t, err)
		}
		login("alice", "a1")
		login("alice", "a2")
		login("bob", "b1")

		res, err := e.store.Logout(ctx, singlesession.Logout{UserID: "alice", Tokens: []string{"gone"}})
		require.NoError(t, err)
		assert.Zero(t, res.Deleted, "an ended session's logout ends nothing")
		res, err = e.store.Logout(ctx, singlesession.Logout{UserID: "alice", Tokens: []string{"b1"}})
		require.NoError(t, err)
		assert.Equal(t, 1, res.Deleted, "bob's session is deleted, but it was not alice's")
		assert.Equal(t, 2, e.sessionsOf(t, "alice"))

		res, err = e.store.Logout(ctx, singlesession.Logout{UserID: "alice", Tokens: []string{"a1", "never"}})
		require.NoError(t, err)
		assert.Equal(t, 2, res.Deleted)
		assert.Equal(t, 1, res.Others)
		assert.Equal(t, 0, e.sessionsOf(t, "alice"))

		ended, err := e.store.End(ctx, singlesession.End{UserIDs: []string{"alice", "nobody"}})
		require.NoError(t, err)
		assert.Empty(t, ended.Counts)
	})
}

// Concurrent logins leave one session whatever the database's default
// isolation level: the login batch sets READ COMMITTED itself.
func TestLoginUnderRepeatableReadDefault(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	cfg, err := pgxpool.ParseConfig(pgtest.DatabaseURL())
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "repeatable read"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, singlesession.Migrate(context.Background(), pool))
	e := &env{name: "postgres", store: singlesession.NewPostgresStore(pool), pool: pool}
	ctx := context.Background()

	// Login 1 holds alice's lock and has written its session, uncommitted;
	// login 2 waits for the lock, then must see login 1's session.
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT pg_advisory_xact_lock(1936942451, `+singlesession.UserLock("'alice'")+`)`)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `INSERT INTO sessions VALUES ('first', '\x01', now() + interval '1 hour');
		INSERT INTO singlesession_links (token, user_id) VALUES ('first', 'alice')`)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := e.store.Login(ctx, singlesession.Login{UserID: "alice", Token: "second", Data: []byte{1}, Expiry: time.Now().Add(time.Hour), Limit: singlesession.Limit{Max: 1}})
		done <- err
	}()
	require.Eventually(t, func() bool { return lockWaiters(t, pool) > 0 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, tx.Commit(ctx))
	require.NoError(t, <-done)
	assert.Equal(t, 1, e.sessionsOf(t, "alice"))

	a := newApp(t, e.store)
	concurrentLogins(t, e, []*app{a}, 16, 2)
}

// lockWaiters counts sessions waiting for an advisory lock.
func lockWaiters(t *testing.T, pool *pgxpool.Pool) int {
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&n))
	return n
}

// If the save of a login fails at the handler's first write, UserID goes
// back to what the browser still is.
func TestUserIDAfterFailedLoginSave(t *testing.T) {
	broken := &failingLoginStore{Store: singlesession.NewMemoryStore()}
	var after atomic.Value
	a := newApp(t, broken, withRoute("POST /login-then-write", func(a *app) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			require.NoError(t, a.m.LoginHook(r.Context(), "bob"))
			broken.fail.Store(true)
			w.WriteHeader(http.StatusOK) // scs saves here, and fails
			broken.fail.Store(false)
			after.Store(a.m.UserID(r.Context()))
		}
	}))
	b := a.browser("b")
	b.mustLogin("alice")
	b.do("POST", "/login-then-write", url.Values{})
	assert.Equal(t, "alice", after.Load(), "UserID is the previous user again")
	assert.Equal(t, "alice", b.whoami(), "the browser is still alice")
}

// Two LoginHook calls in one request whose save fails: UserID goes back to
// the user from before the first (alice), never to the first login's user
// (carol), who never signed in.
func TestUserIDAfterFailedSaveOfTwoLogins(t *testing.T) {
	broken := &failingLoginStore{Store: singlesession.NewMemoryStore()}
	var after atomic.Value
	a := newApp(t, broken, withRoute("POST /twice-then-write", func(a *app) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			require.NoError(t, a.m.LoginHook(r.Context(), "carol"))
			require.NoError(t, a.m.LoginHook(r.Context(), "dave"))
			broken.fail.Store(true)
			w.WriteHeader(http.StatusOK) // scs saves here, and fails
			broken.fail.Store(false)
			after.Store(a.m.UserID(r.Context()))
		}
	}))
	b := a.browser("b")
	b.mustLogin("alice")
	b.do("POST", "/twice-then-write", url.Values{})
	assert.Equal(t, "alice", after.Load(), "UserID is the user from before both logins")
	assert.Equal(t, "alice", b.whoami())
}

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

// MergeSession (an OAuth callback merging the session from before the
// redirect) deletes another session; it leaves this request's user and a
// pending login alone.
func TestMergeSession(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store,
			withRoute("POST /merge", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if u := r.FormValue("login"); u != "" {
						require.NoError(t, a.m.LoginHook(r.Context(), u))
					}
					err := a.sessions.MergeSession(r.Context(), r.FormValue("token"))
					fmt.Fprintf(w, "%v|%s", err, a.m.UserID(r.Context()))
				}
			}))
		cartOf := func() string {
			other := a.browser("other")
			other.put("cart", "figs")
			_, token := other.do("GET", "/token", nil)
			return token
		}

		signedIn := a.browser("signed in")
		signedIn.mustLogin("alice")
		_, body := signedIn.do("POST", "/merge", url.Values{"token": {cartOf()}})
		assert.Equal(t, "<nil>|alice", body)
		assert.Equal(t, "alice", signedIn.whoami())
		assert.Equal(t, "figs", signedIn.get("cart"))

		callback := a.browser("callback")
		_, body = callback.do("POST", "/merge", url.Values{"token": {cartOf()}, "login": {"bob"}})
		assert.Equal(t, "<nil>|bob", body)
		assert.Equal(t, "bob", callback.whoami())
		assert.Equal(t, "figs", callback.get("cart"))

		// A browser with no cookie: the merged session's user is not this
		// browser's, even if the merge then fails.
		bob := a.browser("bob")
		bob.mustLogin("bob2")
		_, bobToken := bob.do("GET", "/token", nil)
		_, body = a.browser("fresh").do("POST", "/merge", url.Values{"token": {bobToken}})
		assert.True(t, strings.HasSuffix(body, "|"), "anonymous, got %q", body)
	})
}

// scs's Iterate works: it reads every live session, and a Commit inside it
// updates (never re-creates) and a Destroy deletes with the link.
func TestIterate(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store)
		one, two := a.browser("one"), a.browser("two")
		one.mustLogin("alice")
		two.put("cart", "nuts")

		var mu sync.Mutex
		seen := 0
		err := a.sessions.Iterate(context.Background(), func(ctx context.Context) error {
			mu.Lock()
			seen++
			mu.Unlock()
			a.sessions.Put(ctx, "touched", "yes")
			_, _, err := a.sessions.Commit(ctx)
			return err
		})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, seen, 2)
		assert.Equal(t, "yes", one.get("touched"))
		assert.Equal(t, "alice", one.whoami())

		err = a.sessions.Iterate(context.Background(), func(ctx context.Context) error {
			return a.sessions.Destroy(ctx)
		})
		require.NoError(t, err)
		assert.Equal(t, "", one.whoami())
		assert.Equal(t, "", two.get("cart"))
		_, links := rows(t, e)
		assert.Zero(t, links)
	})
}
