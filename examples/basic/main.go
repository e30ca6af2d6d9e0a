// Command basic is the demo application of singlesession: a few demo users,
// a login form, and one active session per user.
//
//	go run ./examples/basic                       # sessions in memory, on 127.0.0.1:8080
//	go run ./examples/basic -dsn postgres://...   # sessions in PostgreSQL (or set DATABASE_URL)
//
// Run several instances on different ports with one -dsn and they act as one
// application. See README.md for the demo accounts.
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
// default of -dsn.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	cfg := config{}
	fs := flag.NewFlagSet("basic", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: basic [flags]\n\nThe singlesession demo application.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen on this `address`")
	fs.StringVar(&cfg.DSN, "dsn", getenv("DATABASE_URL"), "PostgreSQL `URL` (default $DATABASE_URL); empty keeps sessions in memory")
	fs.BoolVar(&cfg.SingleSession, "single-session", true, "one session per user: signing in ends the user's other sessions")
	fs.BoolVar(&cfg.LogoutAllSessions, "logout-all-sessions", true, "signing out ends every session of the user")
	fs.IntVar(&cfg.BcryptCost, "bcrypt-cost", bcrypt.DefaultCost, "bcrypt `cost` of the demo password hashes, made at start-up")
	fs.DurationVar(&cfg.CleanupInterval, "cleanup-interval", 5*time.Minute, "how often expired sessions are deleted (PostgreSQL)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return cfg, nil
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

// serve builds the application, listens on cfg.Addr, and serves until ctx
// ends, then lets the requests in flight finish.
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
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	store := "memory"
	if cfg.DSN != "" {
		store = "postgres"
	}
	logger.Info("listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/",
		"store", store, "single_session", cfg.SingleSession, "logout_all_sessions", cfg.LogoutAllSessions)

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
