package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// help, like the command line singlesession's, prints the usage to stdout
// and exits 0; a mistake says how to get it.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "-help", "--help"} {
		var out, errOut strings.Builder
		assert.Equal(t, 0, runTo([]string{arg}, &out, &errOut), arg)
		assert.Contains(t, out.String(), "Usage: singlesession-load [flags]", arg)
		assert.Contains(t, out.String(), "-collide", arg)
		assert.Contains(t, out.String(), "-redis URL", arg)
		assert.Contains(t, out.String(), "-redis-cluster addrs", arg)
		assert.Empty(t, errOut.String(), arg)
	}
	var out, errOut strings.Builder
	assert.Equal(t, 2, runTo([]string{"-dsn", "postgres://x", "extra"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "Run 'singlesession-load help' for usage.")
}

func TestRun(t *testing.T) {
	assert.Equal(t, 2, run([]string{"-no-such-flag"}))
	assert.Equal(t, 2, run([]string{"-dsn", "", "-duration", "1s"}))
	assert.Equal(t, 2, run([]string{"-dsn", "postgres://x", "extra"}))

	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is unreachable (CI=true makes this a failure): %v", dsn, err)
		}
		t.Skipf("PostgreSQL at %s is unreachable: %v", dsn, err)
	}
	conn.Close(ctx)
	assert.Equal(t, 0, run([]string{"-dsn", dsn, "-duration", "1s", "-clients", "8", "-users", "3"}))
	assert.Equal(t, 0, run([]string{"-dsn", dsn, "-duration", "1s", "-clients", "16", "-collide"}))
	assert.Equal(t, 0, run([]string{"-dsn", dsn, "-duration", "1s", "-clients", "4", "-baseline", "-rounds", "2"}))
	assert.Equal(t, 2, run([]string{"-dsn", dsn, "-baseline", "-collide"}))
}

// -redis and -redis-cluster: refused where they do not apply, with a
// message and status 2, before anything is connected to.
func TestRedisFlagsRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-redis", "redis://127.0.0.1:6379/0"}, "apply only to -baseline"},
		{[]string{"-redis-cluster", "127.0.0.1:7001"}, "apply only to -baseline"},
		{[]string{"-baseline", "-redis", "http://127.0.0.1:6379"}, "Redis URL"},
		{[]string{"-baseline", "-redis", "redis://127.0.0.1:6379/0", "-redis-cluster", "127.0.0.1:7001"}, "exclude each other"},
		{[]string{"-baseline", "-redis", "redis://127.0.0.1:6379/0", "-dsn", "postgres://x"}, "exclude each other"},
		{[]string{"-baseline", "-redis", "redis://127.0.0.1:6379/0", "-collide"}, "exclude each other"},
		{[]string{"-baseline", "-redis-cluster", "127.0.0.1:7001,,127.0.0.1:7002"}, "want host:port"},
	} {
		var out, errOut strings.Builder
		assert.Equal(t, 2, runTo(c.args, &out, &errOut), c.args)
		assert.Contains(t, errOut.String(), c.msg, c.args)
		assert.Empty(t, out.String(), c.args)
	}
}

// -baseline -redis compares on Redis and needs no PostgreSQL: a
// DATABASE_URL that leads nowhere is not used. It prints both sides with
// their stores and the keys it deleted.
func TestBaselineRedis(t *testing.T) {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(url)
	require.NoError(t, err)
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis at %s is unreachable (CI=true makes this a failure): %v", opts.Addr, err)
		}
		t.Skipf("Redis at %s is unreachable: %v", opts.Addr, err)
	}
	t.Setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nowhere?connect_timeout=1")
	var out, errOut strings.Builder
	assert.Equal(t, 0, runTo([]string{"-baseline", "-redis", url, "-duration", "600ms", "-rounds", "2", "-clients", "4"}, &out, &errOut), errOut.String())
	t.Log("\n" + out.String())
	assert.Contains(t, out.String(), "on the same Redis: ")
	assert.Contains(t, out.String(), "singlesession (redisstore): ")
	assert.Contains(t, out.String(), "plain scs (goredisstore): ")
	assert.Contains(t, out.String(), "ratio singlesession ÷ plain scs: ")
	assert.Contains(t, out.String(), "keys deleted at the end: ")
	assert.Empty(t, errOut.String())
}

// -baseline -redis-cluster compares on Redis Cluster (REDIS_CLUSTER_ADDRS;
// under CI=true an unset one is a failure, as in redisstore's tests).
func TestBaselineRedisCluster(t *testing.T) {
	addrs := os.Getenv("REDIS_CLUSTER_ADDRS")
	if addrs == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("REDIS_CLUSTER_ADDRS is unset (CI=true makes this a failure; ./scripts/redis-cluster.sh start)")
		}
		t.Skip("REDIS_CLUSTER_ADDRS is unset (./scripts/redis-cluster.sh start)")
	}
	var out, errOut strings.Builder
	assert.Equal(t, 0, runTo([]string{"-baseline", "-redis-cluster", addrs, "-duration", "600ms", "-rounds", "2", "-clients", "4"}, &out, &errOut), errOut.String())
	t.Log("\n" + out.String())
	assert.Contains(t, out.String(), "on the same Redis Cluster: ")
	assert.Contains(t, out.String(), "plain scs (goredisstore's commands): ")
	assert.Contains(t, out.String(), "keys deleted at the end: ")
}
