package singlesession_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// seedSessions signs userID in on n new sessions, directly in the store, and
// returns their tokens.
func seedSessions(t testing.TB, store singlesession.Store, userID string, n int) []string {
	t.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("tok-%s-%d-%d", userID, i, time.Now().UnixNano())
		_, err := store.Login(context.Background(), singlesession.Login{
			UserID: userID, Token: tokens[i], Data: []byte{0}, Expiry: time.Now().Add(time.Hour),
		})
		require.NoError(t, err)
	}
	return tokens
}

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

// CountSessions is one round trip however many users it counts.
func TestCountSessionsOneQuery(t *testing.T) {
	t.Parallel()
	pool, counter := tracedPool(t)
	store := pgxstore.New(pool)
	users := make([]string, 500)
	for i := range users {
		users[i] = fmt.Sprint("user-", i)
	}
	for _, u := range users[:20] {
		seedSessions(t, store, u, 2)
	}
	counter.Take()
	counts, err := store.CountSessions(context.Background(), users)
	require.NoError(t, err)
	q := counter.Take()
	assert.Len(t, counts, 20)
	assert.Equal(t, 2, counts["user-7"])
	require.Len(t, q, 1, strings.Join(q, " | "))
	assert.Contains(t, q[0], "GROUP BY")
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
