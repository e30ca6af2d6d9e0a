package singlesession_test

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
