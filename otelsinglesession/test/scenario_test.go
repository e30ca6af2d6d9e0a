package test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/otelsinglesession/test/internal/oteltest"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// The scenarios of oteltest (logins, limits, logouts, operators, a failing
// store, user IDs, no token anywhere) on the memory store, on PostgreSQL
// (pgxstore, a migrated schema of each scenario's own) and on Redis
// (redisstore over go-redis, a single server, a key prefix of each
// scenario's own).
func TestScenarios(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		oteltest.Run(t, func(t *testing.T) oteltest.Backend {
			return oteltest.Backend{Store: singlesession.NewMemoryStore()}
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		oteltest.Run(t, func(t *testing.T) oteltest.Backend {
			pool := pgtest.MigratedPool(t)
			return oteltest.Backend{Store: pgxstore.New(pool), Broken: pgxstore.New(closedPool(t, pool))}
		})
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		oteltest.Run(t, redisBackend)
	})
}

// closedPool returns a closed pool on the database of pool.
func closedPool(t *testing.T, pool *pgxpool.Pool) *pgxpool.Pool {
	t.Helper()
	closed, err := pgxpool.NewWithConfig(context.Background(), pool.Config())
	require.NoError(t, err)
	closed.Close()
	return closed
}
