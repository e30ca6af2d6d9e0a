package pgxstore_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// Tests of LastSeen and of what requests and logins cost (SPEC 6.1 rules 4
// and 8): a signed-in request costs one query, two when it refreshes a stale
// LastSeen (once per interval), and the refresh rides on a save when there
// is one; a kicked browser's request costs one; a login's statements do not
// depend on how many sessions it ends; RejectNew costs one query more.

// lsStatement is the text of one of PostgresStore's statements, normalised
// as the tracer records it.
func lsStatement(t *testing.T, name string) string {
	t.Helper()
	sql, ok := pgxstore.StoreStatements[name]
	require.True(t, ok, "PostgresStore has a statement %q", name)
	return normalSQL(sql)
}

// makeStale puts the LastSeen of the session with the store token ago into
// the past (PostgreSQL only), and makes the store forget what it knew of the
// token: its next load reads the link, and LastSeen with it.
func makeStale(t *testing.T, e *env, token string, ago time.Duration) {
	t.Helper()
	tag, err := e.Pool.Exec(context.Background(), `UPDATE singlesession_links SET last_seen = now() - $2::bigint * interval '1 microsecond' WHERE token = $1`, token, ago.Microseconds())
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
	pgxstore.ForgetLinks(e.Store.(*pgxstore.Store)) // this process knew LastSeen fresh: forget it, as another process would not know
	e.Counter.Take()
}

// lsOnly returns the one session of userID as m lists it.
func lsOnly(t *testing.T, m *singlesession.Manager, userID string) singlesession.SessionInfo {
	t.Helper()
	list, err := m.UserSessions(context.Background(), userID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	return list[0]
}

// A signed-in GET costs exactly one round trip (the load) while LastSeen is
// fresh, and exactly two when it is stale: the load and one UPDATE of
// singlesession_links, done before the response (LastSeen has moved when the
// client has it). The next GET is back to one. A stale request that saves
// its session anyway costs two as well: the save carries the refresh, no
// third statement. With LastSeenInterval 1ns every GET refreshes.
func TestLastSeenRoundTrips(t *testing.T) {
	t.Parallel()
	pool, tr := tracedPool(t)
	store := pgxstore.New(pool)
	a := newApp(t, store)
	eager := newApp(t, store, withConfig(func(c *singlesession.Config) { c.LastSeenInterval = time.Nanosecond }))
	// A token this process signed in or loaded before loads with the
	// session alone (cached); one it does not know, with its link.
	load, loadLink := lsStatement(t, "find session"), lsStatement(t, "find")
	touch, saveTouch := lsStatement(t, "touch"), lsStatement(t, "update touch")

	// Warm the statements up on every connection they may use.
	for i := range 3 {
		w := a.Browser(fmt.Sprint("warm-", i))
		w.MustLogin(fmt.Sprint("warm-", i))
		w.WhoAmI()
		w.Put("k", "v")
		ew := eager.Browser("warm")
		ew.SetCookie(w.Cookie())
		ew.WhoAmI()
		ew.Put("k", "v")
		w.Logout()
	}
	tr.Take()
	e := &env{Name: "postgres", Store: store, Pool: pool, Counter: tr}
	lastSeen := func() time.Time {
		t.Helper()
		s := lsOnly(t, a.M, "alice").LastSeen
		tr.Take()
		return s
	}

	b := a.Browser("b")
	b.MustLogin("alice")
	token := a.StoreToken(b.Cookie())

	q := tr.Cost(t, "signed-in GET, LastSeen fresh", func() { b.WhoAmI() })
	require.Len(t, q, 1)
	assert.Equal(t, load, q[0])

	makeStale(t, e, token, 2*time.Minute)
	before := lastSeen()
	q = tr.Cost(t, "signed-in GET, LastSeen stale", func() { b.WhoAmI() })
	require.Len(t, q, 2, "the load and one refresh")
	assert.Equal(t, loadLink, q[0], "the token is new to the process: the load reads its link")
	assert.Equal(t, touch, q[1], "one UPDATE of singlesession_links")
	assert.True(t, lastSeen().After(before), "refreshed before the response")

	q = tr.Cost(t, "signed-in GET right after the refresh", func() { b.WhoAmI() })
	assert.Equal(t, []string{load}, q)

	q = tr.Cost(t, "signed-in POST that writes, LastSeen fresh", func() { b.Put("k", "1") })
	require.Len(t, q, 2)
	assert.Equal(t, lsStatement(t, "update"), q[1], "a plain save")

	makeStale(t, e, token, 2*time.Minute)
	before = lastSeen()
	q = tr.Cost(t, "signed-in POST that writes, LastSeen stale", func() { b.Put("k", "2") })
	require.Len(t, q, 2, "the refresh rides on the save")
	assert.Equal(t, loadLink, q[0])
	assert.Equal(t, saveTouch, q[1], "the save's statement carries the refresh")
	assert.True(t, lastSeen().After(before), "the save refreshed LastSeen")
	assert.Equal(t, "2", b.Get("k"))
	tr.Take()

	q = tr.Cost(t, "signed-in GET after the save refreshed", func() { b.WhoAmI() })
	assert.Equal(t, []string{load}, q)

	eb := eager.Browser("eager")
	eb.SetCookie(b.Cookie())
	for i := range 2 {
		q = tr.Cost(t, fmt.Sprintf("signed-in GET, LastSeenInterval 1ns (%d)", i+1), func() { eb.WhoAmI() })
		assert.Equal(t, []string{load, touch}, q)
	}
	q = tr.Cost(t, "signed-in POST that writes, LastSeenInterval 1ns", func() { eb.Put("k", "3") })
	assert.Equal(t, []string{load, saveTouch}, q)

	// The process knows when it last refreshed LastSeen: once that is
	// LastSeenInterval old, the load of a known token refreshes it, still
	// without reading the link.
	short := newApp(t, store, withConfig(func(c *singlesession.Config) { c.LastSeenInterval = 50 * time.Millisecond }))
	sb := short.Browser("short")
	sb.SetCookie(b.Cookie())
	sb.WhoAmI()
	time.Sleep(60 * time.Millisecond)
	q = tr.Cost(t, "signed-in GET of a known token, LastSeen stale by this process's clock", func() { sb.WhoAmI() })
	assert.Equal(t, []string{load, touch}, q)
	q = tr.Cost(t, "signed-in GET right after", func() { sb.WhoAmI() })
	assert.Equal(t, []string{load}, q)
}

// LastSeen starts at the login's time, does not move within
// LastSeenInterval (reads and writes alike), and advances on a request once
// it is stale, as Manager.UserSessions shows; Created stays.
func TestLastSeenAdvances(t *testing.T) {
	forEachTracedStore(t, func(t *testing.T, e *env) {
		steady := newApp(t, e.Store, withConfig(func(c *singlesession.Config) { c.LastSeenInterval = time.Hour }))
		eager := newApp(t, e.Store, withConfig(func(c *singlesession.Config) { c.LastSeenInterval = time.Nanosecond }))
		b := steady.Browser("b")
		b.MustLogin("alice")
		s0 := lsOnly(t, steady.M, "alice")
		assert.True(t, s0.LastSeen.Equal(s0.Created), "LastSeen starts at the login: %v, created %v", s0.LastSeen, s0.Created)

		for i := range 3 {
			time.Sleep(2 * time.Millisecond)
			b.WhoAmI()
			b.Put("k", fmt.Sprint(i))
		}
		s := lsOnly(t, steady.M, "alice")
		assert.True(t, s.LastSeen.Equal(s0.LastSeen), "within the interval LastSeen does not move: %v, was %v", s.LastSeen, s0.LastSeen)

		// The same session through an instance whose interval is 1ns: every
		// request finds it stale.
		eb := eager.Browser("eager")
		eb.SetCookie(b.Cookie())
		time.Sleep(2 * time.Millisecond)
		eb.WhoAmI()
		s1 := lsOnly(t, steady.M, "alice")
		assert.True(t, s1.LastSeen.After(s0.LastSeen), "a refreshing GET advances LastSeen: %v, was %v", s1.LastSeen, s0.LastSeen)
		assert.True(t, s1.Created.Equal(s0.Created), "Created stays")
		time.Sleep(2 * time.Millisecond)
		eb.Put("k", "x")
		s2 := lsOnly(t, steady.M, "alice")
		assert.True(t, s2.LastSeen.After(s1.LastSeen), "a refreshing save advances LastSeen: %v, was %v", s2.LastSeen, s1.LastSeen)
		t.Logf("LastSeen: login %v, after refreshing GET +%v, after refreshing save +%v",
			s0.LastSeen.Format(time.RFC3339Nano), s1.LastSeen.Sub(s0.LastSeen), s2.LastSeen.Sub(s0.LastSeen))

		time.Sleep(2 * time.Millisecond)
		b.WhoAmI()
		assert.True(t, lsOnly(t, steady.M, "alice").LastSeen.Equal(s2.LastSeen), "fresh again for the 1-hour instance")

		if e.Pool != nil {
			// Stale for the 1-hour instance too: its next request refreshes.
			makeStale(t, e, steady.StoreToken(b.Cookie()), 2*time.Hour)
			old := lsOnly(t, steady.M, "alice").LastSeen
			b.WhoAmI()
			s3 := lsOnly(t, steady.M, "alice")
			assert.True(t, s3.LastSeen.After(old), "stale by the interval: refreshed")
			assert.True(t, s3.LastSeen.After(s2.LastSeen), "to the time of the request")
		}
	})
}

// A kicked browser's request (its session ended by a login elsewhere) costs
// two round trips: the load, which finds no session, then the look-up of
// why, and Ended reports ReasonLogin.
func TestLastSeenKickedRequestCostsTwoQueries(t *testing.T) {
	forEachTracedStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withRoute("GET /ls/why", func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				ending, ok := a.M.Ended(r.Context())
				fmt.Fprintf(w, "%s|%v|%s", a.M.UserID(r.Context()), ok, ending.Reason)
			}
		}))
		warm := a.Browser("warm")
		warm.MustLogin("alice")
		a.Browser("warm2").MustLogin("alice")
		warm.Do("GET", "/ls/why", nil)

		A, B := a.Browser("A"), a.Browser("B")
		A.MustLogin("alice")
		B.MustLogin("alice")
		var body string
		q := e.Cost(t, "kicked browser's GET", func() {
			var res *http.Response
			res, body = A.Do("GET", "/ls/why", nil)
			require.Equal(t, http.StatusOK, res.StatusCode)
		})
		assert.Equal(t, "|true|"+string(singlesession.ReasonLogin), body, "anonymous, ended by a login elsewhere")
		if e.Counter != nil {
			require.LessOrEqual(t, len(q), 2, "at most two (SPEC 6.1 rule 6)")
			assert.Equal(t, []string{lsStatement(t, "find session"), lsStatement(t, "find ending")}, q, "the load, then why")
		}
		_, body = A.Do("GET", "/ls/why", nil)
		assert.Equal(t, "|true|login", body, "still told on the next request")
	})
}

// A login under Config.Limit costs the same round trips, with the same
// statements by text, whether it ends 1 session or 1,000, for Max 1 and
// Max 3: one transaction whose size does not depend on the user's sessions.
func TestLastSeenLoginCostFlatUnderLimit(t *testing.T) {
	t.Parallel()
	pool, tr := tracedPool(t)
	store := pgxstore.New(pool)
	var firstTrips, firstStmts []string
	for _, max := range []int{1, 3} {
		log := &evLog{}
		a := newApp(t, store, withEvLog(log), withConfig(func(c *singlesession.Config) {
			c.Limit = func(context.Context, string) singlesession.Limit { return singlesession.Limit{Max: max} }
		}))
		for i := range 3 { // warm up
			w := fmt.Sprint("warm-", max)
			a.Browser(fmt.Sprint(w, i)).MustLogin(w)
		}
		log.Take()
		for _, ends := range []int{1, 1000} {
			user := fmt.Sprintf("max%d-ends%d", max, ends)
			pgtest.Seed(t, pool, user, ends+max-1)
			tr.Take()
			b := a.Browser(user)
			start := time.Now()
			b.MustLogin(user)
			took := time.Since(start)
			trips, stmts := tr.TakeStatements()
			t.Logf("login under Limit{Max: %d} ending %4d sessions: %d round trip(s) (%s), %d statements, %v",
				max, ends, len(trips), pgtest.Brief(trips), len(stmts), took)
			ev := testapp.OneEvent(t, log.Take(), singlesession.EventLogin)
			assert.Equal(t, ends, ev.Ended, "the login ended %d sessions", ends)
			assert.Equal(t, max, (&env{Store: store}).SessionsOf(t, user))
			assert.Equal(t, user, b.WhoAmI())
			if firstTrips == nil {
				firstTrips, firstStmts = trips, stmts
				continue
			}
			assert.Equal(t, firstTrips, trips, "the same round trips")
			assert.Equal(t, firstStmts, stmts, "the same statements")
		}
	}
	assert.Equal(t, []string{"batch(3 statements)", "COMMIT"}, firstTrips, "one transaction: a batch, then COMMIT")
}

// A RejectNew login costs exactly one query more than the same login
// without RejectNew: the CountSessions check, before the same transaction.
func TestLastSeenRejectNewCostsOneQuery(t *testing.T) {
	t.Parallel()
	pool, tr := tracedPool(t)
	store := pgxstore.New(pool)
	limited := func(reject bool) *app {
		return newApp(t, store, withConfig(func(c *singlesession.Config) {
			c.Limit = func(context.Context, string) singlesession.Limit {
				return singlesession.Limit{Max: 3, RejectNew: reject}
			}
		}))
	}
	plain, reject := limited(false), limited(true)
	for i := range 3 { // warm up
		plain.Browser("warm").MustLogin(fmt.Sprint("warm-", i))
		reject.Browser("warm").MustLogin(fmt.Sprint("warm-", i))
	}
	pgtest.Seed(t, pool, "paul", 1)
	pgtest.Seed(t, pool, "rita", 1)
	tr.Take()

	p := tr.Cost(t, "login under Limit{Max: 3}", func() { plain.Browser("p").MustLogin("paul") })
	r := tr.Cost(t, "login under Limit{Max: 3, RejectNew: true}", func() { reject.Browser("r").MustLogin("rita") })
	require.Len(t, r, len(p)+1, "exactly one query more")
	assert.Equal(t, lsStatement(t, "count sessions"), r[0], "the check is CountSessions, before the login")
	assert.Equal(t, p, r[1:], "then the same login")

	// Refused by the check: the check alone, nothing else.
	reject.Browser("r2").MustLogin("rita")
	q := tr.Cost(t, "login refused by the RejectNew check", func() {
		res := reject.Browser("r3").Login("rita")
		require.Equal(t, http.StatusConflict, res.StatusCode)
	})
	assert.Equal(t, []string{lsStatement(t, "count sessions")}, q)
}
