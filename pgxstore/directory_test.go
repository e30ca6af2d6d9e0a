package pgxstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// The contract of Directory (testapp.CheckDirectory) on pgxstore.Directory
// holding directoryUsers: the users without grants it knows through a
// linked session. The root's TestDirectory runs it on StaticDirectory.
func TestDirectory(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t)
	d := pgxstore.NewDirectory(pool)
	store := pgxstore.New(pool)
	for _, u := range directoryUsers {
		if u.Admin {
			require.NoError(t, grantErr(d.Grant(context.Background(), u.ID, pgxstore.GrantAdmin)))
		}
		for _, p := range u.Permissions {
			require.NoError(t, grantErr(d.Grant(context.Background(), u.ID, p)))
		}
		if !u.Admin && len(u.Permissions) == 0 {
			seedSessions(t, store, u.ID, 1)
		}
	}
	checkDirectory(t, d)
}

// Grant and Revoke are idempotent and validate their arguments; a user
// is known while it holds a grant or has a linked session.
func TestPostgresDirectoryGrants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := migratedPool(t)
	d := pgxstore.NewDirectory(pool)
	store := pgxstore.New(pool)

	lookup := func(id string) (singlesession.User, bool) {
		t.Helper()
		found, err := d.Users(ctx, []string{id})
		require.NoError(t, err)
		u, ok := found[id]
		return u, ok
	}

	_, known := lookup("sam")
	assert.False(t, known)
	require.NoError(t, grantErr(d.Grant(ctx, "sam", singlesession.PermLogout)))
	require.NoError(t, grantErr(d.Grant(ctx, "sam", singlesession.PermLogout)), "granting twice is fine")
	u, known := lookup("sam")
	assert.True(t, known, "a grant makes a user known")
	assert.Equal(t, singlesession.User{ID: "sam", Permissions: []string{singlesession.PermLogout}}, u)

	require.NoError(t, grantErr(d.Grant(ctx, "sam", pgxstore.GrantAdmin)))
	u, _ = lookup("sam")
	assert.True(t, u.Admin)
	assert.Equal(t, []string{singlesession.PermLogout}, u.Permissions, "admin is not listed as a permission")
	require.NoError(t, grantErr(d.RemoveGrant(ctx, "sam", pgxstore.GrantAdmin)))
	require.NoError(t, grantErr(d.RemoveGrant(ctx, "sam", pgxstore.GrantAdmin)), "revoking twice is fine")
	u, _ = lookup("sam")
	assert.False(t, u.Admin)
	require.NoError(t, grantErr(d.RemoveGrant(ctx, "sam", singlesession.PermLogout)))
	_, known = lookup("sam")
	assert.False(t, known, "no grant and no session: unknown")

	seedSessions(t, store, "alice", 1)
	u, known = lookup("alice")
	assert.True(t, known, "a linked session makes a user known")
	assert.Equal(t, singlesession.User{ID: "alice"}, u)
	_, err := store.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"alice"}})
	require.NoError(t, err)
	_, known = lookup("alice")
	assert.False(t, known)

	_, err = d.Grant(ctx, "sam", "single_session.logut")
	assert.ErrorIs(t, err, singlesession.ErrUnknownPermission)
	assert.ErrorContains(t, err, "singlesession: pgxstore: grant: ")
	_, err = d.RemoveGrant(ctx, "sam", "superuser")
	assert.ErrorIs(t, err, singlesession.ErrUnknownPermission)
	assert.ErrorContains(t, err, "singlesession: pgxstore: remove grant: ")
	_, err = d.Grant(ctx, "", singlesession.PermLogout)
	assert.ErrorIs(t, err, singlesession.ErrInvalidUserID)
	_, err = d.Grant(ctx, "a\xff", singlesession.PermLogout)
	assert.ErrorIs(t, err, singlesession.ErrInvalidUserID)

	// The table's check constraint backs the validation up.
	_, err = pool.Exec(ctx, `INSERT INTO singlesession_grants (user_id, permission) VALUES ('x', 'root')`)
	assert.ErrorContains(t, err, "check constraint")
}
