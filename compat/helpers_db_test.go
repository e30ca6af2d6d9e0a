package compat_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession/internal/pgtest"
)

// The pool and the table listing come from internal/pgtest, as the root
// package's tests take them; what is left here is this module's own.

// testSchema creates a schema of its own for t, dropped when t ends.
func testSchema(t testing.TB) string { return pgtest.Schema(t, "ss_compat") }

// migratedPool returns a pool on a fresh, migrated schema.
func migratedPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.Pool(t, testSchema(t), nil)
	require.NoError(t, pgxstore.Migrate(context.Background(), pool))
	return pool
}

// newServer serves h on an httptest server closed when t ends.
func newServer(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
