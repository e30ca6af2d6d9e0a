package singlesession_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// directoryUsers is the population of the directory contract test. "Zed"
// sorts before "alice" in byte order but after it in most collations.
var directoryUsers = []singlesession.User{
	{ID: "root", Admin: true},
	{ID: "alice"},
	{ID: "bob"},
	{ID: "sam", Permissions: []string{singlesession.PermLogout}},
	{ID: "tess", Permissions: []string{singlesession.PermLogoutAll}},
	{ID: "Zed"},
	{ID: "zoë", Permissions: []string{singlesession.PermLogout, singlesession.PermLogoutAll}},
}

// forEachDirectory runs f on a StaticDirectory and on a PostgresDirectory
// that both hold directoryUsers; the PostgreSQL one knows the users without
// grants through a linked session.
func forEachDirectory(t *testing.T, f func(t *testing.T, d singlesession.Directory)) {
	t.Run("static", func(t *testing.T) {
		t.Parallel()
		f(t, singlesession.NewStaticDirectory(directoryUsers...))
	})
	t.Run("postgres", func(t *testing.T) {
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
		f(t, d)
	})
}

func ids(users []singlesession.User) []string {
	var list []string
	for _, u := range users {
		list = append(list, u.ID)
	}
	return list
}

// The contract of Directory, on both shipped implementations.
func TestDirectory(t *testing.T) {
	forEachDirectory(t, func(t *testing.T, d singlesession.Directory) {
		ctx := context.Background()
		found, err := d.Users(ctx, []string{"root", "sam", "tess", "zoë", "alice", "ghost"})
		require.NoError(t, err)
		assert.Equal(t, map[string]singlesession.User{
			"root":  {ID: "root", Admin: true},
			"sam":   {ID: "sam", Permissions: []string{singlesession.PermLogout}},
			"tess":  {ID: "tess", Permissions: []string{singlesession.PermLogoutAll}},
			"zoë":   {ID: "zoë", Permissions: []string{singlesession.PermLogout, singlesession.PermLogoutAll}},
			"alice": {ID: "alice"},
		}, found, "unknown IDs are absent")

		found, err = d.Users(ctx, nil)
		require.NoError(t, err)
		assert.Empty(t, found)

		page, total, err := d.Search(ctx, "", 0, 3)
		require.NoError(t, err)
		assert.Equal(t, 7, total)
		assert.Equal(t, []string{"Zed", "alice", "bob"}, ids(page), "byte order")
		page, total, err = d.Search(ctx, "", 3, 3)
		require.NoError(t, err)
		assert.Equal(t, 7, total)
		assert.Equal(t, []string{"root", "sam", "tess"}, ids(page))
		assert.Equal(t, singlesession.User{ID: "root", Admin: true}, page[0])
		page, total, err = d.Search(ctx, "", 6, 3)
		require.NoError(t, err)
		assert.Equal(t, 7, total)
		assert.Equal(t, []string{"zoë"}, ids(page))
		page, total, err = d.Search(ctx, "", 50, 3)
		require.NoError(t, err)
		assert.Equal(t, 7, total, "the total comes with an empty page too")
		assert.Empty(t, page)

		page, total, err = d.Search(ctx, "e", 0, 10)
		require.NoError(t, err)
		assert.Equal(t, 3, total)
		assert.Equal(t, []string{"Zed", "alice", "tess"}, ids(page))
		page, total, err = d.Search(ctx, "Z", 0, 10)
		require.NoError(t, err)
		assert.Equal(t, 1, total, "case-sensitive")
		assert.Equal(t, []string{"Zed"}, ids(page))
		page, total, err = d.Search(ctx, "ë", 0, 10)
		require.NoError(t, err)
		assert.Equal(t, 1, total)
		assert.Equal(t, []string{"zoë"}, ids(page))
		page, total, err = d.Search(ctx, "%", 0, 10)
		require.NoError(t, err)
		assert.Zero(t, total, "no wildcards")
		assert.Empty(t, page)

		_, _, err = d.Search(ctx, "", -1, 10)
		assert.Error(t, err)
	})
}

// NewStaticDirectory copies its input and rejects lists it cannot serve.
func TestStaticDirectoryValidation(t *testing.T) {
	perms := []string{singlesession.PermLogout}
	d := singlesession.NewStaticDirectory(singlesession.User{ID: "sam", Permissions: perms})
	perms[0] = "tampered"
	found, err := d.Users(context.Background(), []string{"sam"})
	require.NoError(t, err)
	assert.Equal(t, []string{singlesession.PermLogout}, found["sam"].Permissions, "the input was copied")
	found["sam"].Permissions[0] = "tampered"
	found, err = d.Users(context.Background(), []string{"sam"})
	require.NoError(t, err)
	assert.Equal(t, []string{singlesession.PermLogout}, found["sam"].Permissions, "results are copies")

	for name, tc := range map[string]struct {
		users []singlesession.User
		want  string
		is    error
	}{
		"empty ID":     {[]singlesession.User{{ID: ""}}, "invalid user ID", singlesession.ErrInvalidUserID},
		"invalid UTF8": {[]singlesession.User{{ID: "a\xff"}}, "not valid UTF-8", singlesession.ErrInvalidUserID},
		"too long":     {[]singlesession.User{{ID: strings.Repeat("x", singlesession.MaxUserIDLen+1)}}, "more than 512", singlesession.ErrInvalidUserID},
		"duplicate":    {[]singlesession.User{{ID: "a"}, {ID: "a"}}, `"a" appears twice`, nil},
		"typo":         {[]singlesession.User{{ID: "a", Permissions: []string{"single_session.logut"}}}, `unknown permission "single_session.logut"`, singlesession.ErrUnknownPermission},
	} {
		t.Run(name, func(t *testing.T) {
			d := singlesession.NewStaticDirectory(tc.users...)
			_, err := d.Users(context.Background(), []string{"a"})
			require.Error(t, err)
			assert.ErrorContains(t, err, "singlesession: static directory: ")
			assert.ErrorContains(t, err, tc.want)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			_, _, err = d.Search(context.Background(), "", 0, 10)
			assert.ErrorContains(t, err, tc.want)
		})
	}

	var zero singlesession.StaticDirectory
	_, err = zero.Users(context.Background(), []string{"a"})
	assert.ErrorContains(t, err, "create it with NewStaticDirectory")
}

// User.HasPermission: admin users hold both permissions implicitly.
func TestUserHasPermission(t *testing.T) {
	admin := singlesession.User{ID: "root", Admin: true}
	assert.True(t, admin.HasPermission(singlesession.PermLogout))
	assert.True(t, admin.HasPermission(singlesession.PermLogoutAll))
	assert.False(t, admin.HasPermission("blog.edit"), "admin implies only the operators' permissions")
	sam := singlesession.User{ID: "sam", Permissions: []string{singlesession.PermLogout}}
	assert.True(t, sam.HasPermission(singlesession.PermLogout))
	assert.False(t, sam.HasPermission(singlesession.PermLogoutAll), "the permissions are independent")
	tess := singlesession.User{ID: "tess", Permissions: []string{singlesession.PermLogoutAll}}
	assert.False(t, tess.HasPermission(singlesession.PermLogout), "the permissions are independent")
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
