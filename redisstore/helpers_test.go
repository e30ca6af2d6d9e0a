package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
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
			var cursor uint64
			for {
				keys, next, err := n.Scan(ctx, cursor, prefix+"*", 1000).Result()
				if err != nil {
					return err
				}
				// One UNLINK per key (a cluster node refuses keys of
				// several slots in one command), in one pipeline.
				_, _ = n.Pipelined(ctx, func(p redis.Pipeliner) error {
					for _, k := range keys {
						p.Unlink(ctx, k)
					}
					return nil
				})
				if cursor = next; cursor == 0 {
					return nil
				}
			}
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

// residue counts the index entries (of every generation), the recorded
// endings and graves, and the session hashes under prefix.
func residue(t testing.TB, c redis.UniversalClient, prefix string) int {
	t.Helper()
	n := len(keys(t, c, prefix, "u:{*}:e:*")) + len(keys(t, c, prefix, "u:{*}:c:*")) + len(keys(t, c, prefix, "u:{*}:s:*"))
	for _, k := range keys(t, c, prefix, "u:{*}:[xl]:*") {
		m, err := c.ZCard(context.Background(), k).Result()
		require.NoError(t, err)
		n += int(m)
	}
	return n
}

// generation returns the current generation of user (escaped) under
// prefix, "" when it has none.
func generation(t testing.TB, c redis.UniversalClient, prefix, user string) string {
	t.Helper()
	g, err := c.HGet(context.Background(), prefix+"u:{"+user+"}:m", "g").Result()
	if errors.Is(err, redis.Nil) {
		return ""
	}
	require.NoError(t, err)
	return g
}

// indexEntries returns how many entries the index by expiry of user's
// current generation holds.
func indexEntries(t testing.TB, c redis.UniversalClient, prefix, user string) int {
	t.Helper()
	g := generation(t, c, prefix, user)
	if g == "" {
		return 0
	}
	n, err := c.ZCard(context.Background(), prefix+"u:{"+user+"}:x:"+g).Result()
	require.NoError(t, err)
	return int(n)
}

// newStore returns a store on c with a prefix of its own.
func newStore(t testing.TB, c redis.UniversalClient) (*redisstore.Store, string) {
	prefix := testPrefix(t, c)
	return redisstore.NewWithPrefix(c, prefix), prefix
}

// privateRedis is a redis-server of the test's own, on a free loopback
// port, in a temporary directory, stopped when the test ends.
type privateRedis struct {
	t        testing.TB
	port     int
	dir      string
	args     []string
	cmd      *exec.Cmd
	priority bool // scheduled before other processes (see raisePriority)
}

// startPrivateRedis starts a redis-server with args besides its port,
// directory and no snapshots (--save ""). Under CI=true a missing
// redis-server fails the test.
func startPrivateRedis(t testing.TB, args ...string) *privateRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		unreachable(t, "redis-server (apt-get install redis-server)", err)
	}
	r := &privateRedis{t: t, port: freePort(t), dir: t.TempDir(), args: args}
	r.start()
	t.Cleanup(r.kill)
	return r
}

// startTimedRedis is startPrivateRedis for the tests that time what Redis
// does (SLOWLOG): the server is scheduled before the machine's other
// processes when the test may ask for it, so that a command that waits for
// a CPU does not seem slow.
func startTimedRedis(t testing.TB, args ...string) *privateRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		unreachable(t, "redis-server (apt-get install redis-server)", err)
	}
	r := &privateRedis{t: t, port: freePort(t), dir: t.TempDir(), args: args, priority: true}
	r.start()
	t.Cleanup(r.kill)
	return r
}

// realtime puts the server in the real-time scheduling class while f runs
// (see realtime), when the test may.
func (r *privateRedis) realtime(on bool) {
	if err := realtime(r.cmd.Process.Pid, on); err != nil {
		r.t.Logf("redis-server on port %d: %v", r.port, err)
	}
}

// startPrivateCluster starts a Redis Cluster of three masters of the
// test's own (startTimedRedis), each holding a third of the slots, and
// returns a client of it, closed when the test ends, and its nodes.
func startPrivateCluster(t testing.TB) (*redis.ClusterClient, []*privateRedis) {
	t.Helper()
	nodes := make([]*privateRedis, 3)
	addrs := make([]string, 3)
	for i := range nodes {
		dir := t.TempDir()
		nodes[i] = startTimedRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf", "--appendonly", "no")
		addrs[i] = nodes[i].addr()
	}
	ctx := context.Background()
	for i, n := range nodes {
		c := n.client()
		from, to := i*16384/3, (i+1)*16384/3-1
		require.NoError(t, c.Do(ctx, "cluster", "addslotsrange", from, to).Err())
		if i > 0 {
			require.NoError(t, nodes[0].client().ClusterMeet(ctx, "127.0.0.1", fmt.Sprint(n.port)).Err())
		}
	}
	require.Eventually(t, func() bool {
		for _, n := range nodes {
			info, err := n.client().ClusterInfo(ctx).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
				return false
			}
		}
		return true
	}, 20*time.Second, 50*time.Millisecond, "the private cluster did not become ready")
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { c.Close() })
	require.Eventually(t, func() bool { return c.Set(ctx, "ready", "1", time.Second).Err() == nil }, 20*time.Second, 50*time.Millisecond)
	return c, nodes
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (r *privateRedis) start() {
	r.t.Helper()
	args := append([]string{"--port", fmt.Sprint(r.port), "--bind", "127.0.0.1", "--save", "", "--dir", r.dir}, r.args...)
	r.cmd = exec.Command("redis-server", args...)
	require.NoError(r.t, r.cmd.Start())
	if r.priority {
		if err := raisePriority(r.cmd.Process.Pid); err != nil {
			r.t.Logf("redis-server on port %d keeps its priority: %v", r.port, err)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer c.Close()
	require.Eventually(r.t, func() bool { return c.Ping(context.Background()).Err() == nil }, 10*time.Second, 20*time.Millisecond)
}

// kill stops the server at once (SIGKILL), if it runs.
func (r *privateRedis) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

func (r *privateRedis) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

// client returns a new client of the server, closed when the test ends.
func (r *privateRedis) client(opts ...func(*redis.Options)) *redis.Client {
	o := &redis.Options{Addr: r.addr()}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	r.t.Cleanup(func() { c.Close() })
	return c
}

// restart shuts the server down with redis-cli shutdown nosave, and starts
// it again on its files.
func (r *privateRedis) restart() {
	r.t.Helper()
	out, err := exec.Command("redis-cli", "-p", fmt.Sprint(r.port), "shutdown", "nosave").CombinedOutput()
	if err != nil {
		r.t.Logf("redis-cli shutdown: %v %s", err, out)
	}
	_ = r.cmd.Wait()
	r.start()
}
