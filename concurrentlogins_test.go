package singlesession_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/pgxstore"
)

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

// concurrentLogins signs n browsers, spread over apps, in as alice at once,
// rounds times, and checks that exactly one stays signed in each round.
func concurrentLogins(t *testing.T, e *env, apps []*app, n, rounds int) {
	t.Helper()
	browsers := make([]*browser, n)
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
		_, links := rows(t, e)
		assert.Equal(t, 1, links, "round %d: link rows", round)
	}
	for _, a := range apps {
		assert.Zero(t, a.Errors.Load())
	}
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
