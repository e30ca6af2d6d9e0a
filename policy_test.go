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
		a := newApp(t, e.store, withPolicy(log.policy(func(u string) bool { return u != "bob" })))
		a1, a2, b1, b2 := a.browser("a1"), a.browser("a2"), a.browser("b1"), a.browser("b2")

		a1.mustLogin("alice")
		assert.Equal(t, []string{"alice"}, log.take())
		a2.mustLogin("alice")
		b1.mustLogin("bob")
		b2.mustLogin("bob")
		assert.Equal(t, []string{"alice", "bob", "bob"}, log.take(), "once per login, with the user who signs in")

		assert.Equal(t, "", a1.whoami())
		assert.Equal(t, "alice", a2.whoami())
		assert.Equal(t, "bob", b1.whoami(), "the policy keeps bob's sessions")
		assert.Equal(t, "bob", b2.whoami())

		a2.put("k", "v")
		a2.get("k")
		b2.logout()
		assert.Empty(t, log.take(), "not called on ordinary requests or logout")
		assert.Equal(t, "", b1.whoami(), "logout ends all of bob's sessions whatever the policy")
	})
}

// Rule 2: a nil policy is Always.
func TestPolicyNilIsAlways(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for name, pol := range map[string]singlesession.Policy{"nil": nil, "Always": singlesession.Always} {
			t.Run(name, func(t *testing.T) {
				a := newApp(t, e.store, withPolicy(pol))
				one, two := a.browser("one"), a.browser("two")
				one.mustLogin("carol")
				two.mustLogin("carol")
				assert.Equal(t, "", one.whoami())
				assert.Equal(t, 1, e.sessionsOf(t, "carol"))
			})
		}
	})
}

// Rules 2 and 13: a policy that panics fails the login, and nothing changes.
func TestPolicyPanics(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		panicky := true
		var mu sync.Mutex
		a := newApp(t, e.store, withPolicy(func(_ context.Context, userID string) bool {
			mu.Lock()
			defer mu.Unlock()
			if panicky {
				panic("policy bug")
			}
			return true
		}))
		err := a.m.LoginHook(context.Background(), "alice")
		assert.ErrorIs(t, err, singlesession.ErrNoMiddleware, "the middleware check comes first")

		elsewhere, here := a.browser("elsewhere"), a.browser("here")
		mu.Lock()
		panicky = false
		mu.Unlock()
		elsewhere.mustLogin("alice")
		here.mustLogin("bob")
		here.put("cart", "figs")
		cookie := here.cookie()

		mu.Lock()
		panicky = true
		mu.Unlock()
		res, body := here.do("POST", "/login", url.Values{"user": {"alice"}})
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assert.Contains(t, body, singlesession.ErrPolicyPanic.Error())
		assert.Contains(t, body, "policy bug")

		assert.Equal(t, cookie, here.cookie(), "the token was not renewed")
		assert.Equal(t, "bob", here.whoami(), "the browser is as it was")
		assert.Equal(t, "figs", here.get("cart"))
		assert.Equal(t, "alice", elsewhere.whoami(), "alice's other session did not end")

		mu.Lock()
		panicky = false
		mu.Unlock()
		here.mustLogin("alice")
		assert.Equal(t, "", elsewhere.whoami(), "the next login works")
	})
}

// Rule 13: a policy that ends its goroutine without returning
// (runtime.Goexit, as t.FailNow does) fails the login at once, with nothing
// changed; before, the login waited until the request's context ended.
func TestPolicyGoexit(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var exit atomic.Bool
		a := newApp(t, e.store, withPolicy(func(context.Context, string) bool {
			if exit.Load() {
				runtime.Goexit()
			}
			return true
		}))
		b := a.browser("b")
		b.mustLogin("alice")
		exit.Store(true)
		b.c.Timeout = 10 * time.Second // the old code hung until the request ended
		res, body := b.do("POST", "/login", url.Values{"user": {"bob"}})
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assert.Contains(t, body, "Goexit")
		exit.Store(false)
		assert.Equal(t, "alice", b.whoami(), "nothing changed")
		b.mustLogin("bob")
		assert.Equal(t, "bob", b.whoami(), "the next login works")
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
				a := newApp(t, e.store, withPolicy(func(ctx context.Context, userID string) bool {
					mu.Lock()
					b := blocking
					mu.Unlock()
					if b {
						block(ctx, stuck)
					}
					return true
				}))
				elsewhere, here := a.browser("elsewhere"), a.browser("here")
				elsewhere.mustLogin("alice")
				here.put("cart", "dates")
				cookie := here.cookie()

				mu.Lock()
				blocking = true
				mu.Unlock()
				begin := time.Now()
				res, body := here.do("POST", "/login", url.Values{"user": {"alice"}, "timeout": {"100ms"}})
				assert.Less(t, time.Since(begin), 10*time.Second, "LoginHook returns when ctx is done")
				assert.Equal(t, http.StatusBadRequest, res.StatusCode)
				assert.Contains(t, body, "context deadline exceeded")
				assert.Equal(t, cookie, here.cookie())
				assert.Equal(t, "", here.whoami())
				assert.Equal(t, "dates", here.get("cart"))
				assert.Equal(t, "alice", elsewhere.whoami())

				mu.Lock()
				blocking = false
				mu.Unlock()
				here.mustLogin("alice")
				assert.Equal(t, "alice", here.whoami())
				assert.Equal(t, "", elsewhere.whoami())
				require.Equal(t, 1, e.sessionsOf(t, "alice"))
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
		a := newApp(t, e.store, withPolicy(func(_ context.Context, userID string) bool {
			if blocking.Load() {
				<-release
				defer close(returned)
			}
			return true
		}))
		elsewhere, here := a.browser("elsewhere"), a.browser("here")
		elsewhere.mustLogin("alice")
		here.put("cart", "dates")
		cookie, otherToken := here.cookie(), a.storeToken(elsewhere.cookie())
		sessionsBefore, linksBefore := rows(t, e)

		blocking.Store(true)
		res, body := here.do("POST", "/login", url.Values{"user": {"alice"}, "timeout": {"100ms"}})
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
		assert.Equal(t, "alice", elsewhere.whoami())
		assert.Equal(t, cookie, here.cookie())
		assert.Equal(t, "", here.whoami())
		assert.Equal(t, "dates", here.get("cart"))
		assert.Zero(t, a.errors.Load())
	})
}
