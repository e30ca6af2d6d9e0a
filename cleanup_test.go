package singlesession_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Rule 9: cleanup deletes expired sessions and their links with them.
func TestDeleteExpired(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		old, live, anon := a.Browser("old"), a.Browser("live"), a.Browser("anon")
		old.MustLogin("alice")
		live.MustLogin("bob")
		anon.Put("k", "v")
		expire(t, e, a.StoreToken(old.Cookie()))
		expire(t, e, a.StoreToken(anon.Cookie()))

		n, err := a.M.DeleteExpired(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		sessions, links := rows(t, e)
		assert.Equal(t, 1, sessions)
		assert.Equal(t, 1, links, "the expired session's link went with it")
		assert.Equal(t, "bob", live.WhoAmI())
	})
}

// Rule 13: repeated cycles of login, expiry and cleanup leave every table
// other than sessions bounded (here: empty after each cleanup).
func TestCyclesStayBounded(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		for cycle := range 10 {
			var browsers []*browser
			for i := range 6 {
				b := a.Browser(fmt.Sprint(i))
				b.MustLogin(fmt.Sprint("user-", i%3))
				b.Put("k", "v")
				browsers = append(browsers, b)
			}
			for _, b := range browsers {
				expire(t, e, a.StoreToken(b.Cookie()))
			}
			_, err := a.M.DeleteExpired(context.Background())
			require.NoError(t, err)
			sessions, links := rows(t, e)
			require.Zero(t, sessions, "cycle %d", cycle)
			require.Zero(t, links, "cycle %d", cycle)
		}
	})
}

// RunCleanup deletes on its ticker and stops when its context ends.
func TestRunCleanup(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		b := a.Browser("b")
		b.MustLogin("alice")
		token := a.StoreToken(b.Cookie())
		expire(t, e, token)

		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan error, 1)
		go func() { stopped <- a.M.RunCleanup(ctx, 10*time.Millisecond) }()
		assert.Eventually(t, func() bool { return !hasRow(t, e, token) }, 10*time.Second, 10*time.Millisecond)
		cancel()
		select {
		case err := <-stopped:
			assert.True(t, errors.Is(err, context.Canceled), "RunCleanup returns the cause: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("RunCleanup did not stop when its context ended")
		}

		assert.Error(t, a.M.RunCleanup(context.Background(), 0), "a zero interval is refused at once")
	})
}
