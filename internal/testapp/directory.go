package testapp

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// DirectoryUsers are the users of the Directory contract: a Directory that
// [CheckDirectory] checks holds exactly these. "Zed" sorts before "alice" in
// byte order but after it in most collations.
var DirectoryUsers = []singlesession.User{
	{ID: "root", Admin: true},
	{ID: "alice"},
	{ID: "bob"},
	{ID: "sam", Permissions: []string{singlesession.PermLogout}},
	{ID: "tess", Permissions: []string{singlesession.PermLogoutAll}},
	{ID: "Zed"},
	{ID: "zoë", Permissions: []string{singlesession.PermLogout, singlesession.PermLogoutAll}},
}

// IDs lists the IDs of users, in order.
func IDs(users []singlesession.User) []string {
	var list []string
	for _, u := range users {
		list = append(list, u.ID)
	}
	return list
}

// CheckDirectory checks the contract of [singlesession.Directory] on d,
// which holds [DirectoryUsers]: Users finds known IDs only, Search pages in
// byte order with the total, matches substrings case-sensitively and without
// wildcards, and refuses a negative offset. The root package's tests run it
// on StaticDirectory, pgxstore's on pgxstore.Directory.
func CheckDirectory(t *testing.T, d singlesession.Directory) {
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
	assert.Equal(t, []string{"Zed", "alice", "bob"}, IDs(page), "byte order")
	page, total, err = d.Search(ctx, "", 3, 3)
	require.NoError(t, err)
	assert.Equal(t, 7, total)
	assert.Equal(t, []string{"root", "sam", "tess"}, IDs(page))
	assert.Equal(t, singlesession.User{ID: "root", Admin: true}, page[0])
	page, total, err = d.Search(ctx, "", 6, 3)
	require.NoError(t, err)
	assert.Equal(t, 7, total)
	assert.Equal(t, []string{"zoë"}, IDs(page))
	page, total, err = d.Search(ctx, "", 50, 3)
	require.NoError(t, err)
	assert.Equal(t, 7, total, "the total comes with an empty page too")
	assert.Empty(t, page)

	page, total, err = d.Search(ctx, "e", 0, 10)
	require.NoError(t, err)
	assert.Equal(t, 3, total)
	assert.Equal(t, []string{"Zed", "alice", "tess"}, IDs(page))
	page, total, err = d.Search(ctx, "Z", 0, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, total, "case-sensitive")
	assert.Equal(t, []string{"Zed"}, IDs(page))
	page, total, err = d.Search(ctx, "ë", 0, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, total)
	assert.Equal(t, []string{"zoë"}, IDs(page))
	page, total, err = d.Search(ctx, "%", 0, 10)
	require.NoError(t, err)
	assert.Zero(t, total, "no wildcards")
	assert.Empty(t, page)

	_, _, err = d.Search(ctx, "", -1, 10)
	assert.Error(t, err)
}
