package singlesession_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
