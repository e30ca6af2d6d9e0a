// Package loadtest drives an application that uses singlesession on
// PostgreSQL with many concurrent browsers, then checks that the library's
// invariants hold. It serves the application in-process on a loopback
// httptest server, works in a PostgreSQL schema of its own (dropped at the
// end), and stops by itself after Config.Duration or Config.MaxRequests.
//
// With Config.Collide it runs the collision scenario instead: a few users
// signed in on many browsers, whose sessions concurrent logouts, logins and
// operators' sign-outs end at the same moments. [Compare] measures the
// library's throughput against plain scs on the same server: on PostgreSQL
// (singlesession's pgxstore against scs's pgxstore), or on Redis or Redis
// Cluster (redisstore against scs's goredisstore) under key prefixes of its
// own, deleted at the end.
//
// The command cmd/singlesession-load runs them; the package's tests run a
// short load, the collision scenario, short comparisons (on PostgreSQL, Redis
// and Redis Cluster), a load while PostgreSQL connections are killed, and a
// load across a restart of a private PostgreSQL server.
//
// It is a module of its own, beside the library's, because the baselines need
// scs's pgxstore and goredisstore, and go-redis with redisstore, which the
// library's go.mod does not require.
package loadtest

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// Config describes a load. A zero Config, but for DSN (or, for [Compare],
// RedisURL or RedisClusterAddrs), uses the defaults.
type Config struct {
	// DSN is the PostgreSQL connection string; required, except by a
	// [Compare] on Redis. The run creates a schema of its own there and
	// drops it at the end, so the role needs CREATE on the database.
	DSN string

	// RedisURL, when set, makes [Compare] run on the single Redis at that
	// URL (redis://[[user]:password@]host[:port][/db], as go-redis's
	// ParseURL reads it) instead of PostgreSQL: singlesession over
	// redisstore against plain scs over scs's goredisstore, each under a key
	// prefix of its own, whose keys Compare deletes at the end. DSN must
	// then be empty. [Run] returns an error when it is set: the load test
	// and its checks run on PostgreSQL only.
	RedisURL string

	// RedisClusterAddrs, when set, makes [Compare] run on the Redis Cluster
	// at those addresses (host:port; one node is enough to find the others),
	// as RedisURL does on a single Redis, except that plain scs's side runs
	// goredisstore's commands (GET, SET with an expiry, DEL) on a cluster
	// client, since goredisstore takes only a single Redis's client. DSN
	// and RedisURL must then be empty. [Run] returns an error when it is
	// set.
	RedisClusterAddrs []string

	// Clients is the number of concurrent browsers, each with its own cookie
	// jar. 0 means 64.
	Clients int

	// Users is the number of distinct users the browsers sign in as, chosen
	// at random for each login. 0 means 50, or 3 with Collide.
	Users int

	// Duration is how long the browsers send requests. 0 means 20s.
	Duration time.Duration

	// MaxRequests, when positive, also stops the load after that many
	// requests in all.
	MaxRequests int

	// RequestTimeout is the deadline the server puts on every request's
	// context. 0 means 5s. A reply later than RequestTimeout plus one second
	// is reported as a violation: a request hung beyond its context.
	RequestTimeout time.Duration

	// MaxConns is the size of the application's connection pool; in
	// [Compare], of each side's (go-redis's PoolSize on Redis, per node on
	// Cluster). 0 means 16.
	MaxConns int32

	// Policy is the application's policy; nil means [singlesession.Always],
	// or [singlesession.Never] with Collide. The one-session-per-user
	// invariant is checked only under Always.
	Policy singlesession.Policy

	// Collide, when true, runs the collision scenario: few users (Users 0
	// means 3), each signed in on several browsers at once (a nil Policy
	// means Never), whose sessions are ended at the same moments by logouts
	// ([singlesession.Manager.LogoutHook]), by operators' sign-outs
	// ([singlesession.Manager.LogoutUser] for one user,
	// [singlesession.Manager.LogoutUsers] for several, in random order,
	// through the application's route POST /signout: operation [OpSignOut])
	// and by re-logins, while other browsers of the same users sign in, read
	// and write. Besides the usual invariants it checks that every sign-out
	// succeeded and that no session outlives an operator's sign-out of its
	// user that began after the session's login had been answered, neither
	// in the replies during the load nor in the tables after it. The default,
	// false, runs the mixed load of many users.
	Collide bool

	// Rounds is the number of paired rounds of [Compare], each running both
	// sides for Duration/Rounds; 0 means 5. [Run] ignores it.
	Rounds int

	// ExpectStoreErrors, when true, accepts store errors (replies of
	// ErrorFunc, 500 with the header X-Loadtest-Error: store) as the
	// expected outcome of injected faults. When false, the default, every
	// 5xx is a violation.
	ExpectStoreErrors bool

	// RecoveryTimeout bounds how long the checks after the load wait for
	// the database to answer again, and how long [Compare] spends dropping
	// its schemas or deleting its keys. 0 means 30s.
	RecoveryTimeout time.Duration

	// WrapStore, when set, wraps the application's store; tests use it to
	// break the store on purpose and see the invariants fail.
	WrapStore func(singlesession.Store) singlesession.Store

	// Fault, when set, runs on a goroutine of its own while the browsers
	// send requests, to inject faults (kill connections, restart the
	// server). Its ctx ends with the load; the checks wait for it to return.
	Fault func(ctx context.Context)

	// Logger receives the errors the application logs. nil discards them.
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	switch {
	case c.DSN == "" && !c.onRedis():
		return errors.New("loadtest: no DSN")
	case c.DSN != "" && c.onRedis():
		return errors.New("loadtest: DSN and RedisURL or RedisClusterAddrs exclude each other")
	case c.RedisURL != "" && len(c.RedisClusterAddrs) > 0:
		return errors.New("loadtest: RedisURL and RedisClusterAddrs exclude each other")
	}
	if c.Clients == 0 {
		c.Clients = 64
	}
	if c.Users == 0 {
		c.Users = 50
		if c.Collide {
			c.Users = 3
		}
	}
	if c.Collide && c.Policy == nil {
		c.Policy = singlesession.Never
	}
	if c.Rounds == 0 {
		c.Rounds = 5
	}
	if c.Duration == 0 {
		c.Duration = 20 * time.Second
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.MaxConns == 0 {
		c.MaxConns = 16
	}
	if c.RecoveryTimeout == 0 {
		c.RecoveryTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.Clients < 1, c.Users < 1, c.Duration < 0, c.MaxRequests < 0, c.RequestTimeout < 0, c.MaxConns < 1, c.RecoveryTimeout < 0, c.Rounds < 1:
		return fmt.Errorf("loadtest: invalid config: %d clients, %d users, duration %v, max requests %d, request timeout %v, max conns %d, recovery timeout %v, %d rounds",
			c.Clients, c.Users, c.Duration, c.MaxRequests, c.RequestTimeout, c.MaxConns, c.RecoveryTimeout, c.Rounds)
	}
	return nil
}

// onRedis reports whether the comparison runs on Redis rather than
// PostgreSQL.
func (c *Config) onRedis() bool {
	return c.RedisURL != "" || len(c.RedisClusterAddrs) > 0
}

// always reports whether the run's policy is singlesession.Always.
func (c *Config) always() bool {
	return c.Policy == nil || reflect.ValueOf(c.Policy).Pointer() == reflect.ValueOf(singlesession.Always).Pointer()
}

// The operations a browser performs, at random with the weights of its
// scenario.
const (
	OpLogin  = "login"  // POST /login as a random user
	OpRead   = "read"   // GET /whoami: a request that does not change the session
	OpWrite  = "write"  // POST /put: a request that writes the session
	OpLogout = "logout" // POST /logout
	// OpSignOut is an operator's sign-out, POST /signout, of one to all of
	// the users at random (Config.Collide only).
	OpSignOut = "signout"
)

// opWeight is an operation and its share of a scenario's requests.
type opWeight struct {
	op     string
	weight int
}

var (
	// mixedOps is the load of many users: mostly reads and writes.
	mixedOps = []opWeight{{OpLogin, 15}, {OpRead, 50}, {OpWrite, 25}, {OpLogout, 10}}
	// collideOps is the collision scenario: logins enough to keep each user
	// signed in on several browsers, and nearly as many logouts, each of
	// which ends every session of its user. Operators' sign-outs are rarer
	// because each ends every session of up to all the users: more would
	// leave the users no sessions to collide on. (Before per-user locks on
	// every ending path, this mix made PostgreSQL report deadlocks in every
	// 3-second run of 32 browsers.)
	collideOps = []opWeight{{OpLogin, 40}, {OpRead, 15}, {OpWrite, 10}, {OpLogout, 30}, {OpSignOut, 5}}
)

// opsOf returns the operations of a scenario.
func opsOf(collide bool) []opWeight {
	if collide {
		return collideOps
	}
	return mixedOps
}

// Report is the outcome of a run: what was done, how fast, and whether the
// invariants held.
type Report struct {
	Clients int           // concurrent browsers
	Users   int           // distinct users they signed in as
	Always  bool          // the policy was singlesession.Always
	Collide bool          // the run was the collision scenario (Config.Collide)
	Elapsed time.Duration // from the first request to the last reply

	Requests   int            // requests sent, replied or not
	Ops        map[string]int // requests per operation
	Succeeded  map[string]int // 2xx replies per operation
	Throughput float64        // replies per second

	P50, P99, Max time.Duration // latency of the replies, as the browsers saw it

	StoreErrors     int // replies of ErrorFunc (500, X-Loadtest-Error: store)
	SignOutErrors   int // operators' sign-outs that returned an error (500, X-Loadtest-Error: signout)
	UnexpectedReply int // replies neither 2xx nor a store or sign-out error
	NoReply         int // requests that got no reply (transport error or client timeout)
	Panics          int // handler panics caught by the server

	// Deadlocks is how many of the StoreErrors and SignOutErrors were
	// PostgreSQL's "deadlock detected" (SQLSTATE 40P01).
	Deadlocks int

	// Recovery is how long after the load the application took to serve a
	// whole login, write, read and logout again (0 when it did at once).
	Recovery time.Duration

	Invariants []Invariant // every check, in order
}

// An Invariant is one check of a run and its outcome.
type Invariant struct {
	Name   string // what must hold, for example "no link row without its session"
	OK     bool   // whether it held
	Detail string // what was found, for the report
}

// OK reports whether every invariant held.
func (r *Report) OK() bool {
	for _, inv := range r.Invariants {
		if !inv.OK {
			return false
		}
	}
	return len(r.Invariants) > 0
}

// Violations returns the names and details of the invariants that failed.
func (r *Report) Violations() []string {
	var list []string
	for _, inv := range r.Invariants {
		if !inv.OK {
			list = append(list, inv.Name+": "+inv.Detail)
		}
	}
	return list
}

// String formats the report for people.
func (r *Report) String() string {
	var b strings.Builder
	policy := "Always"
	if !r.Always {
		policy = "not Always"
	}
	scenario := "mixed load"
	if r.Collide {
		scenario = "collision scenario"
	}
	fmt.Fprintf(&b, "singlesession load test, %s: %d clients, %d users, policy %s\n", scenario, r.Clients, r.Users, policy)
	var ops []string
	for _, w := range opsOf(r.Collide) {
		ops = append(ops, fmt.Sprintf("%s %d/%d", w.op, r.Succeeded[w.op], r.Ops[w.op]))
	}
	fmt.Fprintf(&b, "requests:   %d in %v = %.0f/s (succeeded/sent: %s)\n", r.Requests, r.Elapsed.Round(time.Millisecond), r.Throughput, strings.Join(ops, ", "))
	fmt.Fprintf(&b, "latency:    p50 %v, p99 %v, max %v\n", r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
	fmt.Fprintf(&b, "failures:   %d store errors (ErrorFunc), %d sign-out errors, %d unexpected replies, %d without reply, %d panics; %d deadlocks (40P01) among the errors\n",
		r.StoreErrors, r.SignOutErrors, r.UnexpectedReply, r.NoReply, r.Panics, r.Deadlocks)
	fmt.Fprintf(&b, "recovery:   %v\n", r.Recovery.Round(time.Millisecond))
	b.WriteString("invariants:\n")
	for _, inv := range r.Invariants {
		mark := "ok  "
		if !inv.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s %s: %s\n", mark, inv.Name, inv.Detail)
	}
	return b.String()
}

// Run runs the load described by cfg and checks the invariants. It returns an
// error only when the run could not be set up (no database, no schema, a
// RedisURL or RedisClusterAddrs, which only [Compare] takes); a violated
// invariant is in the Report ([Report.OK] is false). When ctx ends
// early the load stops, and the checks still run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.onRedis() {
		return nil, errors.New("loadtest: RedisURL and RedisClusterAddrs apply only to Compare: the load test runs on PostgreSQL")
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	poolCfg, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	schema, err := createSchema(ctx, poolCfg.ConnConfig)
	if err != nil {
		return nil, err
	}
	defer dropSchema(poolCfg.ConnConfig, schema, cfg.RecoveryTimeout)
	poolCfg.ConnConfig.RuntimeParams["search_path"] = schema
	poolCfg.MaxConns = cfg.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	defer pool.Close()
	if err := pgxstore.Migrate(ctx, pool); err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}

	app, err := newApp(cfg, pgxstore.New(pool))
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(app.handler())
	// net/http logs, for example, scs's WriteHeader after an ErrorFunc reply.
	srv.Config.ErrorLog = slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)
	srv.Start()
	defer srv.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: cfg.Clients + 1}
	defer transport.CloseIdleConnections()

	clients := make([]*client, cfg.Clients)
	for i := range clients {
		clients[i] = newClient(srv.URL, transport, cfg.RequestTimeout)
	}
	report := &Report{Clients: cfg.Clients, Users: cfg.Users, Always: cfg.always(), Collide: cfg.Collide, Ops: map[string]int{}, Succeeded: map[string]int{}}

	loadCtx, stop := context.WithTimeout(ctx, cfg.Duration)
	defer stop()
	var sent atomic.Int64
	begin := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.run(loadCtx, &cfg, &sent) })
	}
	faultDone := make(chan struct{})
	go func() {
		defer close(faultDone)
		if cfg.Fault != nil {
			cfg.Fault(loadCtx)
		}
	}()
	var sampled *sampler
	sampleDone := make(chan struct{})
	if report.Always {
		sampled = &sampler{}
		go func() {
			defer close(sampleDone)
			sampled.run(loadCtx, pool)
		}()
	} else {
		close(sampleDone)
	}
	wg.Wait()
	report.Elapsed = time.Since(begin)
	stop()
	<-faultDone
	<-sampleDone

	var latencies []time.Duration
	for _, c := range clients {
		latencies = append(latencies, c.latencies...)
		for op, n := range c.ops {
			report.Ops[op] += n
		}
		for op, n := range c.succeeded {
			report.Succeeded[op] += n
		}
		report.StoreErrors += c.storeErrors
		report.SignOutErrors += c.signOutErrors
		report.UnexpectedReply += c.unexpected
		report.NoReply += c.noReply
	}
	report.Requests = int(sent.Load())
	report.Panics = int(app.panics.Load())
	report.Deadlocks = int(app.deadlocks.Load())
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		report.P50 = latencies[n/2]
		report.P99 = latencies[min(n-1, n*99/100)]
		report.Max = latencies[n-1]
		report.Throughput = float64(n) / report.Elapsed.Seconds()
	}

	// The checks run whatever happened to ctx, within their own deadline.
	checkCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.RecoveryTimeout+30*time.Second)
	defer cancel()
	check(checkCtx, &cfg, app, pool, srv.URL, transport, clients, sampled, report)
	return report, nil
}

func createSchema(ctx context.Context, connCfg *pgx.ConnConfig) (string, error) {
	conn, err := pgx.ConnectConfig(ctx, connCfg)
	if err != nil {
		return "", fmt.Errorf("loadtest: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	b := make([]byte, 6)
	_, _ = crand.Read(b)
	schema := "ss_load_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", fmt.Errorf("loadtest: create schema: %w", err)
	}
	return schema, nil
}

// dropSchema drops the run's schema, retrying while the database recovers.
func dropSchema(connCfg *pgx.ConnConfig, schema string, patience time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for {
		conn, err := pgx.ConnectConfig(ctx, connCfg)
		if err == nil {
			_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			conn.Close(context.Background())
			if err == nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// app is the application under load: scs, a Manager on a PostgresStore, and
// five routes.
type app struct {
	cfg      *Config
	sessions *scs.SessionManager
	m        *singlesession.Manager
	panics   atomic.Int64
	// mismatches counts requests whose session data named another user
	// than the one the library linked the session to.
	mismatches atomic.Int64
	// deadlocks counts the errors that were PostgreSQL deadlocks.
	deadlocks atomic.Int64

	mu       sync.Mutex
	signOuts []signOut // the operators' sign-outs that succeeded
}

// signOut is an operator's sign-out that succeeded: from when the handler
// called the Manager to when it returned.
type signOut struct {
	users      []string
	begin, end time.Time
}

// Headers by which the browsers tell the kinds of failure apart.
const (
	headerError = "X-Loadtest-Error"
	errStore    = "store"
	errSignOut  = "signout"
	errPanic    = "panic"
)

// newApp returns the application over store (wrapped by cfg.WrapStore).
func newApp(cfg Config, store singlesession.Store) (*app, error) {
	a := &app{cfg: &cfg, sessions: scs.New()}
	a.sessions.Lifetime = time.Hour
	if cfg.WrapStore != nil {
		store = cfg.WrapStore(store)
	}
	m, err := singlesession.New(a.sessions, store, singlesession.Config{
		Policy:    cfg.Policy,
		ErrorFunc: a.storeError,
		Logger:    cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	a.m = m
	return a, nil
}

// storeError is the Manager's ErrorFunc, also used for LogoutHook's errors.
func (a *app) storeError(w http.ResponseWriter, r *http.Request, err error) {
	a.countDeadlock(err)
	a.cfg.Logger.ErrorContext(r.Context(), "loadtest: store error", "path", r.URL.Path, "err", err)
	w.Header().Set(headerError, errStore)
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

// deadlockDetected is PostgreSQL's SQLSTATE for "deadlock detected".
const deadlockDetected = "40P01"

// countDeadlock counts err if PostgreSQL detected a deadlock: by its code
// when the error chain keeps the *pgconn.PgError, by its text otherwise.
func (a *app) countDeadlock(err error) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == deadlockDetected || strings.Contains(err.Error(), "(SQLSTATE "+deadlockDetected+")") {
		a.deadlocks.Add(1)
	}
}

func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.FormValue("user")
		if err := a.m.LoginHook(r.Context(), user); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// What an application keeps about its user; the checks compare it
		// with the library's link.
		a.sessions.Put(r.Context(), "user", user)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.LogoutHook(r.Context()); err != nil {
			a.storeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, a.whoami(r))
	})
	mux.HandleFunc("POST /put", func(w http.ResponseWriter, r *http.Request) {
		user := a.whoami(r)
		a.sessions.Put(r.Context(), "n", a.sessions.GetInt(r.Context(), "n")+1)
		io.WriteString(w, user)
	})
	// An operator's action, as an admin page would run it (the permission
	// checks are not the point here): LogoutUser for one user, LogoutUsers
	// for several. The operator's own browser may be one of theirs.
	mux.HandleFunc("POST /signout", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		users := r.PostForm["user"]
		begin := time.Now()
		var (
			ended int
			err   error
		)
		if len(users) == 1 {
			ended, err = a.m.LogoutUser(r.Context(), users[0])
		} else {
			var counts map[string]int
			counts, err = a.m.LogoutUsers(r.Context(), users)
			ended = sum(counts)
		}
		if err != nil {
			a.countDeadlock(err)
			a.cfg.Logger.ErrorContext(r.Context(), "loadtest: sign-out error", "users", users, "err", err)
			w.Header().Set(headerError, errSignOut)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		end := time.Now()
		a.mu.Lock()
		a.signOuts = append(a.signOuts, signOut{users: users, begin: begin, end: end})
		a.mu.Unlock()
		fmt.Fprint(w, ended)
	})
	inner := a.m.Middleware(mux)
	return guard(a.cfg, &a.panics, inner)
}

// guard puts the request deadline on every request's context and turns a
// handler's panic into a 500 reply that the browsers can tell apart.
func guard(cfg *Config, panics *atomic.Int64, inner http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), cfg.RequestTimeout)
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				panics.Add(1)
				cfg.Logger.Error("loadtest: panic", "path", r.URL.Path, "panic", p)
				w.Header().Set(headerError, errPanic)
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		inner.ServeHTTP(w, r.WithContext(ctx))
	})
}

// whoami returns the signed-in user and counts a mismatch between the
// library's link and what the session's data says.
func (a *app) whoami(r *http.Request) string {
	user := a.m.UserID(r.Context())
	if claim := a.sessions.GetString(r.Context(), "user"); claim != user {
		a.mismatches.Add(1)
		a.cfg.Logger.Error("loadtest: session data and link disagree", "data", claim, "link", user)
	}
	return user
}

// client is one browser.
type client struct {
	base string
	url  *url.URL // base, parsed: where the cookie jar's cookies apply
	http *http.Client
	rnd  *rand.Rand

	ops           map[string]int // requests sent, per operation
	succeeded     map[string]int // 2xx replies, per operation
	latencies     []time.Duration
	storeErrors   int
	signOutErrors int
	unexpected    int
	noReply       int

	// What the collision scenario's checks need (Config.Collide only).
	current  *login         // the browser's last answered login; nil when unknown or signed out
	logins   []login        // every answered login
	signedIn []signedInRead // replies that named the signed-in user
}

// sessionCookie is the name of scs's cookie, which the application keeps.
const sessionCookie = "session"

// login is a login that the application answered with success: once done,
// its session is committed.
type login struct {
	token string // the session's token (the cookie; the store's key, as HashTokenInStore is off)
	user  string
	done  time.Time // when the browser had the reply
}

// signedInRead is a reply that said the browser was still signed in as
// login.user.
type signedInRead struct {
	login *login
	sent  time.Time // when the browser sent the request
}

func newClient(base string, transport http.RoundTripper, timeout time.Duration) *client {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(base)
	return &client{
		base: base,
		url:  u,
		// A reply must come within the server's deadline; the margin lets
		// the check of Max, not this timeout, report a hang.
		http: &http.Client{Jar: jar, Transport: transport, Timeout: timeout + 10*time.Second},
		rnd:  rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		ops:  map[string]int{},

		succeeded: map[string]int{},
	}
}

// pick returns one of ops at random, by weight.
func (c *client) pick(ops []opWeight) string {
	total := 0
	for _, w := range ops {
		total += w.weight
	}
	n := c.rnd.IntN(total)
	for _, w := range ops {
		if n < w.weight {
			return w.op
		}
		n -= w.weight
	}
	return ops[len(ops)-1].op
}

func (c *client) run(ctx context.Context, cfg *Config, sent *atomic.Int64) {
	ops := opsOf(cfg.Collide)
	for ctx.Err() == nil {
		if n := sent.Add(1); cfg.MaxRequests > 0 && n > int64(cfg.MaxRequests) {
			sent.Add(-1)
			return
		}
		op := c.pick(ops)
		c.ops[op]++
		var (
			status         int
			errHeader, msg string
			user           string
			err            error
		)
		begin := time.Now()
		switch op {
		case OpLogin:
			user = fmt.Sprintf("user-%d", c.rnd.IntN(cfg.Users))
			status, errHeader, msg, err = c.do("POST", "/login", url.Values{"user": {user}})
		case OpRead:
			status, errHeader, msg, err = c.do("GET", "/whoami", nil)
		case OpWrite:
			status, errHeader, msg, err = c.do("POST", "/put", url.Values{})
		case OpLogout:
			status, errHeader, msg, err = c.do("POST", "/logout", url.Values{})
		case OpSignOut:
			var users []string
			for _, i := range c.rnd.Perm(cfg.Users)[:1+c.rnd.IntN(cfg.Users)] {
				users = append(users, fmt.Sprintf("user-%d", i))
			}
			status, errHeader, msg, err = c.do("POST", "/signout", url.Values{"user": users})
		}
		if cfg.Collide {
			c.trace(op, begin, user, status, msg, err)
		}
		if err != nil {
			c.noReply++
			continue
		}
		c.latencies = append(c.latencies, time.Since(begin))
		switch {
		case status/100 == 2:
			c.succeeded[op]++
		case status == http.StatusInternalServerError && errHeader == errStore:
			c.storeErrors++
		case status == http.StatusInternalServerError && errHeader == errSignOut:
			c.signOutErrors++
		default:
			c.unexpected++
		}
	}
}

// trace records what the collision scenario's checks need: which session
// each answered login made, and which replies said the browser was still
// signed in.
func (c *client) trace(op string, sent time.Time, user string, status int, body string, err error) {
	switch {
	case err != nil:
		c.current = nil // the request may or may not have taken effect
	case op == OpLogin && status == http.StatusNoContent:
		l := login{user: user, done: time.Now()}
		for _, ck := range c.http.Jar.Cookies(c.url) {
			if ck.Name == sessionCookie {
				l.token = ck.Value
			}
		}
		c.logins = append(c.logins, l)
		c.current = &l
	case op == OpLogin:
		// A failed login leaves the browser's previous session as it was.
	case op == OpLogout:
		c.current = nil
	case (op == OpRead || op == OpWrite) && status == http.StatusOK:
		if c.current != nil && body == c.current.user {
			c.signedIn = append(c.signedIn, signedInRead{login: c.current, sent: sent})
		}
	}
}

// do sends one request and reads the reply.
func (c *client) do(method, path string, form url.Values) (status int, errHeader, body string, err error) {
	var r io.Reader
	if form != nil {
		r = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		return 0, "", "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, "", "", err
	}
	return res.StatusCode, res.Header.Get(headerError), string(b), nil
}
