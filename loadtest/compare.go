package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	scspgxstore "github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

// compareOps is the traffic of [Compare]: the mixed load's reads and writes,
// in the same proportion, without the logins and logouts that plain scs
// cannot do the same way.
var compareOps = []opWeight{{OpRead, 50}, {OpWrite, 25}}

// Comparison is the outcome of [Compare]: the throughput of singlesession and
// of plain scs under the same traffic, and their ratio.
type Comparison struct {
	Clients int           // concurrent browsers on each side, each signed in as a user of its own
	Rounds  int           // paired rounds
	Phase   time.Duration // how long each side ran in each round

	// Backend is where both sides kept their sessions: "PostgreSQL",
	// "Redis" or "Redis Cluster".
	Backend string

	SingleSession Side // Manager.Middleware over singlesession's pgxstore or redisstore
	Plain         Side // scs's LoadAndSave over scs's pgxstore or goredisstore

	// KeyPrefix is, on Redis, the prefix of both sides' keys
	// ("sslt:<random>:"; singlesession's under KeyPrefix+"ss:", plain scs's
	// under KeyPrefix+"scs:"), which Compare deleted at the end; "" on
	// PostgreSQL, whose schemas Compare dropped.
	KeyPrefix string

	// Ratios holds, for each round, singlesession's throughput divided by
	// plain scs's in that round.
	Ratios []float64

	// Ratio is the median of Ratios: singlesession's throughput as a
	// fraction of plain scs's (1 means as fast; 0.95 means 5% slower).
	Ratio float64
}

// Side is what one side of a [Comparison] did over all its rounds; the
// warm-up before the first round is not counted.
type Side struct {
	Name       string        // the side and its store, for example "singlesession (redisstore)" or "plain scs (goredisstore)"
	Replies    int           // correct replies: 200 with the browser's user
	Elapsed    time.Duration // the side's time over all rounds
	Throughput float64       // Replies per second of Elapsed
	P50, P99   time.Duration // latency of the replies, as the browsers saw it

	// Failures counts requests without a reply, replies other than 200,
	// and replies that named another user than the browser's.
	Failures int

	// KeysDeleted is, on Redis, how many keys under the side's prefix
	// Compare deleted at the end: what the side's sessions left in Redis.
	// It is 0 on PostgreSQL.
	KeysDeleted int
}

// OK reports whether both sides served every request correctly and the
// ratio could be computed. It says nothing about the ratio's value.
func (c *Comparison) OK() bool {
	return c.SingleSession.Failures == 0 && c.Plain.Failures == 0 &&
		c.SingleSession.Replies > 0 && c.Plain.Replies > 0 && c.Ratio > 0
}

// String formats the comparison for people.
func (c *Comparison) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "singlesession vs plain scs on the same %s: %d clients per side, each signed in once, then reads and writes 2:1; %d rounds of %v per side, alternating which side runs first\n",
		c.Backend, c.Clients, c.Rounds, c.Phase)
	width := max(len(c.SingleSession.Name), len(c.Plain.Name)) + 1
	for _, s := range []Side{c.SingleSession, c.Plain} {
		fmt.Fprintf(&b, "%-*s %d replies in %v = %.0f/s, p50 %v, p99 %v, %d failures\n", width, s.Name+":", s.Replies, s.Elapsed.Round(time.Millisecond),
			s.Throughput, s.P50.Round(time.Microsecond), s.P99.Round(time.Microsecond), s.Failures)
	}
	ratios := make([]string, len(c.Ratios))
	for i, r := range c.Ratios {
		ratios[i] = fmt.Sprintf("%.3f", r)
	}
	fmt.Fprintf(&b, "ratio singlesession ÷ plain scs: %.3f (median of rounds: %s)\n", c.Ratio, strings.Join(ratios, ", "))
	if c.KeyPrefix != "" {
		fmt.Fprintf(&b, "keys deleted at the end: %d of singlesession (%sss:*), %d of plain scs (%sscs:*)\n",
			c.SingleSession.KeysDeleted, c.KeyPrefix, c.Plain.KeysDeleted, c.KeyPrefix)
	}
	return b.String()
}

// Compare measures singlesession's throughput against plain scs on the same
// server, in one run. On PostgreSQL (cfg.DSN), singlesession
// (Manager.Middleware, singlesession's pgxstore, cfg.Policy) works in a
// schema of its own made by [pgxstore.Migrate], and plain scs (LoadAndSave,
// scs's pgxstore without its cleanup goroutine) in another schema with
// pgxstore's sessions table. On Redis (cfg.RedisURL), singlesession runs over
// redisstore and plain scs over scs's goredisstore, each under a key prefix of
// its own; on Redis Cluster (cfg.RedisClusterAddrs), plain scs runs over
// goredisstore's three commands on a cluster client, as goredisstore itself
// takes only a single Redis's client. Each side has its own in-process
// server, a connection pool of cfg.MaxConns (a client of its own on Redis)
// and cfg.Clients browsers; every browser signs in once as a user of its own
// (plain scs: RenewToken and Put of the user's ID), then sends reads (a
// request that does not change the session) and writes (one that does), two
// to one, in a random order that is the same on both sides in a round.
//
// After a warm-up of both sides, the run has cfg.Rounds rounds; in each, one
// side runs for cfg.Duration/cfg.Rounds, then the other, and the side that
// runs first alternates. The report's Ratio is the median of the rounds'
// ratios, so a moment of noise on the machine skews one round, not the
// result. A side is never run while the other runs.
//
// At the end Compare drops both schemas, or deletes every key under both
// prefixes (SCAN and UNLINK, on every master of a cluster, within
// cfg.RecoveryTimeout), also when the run failed or ctx ended. When keys
// cannot all be deleted, it returns the report with an error that says so.
//
// Compare uses DSN, RedisURL or RedisClusterAddrs (exactly one), Clients,
// Duration (the time of each side over all rounds), Rounds, RequestTimeout,
// MaxConns, Policy, RecoveryTimeout and Logger; it returns an error for
// Collide, Fault, WrapStore and ExpectStoreErrors, which do not apply, and
// when the run cannot be set up (a server unreachable, a bad URL) or a
// browser cannot sign in. A wrong reply is counted in the side's Failures
// ([Comparison.OK] is then false), not returned as an error. When ctx ends
// early the rounds stop: the throughputs cover what ran, Ratios and Ratio
// the rounds that completed.
func Compare(ctx context.Context, cfg Config) (report *Comparison, err error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.Collide || cfg.Fault != nil || cfg.WrapStore != nil || cfg.ExpectStoreErrors {
		return nil, errors.New("loadtest: compare: Collide, Fault, WrapStore and ExpectStoreErrors do not apply to a comparison")
	}
	phase := cfg.Duration / time.Duration(cfg.Rounds)
	if phase <= 0 {
		return nil, fmt.Errorf("loadtest: compare: duration %v is too short for %d rounds", cfg.Duration, cfg.Rounds)
	}

	var stores *compareStores
	if cfg.onRedis() {
		stores, err = redisStores(ctx, &cfg)
	} else {
		stores, err = postgresStores(ctx, &cfg)
	}
	if err != nil {
		return nil, err
	}
	// Deferred first, so it runs last: after both servers have closed, when
	// no request can write any more.
	defer func() {
		ssKeys, plainKeys, releaseErr := stores.release()
		if report != nil {
			report.SingleSession.KeysDeleted, report.Plain.KeysDeleted = ssKeys, plainKeys
		}
		err = errors.Join(err, releaseErr)
	}()

	ssApp, err := newApp(cfg, stores.ss)
	if err != nil {
		return nil, err
	}
	ss := newSide(&cfg, stores.ssName, ssApp.handler())
	defer ss.close()
	plain := newSide(&cfg, stores.plainName, newPlainApp(&cfg, stores.plain))
	defer plain.close()
	sides := []*side{ss, plain}
	for _, s := range sides {
		if err := s.signIn(); err != nil {
			return nil, err
		}
	}

	// The warm-up fills the pools, the caches and the tables' first pages.
	warm := min(phase/2, time.Second)
	for _, s := range sides {
		s.phase(ctx, warm, 0)
		s.reset()
	}

	report = &Comparison{Clients: cfg.Clients, Rounds: cfg.Rounds, Phase: phase, Backend: stores.backend, KeyPrefix: stores.keyPrefix}
	for round := range cfg.Rounds {
		order := sides
		if round%2 == 1 {
			order = []*side{plain, ss}
		}
		var rates [2]float64
		for _, s := range order {
			if ctx.Err() != nil {
				break
			}
			rate := s.phase(ctx, phase, uint64(round)+1)
			if s == ss {
				rates[0] = rate
			} else {
				rates[1] = rate
			}
		}
		if ctx.Err() != nil {
			break
		}
		if rates[1] > 0 {
			report.Ratios = append(report.Ratios, rates[0]/rates[1])
		}
	}
	report.Rounds = len(report.Ratios)
	report.Ratio = median(report.Ratios)
	report.SingleSession = ss.summary()
	report.Plain = plain.summary()
	return report, nil
}

// compareStores are the stores of a comparison's two sides, on the same
// server.
type compareStores struct {
	backend   string // Comparison.Backend
	keyPrefix string // Comparison.KeyPrefix

	ss        singlesession.Store
	ssName    string
	plain     scs.Store
	plainName string

	// release closes the pools or clients and removes what the run left
	// (the schemas, or the keys), returning how many keys of each side it
	// deleted on Redis.
	release func() (ssKeys, plainKeys int, err error)
}

// postgresStores makes the comparison's stores on PostgreSQL: two schemas,
// one migrated for singlesession's pgxstore, one with scs pgxstore's table.
func postgresStores(ctx context.Context, cfg *Config) (*compareStores, error) {
	ssPool, dropSS, err := comparePool(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pgxstore.Migrate(ctx, ssPool); err != nil {
		dropSS()
		return nil, fmt.Errorf("loadtest: compare: %w", err)
	}
	plainPool, dropPlain, err := comparePool(ctx, cfg)
	if err != nil {
		dropSS()
		return nil, err
	}
	if _, err := plainPool.Exec(ctx, sqlPgxstoreTable); err != nil {
		dropSS()
		dropPlain()
		return nil, fmt.Errorf("loadtest: compare: create pgxstore's table: %w", err)
	}
	return &compareStores{
		backend:   "PostgreSQL",
		ss:        pgxstore.New(ssPool),
		ssName:    "singlesession (pgxstore)",
		plain:     scspgxstore.NewWithCleanupInterval(plainPool, 0),
		plainName: "plain scs (pgxstore)",
		release: func() (int, int, error) {
			dropPlain()
			dropSS()
			return 0, 0, nil
		},
	}, nil
}

// sqlPgxstoreTable is the table pgxstore's README asks for.
const sqlPgxstoreTable = `CREATE TABLE sessions (
	token TEXT PRIMARY KEY,
	data BYTEA NOT NULL,
	expiry TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);`

// comparePool creates a schema and returns a pool whose search_path is that
// schema, and a function that closes the pool and drops the schema.
func comparePool(ctx context.Context, cfg *Config) (*pgxpool.Pool, func(), error) {
	poolCfg, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, nil, fmt.Errorf("loadtest: compare: %w", err)
	}
	schema, err := createSchema(ctx, poolCfg.ConnConfig)
	if err != nil {
		return nil, nil, err
	}
	drop := func() { dropSchema(poolCfg.ConnConfig, schema, cfg.RecoveryTimeout) }
	poolCfg.ConnConfig.RuntimeParams["search_path"] = schema
	poolCfg.MaxConns = cfg.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		drop()
		return nil, nil, fmt.Errorf("loadtest: compare: %w", err)
	}
	return pool, func() { pool.Close(); drop() }, nil
}

// newPlainApp is the application of the comparison on plain scs over store:
// the same routes as the singlesession application's, a login that renews
// the token and puts the user in the session, and the same request guard.
func newPlainApp(cfg *Config, store scs.Store) http.Handler {
	sessions := scs.New()
	sessions.Lifetime = time.Hour
	sessions.Store = store
	sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		cfg.Logger.ErrorContext(r.Context(), "loadtest: plain scs: store error", "path", r.URL.Path, "err", err)
		w.Header().Set(headerError, errStore)
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.RenewToken(r.Context()); err != nil {
			sessions.ErrorFunc(w, r, err)
			return
		}
		sessions.Put(r.Context(), "user", r.FormValue("user"))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, sessions.GetString(r.Context(), "user"))
	})
	mux.HandleFunc("POST /put", func(w http.ResponseWriter, r *http.Request) {
		user := sessions.GetString(r.Context(), "user")
		sessions.Put(r.Context(), "n", sessions.GetInt(r.Context(), "n")+1)
		io.WriteString(w, user)
	})
	var panics atomic.Int64
	return guard(cfg, &panics, sessions.LoadAndSave(mux))
}

// side is one application of a comparison, its server and its browsers.
type side struct {
	name      string
	srv       *httptest.Server
	transport *http.Transport
	clients   []*client
	users     []string

	replies, failures int
	elapsed           time.Duration
	latencies         []time.Duration
}

func newSide(cfg *Config, name string, h http.Handler) *side {
	s := &side{name: name, srv: httptest.NewUnstartedServer(h)}
	s.srv.Config.ErrorLog = slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)
	s.srv.Start()
	s.transport = &http.Transport{MaxIdleConnsPerHost: cfg.Clients + 1}
	for i := range cfg.Clients {
		s.clients = append(s.clients, newClient(s.srv.URL, s.transport, cfg.RequestTimeout))
		s.users = append(s.users, fmt.Sprintf("user-%d", i))
	}
	return s
}

func (s *side) close() {
	s.transport.CloseIdleConnections()
	s.srv.Close()
}

// signIn signs every browser in as its user.
func (s *side) signIn() error {
	for i, c := range s.clients {
		status, _, body, err := c.do("POST", "/login", url.Values{"user": {s.users[i]}})
		if err == nil && status != http.StatusNoContent {
			err = fmt.Errorf("%d %s", status, strings.TrimSpace(body))
		}
		if err != nil {
			return fmt.Errorf("loadtest: compare: %s: sign-in of %s: %w", s.name, s.users[i], err)
		}
	}
	return nil
}

// phase runs the browsers for d and returns the correct replies per second.
// With the same seed both sides send the same sequence of requests.
func (s *side) phase(ctx context.Context, d time.Duration, seed uint64) float64 {
	runtime.GC() // not the other side's garbage
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	results := make([]steadyResult, len(s.clients))
	begin := time.Now()
	var wg sync.WaitGroup
	for i, c := range s.clients {
		c.rnd = rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Go(func() { results[i] = c.steady(ctx, s.users[i]) })
	}
	wg.Wait()
	elapsed := time.Since(begin)
	replies := 0
	for _, r := range results {
		replies += r.replies
		s.failures += r.failures
		s.latencies = append(s.latencies, r.latencies...)
	}
	s.replies += replies
	s.elapsed += elapsed
	return float64(replies) / elapsed.Seconds()
}

// reset forgets what the side did so far (the warm-up).
func (s *side) reset() {
	s.replies, s.failures, s.elapsed, s.latencies = 0, 0, 0, nil
}

func (s *side) summary() Side {
	out := Side{Name: s.name, Replies: s.replies, Elapsed: s.elapsed, Failures: s.failures}
	if s.elapsed > 0 {
		out.Throughput = float64(s.replies) / s.elapsed.Seconds()
	}
	slices.Sort(s.latencies)
	if n := len(s.latencies); n > 0 {
		out.P50 = s.latencies[n/2]
		out.P99 = s.latencies[min(n-1, n*99/100)]
	}
	return out
}

// steadyResult is what a browser did in one phase of a comparison.
type steadyResult struct {
	replies, failures int
	latencies         []time.Duration
}

// steady sends reads and writes until ctx ends; every reply must name user.
// A request already sent when ctx ends completes and counts.
func (c *client) steady(ctx context.Context, user string) steadyResult {
	var r steadyResult
	for ctx.Err() == nil {
		var (
			status int
			body   string
			err    error
		)
		begin := time.Now()
		switch c.pick(compareOps) {
		case OpRead:
			status, _, body, err = c.do("GET", "/whoami", nil)
		case OpWrite:
			status, _, body, err = c.do("POST", "/put", url.Values{})
		}
		if err != nil || status != http.StatusOK || body != user {
			r.failures++
			continue
		}
		r.replies++
		r.latencies = append(r.latencies, time.Since(begin))
	}
	return r
}

// median returns the median of xs, 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
