package loadtest_test

import (
	"context"
	"flag"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession/internal/pgtest"
)

var (
	loadDuration = flag.Duration("load.duration", 3*time.Second, "how long TestRun loads the application (for example 20s)")
	loadClients  = flag.Int("load.clients", 64, "concurrent browsers in TestRun")
	loadUsers    = flag.Int("load.users", 50, "distinct users in TestRun")
)

// requireDatabase stops a test that cannot reach PostgreSQL (see pgtest).
func requireDatabase(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.DatabaseURL())
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		pgtest.Unreachable(t, err)
	}
}

// withParam adds a connection parameter to a URL or keyword/value DSN.
func withParam(dsn, key, value string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set(key, value)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " " + key + "=" + value
}

// redisURL is the single Redis of the tests: REDIS_URL, by default
// redis://127.0.0.1:6379/0.
func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// redisUnreachable stops a test that cannot reach Redis: a failure under
// CI=true, a skip otherwise (as pgtest.Unreachable does for PostgreSQL).
func redisUnreachable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is unreachable (CI=true makes this a failure): %v", what, err)
	}
	t.Skipf("%s is unreachable: %v; start it or set REDIS_URL and REDIS_CLUSTER_ADDRS (./scripts/test.sh does both)", what, err)
}

// requireRedis returns a client of the single Redis, closed when t ends,
// and stops a test that cannot reach it.
func requireRedis(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL())
	require.NoError(t, err)
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		redisUnreachable(t, "Redis at "+opts.Addr, err)
	}
	return c
}

// requireRedisCluster returns the addresses of the Redis Cluster at
// REDIS_CLUSTER_ADDRS (host:port,host:port,...; ./scripts/redis-cluster.sh
// start prints it) and a client of it, closed when t ends, and stops a test
// that cannot reach it or has none: under CI=true an unset
// REDIS_CLUSTER_ADDRS is a failure, as in redisstore's tests.
func requireRedisCluster(t testing.TB) ([]string, *redis.ClusterClient) {
	t.Helper()
	env := os.Getenv("REDIS_CLUSTER_ADDRS")
	if env == "" {
		redisUnreachable(t, "Redis Cluster (REDIS_CLUSTER_ADDRS is unset; ./scripts/redis-cluster.sh start)", nil)
	}
	addrs := strings.Split(env, ",")
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return n.Ping(ctx).Err() }); err != nil {
		redisUnreachable(t, "Redis Cluster at "+env, err)
	}
	return addrs, c
}

// redisKeys returns the keys that match pattern, on every master of a
// cluster.
func redisKeys(t testing.TB, c redis.UniversalClient, pattern string) []string {
	t.Helper()
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, n *redis.Client) error {
		iter := n.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	ctx := context.Background()
	switch c := c.(type) {
	case *redis.ClusterClient:
		require.NoError(t, c.ForEachMaster(ctx, scan))
	case *redis.Client:
		require.NoError(t, scan(ctx, c))
	default:
		t.Fatalf("unexpected client %T", c)
	}
	return keys
}
