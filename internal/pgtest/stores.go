package pgtest

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
	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// MigratedPool returns a pool on a fresh, migrated schema.
func MigratedPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := Pool(t, Schema(t, "ss_test"), nil)
	require.NoError(t, pgxstore.Migrate(context.Background(), pool))
	return pool
}

// TracedPool returns a pool on a fresh, migrated schema, and the counter of
// the round trips it makes.
func TracedPool(t testing.TB) (*pgxpool.Pool, *QueryCounter) {
	t.Helper()
	counter := &QueryCounter{}
	pool := Pool(t, Schema(t, "ss_test"), counter)
	require.NoError(t, pgxstore.Migrate(context.Background(), pool))
	counter.Take() // the migration's queries are not the test's
	return pool, counter
}

// Env is one store under test, with what the tests need to look inside it.
type Env struct {
	Name    string
	Store   singlesession.Store
	Pool    *pgxpool.Pool // nil for the memory store
	Counter *QueryCounter // nil unless ForEachTracedStore made the pool
}

// ForEachStore runs f, in parallel, once on a MemoryStore and once on a
// pgxstore.Store in a schema of its own.
func ForEachStore(t *testing.T, f func(t *testing.T, e *Env)) {
	t.Helper()
	eachStore(t, false, f)
}

// ForEachTracedStore is ForEachStore with the PostgreSQL pool traced:
// e.Counter counts its round trips (nil for the memory store).
func ForEachTracedStore(t *testing.T, f func(t *testing.T, e *Env)) {
	t.Helper()
	eachStore(t, true, f)
}

func eachStore(t *testing.T, traced bool, f func(t *testing.T, e *Env)) {
	t.Helper()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		f(t, &Env{Name: "memory", Store: singlesession.NewMemoryStore()})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		e := &Env{Name: "postgres"}
		if traced {
			e.Pool, e.Counter = TracedPool(t)
		} else {
			e.Pool = MigratedPool(t)
		}
		e.Store = pgxstore.New(e.Pool)
		f(t, e)
	})
}

// Second returns another instance of the store over the same data: over
// PostgreSQL a store on a pool of its own, as a second application
// instance has; the memory store itself.
func (e *Env) Second(t testing.TB) singlesession.Store {
	t.Helper()
	if e.Pool == nil {
		return e.Store
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), e.Pool.Config())
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pgxstore.New(pool)
}

// SessionsOf returns how many unexpired sessions are linked to userID.
func (e *Env) SessionsOf(t testing.TB, userID string) int {
	t.Helper()
	return testapp.Count(t, e.Store, userID)
}

// Cost runs f and returns the round trips it made to PostgreSQL, logged
// under what; on the memory store it just runs f and returns nil.
func (e *Env) Cost(t testing.TB, what string, f func()) []string {
	t.Helper()
	if e.Counter == nil {
		f()
		return nil
	}
	return e.Counter.Cost(t, what, f)
}

// ConcurrentLogins signs n browsers, spread over apps (instances that share
// e's store), in as alice at once, rounds times, and checks that exactly one
// stays signed in each round (rule 7 with the policy Always).
func ConcurrentLogins(t *testing.T, e *Env, apps []*testapp.App, n, rounds int) {
	t.Helper()
	browsers := make([]*testapp.Browser, n)
	for i := range browsers {
		browsers[i] = apps[i%len(apps)].Browser(fmt.Sprint("browser ", i))
	}
	for round := range rounds {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, b := range browsers {
			wg.Go(func() {
				<-start
				b.MustLogin("alice") // from round 1 on, a re-login on a live or ended session
			})
		}
		close(start)
		wg.Wait()

		signedIn := 0
		for _, b := range browsers {
			switch who := b.WhoAmI(); who {
			case "alice":
				signedIn++
			case "":
			default:
				t.Fatalf("round %d: %s is signed in as %q", round, b.Name, who)
			}
		}
		assert.Equal(t, 1, signedIn, "round %d: signed-in browsers", round)
		assert.Equal(t, 1, e.SessionsOf(t, "alice"), "round %d: alice's sessions in the store", round)
		_, links := e.Rows(t)
		assert.Equal(t, 1, links, "round %d: link rows", round)
	}
	for _, a := range apps {
		assert.Zero(t, a.Errors.Load())
	}
}

// Expire makes the session with the store token expired: on PostgreSQL in
// the tables, on a MemoryStore through its ExpireNow method, which only the
// root package's tests have (its export_test.go).
func (e *Env) Expire(t testing.TB, token string) {
	t.Helper()
	if s, ok := e.Store.(interface{ ExpireNow(token string) }); ok {
		s.ExpireNow(token)
		return
	}
	Expire(t, e.Pool, token)
}

// HasRow reports whether the store holds a session with the store token,
// expired or not: on a MemoryStore through its HasRow method, which only
// the root package's tests have.
func (e *Env) HasRow(t testing.TB, token string) bool {
	t.Helper()
	if s, ok := e.Store.(interface{ HasRow(token string) bool }); ok {
		return s.HasRow(token)
	}
	return HasRow(t, e.Pool, token)
}

// Rows returns how many sessions and links the store holds, expired
// included: on a MemoryStore through its Rows method, which only the root
// package's tests have.
func (e *Env) Rows(t testing.TB) (sessions, links int) {
	t.Helper()
	if s, ok := e.Store.(interface{ Rows() (sessions, links int) }); ok {
		return s.Rows()
	}
	return Rows(t, e.Pool)
}

// Expire makes the session with token expired.
func Expire(t testing.TB, pool *pgxpool.Pool, token string) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `UPDATE sessions SET expiry = now() - interval '1 second' WHERE token = $1`, token)
	require.NoError(t, err)
}

// HasRow reports whether a session with token is stored, expired or not.
func HasRow(t testing.TB, pool *pgxpool.Pool, token string) bool {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE token = $1`, token).Scan(&n))
	return n > 0
}

// Rows returns how many sessions and links are stored, expired included.
func Rows(t testing.TB, pool *pgxpool.Pool) (sessions, links int) {
	t.Helper()
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM singlesession_links)`).Scan(&sessions, &links))
	return sessions, links
}

// LockWaiters counts the connections waiting for an advisory lock.
func LockWaiters(t testing.TB, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&n))
	return n
}

// QueryCounter is a pgx tracer that counts the queries and batches a pool
// sends, and records the text of every statement, those inside batches
// included.
type QueryCounter struct {
	mu         sync.Mutex
	queries    []string // one entry per round trip: a query, or "batch(n statements)"
	statements []string // one entry per statement, a batch's one by one
}

// NormalSQL is sql with its runs of white space made single spaces, as
// QueryCounter records it.
func NormalSQL(sql string) string { return strings.Join(strings.Fields(sql), " ") }

// TraceQueryStart implements pgx.QueryTracer.
func (c *QueryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries = append(c.queries, NormalSQL(d.SQL))
	c.statements = append(c.statements, NormalSQL(d.SQL))
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (c *QueryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart implements pgx.BatchTracer.
func (c *QueryCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries = append(c.queries, fmt.Sprintf("batch(%d statements)", d.Batch.Len()))
	for _, q := range d.Batch.QueuedQueries {
		c.statements = append(c.statements, NormalSQL(q.SQL))
	}
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer.
func (c *QueryCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd implements pgx.BatchTracer.
func (c *QueryCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// Take returns the round trips since the last take and forgets them (and the
// statements).
func (c *QueryCounter) Take() []string {
	q, _ := c.TakeStatements()
	return q
}

// TakeStatements returns the round trips and the statements since the last
// take, and forgets them.
func (c *QueryCounter) TakeStatements() (trips, statements []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	trips, statements = c.queries, c.statements
	c.queries, c.statements = nil, nil
	return trips, statements
}

// Cost runs f and returns the round trips it made, logged under what.
func (c *QueryCounter) Cost(t testing.TB, what string, f func()) []string {
	t.Helper()
	c.Take()
	f()
	trips := c.Take()
	t.Logf("%-50s %d round trip(s): %s", what, len(trips), Brief(trips))
	return trips
}

// Brief shortens statements for the log.
func Brief(trips []string) string {
	short := make([]string, len(trips))
	for i, q := range trips {
		if len(q) > 60 {
			q = q[:57] + "..."
		}
		short[i] = q
	}
	return strings.Join(short, " | ")
}

// Seed gives userID n signed-in sessions straight in the tables, with one
// statement (100,000 take about a second): logged in two hours ago and last
// seen an hour ago, a second apart, expiring in an hour.
func Seed(t testing.TB, pool *pgxpool.Pool, userID string, n int) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
WITH g AS (
	SELECT i, $1 || '-seed-' || i AS token FROM generate_series(1, $2::int) AS i
), s AS (
	INSERT INTO sessions (token, data, expiry)
	SELECT token, '\x00', now() + interval '1 hour' FROM g
)
INSERT INTO singlesession_links (token, user_id, created, last_seen)
SELECT token, $1, now() - interval '2 hours' - i * interval '1 second', now() - interval '1 hour' - i * interval '1 second' FROM g`,
		userID, n)
	require.NoError(t, err)
}
