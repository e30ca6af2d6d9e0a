package singlesession_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// scsVariants are the scs options under which sessions are saved differently:
// IdleTimeout saves on every request, HashTokenInStore changes the store key.
var scsVariants = map[string]func(*scs.SessionManager){
	"plain":           func(*scs.SessionManager) {},
	"idle timeout":    func(s *scs.SessionManager) { s.IdleTimeout = time.Hour },
	"hashed token":    func(s *scs.SessionManager) { s.HashTokenInStore = true },
	"idle and hashed": func(s *scs.SessionManager) { s.IdleTimeout = time.Hour; s.HashTokenInStore = true },
}

// Rule 6 and rule 13: a request of session A is in flight, and writes the
// session, while A is ended (alice signs in on B, alice signs out on B, an
// operator signs alice out). The request completes with its own status; A's
// token has no row afterwards and A is anonymous.
func TestNoResurrectionOfInFlightSession(t *testing.T) {
	enders := map[string]func(t *testing.T, a *app, b *browser){
		"login elsewhere": func(t *testing.T, a *app, b *browser) { b.mustLogin("alice") },
		"logout elsewhere": func(t *testing.T, a *app, b *browser) {
			b.mustLogin("alice")
			require.Equal(t, http.StatusNoContent, b.logout().StatusCode)
		},
		"LogoutUser": func(t *testing.T, a *app, b *browser) {
			_, err := a.m.LogoutUser(context.Background(), "alice")
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
						a := newApp(t, e.store, withSessions(opt), withPolicy(pol))
						A, B := a.browser("A"), a.browser("B")
						A.mustLogin("alice")
						token := a.storeToken(A.cookie())

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
							res, body := A.do(method, path, url.Values{"key": {"k"}, "val": {"written after the end"}})
							done <- result{res.StatusCode, body}
						}()
						<-a.entered
						end(t, a, B)
						require.False(t, hasRow(t, e, token), "A ended while its request is in flight")
						close(a.release)

						r := <-done
						assert.Equal(t, http.StatusOK, r.status, "the in-flight request completes normally")
						assert.Equal(t, "done", r.body)
						assert.False(t, hasRow(t, e, token), "the in-flight save did not bring A back")
						assert.Equal(t, "", A.whoami(), "A is anonymous")
						assert.Equal(t, "", A.get("k"), "A's late write was dropped")
						assert.False(t, hasRow(t, e, token))
						assert.Zero(t, a.errors.Load())
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
				a := newApp(t, e.store, withSessions(opt))
				for round := range 3 {
					A, B := a.browser("A"), a.browser("B")
					A.mustLogin("alice")
					token := a.storeToken(A.cookie())

					var wg sync.WaitGroup
					start := make(chan struct{})
					for i := range 12 {
						wg.Go(func() {
							<-start
							time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
							if i%2 == 0 {
								A.do("POST", "/put", url.Values{"key": {"k"}, "val": {fmt.Sprint(i)}})
							} else {
								A.do("GET", "/whoami", nil)
							}
						})
					}
					wg.Go(func() {
						<-start
						time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
						B.mustLogin("alice")
					})
					close(start)
					wg.Wait()

					assert.False(t, hasRow(t, e, token), "round %d: A came back", round)
					// Each request's response may have set A's cookie again; A stays anonymous.
					assert.Equal(t, "", A.whoami(), "round %d", round)
					assert.Equal(t, "alice", B.whoami(), "round %d", round)
					assert.Equal(t, 1, e.sessionsOf(t, "alice"), "round %d", round)
				}
				assert.Zero(t, a.errors.Load())
			})
		}
	})
}

// Rule 7: many concurrent logins of one user leave exactly one signed-in
// browser, round after round.
func TestConcurrentLogins(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store)
		concurrentLogins(t, e, []*app{a}, 24, 5)
	})
}

// Rule 7 across instances: two Managers on two pools share one database.
func TestConcurrentLoginsTwoInstances(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	pool1 := schemaPool(t, schema, nil)
	require.NoError(t, singlesession.Migrate(context.Background(), pool1))
	pool2 := schemaPool(t, schema, nil)
	e := &env{name: "postgres", store: singlesession.NewPostgresStore(pool1), pool: pool1}
	one := newApp(t, e.store)
	two := newApp(t, singlesession.NewPostgresStore(pool2))
	concurrentLogins(t, e, []*app{one, two}, 24, 5)
}

// Rule 7 with Never: every concurrent login survives.
func TestConcurrentLoginsNever(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store, withPolicy(singlesession.Never))
		browsers := make([]*browser, 16)
		for i := range browsers {
			browsers[i] = a.browser(fmt.Sprint(i))
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, b := range browsers {
			wg.Go(func() { <-start; b.mustLogin("alice") })
		}
		close(start)
		wg.Wait()
		assert.Equal(t, 16, e.sessionsOf(t, "alice"))
	})
}

// concurrentLogins signs n browsers, spread over apps, in as alice at once,
// rounds times, and checks that exactly one stays signed in each round.
func concurrentLogins(t *testing.T, e *env, apps []*app, n, rounds int) {
	t.Helper()
	browsers := make([]*browser, n)
	for i := range browsers {
		browsers[i] = apps[i%len(apps)].browser(fmt.Sprint("browser ", i))
	}
	for round := range rounds {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, b := range browsers {
			wg.Go(func() {
				<-start
				b.mustLogin("alice") // from round 1 on, a re-login on a live or ended session
			})
		}
		close(start)
		wg.Wait()

		signedIn := 0
		for _, b := range browsers {
			switch who := b.whoami(); who {
			case "alice":
				signedIn++
			case "":
			default:
				t.Fatalf("round %d: %s is signed in as %q", round, b.name, who)
			}
		}
		assert.Equal(t, 1, signedIn, "round %d: signed-in browsers", round)
		assert.Equal(t, 1, e.sessionsOf(t, "alice"), "round %d: alice's sessions in the store", round)
		_, links := rows(t, e)
		assert.Equal(t, 1, links, "round %d: link rows", round)
	}
	for _, a := range apps {
		assert.Zero(t, a.errors.Load())
	}
}
