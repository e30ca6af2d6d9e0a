// Package loadtest drives an application that uses singlesession on
// PostgreSQL with many concurrent browsers, then checks that the library's
// invariants hold. It serves the application in-process on a loopback
// httptest server, works in a PostgreSQL schema of its own (dropped at the
// end), and stops by itself after Config.Duration or Config.MaxRequests.
//
// The command cmd/singlesession-load runs it; the package's tests run a short
// load, a load while PostgreSQL connections are killed, and a load across a
// restart of a private PostgreSQL server.
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
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-singlesession/singlesession"
)

// Config describes a load. A zero Config, but for DSN, uses the defaults.
type Config struct {
	// DSN is the PostgreSQL connection string; required. The run creates a
	// schema of its own there and drops it at the end, so the role needs
	// CREATE on the database.
	DSN string

	// Clients is the number of concurrent browsers, each with its own cookie
	// jar. 0 means 64.
	Clients int

	// Users is the number of distinct users the browsers sign in as, chosen
	// at random for each login. 0 means 50.
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

	// MaxConns is the size of the application's connection pool. 0 means 16.
	MaxConns int32

	// Policy is the application's policy; nil means [singlesession.Always].
	// The one-session-per-user invariant is checked only under Always.
	Policy singlesession.Policy

	// ExpectStoreErrors, when true, accepts store errors (replies of
	// ErrorFunc, 500 with the header X-Loadtest-Error: store) as the
	// expected outcome of injected faults. When false, the default, every
	// 5xx is a violation.
	ExpectStoreErrors bool

	// RecoveryTimeout bounds how long the checks after the load wait for
	// the database to answer again. 0 means 30s.
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
	if c.DSN == "" {
		return errors.New("loadtest: no DSN")
	}
	if c.Clients == 0 {
		c.Clients = 64
	}
	if c.Users == 0 {
		c.Users = 50
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
	case c.Clients < 1, c.Users < 1, c.Duration < 0, c.MaxRequests < 0, c.RequestTimeout < 0, c.MaxConns < 1, c.RecoveryTimeout < 0:
		return fmt.Errorf("loadtest: invalid config: %d clients, %d users, duration %v, max requests %d, request timeout %v, max conns %d, recovery timeout %v",
			c.Clients, c.Users, c.Duration, c.MaxRequests, c.RequestTimeout, c.MaxConns, c.RecoveryTimeout)
	}
	return nil
}

// always reports whether the run's policy is singlesession.Always.
func (c *Config) always() bool {
	return c.Policy == nil || reflect.ValueOf(c.Policy).Pointer() == reflect.ValueOf(singlesession.Always).Pointer()
}

// The operations a browser performs, at random with these weights.
const (
	OpLogin  = "login"  // POST /login as a random user
	OpRead   = "read"   // GET /whoami: a request that does not change the session
	OpWrite  = "write"  // POST /put: a request that writes the session
	OpLogout = "logout" // POST /logout
)

var opWeights = []struct {
	op     string
	weight int
}{{OpLogin, 15}, {OpRead, 50}, {OpWrite, 25}, {OpLogout, 10}}

// Report is the outcome of a run: what was done, how fast, and whether the
// invariants held.
type Report struct {
	Clients int           // concurrent browsers
	Users   int           // distinct users they signed in as
	Always  bool          // the policy was singlesession.Always
	Elapsed time.Duration // from the first request to the last reply

	Requests   int            // requests sent, replied or not
	Ops        map[string]int // requests per operation
	Succeeded  map[string]int // 2xx replies per operation
	Throughput float64        // replies per second

	P50, P99, Max time.Duration // latency of the replies, as the browsers saw it

	StoreErrors     int // replies of ErrorFunc (500, X-Loadtest-Error: store)
	UnexpectedReply int // replies neither 2xx nor a store error
	NoReply         int // requests that got no reply (transport error or client timeout)
	Panics          int // handler panics caught by the server

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
	fmt.Fprintf(&b, "singlesession load test: %d clients, %d users, policy %s\n", r.Clients, r.Users, policy)
	var ops []string
	for _, w := range opWeights {
		ops = append(ops, fmt.Sprintf("%s %d/%d", w.op, r.Succeeded[w.op], r.Ops[w.op]))
	}
	fmt.Fprintf(&b, "requests:   %d in %v = %.0f/s (succeeded/sent: %s)\n", r.Requests, r.Elapsed.Round(time.Millisecond), r.Throughput, strings.Join(ops, ", "))
	fmt.Fprintf(&b, "latency:    p50 %v, p99 %v, max %v\n", r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
	fmt.Fprintf(&b, "failures:   %d store errors (ErrorFunc), %d unexpected replies, %d without reply, %d panics\n",
		r.StoreErrors, r.UnexpectedReply, r.NoReply, r.Panics)
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
// error only when the run could not be set up (no database, no schema); a
// violated invariant is in the Report ([Report.OK] is false). When ctx ends
// early the load stops, and the checks still run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
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
	if err := singlesession.Migrate(ctx, pool); err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}

	app, err := newApp(cfg, pool)
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
	report := &Report{Clients: cfg.Clients, Users: cfg.Users, Always: cfg.always(), Ops: map[string]int{}, Succeeded: map[string]int{}}

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
		report.UnexpectedReply += c.unexpected
		report.NoReply += c.noReply
	}
	report.Requests = int(sent.Load())
	report.Panics = int(app.panics.Load())
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
// four routes.
type app struct {
	cfg      *Config
	sessions *scs.SessionManager
	m        *singlesession.Manager
	panics   atomic.Int64
	// mismatches counts requests whose session data named another user
	// than the one the library linked the session to.
	mismatches atomic.Int64
}

// Headers by which the browsers tell the kinds of failure apart.
const (
	headerError = "X-Loadtest-Error"
	errStore    = "store"
	errPanic    = "panic"
)

func newApp(cfg Config, pool *pgxpool.Pool) (*app, error) {
	a := &app{cfg: &cfg, sessions: scs.New()}
	a.sessions.Lifetime = time.Hour
	var store singlesession.Store = singlesession.NewPostgresStore(pool)
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
	a.cfg.Logger.ErrorContext(r.Context(), "loadtest: store error", "path", r.URL.Path, "err", err)
	w.Header().Set(headerError, errStore)
	http.Error(w, err.Error(), http.StatusInternalServerError)
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
	inner := a.m.Middleware(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), a.cfg.RequestTimeout)
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				a.panics.Add(1)
				a.cfg.Logger.Error("loadtest: panic", "path", r.URL.Path, "panic", p)
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
	http *http.Client
	rnd  *rand.Rand

	ops         map[string]int // requests sent, per operation
	succeeded   map[string]int // 2xx replies, per operation
	latencies   []time.Duration
	storeErrors int
	unexpected  int
	noReply     int
}

func newClient(base string, transport http.RoundTripper, timeout time.Duration) *client {
	jar, _ := cookiejar.New(nil)
	return &client{
		base: base,
		// A reply must come within the server's deadline; the margin lets
		// the check of Max, not this timeout, report a hang.
		http: &http.Client{Jar: jar, Transport: transport, Timeout: timeout + 10*time.Second},
		rnd:  rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		ops:  map[string]int{},

		succeeded: map[string]int{},
	}
}

func (c *client) run(ctx context.Context, cfg *Config, sent *atomic.Int64) {
	total := 0
	for _, w := range opWeights {
		total += w.weight
	}
	for ctx.Err() == nil {
		if n := sent.Add(1); cfg.MaxRequests > 0 && n > int64(cfg.MaxRequests) {
			sent.Add(-1)
			return
		}
		pick := c.rnd.IntN(total)
		op := opWeights[len(opWeights)-1].op
		for _, w := range opWeights {
			if pick < w.weight {
				op = w.op
				break
			}
			pick -= w.weight
		}
		c.ops[op]++
		var status int
		var errHeader string
		begin := time.Now()
		var err error
		switch op {
		case OpLogin:
			status, errHeader, _, err = c.do("POST", "/login", url.Values{"user": {fmt.Sprintf("user-%d", c.rnd.IntN(cfg.Users))}})
		case OpRead:
			status, errHeader, _, err = c.do("GET", "/whoami", nil)
		case OpWrite:
			status, errHeader, _, err = c.do("POST", "/put", url.Values{})
		case OpLogout:
			status, errHeader, _, err = c.do("POST", "/logout", url.Values{})
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
		default:
			c.unexpected++
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
