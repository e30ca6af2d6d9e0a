package pgxstore_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// watchOf loads the session of token with m (as a request would, through
// Manager.Load) and returns its SessionContext.
func watchOf(t testing.TB, m *singlesession.Manager, token string) (context.Context, context.CancelFunc) {
	t.Helper()
	ctx, err := m.Load(context.Background(), token)
	require.NoError(t, err)
	return m.SessionContext(ctx)
}

// signIn signs user in on a new session of m and returns the cookie's token.
func signIn(t testing.TB, m *singlesession.Manager, user string) string {
	t.Helper()
	ctx, err := m.Load(context.Background(), "")
	require.NoError(t, err)
	require.NoError(t, m.LoginHook(ctx, user))
	token, _, err := m.Commit(ctx)
	require.NoError(t, err)
	return token
}

// SPEC 10, faults: when the listening connection is killed
// (pg_terminate_backend), the Manager listens again and checks every
// watched session, so that a session ended during the outage cancels its
// watch within 5 s of the channel coming back; nothing hangs.
func TestListenerKilled(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t)
	m, err := singlesession.New(scs.New(), pgxstore.New(pool), singlesession.Config{Logger: quietLogger})
	require.NoError(t, err)
	other, err := singlesession.New(scs.New(), pgxstore.New(pool), singlesession.Config{Logger: quietLogger})
	require.NoError(t, err)
	ctx, cancel := watchOf(t, m, signIn(t, m, "alice"))
	defer cancel()
	keep, keepCancel := watchOf(t, m, signIn(t, m, "kim"))
	defer keepCancel()

	listener := func() (pid int) {
		require.Eventually(t, func() bool {
			err := pool.QueryRow(context.Background(), `SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND query LIKE 'LISTEN %' AND state = 'idle' AND pid <> pg_backend_pid()
AND query LIKE '%' || substr(md5(current_schema()), 1, 16) || '%'`).Scan(&pid)
			return err == nil
		}, 5*time.Second, 20*time.Millisecond, "the Manager listens")
		return pid
	}
	old := listener()
	var killed bool
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT pg_terminate_backend($1)`, old).Scan(&killed))
	require.True(t, killed)
	_, err = other.LogoutUsers(context.Background(), []string{"alice"}) // during the outage, or just after
	require.NoError(t, err)
	ended := time.Now()
	select {
	case <-ctx.Done():
		t.Logf("the watch ended %v after the sign-out, across a killed listener", time.Since(ended).Round(time.Millisecond))
	case <-time.After(7 * time.Second):
		t.Fatal("the watch did not end within 7 s")
	}
	var e *singlesession.EndedError
	require.ErrorAs(t, context.Cause(ctx), &e)
	assert.Equal(t, singlesession.ReasonAdmin, e.Ending.Reason)
	assert.NotEqual(t, old, listener(), "a new listening connection")
	assert.NoError(t, keep.Err(), "the other watch goes on")
}

// SPEC 10, cost: one listening connection per Manager, opened on the first
// watch and given back when the last ends; no query per watch while nothing
// ends; 10,000 watches cost a few KB each; and one operator's sign-out of
// all their users reaches every one within a second.
func TestTenThousandWatches(t *testing.T) {
	t.Parallel()
	const n = 10_000
	pool, counter := tracedPool(t)
	store := pgxstore.New(pool)
	m, err := singlesession.New(scs.New(), store, singlesession.Config{Logger: quietLogger})
	require.NoError(t, err)
	ctx := context.Background()
	data, err := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), map[string]any{})
	require.NoError(t, err)
	tokens := make([]string, n)
	users := make([]string, n)
	for i := range n {
		users[i] = fmt.Sprint("user", i)
		tokens[i] = fmt.Sprintf("token%038d", i)
		_, err := store.Login(ctx, singlesession.Login{UserID: users[i], Token: tokens[i], Data: data, Expiry: time.Now().Add(time.Hour)})
		require.NoError(t, err)
	}
	loaded := make([]context.Context, n)
	for i, token := range tokens {
		loaded[i], err = m.Load(ctx, token)
		require.NoError(t, err)
	}
	assert.EqualValues(t, 0, pool.Stat().AcquiredConns(), "no listener before the first watch")

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	watches := make([]context.Context, n)
	cancels := make([]context.CancelFunc, n)
	for i := range n {
		watches[i], cancels[i] = m.SessionContext(loaded[i])
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perWatch := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%d watches: %.0f bytes each on the heap", n, perWatch)
	assert.Less(t, perWatch, 4096.0, "a few KB per watch at most")

	// The watches registered before the listener was ready are each checked
	// once (an end before it would have gone unheard); then all is quiet.
	settled := time.Now()
	require.Eventually(t, func() bool {
		return len(counter.Take()) == 0 && pool.Stat().AcquiredConns() == 1
	}, time.Minute, time.Second, "the check at ready ends")
	t.Logf("the %d checks at ready took %v", n, time.Since(settled).Round(100*time.Millisecond))
	assert.EqualValues(t, 1, pool.Stat().AcquiredConns(), "one listening connection for every watch")
	time.Sleep(2 * time.Second)
	assert.Len(t, counter.Take(), 0, "no query while nothing ends")

	// One sign-out of all their users: 10,000 notices. (The latency of one
	// ending is BenchmarkEndingDelay's; here the bound allows for -race.)
	start := time.Now()
	_, err = m.LogoutUsers(ctx, users)
	require.NoError(t, err)
	for i, w := range watches {
		select {
		case <-w.Done():
		case <-time.After(5*time.Second - time.Since(start)):
			t.Fatalf("watch %d still open %v after the sign-out", i, time.Since(start))
		}
	}
	t.Logf("all %d watches ended %v after the sign-out's return", n, time.Since(start).Round(time.Millisecond))
	for _, c := range cancels {
		c()
	}
	require.Eventually(t, func() bool { return pool.Stat().AcquiredConns() == 0 }, 5*time.Second, 20*time.Millisecond,
		"the listening connection goes back when the last watch ends")
}
