package loadtest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/loadtest"
)

// PostgreSQL connections killed mid-run (pg_terminate_backend on every
// connection of the application's pool, again and again): the requests that
// were using them fail through ErrorFunc, none panics or hangs beyond its
// context, the pool recovers, and afterwards every invariant holds.
func TestKilledConnections(t *testing.T) {
	t.Parallel()
	requireDatabase(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	appName := "singlesession-kill-" + hex.EncodeToString(b)

	var rounds, killed atomic.Int64
	report, err := loadtest.Run(context.Background(), loadtest.Config{
		DSN:               withParam(pgtest.DatabaseURL(), "application_name", appName),
		Clients:           32,
		Users:             10,
		Duration:          4 * time.Second,
		RequestTimeout:    2 * time.Second,
		ExpectStoreErrors: true,
		Fault: func(ctx context.Context) {
			// Kill for the first 2.5 s of the 4 s load: the rest shows recovery.
			ctx, cancel := context.WithTimeout(ctx, 2500*time.Millisecond)
			defer cancel()
			conn, err := pgx.Connect(ctx, pgtest.DatabaseURL())
			if err != nil {
				t.Errorf("killer: %v", err)
				return
			}
			defer conn.Close(context.Background())
			for ctx.Err() == nil {
				var n int64
				err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
FROM pg_stat_activity WHERE application_name = $1`, appName).Scan(&n)
				if err != nil && ctx.Err() == nil {
					t.Errorf("killer: %v", err)
					return
				}
				rounds.Add(1)
				killed.Add(n)
				select {
				case <-ctx.Done():
				case <-time.After(150 * time.Millisecond):
				}
			}
		},
	})
	require.NoError(t, err)
	t.Logf("killed %d connections in %d rounds\n%s", killed.Load(), rounds.Load(), report)
	assert.True(t, report.OK(), "violations: %v", report.Violations())
	assert.Positive(t, killed.Load(), "connections were killed")
	assert.Positive(t, report.StoreErrors, "requests on killed connections failed through ErrorFunc")
}

// The database restarting in the middle of the load (a private server, so
// the shared one is left alone): requests fail through ErrorFunc while it is
// down, none panics or hangs beyond its context, the pool reconnects, and
// afterwards every invariant holds.
func TestDatabaseRestart(t *testing.T) {
	t.Parallel()
	srv := startPostgres(t)
	var restarted atomic.Bool
	var restartErr error
	report, err := loadtest.Run(context.Background(), loadtest.Config{
		DSN:               srv.DSN(),
		Clients:           32,
		Users:             10,
		Duration:          5 * time.Second,
		RequestTimeout:    2 * time.Second,
		ExpectStoreErrors: true,
		Fault: func(ctx context.Context) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(1500 * time.Millisecond):
			}
			restartErr = srv.Restart()
			restarted.Store(true)
		},
	})
	require.NoError(t, err)
	require.NoError(t, restartErr)
	require.True(t, restarted.Load(), "the server restarted during the load")
	t.Log("\n" + report.String())
	assert.True(t, report.OK(), "violations: %v", report.Violations())
	assert.Positive(t, report.StoreErrors, "requests while the server was down failed through ErrorFunc")
}
