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
		a := newApp(t, e.store)
		anon := a.browser("anon")
		anon.put("cart", "plums")

		one, two := a.browser("one"), a.browser("two")
		one.mustLogin("alice")
		two.mustLogin("alice")
		two.logout()
		n, err := a.m.LogoutUser(context.Background(), "alice")
		require.NoError(t, err)
		assert.Zero(t, n)

		assert.Equal(t, "plums", anon.get("cart"))
		assert.True(t, anon.exists())
	})
}
