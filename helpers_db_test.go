package singlesession_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
)

// testSchema creates a schema of its own for t, dropped when t ends.
func testSchema(t testing.TB) string { return pgtest.Schema(t, "ss_test") }

// schemaPool returns a pool whose connections work in schema.
func schemaPool(t testing.TB, schema string, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	return pgtest.Pool(t, schema, tracer)
}

// migratedPool returns a pool on a fresh, migrated schema.
func migratedPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := schemaPool(t, testSchema(t), nil)
	require.NoError(t, singlesession.Migrate(context.Background(), pool))
	return pool
}

// tracedPool returns a pool on a fresh, migrated schema, and the counter of
// the round trips it makes.
func tracedPool(t testing.TB) (*pgxpool.Pool, *queryCounter) {
	t.Helper()
	counter := &queryCounter{}
	pool := schemaPool(t, testSchema(t), counter)
	require.NoError(t, singlesession.Migrate(context.Background(), pool))
	counter.take() // the migration's queries are not the test's
	return pool, counter
}

// env is one store under test, with what the tests need to look inside it.
type env struct {
	name    string
	store   singlesession.Store
	pool    *pgxpool.Pool // nil for the memory store
	counter *queryCounter // nil unless forEachTracedStore made the pool
}

// forEachStore runs f once on a MemoryStore and once on a PostgresStore in a
// schema of its own.
func forEachStore(t *testing.T, f func(t *testing.T, e *env)) {
	t.Helper()
	eachStore(t, false, f)
}

// forEachTracedStore is forEachStore with the PostgresStore's pool traced:
// e.counter counts its round trips (nil for the memory store).
func forEachTracedStore(t *testing.T, f func(t *testing.T, e *env)) {
	t.Helper()
	eachStore(t, true, f)
}

func eachStore(t *testing.T, traced bool, f func(t *testing.T, e *env)) {
	t.Helper()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		f(t, &env{name: "memory", store: singlesession.NewMemoryStore()})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		e := &env{name: "postgres"}
		if traced {
			e.pool, e.counter = tracedPool(t)
		} else {
			e.pool = migratedPool(t)
		}
		e.store = singlesession.NewPostgresStore(e.pool)
		f(t, e)
	})
}

// sessionsOf returns how many unexpired sessions are linked to userID.
func (e *env) sessionsOf(t testing.TB, userID string) int {
	t.Helper()
	list, err := e.store.Sessions(context.Background(), userID)
	require.NoError(t, err)
	return len(list)
}

// queryCounter counts the queries and batches a pool sends, and records the
// text of every statement, those inside batches included.
type queryCounter struct {
	mu         sync.Mutex
	queries    []string // one entry per round trip: a query, or "batch(n statements)"
	statements []string // one entry per statement, a batch's one by one
}

// normalSQL is sql with its runs of white space made single spaces, as
// queryCounter records it.
func normalSQL(sql string) string { return strings.Join(strings.Fields(sql), " ") }

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries = append(c.queries, normalSQL(d.SQL))
	c.statements = append(c.statements, normalSQL(d.SQL))
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *queryCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries = append(c.queries, fmt.Sprintf("batch(%d statements)", d.Batch.Len()))
	for _, q := range d.Batch.QueuedQueries {
		c.statements = append(c.statements, normalSQL(q.SQL))
	}
	return ctx
}

func (c *queryCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (c *queryCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// take returns the round trips since the last take and forgets them (and the
// statements).
func (c *queryCounter) take() []string {
	q, _ := c.takeStatements()
	return q
}

// takeStatements returns the round trips and the statements since the last
// take, and forgets them.
func (c *queryCounter) takeStatements() (trips, statements []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	trips, statements = c.queries, c.statements
	c.queries, c.statements = nil, nil
	return trips, statements
}

// expire makes the session with the store token expired.
func expire(t testing.TB, e *env, token string) {
	t.Helper()
	switch s := e.store.(type) {
	case *singlesession.MemoryStore:
		s.ExpireNow(token)
	default:
		_, err := e.pool.Exec(context.Background(), `UPDATE sessions SET expiry = now() - interval '1 second' WHERE token = $1`, token)
		require.NoError(t, err)
	}
}

// hasRow reports whether the store holds a session with the store token,
// expired or not.
func hasRow(t testing.TB, e *env, token string) bool {
	t.Helper()
	if s, ok := e.store.(*singlesession.MemoryStore); ok {
		return s.HasRow(token)
	}
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE token = $1`, token).Scan(&n))
	return n > 0
}

// assertGone checks that no row of the session with the store token is left.
func assertGone(t testing.TB, e *env, token string) {
	t.Helper()
	assert.False(t, hasRow(t, e, token), "session %s should have no row", singlesession.SessionID(token))
}

// rows returns how many sessions and links the store holds, expired included.
func rows(t testing.TB, e *env) (sessions, links int) {
	t.Helper()
	if s, ok := e.store.(*singlesession.MemoryStore); ok {
		return s.Rows()
	}
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM singlesession_links)`).Scan(&sessions, &links))
	return sessions, links
}

// lockWaiters counts sessions waiting for an advisory lock.
func lockWaiters(t *testing.T, pool *pgxpool.Pool) int {
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&n))
	return n
}
