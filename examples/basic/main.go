// Command basic is the demo application of singlesession: a few demo users,
// a login form, and one active session per user.
//
//	go run ./examples/basic                       # sessions in memory, on 127.0.0.1:8080
//	go run ./examples/basic -dsn postgres://...   # sessions in PostgreSQL (or set DATABASE_URL)
//	go run ./examples/basic -redis redis://...    # sessions in Redis (or set REDIS_URL)
//	go run ./examples/basic -metrics              # and Prometheus metrics at /metrics
//
// Run several instances on different ports with one -dsn and they act as one
// application. See README.md for the demo accounts.
//
// Besides its pages (/, /login, /sessions, /admin/sessions) it serves the
// live endings of docs/live-endings.md, one stream a tab, so that a page
// says at once that its session ended (turning into GET /session/ended, the
// login page's notice): GET /clock, the home page's clock, a stream that
// stops the moment the session ends, saying why (SessionContext; 401 when
// not signed in); and GET /session/events, the library's WatchHandler, which
// every other signed-in page listens to.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	os.Exit(code)
}

// parseFlags reads the command line; getenv supplies DATABASE_URL, the
// default of -dsn, and REDIS_URL, the default of -redis.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	cfg := config{}
	fs, single := newFlagSet(&cfg, getenv, stderr)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["dsn"] && !set["redis"] {
		cfg.Redis = "" // an explicit -dsn (even -dsn= for memory) beats $REDIS_URL
	}
	if err := cfg.resolveLimit(*single, set["max-sessions"]); err != nil {
		return config{}, err
	}
	if cfg.LastSeenInterval <= 0 {
		return config{}, fmt.Errorf("-last-seen-interval must be positive, not %v", cfg.LastSeenInterval)
	}
	return cfg, nil
}

// newFlagSet returns the command line's flags, which set cfg, and
// -single-session's value, which parseFlags settles with -max-sessions.
func newFlagSet(cfg *config, getenv func(string) string, stderr io.Writer) (fs *flag.FlagSet, single *bool) {
	fs = flag.NewFlagSet("basic", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: basic [flags]\n\nThe singlesession demo application.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen on this `address`")
	fs.StringVar(&cfg.DSN, "dsn", getenv("DATABASE_URL"), "PostgreSQL `URL` (default $DATABASE_URL); empty keeps sessions in memory")
	fs.StringVar(&cfg.Redis, "redis", getenv("REDIS_URL"), "Redis `URL` (default $REDIS_URL), e.g. redis://127.0.0.1:6379/0; keeps sessions in Redis (-redis beats -dsn; an explicit -dsn beats $REDIS_URL)")
	single = fs.Bool("single-session", true, "false: no limit on sessions per user, as -max-sessions 0")
	fs.IntVar(&cfg.MaxSessions, "max-sessions", 1, "how many sessions a user may hold at once (`N`); 0: no limit")
	fs.BoolVar(&cfg.RejectNew, "reject-new", false, "when a user holds -max-sessions sessions, refuse a new login (409) instead of ending the least recently used session")
	fs.DurationVar(&cfg.LastSeenInterval, "last-seen-interval", time.Minute, "how stale a session's \"last seen\" may get")
	fs.BoolVar(&cfg.LogoutAllSessions, "logout-all-sessions", true, "signing out ends every session of the user")
	fs.IntVar(&cfg.BcryptCost, "bcrypt-cost", bcrypt.DefaultCost, "bcrypt `cost` of the demo password hashes, made at start-up")
	fs.DurationVar(&cfg.CleanupInterval, "cleanup-interval", 5*time.Minute, "how often expired sessions are deleted (PostgreSQL)")
	fs.BoolVar(&cfg.Metrics, "metrics", false, "serve GET /metrics: the sessions' events and store calls, in the Prometheus text format")
	return fs, single
}

// resolveLimit settles -max-sessions with -single-session and -reject-new,
// and rejects the combinations that contradict each other.
func (cfg *config) resolveLimit(single, maxSet bool) error {
	switch {
	case cfg.MaxSessions < 0:
		return fmt.Errorf("-max-sessions must be 0 (no limit) or more, not %d", cfg.MaxSessions)
	case !single && maxSet && cfg.MaxSessions != 0:
		return fmt.Errorf("-single-session=false means no limit, which contradicts -max-sessions %d: give one of them", cfg.MaxSessions)
	}
	if !single {
		cfg.MaxSessions = 0
	}
	if cfg.RejectNew && cfg.MaxSessions == 0 {
		return errors.New("-reject-new needs a limit to refuse logins past: give -max-sessions 1 or more (and not -single-session=false)")
	}
	return nil
}

// run runs the application until ctx ends, then shuts it down gracefully. It
// returns the exit status: 0 after a shutdown, 1 when the application cannot
// start, 2 for a bad command line. Logs go to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "basic:", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg.Logger = logger
	if err := serve(ctx, cfg); err != nil {
		logger.Error("basic stopped", "err", err)
		return 1
	}
	return 0
}

// newServer returns the server of handler. Its WriteTimeout bounds
// ordinary responses; the long-lived streams lift it for themselves (GET
// /session/events) or push it 30 s ahead before each write (GET /clock).
func newServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// streamPaths are the routes whose response lasts as long as its session:
// GET /session/events and GET /clock.
var streamPaths = map[string]bool{"/session/events": true, "/clock": true}

// endStreamsWith returns next, in which a request to one of streamPaths
// also ends when ctx does; other requests are left to finish.
func endStreamsWith(ctx context.Context, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !streamPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		rctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		defer context.AfterFunc(ctx, cancel)()
		next.ServeHTTP(w, r.WithContext(rctx))
	})
}

// serve builds the application, listens on cfg.Addr, and serves until ctx
// ends, then lets the requests in flight finish and ends the open streams.
func serve(ctx context.Context, cfg config) error {
	logger := cfg.Logger
	// Listen first: a busy port fails at once, before the slow start-up.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	handler, release, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer release()
	// srv.Shutdown waits for the requests in flight but cancels none: the
	// streams, which last as long as their session, would hold it for its
	// whole timeout, and their watches the PostgreSQL pool's LISTEN
	// connection, which release then waits for. Shutting down ends them.
	streams, stopStreams := context.WithCancel(context.Background())
	defer stopStreams()
	srv := newServer(endStreamsWith(streams, handler), logger)
	srv.RegisterOnShutdown(stopStreams)
	store := "memory"
	if cfg.DSN != "" {
		store = "postgres"
	}
	if cfg.Redis != "" {
		store = "redis"
	}
	logger.Info("listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/",
		"store", store, "max_sessions", cfg.MaxSessions, "reject_new", cfg.RejectNew, "logout_all_sessions", cfg.LogoutAllSessions, "metrics", cfg.Metrics)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}
