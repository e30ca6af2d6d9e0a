package singlesession_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// CountSessions counts unexpired linked sessions per user, nothing else.
func TestCountSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		alice := seedSessions(t, e.Store, "alice", 3)
		seedSessions(t, e.Store, "bob", 1)
		expire(t, e, alice[0])
		require.NoError(t, e.Store.Insert(ctx, "untracked", []byte{0}, time.Now().Add(time.Hour)))

		counts, err := e.Store.CountSessions(ctx, []string{"alice", "bob", "bob", "ghost"})
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"alice": 2, "bob": 1}, counts, "expired, unknown and untracked are not counted")

		counts, err = e.Store.CountSessions(ctx, nil)
		require.NoError(t, err)
		assert.Empty(t, counts)
	})
}

// The store's Logout ends the user's other sessions only when the browser's
// own session was still there, linked to that user.
func TestStoreLogoutIsConditional(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		login := func(user, token string) {
			_, err := e.Store.Login(ctx, singlesession.Login{UserID: user, Token: token, Data: []byte{1}, Expiry: time.Now().Add(time.Hour)})
			require.NoError(t, err)
		}
		login("alice", "a1")
		login("alice", "a2")
		login("bob", "b1")

		res, err := e.Store.Logout(ctx, singlesession.Logout{UserID: "alice", Tokens: []string{"gone"}})
		require.NoError(t, err)
		assert.Zero(t, res.Deleted, "an ended session's logout ends nothing")
		res, err = e.Store.Logout(ctx, singlesession.Logout{UserID: "alice", Tokens: []string{"b1"}})
		require.NoError(t, err)
		assert.Equal(t, 1, res.Deleted, "bob's session is deleted, but it was not alice's")
		assert.Equal(t, 2, e.SessionsOf(t, "alice"))

		res, err = e.Store.Logout(ctx, singlesession.Logout{UserID: "alice", Tokens: []string{"a1", "never"}})
		require.NoError(t, err)
		assert.Equal(t, 2, res.Deleted)
		assert.Equal(t, 1, res.Ended)
		assert.Equal(t, 0, e.SessionsOf(t, "alice"))

		ended, err := e.Store.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"alice", "nobody"}})
		require.NoError(t, err)
		assert.Empty(t, ended.Ended)
	})
}
