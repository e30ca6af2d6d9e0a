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
