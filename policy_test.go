package singlesession_test

import (
	"context"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// policyLog records every call of a policy.
type policyLog struct {
	mu    sync.Mutex
	calls []string
}

func (p *policyLog) policy(decide func(userID string) bool) singlesession.Policy {
	return func(_ context.Context, userID string) bool {
		p.mu.Lock()
		p.calls = append(p.calls, userID)
		p.mu.Unlock()
		return decide(userID)
	}
}

func (p *policyLog) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.calls
	p.calls = nil
	return c
}

// Rule 2: the policy is called exactly once per login, with the user who signs
// in, and never on logout or ordinary requests; its answer applies per user.
func TestPolicyPerUser(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var log policyLog
		a := newApp(t, e.Store, withPolicy(log.policy(func(u string) bool { return u != "bob" })))
		a1, a2, b1, b2 := a.Browser("a1"), a.Browser("a2"), a.Browser("b1"), a.Browser("b2")

		a1.MustLogin("alice")
		assert.Equal(t, []string{"alice"}, log.take())
		a2.MustLogin("alice")
		b1.MustLogin("bob")
		b2.MustLogin("bob")
		assert.Equal(t, []string{"alice", "bob", "bob"}, log.take(), "once per login, with the user who signs in")

		assert.Equal(t, "", a1.WhoAmI())
		assert.Equal(t, "alice", a2.WhoAmI())
		assert.Equal(t, "bob", b1.WhoAmI(), "the policy keeps bob's sessions")
		assert.Equal(t, "bob", b2.WhoAmI())

		a2.Put("k", "v")
		a2.Get("k")
		b2.Logout()
		assert.Empty(t, log.take(), "not called on ordinary requests or logout")
		assert.Equal(t, "", b1.WhoAmI(), "logout ends all of bob's sessions whatever the policy")
	})
}

// Rule 2: a nil policy is Always.
func TestPolicyNilIsAlways(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for name, pol := range map[string]singlesession.Policy{"nil": nil, "Always": singlesession.Always} {
			t.Run(name, func(t *testing.T) {
				a := newApp(t, e.Store, withPolicy(pol))
				one, two := a.Browser("one"), a.Browser("two")
				one.MustLogin("carol")
				two.MustLogin("carol")
				assert.Equal(t, "", one.WhoAmI())
				assert.Equal(t, 1, e.SessionsOf(t, "carol"))
			})
		}
	})
}

// Rules 2 and 13: a policy that panics fails the login, and nothing changes.
func TestPolicyPanics(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		panicky := true
		var mu sync.Mutex
		a := newApp(t, e.Store, withPolicy(func(_ context.Context, userID string) bool {
			mu.Lock()
			defer mu.Unlock()
			if panicky {
				panic("policy bug")
			}
			return true
		}))
		err := a.M.LoginHook(context.Background(), "alice")
		assert.ErrorIs(t, err, singlesession.ErrNoMiddleware, "the middleware check comes first")

		elsewhere, here := a.Browser("elsewhere"), a.Browser("here")
		mu.Lock()
		panicky = false
		mu.Unlock()
		elsewhere.MustLogin("alice")
		here.MustLogin("bob")
		here.Put("cart", "figs")
		cookie := here.Cookie()

		mu.Lock()
		panicky = true
		mu.Unlock()
		res, body := here.Do("POST", "/login", url.Values{"user": {"alice"}})
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assert.Contains(t, body, singlesession.ErrPolicyPanic.Error())
		assert.Contains(t, body, "policy bug")

		assert.Equal(t, cookie, here.Cookie(), "the token was not renewed")
		assert.Equal(t, "bob", here.WhoAmI(), "the browser is as it was")
		assert.Equal(t, "figs", here.Get("cart"))
		assert.Equal(t, "alice", elsewhere.WhoAmI(), "alice's other session did not end")

		mu.Lock()
		panicky = false
		mu.Unlock()
		here.MustLogin("alice")
		assert.Equal(t, "", elsewhere.WhoAmI(), "the next login works")
	})
}

// Rule 13: a policy that ends its goroutine without returning
// (runtime.Goexit, as t.FailNow does) fails the login at once, with nothing
// changed; before, the login waited until the request's context ended.
func TestPolicyGoexit(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var exit atomic.Bool
		a := newApp(t, e.Store, withPolicy(func(context.Context, string) bool {
			if exit.Load() {
				runtime.Goexit()
			}
			return true
		}))
		b := a.Browser("b")
		b.MustLogin("alice")
		exit.Store(true)
		b.Client.Timeout = 10 * time.Second // the old code hung until the request ended
		res, body := b.Do("POST", "/login", url.Values{"user": {"bob"}})
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assert.Contains(t, body, "Goexit")
		exit.Store(false)
		assert.Equal(t, "alice", b.WhoAmI(), "nothing changed")
		b.MustLogin("bob")
		assert.Equal(t, "bob", b.WhoAmI(), "the next login works")
	})
}

// Rules 2 and 13: a policy that blocks until the request is cancelled, or
// past it, fails the login whole; the next login of the user is not blocked.
func TestPolicyBlocks(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for name, block := range map[string]func(ctx context.Context, stuck chan struct{}){
			"until cancelled": func(ctx context.Context, _ chan struct{}) { <-ctx.Done() },
			"ignoring ctx":    func(_ context.Context, stuck chan struct{}) { <-stuck },
		} {
			t.Run(name, func(t *testing.T) {
				stuck := make(chan struct{})
				defer close(stuck)
				var mu sync.Mutex
				blocking := false
				a := newApp(t, e.Store, withPolicy(func(ctx context.Context, userID string) bool {
					mu.Lock()
					b := blocking
					mu.Unlock()
					if b {
						block(ctx, stuck)
					}
					return true
				}))
				elsewhere, here := a.Browser("elsewhere"), a.Browser("here")
				elsewhere.MustLogin("alice")
				here.Put("cart", "dates")
				cookie := here.Cookie()

				mu.Lock()
				blocking = true
				mu.Unlock()
				begin := time.Now()
				res, body := here.Do("POST", "/login", url.Values{"user": {"alice"}, "timeout": {"100ms"}})
				assert.Less(t, time.Since(begin), 10*time.Second, "LoginHook returns when ctx is done")
				assert.Equal(t, http.StatusBadRequest, res.StatusCode)
				assert.Contains(t, body, "context deadline exceeded")
				assert.Equal(t, cookie, here.Cookie())
				assert.Equal(t, "", here.WhoAmI())
				assert.Equal(t, "dates", here.Get("cart"))
				assert.Equal(t, "alice", elsewhere.WhoAmI())

				mu.Lock()
				blocking = false
				mu.Unlock()
				here.MustLogin("alice")
				assert.Equal(t, "alice", here.WhoAmI())
				assert.Equal(t, "", elsewhere.WhoAmI())
				require.Equal(t, 1, e.SessionsOf(t, "alice"))
			})
		}
	})
}

// Rules 2 and 13, after the fact: a policy that ignores its context and
// answers "end the others" only after the login has failed changes nothing
// then either; its late answer is dropped. (TestPolicyBlocks checks the
// state while the policy is still stuck.)
func TestPolicyLateAnswerChangesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var blocking atomic.Bool
		release, returned := make(chan struct{}), make(chan struct{})
		a := newApp(t, e.Store, withPolicy(func(_ context.Context, userID string) bool {
			if blocking.Load() {
				<-release
				defer close(returned)
			}
			return true
		}))
		elsewhere, here := a.Browser("elsewhere"), a.Browser("here")
		elsewhere.MustLogin("alice")
		here.Put("cart", "dates")
		cookie, otherToken := here.Cookie(), a.StoreToken(elsewhere.Cookie())
		sessionsBefore, linksBefore := rows(t, e)

		blocking.Store(true)
		res, body := here.Do("POST", "/login", url.Values{"user": {"alice"}, "timeout": {"100ms"}})
		require.Equal(t, http.StatusBadRequest, res.StatusCode)
		require.Contains(t, body, "context deadline exceeded")

		close(release)
		select {
		case <-returned:
		case <-time.After(10 * time.Second):
			t.Fatal("the policy did not return")
		}
		// Give a late answer every chance to do harm before looking.
		time.Sleep(50 * time.Millisecond)

		sessionsAfter, linksAfter := rows(t, e)
		assert.Equal(t, sessionsBefore, sessionsAfter, "no session added or ended")
		assert.Equal(t, linksBefore, linksAfter)
		assert.True(t, hasRow(t, e, otherToken), "alice's other session is still there")
		assert.Equal(t, "alice", elsewhere.WhoAmI())
		assert.Equal(t, cookie, here.Cookie())
		assert.Equal(t, "", here.WhoAmI())
		assert.Equal(t, "dates", here.Get("cart"))
		assert.Zero(t, a.Errors.Load())
	})
}
