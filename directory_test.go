package singlesession_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// The contract of Directory (testapp.CheckDirectory) on StaticDirectory;
// pgxstore's TestDirectory runs it on pgxstore.Directory.
func TestDirectory(t *testing.T) {
	checkDirectory(t, singlesession.NewStaticDirectory(directoryUsers...))
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
