package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// TestMain lets a test start this test binary as the application itself:
// with BASIC_RUN_MAIN=1 it runs main, whose signal handling is what
// TestSignals checks.
func TestMain(m *testing.M) {
	if os.Getenv("BASIC_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags(nil, noEnv, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", cfg.Addr)
	assert.Empty(t, cfg.DSN, "no database by default")
	assert.Equal(t, 1, cfg.MaxSessions, "one session per user by default")
	assert.False(t, cfg.RejectNew)
	assert.Equal(t, time.Minute, cfg.LastSeenInterval)
	assert.True(t, cfg.LogoutAllSessions)
	assert.Equal(t, bcrypt.DefaultCost, cfg.BcryptCost)

	env := func(k string) string {
		if k == "DATABASE_URL" {
			return "postgres://from-env/db"
		}
		return ""
	}
	cfg, err = parseFlags(nil, env, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "postgres://from-env/db", cfg.DSN, "DATABASE_URL is the default of -dsn")
	cfg, err = parseFlags([]string{"-dsn", "postgres://flag/db"}, env, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "postgres://flag/db", cfg.DSN, "-dsn wins")
	cfg, err = parseFlags([]string{"-dsn="}, env, io.Discard)
	require.NoError(t, err)
	assert.Empty(t, cfg.DSN, "-dsn= keeps the memory store")

	cfg, err = parseFlags([]string{"-addr", ":9999", "-single-session=false", "-logout-all-sessions=false"}, noEnv, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, ":9999", cfg.Addr)
	assert.Equal(t, 0, cfg.MaxSessions, "-single-session=false means no limit")
	assert.False(t, cfg.LogoutAllSessions)

	_, err = parseFlags([]string{"extra"}, noEnv, io.Discard)
	assert.Error(t, err)
	_, err = parseFlags([]string{"-nope"}, noEnv, io.Discard)
	assert.Error(t, err)
}

func TestParseFlagsLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		args      []string
		max       int
		rejectNew bool
	}{
		{"default", nil, 1, false},
		{"two", []string{"-max-sessions", "2"}, 2, false},
		{"no limit", []string{"-max-sessions", "0"}, 0, false},
		{"single-session off", []string{"-single-session=false"}, 0, false},
		{"single-session off, max 0", []string{"-single-session=false", "-max-sessions=0"}, 0, false},
		{"single-session on, max 3", []string{"-single-session=true", "-max-sessions=3"}, 3, false},
		{"reject new", []string{"-reject-new"}, 1, true},
		{"reject new, two", []string{"-max-sessions", "2", "-reject-new"}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseFlags(tc.args, noEnv, io.Discard)
			require.NoError(t, err)
			assert.Equal(t, tc.max, cfg.MaxSessions)
			assert.Equal(t, tc.rejectNew, cfg.RejectNew)
		})
	}
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"negative", []string{"-max-sessions", "-1"}, "-max-sessions must be 0 (no limit) or more, not -1"},
		{"not a number", []string{"-max-sessions", "two"}, "invalid value"},
		{"single-session off with a limit", []string{"-single-session=false", "-max-sessions", "2"}, "-single-session=false means no limit, which contradicts -max-sessions 2"},
		{"reject new without a limit", []string{"-max-sessions", "0", "-reject-new"}, "-reject-new needs a limit"},
		{"reject new, single-session off", []string{"-single-session=false", "-reject-new"}, "-reject-new needs a limit"},
		{"last seen 0", []string{"-last-seen-interval", "0s"}, "-last-seen-interval must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(tc.args, noEnv, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			var stderr strings.Builder
			assert.Equal(t, 2, run(context.Background(), tc.args, noEnv, &stderr), "a bad command line exits with 2")
			assert.Contains(t, stderr.String(), tc.msg, "and says why")
		})
	}
}

func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	assert.Equal(t, 0, run(ctx, []string{"-h"}, noEnv, io.Discard))
	assert.Equal(t, 2, run(ctx, []string{"-nope"}, noEnv, io.Discard))
	assert.Equal(t, 2, run(ctx, []string{"extra"}, noEnv, io.Discard))
	// An address that cannot be listened on, and a database that cannot be
	// reached, stop the application with status 1.
	assert.Equal(t, 1, run(ctx, []string{"-addr", "127.0.0.1:-1", "-dsn="}, noEnv, io.Discard))
	assert.Equal(t, 1, run(ctx, []string{"-addr", "127.0.0.1:0", "-dsn", "postgres://postgres@127.0.0.1:1/none?connect_timeout=5"}, noEnv, io.Discard))
}

// TestRunShutdown runs the application in-process and ends it by cancelling
// its context, as the signals do: run returns 0 and the server is closed.
// With a signed-in browser holding both streams open (a home page's clock,
// another tab's events) it ends them and returns at once, instead of
// waiting for the shutdown's timeout and then for the PostgreSQL pool's
// LISTEN connection.
func TestRunShutdown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"memory", func(*testing.T) []string { return []string{"-dsn="} }},
		{"postgres", func(t *testing.T) []string { return []string{"-dsn", schemaDSN(t)} }},
	} {
		for _, streams := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/streams=%v", tc.name, streams), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				logs := &syncBuffer{}
				exited := make(chan struct{})
				status := -1
				go func() {
					defer close(exited)
					status = run(ctx, append([]string{"-addr", "127.0.0.1:0", "-bcrypt-cost=4"}, tc.args(t)...), noEnv, logs)
				}()
				base := waitListening(t, logs, exited)

				a := newClient(t, "A", base)
				a.login("alice")
				assert.Equal(t, "alice", a.whoami())
				var clock, events *stream
				wait := 30 * time.Second
				if streams {
					clock = a.openStream("/clock", http.StatusOK)
					clock.next(t, 5*time.Second, comment)
					events = a.openStream("/session/events", http.StatusOK)
					require.Equal(t, sseEvent{Name: ":", Data: "watching"}, dropAt(events.next(t, 5*time.Second, nothing)))
					wait = 3 * time.Second
				}

				start := time.Now()
				cancel()
				select {
				case <-exited:
					t.Logf("run returned %v after its context ended", time.Since(start).Round(time.Millisecond))
				case <-time.After(wait):
					t.Fatalf("run did not return %v after its context ended:\n%s", wait, logs.String())
				}
				assert.Equal(t, 0, status, logs.String())
				assert.Contains(t, logs.String(), "msg=stopped")
				_, err := http.Get(base + "/whoami")
				assert.Error(t, err, "the server is closed")
				if streams {
					clock.ends(t, time.Second)
					events.ends(t, time.Second)
				}
			})
		}
	}
}

// TestSignals runs the application as a process and stops it with SIGTERM
// and with SIGINT: it exits with status 0.
func TestSignals(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			logs := &syncBuffer{}
			cmd := exec.Command(os.Args[0], "-addr", "127.0.0.1:0", "-dsn=", "-bcrypt-cost=4")
			cmd.Env = append(os.Environ(), "BASIC_RUN_MAIN=1")
			cmd.Stdout = logs
			cmd.Stderr = logs
			require.NoError(t, cmd.Start())
			exited := make(chan struct{})
			var waitErr error
			go func() {
				waitErr = cmd.Wait()
				close(exited)
			}()
			t.Cleanup(func() {
				select {
				case <-exited:
				default:
					_ = cmd.Process.Kill()
					<-exited
				}
			})
			base := waitListening(t, logs, exited)

			a := newClient(t, "A", base)
			a.login("bob")
			assert.Equal(t, "bob", a.whoami())

			require.NoError(t, cmd.Process.Signal(sig))
			select {
			case <-exited:
			case <-time.After(30 * time.Second):
				t.Fatalf("no exit 30s after %v:\n%s", sig, logs.String())
			}
			require.NoError(t, waitErr, "exit status 0 after %v:\n%s", sig, logs.String())
			assert.Equal(t, 0, cmd.ProcessState.ExitCode())
			assert.Contains(t, logs.String(), "msg=stopped")
		})
	}
}
