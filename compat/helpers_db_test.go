package compat_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
)

// The database helpers of the root package's tests that the tests here use,
// copied: test files of another module are out of reach.

// testSchema creates a schema of its own for t, dropped when t ends.
func testSchema(t testing.TB) string { return pgtest.Schema(t, "ss_compat") }

// schemaPool returns a pool whose connections work in schema.
func schemaPool(t testing.TB, schema string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.DatabaseURL())
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		pgtest.Unreachable(t, err)
	}
	return pool
}

// migratedPool returns a pool on a fresh, migrated schema.
func migratedPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := schemaPool(t, testSchema(t))
	require.NoError(t, singlesession.Migrate(context.Background(), pool))
	return pool
}

// tables lists the tables of the pool's current schema.
func tables(t *testing.T, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) []string {
	t.Helper()
	var names []string
	require.NoError(t, pool.QueryRow(context.Background(), `
SELECT coalesce(array_agg(table_name::text ORDER BY table_name), '{}')
FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&names))
	return names
}

// newServer serves h on an httptest server closed when t ends.
func newServer(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
