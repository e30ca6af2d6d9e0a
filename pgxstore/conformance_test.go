package pgxstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/go-singlesession/singlesession/storetest"
)

// appPrivileges are the privileges that the README and Migrate's doc give
// the application's role, for the role app, and nothing else.
const appPrivileges = `GRANT SELECT, INSERT, UPDATE, DELETE ON sessions, singlesession_links, singlesession_endings TO app;
GRANT SELECT ON singlesession_grants TO app;`

// grantPrivileges are the privileges of the command line's grant and
// remove-grant, besides appPrivileges.
const grantPrivileges = `GRANT INSERT, DELETE ON singlesession_grants TO app;`

// residue counts the links and endings left in pool's schema.
func residue(pool *pgxpool.Pool) func(t testing.TB) int {
	return func(t testing.TB) int {
		var n int
		require.NoError(t, pool.QueryRow(context.Background(),
			`SELECT (SELECT count(*) FROM singlesession_links) + (SELECT count(*) FROM singlesession_endings)`).Scan(&n))
		return n
	}
}

// The conformance suite (storetest) on PostgreSQL, with two pools over one
// schema as two instances.
func TestStoreConformance(t *testing.T) {
	storetest.RunBackend(t, func(t *testing.T) storetest.Backend {
		schema := pgtest.Schema(t, "ss_test")
		first := pgtest.Pool(t, schema, nil)
		require.NoError(t, pgxstore.Migrate(context.Background(), first))
		second := pgtest.Pool(t, schema, nil)
		return storetest.Backend{Store: pgxstore.New(first), Second: pgxstore.New(second), Residue: residue(first)}
	})
}

// newRole creates a role that may log in, dropped (with its privileges)
// when t ends.
func newRole(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	role := "ss_app_" + hex.EncodeToString(b)
	admin := pgtest.Pool(t, "public", nil)
	_, err := admin.Exec(context.Background(), `CREATE ROLE `+role+` LOGIN`)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx := context.Background()
		admin := pgtest.Pool(t, "public", nil)
		_, err := admin.Exec(ctx, `DROP OWNED BY `+role)
		assert.NoError(t, err)
		_, err = admin.Exec(ctx, `DROP ROLE `+role)
		assert.NoError(t, err)
	})
	return role
}

// SPEC 8.9: a role that holds exactly the documented privileges, and nothing
// else (not even on the migrations' version table), runs every feature:
// the whole conformance suite (logins, logouts, limits, reasons, lists,
// operators' sign-outs, cleanup), the Directory, and with grantPrivileges
// the grants. (Before migration 00004's table was in the README, every
// login failed: permission denied for table singlesession_endings.)
func TestLeastPrivilege(t *testing.T) {
	role := newRole(t)
	grant := func(t *testing.T, schema, privileges string) {
		admin := pgtest.Pool(t, schema, nil)
		_, err := admin.Exec(context.Background(), `GRANT USAGE ON SCHEMA `+schema+` TO `+role+`;
`+strings.ReplaceAll(privileges, " TO app;", " TO "+role+";"))
		require.NoError(t, err)
	}
	newBackend := func(t *testing.T) (storetest.Backend, string) {
		schema := pgtest.Schema(t, "ss_priv")
		owner := pgtest.Pool(t, schema, nil)
		require.NoError(t, pgxstore.Migrate(context.Background(), owner))
		grant(t, schema, appPrivileges)
		app := pgtest.PoolAs(t, role, schema, nil)
		return storetest.Backend{Store: pgxstore.New(app), Second: pgxstore.New(pgtest.PoolAs(t, role, schema, nil)), Residue: residue(owner)}, schema
	}
	t.Run("conformance", func(t *testing.T) {
		storetest.RunBackend(t, func(t *testing.T) storetest.Backend {
			b, _ := newBackend(t)
			return b
		})
	})
	t.Run("directory", func(t *testing.T) {
		_, schema := newBackend(t)
		app := pgtest.PoolAs(t, role, schema, nil)
		ctx := context.Background()
		dir := pgxstore.NewDirectory(app)
		_, err := dir.Grant(ctx, "sam", singlesession.PermLogout)
		assert.ErrorContains(t, err, "permission denied", "without grantPrivileges, grants are refused")
		grant(t, schema, grantPrivileges)
		changed, err := dir.Grant(ctx, "sam", singlesession.PermLogout)
		require.NoError(t, err)
		assert.True(t, changed)
		users, err := dir.Users(ctx, []string{"sam"})
		require.NoError(t, err)
		assert.True(t, users["sam"].HasPermission(singlesession.PermLogout))
		found, total, err := dir.Search(ctx, "", 0, 10)
		require.NoError(t, err)
		assert.Equal(t, 1, total)
		assert.Len(t, found, 1)
		changed, err = dir.RemoveGrant(ctx, "sam", singlesession.PermLogout)
		require.NoError(t, err)
		assert.True(t, changed)
		var n int
		err = app.QueryRow(ctx, `SELECT count(*) FROM singlesession_db_version`).Scan(&n)
		assert.ErrorContains(t, err, "permission denied", "the role holds nothing else")
	})
}

// The privileges this test grants are the ones docs/postgres.md and Migrate's doc
// give, word for word.
func TestPrivilegesAreDocumented(t *testing.T) {
	readme, err := os.ReadFile("../docs/postgres.md")
	require.NoError(t, err)
	src, err := os.ReadFile("migrate.go")
	require.NoError(t, err)
	for _, line := range strings.Split(appPrivileges+"\n"+grantPrivileges, "\n") {
		assert.True(t, strings.Contains(string(readme), line), "docs/postgres.md gives %q", line)
		assert.True(t, strings.Contains(string(src), "//\t"+line), "Migrate's doc gives %q", line)
	}
}
