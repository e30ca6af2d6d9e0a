package compat_test

// Benchmarks of the hot path against plain scs, of login latency against the
// number of the user's sessions and the size of the tables, and of bulk
// sign-out. ./scripts/bench.sh runs them all and compares them with benchstat;
// BENCHMARKS.md publishes the figures.
//
// Requests are driven in-process: the handler is called with an
// httptest.NewRecorder, so no socket or HTTP parsing is measured, only scs,
// the library and the PostgreSQL round trips. That is the least favourable
// setting for the ratios: a real server adds the same fixed cost to both sides.

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	scspgxstore "github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// baseRows is how many sessions and links every login and sign-out benchmark
// starts from: a small application, with its tables vacuumed and analysed.
const baseRows = 10_000

// benchRows, when positive, adds a variant of the login and sign-out
// benchmarks on tables that start with that many sessions, each linked to a
// user (five per user). Loading a million takes about a minute per
// benchmark, so it is opt-in: go test -run '^$' -bench Login -bench.rows 1000000 .
var benchRows = flag.Int("bench.rows", 0, "also benchmark logins and sign-outs on tables preloaded with this many linked sessions (0: skip)")

// benchData is a session's data of a realistic size (scs's gob encoding of a
// deadline and a few values is about 100 bytes).
var benchData = []byte(strings.Repeat("\xab", 100))

// benchSeq makes the users of each benchmark run distinct.
var benchSeq atomic.Int64

// benchApp is one application under benchmark: plain scs or singlesession on
// the same database, with the same routes.
type benchApp struct {
	sessions *scs.SessionManager
	m        *singlesession.Manager // nil for plain scs
	handler  http.Handler
}

// newBenchApp builds the application: plain scs on pgxstore (without its
// cleanup goroutine, so nothing else touches the database) when plain is set,
// otherwise Manager.Middleware with a PostgresStore and policy. With a nil
// pool both keep their sessions in memory instead: scs's memstore and
// singlesession's MemoryStore.
func newBenchApp(b *testing.B, pool *pgxpool.Pool, plain bool, idle time.Duration, cfg singlesession.Config) *benchApp {
	b.Helper()
	a := &benchApp{sessions: scs.New()}
	a.sessions.IdleTimeout = idle
	switch {
	case plain && pool == nil:
		a.sessions.Store = memstore.NewWithCleanupInterval(0)
	case plain:
		a.sessions.Store = scspgxstore.NewWithCleanupInterval(pool, 0)
	default:
		var store singlesession.Store = singlesession.NewMemoryStore()
		if pool != nil {
			store = pgxstore.New(pool)
		}
		m, err := singlesession.New(a.sessions, store, cfg)
		require.NoError(b, err)
		a.m = m
	}
	a.route()
	return a
}

// route builds a's handler: the routes of the benchmarks (a login, a read
// and a write) inside Manager.Middleware, or scs's LoadAndSave for plain
// scs.
func (a *benchApp) route() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.FormValue("user")
		var err error
		if a.m != nil {
			err = a.m.LoginHook(r.Context(), user)
		} else {
			err = a.sessions.RenewToken(r.Context())
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		a.sessions.Put(r.Context(), "user", user)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /read", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, a.user(r.Context()))
	})
	mux.HandleFunc("POST /write", func(w http.ResponseWriter, r *http.Request) {
		a.sessions.Put(r.Context(), "n", a.sessions.GetInt(r.Context(), "n")+1)
		fmt.Fprint(w, a.user(r.Context()))
	})
	if a.m != nil {
		a.handler = a.m.Middleware(mux)
	} else {
		a.handler = a.sessions.LoadAndSave(mux)
	}
}

// user is what an application asks on every request: who is signed in.
func (a *benchApp) user(ctx context.Context) string {
	if a.m != nil {
		return a.m.UserID(ctx)
	}
	return a.sessions.GetString(ctx, "user")
}

// serve runs one request through the application in-process.
func (a *benchApp) serve(method, target string, cookie *http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return rec
}

// login signs user in on a new browser and returns its session cookie.
func (a *benchApp) login(b *testing.B, user string) *http.Cookie {
	b.Helper()
	rec := a.serve("POST", "/login?user="+user, nil)
	require.Equal(b, http.StatusNoContent, rec.Code, rec.Body.String())
	for _, c := range rec.Result().Cookies() {
		if c.Name == a.sessions.Cookie.Name {
			return c
		}
	}
	b.Fatal("login set no session cookie")
	return nil
}

// requestCases are the requests BenchmarkRequest and BenchmarkRequestMemory
// compare: read is a GET that does not change the session, write a request
// that changes it, idle a read with IdleTimeout set (scs then saves on every
// request).
var requestCases = []struct {
	name   string
	method string
	path   string
	idle   time.Duration
}{
	{"read", "GET", "/read", 0},
	{"write", "POST", "/write", 0},
	{"idle", "GET", "/read", time.Hour},
}

// BenchmarkRequest compares the cost of a signed-in request under plain scs
// (pgxstore) and under singlesession (Manager.Middleware, PostgresStore), on
// the same database and the same sessions table. Compare the two with
// benchstat -col /impl.
func BenchmarkRequest(b *testing.B) {
	benchRequests(b, migratedPool(b))
}

// BenchmarkRequestMemory is BenchmarkRequest with both keeping their sessions
// in memory (scs's memstore, singlesession's MemoryStore): what is left is
// the library's own work per request, without a database.
func BenchmarkRequestMemory(b *testing.B) {
	benchRequests(b, nil)
}

// benchSwap runs singlesession before plain scs in the request benchmarks;
// scripts/bench.sh sets it on every other run, so that neither side always
// runs first.
var benchSwap = flag.Bool("bench.swap", false, "run singlesession before plain scs in the request benchmarks")

func benchRequests(b *testing.B, pool *pgxpool.Pool) {
	impls := []string{"scs", "singlesession"}
	if *benchSwap {
		impls[0], impls[1] = impls[1], impls[0]
	}
	for _, c := range requestCases {
		for _, impl := range impls {
			a := newBenchApp(b, pool, impl == "scs", c.idle, singlesession.Config{})
			user := fmt.Sprintf("%s-%s", c.name, impl)
			cookie := a.login(b, user)
			b.Run(fmt.Sprintf("case=%s/impl=%s", c.name, impl), func(b *testing.B) {
				for b.Loop() {
					rec := a.serve(c.method, c.path, cookie)
					if rec.Code != http.StatusOK || rec.Body.String() != user {
						b.Fatalf("%s %s: %d %q, want 200 %q", c.method, c.path, rec.Code, rec.Body.String(), user)
					}
				}
			})
		}
	}
}

// benchTable is a schema for the login and sign-out benchmarks, preloaded
// with baseRows or benchRows linked sessions of other users.
type benchTable struct {
	name string
	pool *pgxpool.Pool
}

func benchTables(b *testing.B) []benchTable {
	b.Helper()
	var tables []benchTable
	for _, n := range []int{baseRows, *benchRows} {
		if n <= 0 {
			continue
		}
		name := strconv.Itoa(n)
		switch {
		case n%1_000_000 == 0:
			name = strconv.Itoa(n/1_000_000) + "M"
		case n%1_000 == 0:
			name = strconv.Itoa(n/1_000) + "k"
		}
		pool := migratedPool(b)
		bulkLoad(b, pool, n)
		tables = append(tables, benchTable{name: name, pool: pool})
	}
	return tables
}

// bulkLoad fills the sessions and link tables with n unexpired sessions, five
// per user, with tokens shaped like scs's (43 base64 characters, in random
// order of the index). For speed the link table's foreign keys and secondary
// indexes are dropped during the load and recreated, from their own
// definitions, afterwards; then both tables are vacuumed and analysed, as
// autovacuum would have done on a live database.
func bulkLoad(b *testing.B, pool *pgxpool.Pool, n int) {
	b.Helper()
	ctx := context.Background()
	begin := time.Now()
	var restore []string
	rows, err := pool.Query(ctx, `
SELECT 'ALTER TABLE singlesession_links ADD CONSTRAINT ' || quote_ident(conname) || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE conrelid = 'singlesession_links'::regclass AND contype = 'f'`)
	require.NoError(b, err)
	fks, err := collectStrings(rows)
	require.NoError(b, err)
	rows, err = pool.Query(ctx, `
SELECT indexdef FROM pg_indexes
WHERE schemaname = current_schema() AND tablename = 'singlesession_links' AND indexname <> 'singlesession_links_pkey'`)
	require.NoError(b, err)
	idx, err := collectStrings(rows)
	require.NoError(b, err)
	restore = append(idx, fks...)

	_, err = pool.Exec(ctx, `
DO $$
DECLARE r record;
BEGIN
	FOR r IN SELECT conname FROM pg_constraint WHERE conrelid = 'singlesession_links'::regclass AND contype = 'f' LOOP
		EXECUTE 'ALTER TABLE singlesession_links DROP CONSTRAINT ' || quote_ident(r.conname);
	END LOOP;
	FOR r IN SELECT indexname FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'singlesession_links' AND indexname <> 'singlesession_links_pkey' LOOP
		EXECUTE 'DROP INDEX ' || quote_ident(r.indexname);
	END LOOP;
END $$`)
	require.NoError(b, err)
	_, err = pool.Exec(ctx, `
WITH bulk AS (
	SELECT rtrim(encode(sha256(int8send(i)), 'base64'), '=') AS token,
	       'bulk-' || (i % ($1::bigint / 5)) AS user_id
	FROM generate_series(1, $1::bigint) i
), s AS (
	INSERT INTO sessions (token, data, expiry)
	SELECT token, $2, now() + interval '1 day' FROM bulk ORDER BY token
)
INSERT INTO singlesession_links (token, user_id)
SELECT token, user_id FROM bulk ORDER BY token`, n, benchData)
	require.NoError(b, err)
	for _, stmt := range restore {
		_, err := pool.Exec(ctx, stmt)
		require.NoError(b, err, stmt)
	}
	_, err = pool.Exec(ctx, `VACUUM ANALYZE sessions, singlesession_links`)
	require.NoError(b, err)
	var sessions, links int
	require.NoError(b, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM singlesession_links)`).Scan(&sessions, &links))
	require.Equal(b, n, sessions)
	require.Equal(b, n, links)
	b.Logf("loaded %d sessions and links in %v", n, time.Since(begin).Round(time.Second))
}

func collectStrings(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close()
}) ([]string, error) {
	defer rows.Close()
	var list []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, rows.Err()
}

// addSessions gives each of the users count linked, unexpired sessions, in
// one statement.
func addSessions(b *testing.B, pool *pgxpool.Pool, users []string, count int) {
	b.Helper()
	if count == 0 {
		return
	}
	_, err := pool.Exec(context.Background(), `
WITH src AS (
	SELECT u.user_id, u.user_id || '/' || k AS token
	FROM unnest($1::text[]) AS u(user_id), generate_series(1, $2::int) k
), s AS (
	INSERT INTO sessions (token, data, expiry) SELECT token, $3, now() + interval '1 hour' FROM src
)
INSERT INTO singlesession_links (token, user_id) SELECT token, user_id FROM src`, users, count, benchData)
	require.NoError(b, err)
}

// dropSessions deletes every session of users, outside the timed region.
func dropSessions(b *testing.B, pool *pgxpool.Pool, users []string) {
	b.Helper()
	_, err := pool.Exec(context.Background(), `
DELETE FROM sessions WHERE token IN (SELECT token FROM singlesession_links WHERE user_id = ANY($1::text[]))`, users)
	require.NoError(b, err)
}

func benchUsers(prefix string, n int) []string {
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return users
}

// loginRound is how many users a login benchmark prepares at once: the
// fixture stays bounded however large b.N grows.
const loginRound = 100

// BenchmarkLogin measures a whole login request (policy, token renewal, the
// login transaction) of a user who already has 0, 10 or 1,000 sessions, with
// Always (the login ends them), Never (it keeps them) and Config.Limit
// {Max: 3} (it ends all but the 2 most recently used), on tables of 10,000
// other sessions and, with -bench.rows, of that many. Users are
// prepared in rounds of loginRound, between which the timer stops and every
// user gets back exactly its existing sessions. Compare with
// benchstat -col /existing.
func BenchmarkLogin(b *testing.B) {
	for _, table := range benchTables(b) {
		for _, policy := range []string{"always", "never", "limit3"} {
			cfg := singlesession.Config{Policy: singlesession.Always}
			switch policy {
			case "never":
				cfg.Policy = singlesession.Never
			case "limit3":
				cfg = singlesession.Config{Limit: func(context.Context, string) singlesession.Limit { return singlesession.Limit{Max: 3} }}
			}
			a := newBenchApp(b, table.pool, false, 0, cfg)
			for _, existing := range []int{0, 10, 1000} {
				b.Run(fmt.Sprintf("table=%s/policy=%s/existing=%d", table.name, policy, existing), func(b *testing.B) {
					users := benchUsers(fmt.Sprintf("login-%d-", benchSeq.Add(1)), min(b.N, loginRound))
					addSessions(b, table.pool, users, existing)
					b.ResetTimer()
					for i := range b.N {
						if i > 0 && i%len(users) == 0 {
							b.StopTimer()
							resetSessions(b, table.pool, users, existing)
							b.StartTimer()
						}
						rec := a.serve("POST", "/login?user="+users[i%len(users)], nil)
						if rec.Code != http.StatusNoContent {
							b.Fatalf("login: %d %s", rec.Code, rec.Body.String())
						}
					}
					b.StopTimer()
					want := 1
					switch policy {
					case "never":
						want = existing + 1
					case "limit3":
						want = min(existing+1, 3)
					}
					var got int
					require.NoError(b, table.pool.QueryRow(context.Background(),
						`SELECT count(*) FROM singlesession_links WHERE user_id = $1`, users[0]).Scan(&got))
					require.Equal(b, want, got, "sessions of a user after its login")
					dropSessions(b, table.pool, users)
				})
			}
		}
	}
}

// resetSessions gives users back exactly count sessions made by
// addSessions, whatever their logins ended or added.
func resetSessions(b *testing.B, pool *pgxpool.Pool, users []string, count int) {
	b.Helper()
	var kept int
	err := pool.QueryRow(context.Background(), `
WITH gone AS (
	DELETE FROM sessions WHERE token IN (
		SELECT token FROM singlesession_links
		WHERE user_id = ANY($1::text[]) AND left(token, length(user_id) + 1) <> user_id || '/')
)
SELECT count(*) FROM singlesession_links
WHERE user_id = ANY($1::text[]) AND left(token, length(user_id) + 1) = user_id || '/'`, users).Scan(&kept)
	require.NoError(b, err)
	if kept != len(users)*count { // Always or a limit ended some or all of it
		dropSessions(b, pool, users)
		addSessions(b, pool, users, count)
	}
}

// BenchmarkLogoutUsers measures Manager.LogoutUsers ending every session of
// 10,000 users who hold 3 sessions each (30,000 sessions in one operation),
// and of a single user (as LogoutUser does), on tables of 10,000 other
// sessions and, with -bench.rows, of that many. ns/session is the time
// per ended session.
func BenchmarkLogoutUsers(b *testing.B) {
	const perUser = 3
	for _, table := range benchTables(b) {
		m, err := singlesession.New(scs.New(), pgxstore.New(table.pool), singlesession.Config{})
		require.NoError(b, err)
		for _, n := range []int{1, 10_000} {
			b.Run(fmt.Sprintf("table=%s/users=%d", table.name, n), func(b *testing.B) {
				ctx := context.Background()
				for range b.N {
					b.StopTimer()
					users := benchUsers(fmt.Sprintf("bulk-out-%d-", benchSeq.Add(1)), n)
					addSessions(b, table.pool, users, perUser)
					b.StartTimer()
					counts, err := m.LogoutUsers(ctx, users)
					b.StopTimer()
					if err != nil {
						b.Fatal(err)
					}
					if len(counts) != n || counts[users[0]] != perUser {
						b.Fatalf("ended sessions of %d users (%d of the first), want %d users × %d", len(counts), counts[users[0]], n, perUser)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*perUser), "ns/session")
			})
		}
	}
}
