package singlesession_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// LogoutUser ends every session of one user and says how many.
func TestLogoutUser(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withPolicy(singlesession.Never))
		one, two, bob := a.Browser("one"), a.Browser("two"), a.Browser("bob")
		one.MustLogin("alice")
		two.MustLogin("alice")
		bob.MustLogin("bob")

		n, err := a.M.LogoutUser(context.Background(), "alice")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		assert.Equal(t, "", one.WhoAmI())
		assert.Equal(t, "", two.WhoAmI())
		assert.Equal(t, "bob", bob.WhoAmI())

		n, err = a.M.LogoutUser(context.Background(), "nobody")
		require.NoError(t, err, "an unknown user is not an error")
		assert.Zero(t, n)

		n, err = a.M.LogoutUser(context.Background(), "")
		require.ErrorIs(t, err, singlesession.ErrInvalidUserID)
		assert.Zero(t, n)
		assert.Equal(t, "bob", bob.WhoAmI(), "LogoutUser(\"\") ends nothing")
	})
}

// LogoutUsers ends the sessions of many users in one operation.
func TestLogoutUsers(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withPolicy(singlesession.Never))
		for _, u := range []string{"u1", "u1", "u2", "u3"} {
			a.Browser(u).MustLogin(u)
		}
		counts, err := a.M.LogoutUsers(context.Background(), []string{"u1", "u2", "u2", "ghost"})
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"u1": 2, "u2": 1}, counts)
		assert.Equal(t, 1, e.SessionsOf(t, "u3"))

		counts, err = a.M.LogoutUsers(context.Background(), nil)
		require.NoError(t, err)
		assert.Empty(t, counts)

		_, err = a.M.LogoutUsers(context.Background(), []string{"u3", ""})
		assert.ErrorIs(t, err, singlesession.ErrInvalidUserID)
		assert.Equal(t, 1, e.SessionsOf(t, "u3"), "a bad ID anywhere ends nothing")
	})
}
