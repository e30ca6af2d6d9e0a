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
