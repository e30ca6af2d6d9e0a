package singlesession_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
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
	cfg, err := pgxpool.ParseConfig(pgtest.DatabaseURL())
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.Tracer = tracer
	cfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		pgtest.Unreachable(t, err)
	}
	return pool
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
	name  string
	store singlesession.Store
	pool  *pgxpool.Pool // nil for the memory store
}

// forEachStore runs f once on a MemoryStore and once on a PostgresStore in a
// schema of its own.
func forEachStore(t *testing.T, f func(t *testing.T, e *env)) {
	t.Helper()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		f(t, &env{name: "memory", store: singlesession.NewMemoryStore()})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		pool := migratedPool(t)
		f(t, &env{name: "postgres", store: singlesession.NewPostgresStore(pool), pool: pool})
	})
}

// sessionsOf returns how many unexpired sessions are linked to userID.
func (e *env) sessionsOf(t testing.TB, userID string) int {
	t.Helper()
	list, err := e.store.Sessions(context.Background(), userID)
	require.NoError(t, err)
	return len(list)
}

// app is an HTTP application over a Manager, with routes that drive each hook.
type app struct {
	t        testing.TB
	sessions *scs.SessionManager
	store    singlesession.Store
	m        *singlesession.Manager
	srv      *httptest.Server
	hashed   bool

	// slowPut: the handler signals entered, then waits for release.
	entered chan struct{}
	release chan struct{}

	errors atomic.Int32 // calls of ErrorFunc
	logs   *syncBuffer  // the Manager's logs, Debug and up

}

// appSetup is what the options of newApp change.
type appSetup struct {
	sessions *scs.SessionManager
	cfg      singlesession.Config
	routes   map[string]func(a *app) http.HandlerFunc
}

type appOption func(*appSetup)

func withPolicy(p singlesession.Policy) appOption {
	return func(s *appSetup) { s.cfg.Policy = p }
}

func keepOthersOnLogout() appOption {
	return func(s *appSetup) { s.cfg.KeepOtherSessionsOnLogout = true }
}

func withSessions(f func(*scs.SessionManager)) appOption {
	return func(s *appSetup) { f(s.sessions) }
}

// withRoute adds a route whose handler is made once the app exists.
func withRoute(pattern string, h func(a *app) http.HandlerFunc) appOption {
	return func(s *appSetup) { s.routes[pattern] = h }
}

// newApp serves a Manager over store on an httptest server.
func newApp(t testing.TB, store singlesession.Store, opts ...appOption) *app {
	t.Helper()
	a := &app{t: t, store: store, entered: make(chan struct{}, 64), release: make(chan struct{}), logs: &syncBuffer{}}
	setup := &appSetup{sessions: scs.New(), routes: map[string]func(*app) http.HandlerFunc{}}
	setup.cfg = singlesession.Config{
		Logger: slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ErrorFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			a.errors.Add(1)
			t.Logf("ErrorFunc: %v", err)
			http.Error(w, "store error: "+err.Error(), http.StatusInternalServerError)
		},
	}
	for _, o := range opts {
		o(setup)
	}
	a.sessions = setup.sessions
	a.hashed = a.sessions.HashTokenInStore
	m, err := singlesession.New(a.sessions, store, setup.cfg)
	require.NoError(t, err)
	a.m = m
	mux := a.routes()
	for pattern, h := range setup.routes {
		mux.HandleFunc(pattern, h(a))
	}
	a.srv = httptest.NewServer(m.Middleware(mux))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if d, err := time.ParseDuration(r.FormValue("timeout")); err == nil {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		if err := a.m.LoginHook(ctx, r.FormValue("user")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("X-User-After", a.m.UserID(r.Context()))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.LogoutHook(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("X-User-After", a.m.UserID(r.Context()))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, a.m.UserID(r.Context()))
	})
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, a.sessions.Token(r.Context()))
	})
	mux.HandleFunc("POST /put", func(w http.ResponseWriter, r *http.Request) {
		a.sessions.Put(r.Context(), r.FormValue("key"), r.FormValue("val"))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, a.sessions.GetString(r.Context(), r.FormValue("key")))
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		a.entered <- struct{}{}
		<-a.release
		io.WriteString(w, "done")
	})
	mux.HandleFunc("POST /slow-put", func(w http.ResponseWriter, r *http.Request) {
		a.entered <- struct{}{}
		<-a.release
		a.sessions.Put(r.Context(), r.FormValue("key"), r.FormValue("val"))
		io.WriteString(w, "done")
	})
	return mux
}

// storeToken is the key the store keeps a cookie value under.
func (a *app) storeToken(cookie string) string {
	if !a.hashed {
		return cookie
	}
	h := sha256.Sum256([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// browser is one browser: its own cookie jar.
type browser struct {
	t    testing.TB
	a    *app
	c    *http.Client
	name string
}

func (a *app) browser(name string) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(a.t, err)
	return &browser{t: a.t, a: a, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}, name: name}
}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.a.srv.URL+path, body)
	require.NoError(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return res, string(text)
}

func (b *browser) login(user string) *http.Response {
	b.t.Helper()
	res, _ := b.do("POST", "/login", url.Values{"user": {user}})
	return res
}

func (b *browser) mustLogin(user string) {
	b.t.Helper()
	res := b.login(user)
	require.Equal(b.t, http.StatusNoContent, res.StatusCode, "%s: login as %q", b.name, user)
}

func (b *browser) logout() *http.Response {
	b.t.Helper()
	res, _ := b.do("POST", "/logout", url.Values{})
	return res
}

func (b *browser) whoami() string {
	b.t.Helper()
	res, body := b.do("GET", "/whoami", nil)
	require.Equal(b.t, http.StatusOK, res.StatusCode, "%s: whoami: %s", b.name, body)
	return body
}

func (b *browser) put(key, val string) {
	b.t.Helper()
	res, body := b.do("POST", "/put", url.Values{"key": {key}, "val": {val}})
	require.Equal(b.t, http.StatusNoContent, res.StatusCode, "%s: put: %s", b.name, body)
}

func (b *browser) get(key string) string {
	b.t.Helper()
	_, body := b.do("GET", "/get?key="+url.QueryEscape(key), nil)
	return body
}

// cookie returns the browser's session cookie value ("" when none).
func (b *browser) cookie() string {
	u, _ := url.Parse(b.a.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == b.a.sessions.Cookie.Name {
			return c.Value
		}
	}
	return ""
}

// setCookie replaces the browser's session cookie, as a replayed or forged one.
func (b *browser) setCookie(value string) {
	u, _ := url.Parse(b.a.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: b.a.sessions.Cookie.Name, Value: value, Path: "/"}})
}

// exists reports whether the store still holds the browser's session.
func (b *browser) exists() bool {
	b.t.Helper()
	f, err := b.a.store.Find(context.Background(), b.a.storeToken(b.cookie()), time.Minute)
	found := f.Found
	require.NoError(b.t, err)
	return found
}

// queryCounter counts the queries and batches a pool sends.
type queryCounter struct {
	mu      sync.Mutex
	queries []string // one entry per round trip: a query, or "batch(n)"
}

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries = append(c.queries, strings.Join(strings.Fields(d.SQL), " "))
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *queryCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries = append(c.queries, fmt.Sprintf("batch(%d statements)", d.Batch.Len()))
	return ctx
}

func (c *queryCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *queryCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// take returns the round trips since the last take and forgets them.
func (c *queryCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queries
	c.queries = nil
	return q
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

// failingStore fails every call while fail is set.
type failingStore struct {
	singlesession.Store
	fail atomic.Bool
}

var errBroken = errors.New("broken store")

func (f *failingStore) Find(ctx context.Context, token string, staleAfter time.Duration) (singlesession.Found, error) {
	if f.fail.Load() {
		return singlesession.Found{}, errBroken
	}
	return f.Store.Find(ctx, token, staleAfter)
}

func (f *failingStore) Update(ctx context.Context, u singlesession.Update) (bool, error) {
	if f.fail.Load() {
		return false, errBroken
	}
	return f.Store.Update(ctx, u)
}

func (f *failingStore) Insert(ctx context.Context, token string, data []byte, expiry time.Time) error {
	if f.fail.Load() {
		return errBroken
	}
	return f.Store.Insert(ctx, token, data, expiry)
}

func (f *failingStore) Login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	if f.fail.Load() {
		return singlesession.LoginResult{}, errBroken
	}
	return f.Store.Login(ctx, l)
}

// newServer serves h on an httptest server closed when t ends.
func newServer(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
