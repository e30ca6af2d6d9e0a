package compat_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/migrations"
)

// The files work with goose too, and goose and Migrate see each other's work:
// goose applies, Migrate finds nothing to do; goose rolls back, Migrate
// re-applies.
func TestMigrationsWorkWithGoose(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	pool := pgtest.Pool(t, schema, nil)
	cfg, err := pgx.ParseConfig(pgtest.DatabaseURL())
	require.NoError(t, err)
	cfg.RuntimeParams["search_path"] = schema
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() })

	store, err := database.NewStore(database.DialectPostgres, migrations.VersionTable)
	require.NoError(t, err)
	provider, err := goose.NewProvider("", db, migrations.FS, goose.WithStore(store))
	require.NoError(t, err)
	ctx := context.Background()

	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	last := len(files) // versions are numbered from 1, one per file

	results, err := provider.Up(ctx)
	require.NoError(t, err)
	assert.Len(t, results, last)
	require.NoError(t, pgxstore.Migrate(ctx, pool))
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM singlesession_db_version`).Scan(&n))
	assert.Equal(t, last+1, n, "Migrate re-applied nothing goose had applied (goose's 0, then each file)")

	_, err = provider.DownTo(ctx, 1) // runs every Down from the last: drops singlesession_endings, singlesession_grants and singlesession_links
	require.NoError(t, err)
	assert.NotContains(t, pgtest.Tables(t, pool), "singlesession_links")
	assert.NotContains(t, pgtest.Tables(t, pool), "singlesession_grants")
	require.NoError(t, pgxstore.Migrate(ctx, pool))
	assert.Contains(t, pgtest.Tables(t, pool), "singlesession_links", "Migrate saw goose's rollback")
	assert.Contains(t, pgtest.Tables(t, pool), "singlesession_grants", "Migrate saw goose's rollback")

	version, err := provider.GetDBVersion(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, last, version, "goose sees Migrate's work")
	pending, err := provider.HasPending(ctx)
	require.NoError(t, err)
	assert.False(t, pending)
}
