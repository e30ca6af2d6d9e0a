package pgxstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// A nil pool is a mistake that no later call could survive: New and
// NewDirectory say so at once.
func TestNilPoolPanics(t *testing.T) {
	assert.PanicsWithValue(t, "pgxstore: New: pool is nil", func() { pgxstore.New(nil) })
	assert.PanicsWithValue(t, "pgxstore: NewDirectory: pool is nil", func() { pgxstore.NewDirectory(nil) })
}

// The tests that hold a user's lock themselves compute its key as the store
// does.
func TestUserLockMatchesTheStore(t *testing.T) {
	assert.Contains(t, pgxstore.StoreStatements["lock users"], pgtest.UserLock("u"))
}

// Database cost per request, counted with a tracer on the pool: an anonymous
// request costs nothing, a signed-in request that does not change its session
// one query, a write or IdleTimeout two, a login one batch (one transaction)
// whose statement count does not depend on the user's number of sessions.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	pool, counter := tracedPool(t)
	store := pgxstore.New(pool)
	a := newApp(t, store)
	idle := newApp(t, store, withSessions(func(s *scs.SessionManager) { s.IdleTimeout = 1e12 }))

	// Warm every statement up so prepared-statement set-up is not counted.
	warm := a.Browser("warm")
	warm.MustLogin("warm")
	warm.Put("k", "v")
	warm.WhoAmI()
	warm.Logout()
	counter.Take()

	cost := func(what string, f func()) []string {
		t.Helper()
		counter.Take()
		f()
		q := counter.Take()
		t.Logf("%-45s %d round trip(s): %s", what, len(q), strings.Join(q, " | "))
		return q
	}

	b := a.Browser("b")
	assert.Len(t, cost("anonymous GET without a cookie", func() { b.WhoAmI() }), 0)
	q := cost("login without a cookie", func() { b.MustLogin("alice") })
	assert.Equal(t, []string{"batch(3 statements)", "COMMIT"}, q)
	q = cost("signed-in GET, session unchanged", func() { b.WhoAmI() })
	require.Len(t, q, 1)
	assert.Equal(t, "SELECT data, expiry FROM sessions WHERE token = $1 AND now() < expiry", q[0],
		"the load of a token this process signed in reads the session alone, as scs's own store does; its link is known")
	assert.Len(t, cost("signed-in POST that writes the session", func() { b.Put("k", "v") }), 2)
	assert.Len(t, cost("re-login on a live session", func() { b.MustLogin("alice") }), 3)
	assert.Len(t, cost("logout (ends all sessions of the user)", func() { b.Logout() }), 2)

	ib := idle.Browser("idle")
	ib.MustLogin("ida")
	assert.Len(t, cost("signed-in GET with IdleTimeout", func() { ib.WhoAmI() }), 2)

	// The login batch has the same two statements whatever the number of the
	// user's existing sessions.
	for _, n := range []int{0, 10, 1000} {
		t.Run(fmt.Sprint(n, " existing sessions"), func(t *testing.T) {
			user := fmt.Sprint("many-", n)
			_, err := pool.Exec(context.Background(), `
WITH s AS (
	INSERT INTO sessions (token, data, expiry)
	SELECT $1 || '-' || i, '\x00', now() + interval '1 hour' FROM generate_series(1, $2::int) i
	RETURNING token
)
INSERT INTO singlesession_links (token, user_id) SELECT token, $1 FROM s`, user, n)
			require.NoError(t, err)
			nb := a.Browser(user)
			q := cost(fmt.Sprintf("login with %d existing sessions", n), func() { nb.MustLogin(user) })
			assert.Equal(t, []string{"batch(3 statements)", "COMMIT"}, q)
			assert.Equal(t, 1, (&env{Store: store}).SessionsOf(t, user))
		})
	}
}

// CountSessions is one round trip however many users it counts.
func TestCountSessionsOneQuery(t *testing.T) {
	t.Parallel()
	pool, counter := tracedPool(t)
	store := pgxstore.New(pool)
	users := make([]string, 500)
	for i := range users {
		users[i] = fmt.Sprint("user-", i)
	}
	for _, u := range users[:20] {
		seedSessions(t, store, u, 2)
	}
	counter.Take()
	counts, err := store.CountSessions(context.Background(), users)
	require.NoError(t, err)
	q := counter.Take()
	assert.Len(t, counts, 20)
	assert.Equal(t, 2, counts["user-7"])
	require.Len(t, q, 1, strings.Join(q, " | "))
	assert.Contains(t, q[0], "GROUP BY")
}

// Rule 9, with scs's own cleanup: pgxstore and postgresstore delete expired
// rows with a plain DELETE; the link goes by cascade.
func TestScsCleanupTakesLinks(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t)
	e := &env{Name: "postgres", Store: pgxstore.New(pool), Pool: pool}
	a := newApp(t, e.Store)
	b := a.Browser("b")
	b.MustLogin("alice")
	e.Expire(t, a.StoreToken(b.Cookie()))
	_, err := pool.Exec(context.Background(), `DELETE FROM sessions WHERE expiry < current_timestamp`) // pgxstore's statement
	require.NoError(t, err)
	sessions, links := e.Rows(t)
	assert.Zero(t, sessions)
	assert.Zero(t, links)
}

// Rule 7 across instances: two Managers on two pools share one database.
func TestConcurrentLoginsTwoInstances(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	pool1 := pgtest.Pool(t, schema, nil)
	require.NoError(t, pgxstore.Migrate(context.Background(), pool1))
	pool2 := pgtest.Pool(t, schema, nil)
	e := &env{Name: "postgres", Store: pgxstore.New(pool1), Pool: pool1}
	one := newApp(t, e.Store)
	two := newApp(t, pgxstore.New(pool2))
	concurrentLogins(t, e, []*app{one, two}, 24, 5)
}

// Concurrent logins leave one session whatever the database's default
// isolation level: the login batch sets READ COMMITTED itself.
func TestLoginUnderRepeatableReadDefault(t *testing.T) {
	t.Parallel()
	schema := testSchema(t)
	cfg, err := pgxpool.ParseConfig(pgtest.DatabaseURL())
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "repeatable read"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, pgxstore.Migrate(context.Background(), pool))
	e := &env{Name: "postgres", Store: pgxstore.New(pool), Pool: pool}
	ctx := context.Background()

	// Login 1 holds alice's lock and has written its session, uncommitted;
	// login 2 waits for the lock, then must see login 1's session.
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT pg_advisory_xact_lock(1936942451, `+pgtest.UserLock("'alice'")+`)`)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `INSERT INTO sessions VALUES ('first', '\x01', now() + interval '1 hour');
		INSERT INTO singlesession_links (token, user_id) VALUES ('first', 'alice')`)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := e.Store.Login(ctx, singlesession.Login{UserID: "alice", Token: "second", Data: []byte{1}, Expiry: time.Now().Add(time.Hour), Limit: singlesession.Limit{Max: 1}})
		done <- err
	}()
	require.Eventually(t, func() bool { return lockWaiters(t, pool) > 0 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, tx.Commit(ctx))
	require.NoError(t, <-done)
	assert.Equal(t, 1, e.SessionsOf(t, "alice"))

	a := newApp(t, e.Store)
	concurrentLogins(t, e, []*app{a}, 16, 2)
}

// TestUserIDSeedsPostgres runs the seeds of the root's FuzzUserID on
// PostgreSQL: text and hashtext take every acceptable ID as it is.
func TestUserIDSeedsPostgres(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t)
	e := &env{Name: "postgres", Store: pgxstore.New(pool), Pool: pool}
	for i, id := range userIDSeeds {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			checkUserID(t, e, fmt.Sprint("bystander-", i), id)
		})
	}
}
