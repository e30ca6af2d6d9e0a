// Package pgtest gives tests a PostgreSQL schema of their own. It is shared by
// the tests of every package of the module: the stores under test ([Env],
// [ForEachStore]), and the checks that the root package's tests and
// pgxstore's both run ([ConcurrentLogins], [CheckUserID]).
//
// Tests connect to DATABASE_URL, by default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. A test that cannot
// reach it fails under CI=true and is skipped, with a message that says how to
// run it, otherwise.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DatabaseURL is where the tests connect; DATABASE_URL overrides the default.
func DatabaseURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Unreachable stops a test that cannot reach PostgreSQL: a failure under
// CI=true, a skip that says how to run it otherwise.
func Unreachable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL at %s is unreachable (CI=true makes this a failure): %v", DatabaseURL(), err)
	}
	t.Skipf("PostgreSQL at %s is unreachable: %v; start it or set DATABASE_URL (./scripts/test.sh does both)", DatabaseURL(), err)
}

// Schema creates a schema of its own for t, named after prefix, drops it
// with everything in it when t ends, and returns its name.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, DatabaseURL())
	if err != nil {
		Unreachable(t, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := prefix + "_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, DatabaseURL())
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// NewSchema is [Schema] with the prefix that the module's tests use,
// "ss_test".
func NewSchema(t testing.TB) string {
	t.Helper()
	return Schema(t, "ss_test")
}

// DSN returns DatabaseURL with search_path set to schema, so that every
// connection opened with it works in that schema.
func DSN(t testing.TB, schema string) string {
	t.Helper()
	u, err := url.Parse(DatabaseURL())
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx sends unknown parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String()
}

// Pool returns a pool of at most 20 connections that work in schema, whose
// queries go to tracer (none when nil), closed when t ends. A database that
// does not answer a ping within 10s stops t as [Unreachable] does.
func Pool(t testing.TB, schema string, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	return PoolAs(t, "", schema, tracer)
}

// PoolAs is [Pool] connecting as role ("" for DATABASE_URL's own user), for
// tests of what a role with given privileges can do (the machine's
// PostgreSQL trusts local connections).
func PoolAs(t testing.TB, role, schema string, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(DatabaseURL())
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	if role != "" {
		cfg.ConnConfig.User = role
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.Tracer = tracer
	cfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pool on schema %s: %v", schema, err)
	}
	t.Cleanup(pool.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		Unreachable(t, err)
	}
	return pool
}

// Tables lists the tables of db's current schema, by name.
func Tables(t testing.TB, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) []string {
	t.Helper()
	var names []string
	err := db.QueryRow(context.Background(), `
SELECT coalesce(array_agg(table_name::text ORDER BY table_name), '{}')
FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&names)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	return names
}

// GrantErr is the error of a grant's (changed, error) result, as
// pgxstore.Directory's Grant and RemoveGrant return it.
func GrantErr(_ bool, err error) error { return err }

// UserLock is the SQL expression of the second key of the advisory lock
// that pgxstore takes for the user named by the SQL expression user (the
// first key is 1936942451), for tests that hold a user's lock themselves.
// pgxstore's tests check that its statements compute the same.
func UserLock(user string) string { return "(hashtext(" + user + ") & 1023) + 1" }
