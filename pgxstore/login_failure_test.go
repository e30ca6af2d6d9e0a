package pgxstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// Rule 13 on PostgreSQL: a login that fails (a statement, a killed
// connection, a wait for the user's lock that outlives its request) happens
// whole or not at all, and what Login reports is what happened. The root's
// TestFailedLoginChangesNothing checks a failed save on every store.

// In PostgreSQL, a login that fails midway (here: after the old sessions were
// deleted, at the link insert) is rolled back whole.
func TestLoginTransactionRollsBack(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t)
	e := &env{Name: "postgres", Store: pgxstore.New(pool), Pool: pool}
	a := newApp(t, e.Store)
	elsewhere, here := a.Browser("elsewhere"), a.Browser("here")
	elsewhere.MustLogin("alice")
	here.Put("cart", "limes")
	cookie := here.Cookie()

	_, err := pool.Exec(context.Background(), `
CREATE FUNCTION refuse_link() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'link refused'; END $$;
CREATE TRIGGER refuse_link BEFORE INSERT ON singlesession_links FOR EACH ROW EXECUTE FUNCTION refuse_link();`)
	require.NoError(t, err)

	res := here.Login("alice")
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)

	_, err = pool.Exec(context.Background(), `DROP TRIGGER refuse_link ON singlesession_links`)
	require.NoError(t, err)
	assert.Equal(t, cookie, here.Cookie())
	assert.True(t, here.Exists(), "the old token's delete was rolled back")
	assert.Equal(t, "limes", here.Get("cart"))
	assert.Equal(t, "alice", elsewhere.WhoAmI(), "the other session's delete was rolled back")
	assert.Equal(t, 1, e.SessionsOf(t, "alice"))
}

// loginFixture is a PostgreSQL application where alice is signed in on one
// browser and another browser, anonymous, holds a cart: the state a failed
// login of alice on the second browser must leave exactly as it was.
type loginFixture struct {
	e         *env
	a         *app
	elsewhere *browser
	here      *browser
	cookie    string // here's cookie before the login
	appName   string // application_name of the pool's connections
}

func newLoginFixture(t *testing.T) *loginFixture {
	t.Helper()
	schema := testSchema(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	f := &loginFixture{appName: "singlesession-test-" + hex.EncodeToString(b)}
	cfg, err := pgxpool.ParseConfig(pgtest.DatabaseURL())
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["application_name"] = f.appName
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, pgxstore.Migrate(context.Background(), pool))
	f.e = &env{Name: "postgres", Store: pgxstore.New(pool), Pool: pool}
	f.a = newApp(t, f.e.Store)
	f.elsewhere, f.here = f.a.Browser("elsewhere"), f.a.Browser("here")
	f.elsewhere.MustLogin("alice")
	f.here.Put("cart", "limes")
	f.cookie = f.here.Cookie()
	return f
}

// assertUnchanged checks that the failed login left no trace, then that the
// next login of alice works (the pool recovered, no lock was left behind).
func (f *loginFixture) assertUnchanged(t *testing.T) {
	t.Helper()
	assert.Equal(t, f.cookie, f.here.Cookie(), "no new cookie")
	assert.True(t, f.here.Exists(), "the previous token was not ended")
	assert.Equal(t, "limes", f.here.Get("cart"))
	assert.Equal(t, "", f.here.WhoAmI(), "not signed in")
	assert.Equal(t, "alice", f.elsewhere.WhoAmI(), "alice's other session did not end")
	assert.Equal(t, 1, f.e.SessionsOf(t, "alice"))
	_, links := f.e.Rows(t)
	assert.Equal(t, 1, links, "no link was left behind")

	f.here.MustLogin("alice")
	assert.Equal(t, "alice", f.here.WhoAmI())
	assert.Equal(t, "limes", f.here.Get("cart"))
	assert.Equal(t, "", f.elsewhere.WhoAmI())
	assert.Equal(t, 1, f.e.SessionsOf(t, "alice"))
}

// The connection dies inside the login batch, after the other sessions were
// deleted and the new one inserted, at the insert of the link (the server
// process terminates itself there): the transaction never commits, the error
// goes to ErrorFunc, and nothing changes.
func TestLoginConnectionKilledInsideBatch(t *testing.T) {
	t.Parallel()
	f := newLoginFixture(t)
	_, err := f.e.Pool.Exec(context.Background(), `
CREATE FUNCTION die() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_terminate_backend(pg_backend_pid());
	PERFORM pg_sleep(10);
	RETURN NEW;
END $$;
CREATE TRIGGER die BEFORE INSERT ON singlesession_links FOR EACH ROW EXECUTE FUNCTION die();`)
	require.NoError(t, err)

	begin := time.Now()
	res, body := f.here.Do("POST", "/login", url.Values{"user": {"alice"}})
	assert.Less(t, time.Since(begin), 5*time.Second, "the request did not wait for the dead connection")
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Contains(t, body, "terminating connection")
	assert.EqualValues(t, 1, f.a.Errors.Load(), "through ErrorFunc")

	_, err = f.e.Pool.Exec(context.Background(), `DROP TRIGGER die ON singlesession_links`)
	require.NoError(t, err)
	f.assertUnchanged(t)
}

// holdUserLock takes, on a connection of its own, the advisory lock that
// serialises the logins of userID, and returns the function that releases it.
func holdUserLock(t *testing.T, userID string) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.DatabaseURL())
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `SELECT pg_advisory_lock(1936942451, `+pgtest.UserLock("$1")+`)`, userID)
	require.NoError(t, err)
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, err := conn.Exec(ctx, `SELECT pg_advisory_unlock(1936942451, `+pgtest.UserLock("$1")+`)`, userID)
			assert.NoError(t, err)
			conn.Close(ctx)
		})
	}
	t.Cleanup(release)
	return release
}

// The connection is killed (pg_terminate_backend) while the login waits in
// its batch for the user's lock: the request fails through ErrorFunc at
// once, nothing changes, and the lock does not outlive the dead connection.
func TestLoginKilledWhileWaitingForUserLock(t *testing.T) {
	t.Parallel()
	f := newLoginFixture(t)
	release := holdUserLock(t, "alice")

	type result struct {
		status int
		body   string
	}
	done := make(chan result, 1)
	go func() {
		res, body := f.here.Do("POST", "/login", url.Values{"user": {"alice"}})
		done <- result{res.StatusCode, body}
	}()
	var pid int
	require.Eventually(t, func() bool {
		err := f.e.Pool.QueryRow(context.Background(), `SELECT pid FROM pg_stat_activity
WHERE application_name = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'`, f.appName).Scan(&pid)
		return err == nil
	}, 10*time.Second, 10*time.Millisecond, "the login waits for alice's lock")
	var killed bool
	require.NoError(t, f.e.Pool.QueryRow(context.Background(), `SELECT pg_terminate_backend($1)`, pid).Scan(&killed))
	require.True(t, killed)

	select {
	case r := <-done:
		assert.Equal(t, http.StatusInternalServerError, r.status)
		assert.Contains(t, r.body, "terminating connection")
	case <-time.After(10 * time.Second):
		t.Fatal("the login still waits after its connection was killed")
	}
	assert.EqualValues(t, 1, f.a.Errors.Load(), "through ErrorFunc")
	release()
	f.assertUnchanged(t)
}

// A login that waits for the user's lock past the end of its request
// context returns when the context ends, fails through ErrorFunc, and leaves
// nothing behind: in particular the server does not go on waiting for the
// lock and then commit, once it is free, a login its client was told failed
// (its browser never gets the new cookie, while its old session and the
// user's other sessions end).
func TestLoginBlockedPastRequestContext(t *testing.T) {
	t.Parallel()
	f := newLoginFixture(t)
	release := holdUserLock(t, "alice")

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, "POST", "/login", strings.NewReader(url.Values{"user": {"alice"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: f.a.Sessions.Cookie.Name, Value: f.cookie})
	rec := httptest.NewRecorder()
	deadline, _ := ctx.Deadline()
	f.a.Srv.Config.Handler.ServeHTTP(rec, req)
	end := time.Now()

	// The deadline, not the start of the call: the context was made first.
	assert.False(t, end.Before(deadline), "the login waited for the lock until its context ended (%v early)", deadline.Sub(end))
	assert.Less(t, end.Sub(deadline), 5*time.Second, "and returned when its context ended")
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.EqualValues(t, 1, f.a.Errors.Load(), "through ErrorFunc")
	assert.Empty(t, rec.Result().Cookies(), "no cookie for a login that did not happen")
	assert.Eventually(t, func() bool {
		var waiting int
		err := f.e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
WHERE application_name = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'`, f.appName).Scan(&waiting)
		return err == nil && waiting == 0
	}, 5*time.Second, 10*time.Millisecond, "the server still waits for the lock for a request that is over")
	release()
	// Whatever still ran on the server has finished before we look.
	require.Eventually(t, func() bool {
		var busy int
		err := f.e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
WHERE application_name = $1 AND state <> 'idle' AND pid <> pg_backend_pid()`, f.appName).Scan(&busy)
		return err == nil && busy == 0
	}, 10*time.Second, 10*time.Millisecond)
	f.assertUnchanged(t)
}

// When the user's lock frees at about the moment the login's context ends,
// what Login reports is what happened: an error means the login never
// commits, not even later on the server; success means it did. Each round
// releases the lock at a different offset around the deadline.
func TestLoginOutcomeMatchesReportWhenContextEnds(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t)
	store := pgxstore.New(pool)
	ctx := context.Background()
	failed, succeeded := 0, 0
	for round := range 16 {
		user := fmt.Sprint("racer-", round)
		token := fmt.Sprint("token-", round)
		release := holdUserLock(t, user)
		deadline := 50 * time.Millisecond
		offset := time.Duration(round-8) * time.Millisecond // -8 ms … +7 ms around the deadline
		go func() {
			time.Sleep(deadline + offset)
			release()
		}()
		lctx, cancel := context.WithTimeout(ctx, deadline)
		_, err := store.Login(lctx, singlesession.Login{UserID: user, Token: token, Data: []byte{1}, Expiry: time.Now().Add(time.Hour), Limit: singlesession.Limit{Max: 1}})
		cancel()
		// Give the server every chance to commit late, as the bug would.
		require.Eventually(t, func() bool { return lockWaiters(t, pool) == 0 }, 10*time.Second, 5*time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		f, ferr := store.Find(ctx, token, time.Minute)
		owner, found := f.UserID, f.Found
		require.NoError(t, ferr)
		if err != nil {
			failed++
			assert.False(t, found, "round %d: Login failed (%v) but its session exists", round, err)
		} else {
			succeeded++
			assert.True(t, found && owner == user, "round %d: Login succeeded but its session is missing", round)
		}
	}
	t.Logf("%d logins failed, %d succeeded; every outcome matched its report", failed, succeeded)
}
