package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession/redisstore"
)

// redisURL is the single Redis of the tests: REDIS_URL, by default
// redis://127.0.0.1:6379/0.
func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// unreachable fails the test under CI=true, and skips it otherwise.
func unreachable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is unreachable (CI=true: a failure, not a skip): %v", what, err)
	}
	t.Skipf("%s is unreachable: %v", what, err)
}

// singleClient returns a new client of the single Redis, closed when t ends.
func singleClient(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL())
	require.NoError(t, err)
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		unreachable(t, "Redis at "+redisURL(), err)
	}
	return c
}

// clusterClient returns a new client of the Redis Cluster at
// REDIS_CLUSTER_ADDRS (host:port,host:port,...), closed when t ends.
func clusterClient(t testing.TB) *redis.ClusterClient {
	t.Helper()
	addrs := os.Getenv("REDIS_CLUSTER_ADDRS")
	if addrs == "" {
		unreachable(t, "Redis Cluster (REDIS_CLUSTER_ADDRS is unset; ./scripts/redis-cluster.sh start)", nil)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error { return n.Ping(ctx).Err() }); err != nil {
		unreachable(t, "Redis Cluster at "+addrs, err)
	}
	return c
}

// testPrefix returns a random key prefix whose keys are deleted when t ends.
func testPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "sstest:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		_ = forEachNode(ctx, c, func(ctx context.Context, n *redis.Client) error {
			iter := n.Scan(ctx, 0, prefix+"*", 1000).Iterator()
			for iter.Next(ctx) {
				n.Del(ctx, iter.Val())
			}
			return iter.Err()
		})
	})
	return prefix
}

func forEachNode(ctx context.Context, c redis.UniversalClient, f func(context.Context, *redis.Client) error) error {
	switch c := c.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, f)
	case *redis.Client:
		return f(ctx, c)
	}
	panic("unknown client")
}

// keys returns the keys under prefix that match pattern (after the prefix).
func keys(t testing.TB, c redis.UniversalClient, prefix, pattern string) []string {
	t.Helper()
	var out []string
	ch := make(chan []string, 16)
	err := forEachNode(context.Background(), c, func(ctx context.Context, n *redis.Client) error {
		var ks []string
		iter := n.Scan(ctx, 0, prefix+pattern, 1000).Iterator()
		for iter.Next(ctx) {
			ks = append(ks, iter.Val())
		}
		ch <- ks
		return iter.Err()
	})
	close(ch)
	require.NoError(t, err)
	for ks := range ch {
		out = append(out, ks...)
	}
	return out
}

// residue counts the index entries and recorded endings under prefix.
func residue(t testing.TB, c redis.UniversalClient, prefix string) int {
	t.Helper()
	n := len(keys(t, c, prefix, "u:{*}:e:*"))
	for _, k := range keys(t, c, prefix, "u:{*}:i") {
		m, err := c.ZCard(context.Background(), k).Result()
		require.NoError(t, err)
		n += int(m)
	}
	return n
}

// newStore returns a store on c with a prefix of its own.
func newStore(t testing.TB, c redis.UniversalClient) (*redisstore.Store, string) {
	prefix := testPrefix(t, c)
	return redisstore.NewWithPrefix(c, prefix), prefix
}
