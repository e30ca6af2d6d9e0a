package compat_test

// The comparison of singlesession's redisstore with plain scs over its own
// goredisstore, on the same Redis. It lives here, not in redisstore, so that
// redisstore's module graph has no scs Redis store (SPEC 9).

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// redisClient returns a client of the Redis at REDIS_URL (default
// redis://127.0.0.1:6379/0), closed when b ends. Under CI=true an
// unreachable Redis fails the benchmark; otherwise it is skipped.
func redisClient(b *testing.B) *redis.Client {
	b.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(url)
	require.NoError(b, err)
	c := redis.NewClient(opts)
	b.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("Redis at %s is unreachable (CI=true: a failure, not a skip): %v", url, err)
		}
		b.Skipf("Redis at %s is unreachable: %v", url, err)
	}
	return c
}

// redisCluster returns a client of the Redis Cluster at REDIS_CLUSTER_ADDRS
// (comma-separated; scripts/test.sh starts one), closed when b ends. Under
// CI=true a missing or unreachable cluster fails the benchmark; otherwise
// it is skipped.
func redisCluster(b *testing.B) *redis.ClusterClient {
	b.Helper()
	addrs := os.Getenv("REDIS_CLUSTER_ADDRS")
	fail := b.Skipf
	if os.Getenv("CI") == "true" {
		fail = b.Fatalf
	}
	if addrs == "" {
		fail("REDIS_CLUSTER_ADDRS is not set (scripts/redis-cluster.sh start prints it)")
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	b.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return n.Ping(ctx).Err() }); err != nil {
		fail("Redis Cluster at %s is unreachable: %v", addrs, err)
	}
	return c
}

// redisPrefix returns a key prefix of its own, whose keys are deleted when b
// ends.
func redisPrefix(b *testing.B, c redis.UniversalClient) string {
	prefix := fmt.Sprintf("ssbench:%d:%d:", time.Now().UnixNano(), benchSeq.Add(1))
	b.Cleanup(func() {
		ctx := context.Background()
		unlink := func(ctx context.Context, n *redis.Client) error {
			iter := n.Scan(ctx, 0, prefix+"*", 1000).Iterator()
			for iter.Next(ctx) {
				n.Unlink(ctx, iter.Val())
			}
			return iter.Err()
		}
		if cc, ok := c.(*redis.ClusterClient); ok {
			cc.ForEachMaster(ctx, unlink)
		} else {
			unlink(ctx, c.(*redis.Client))
		}
	})
	return prefix
}

// clusterStore is scs's goredisstore over a Redis Cluster client, which
// goredisstore does not take (it wants a *redis.Client): the same three
// commands, GET, SET with PX and DEL, of one key each. It is plain scs's
// side of the comparison on Cluster.
type clusterStore struct {
	client redis.UniversalClient
	prefix string
}

func (r *clusterStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	b, err := r.client.Get(ctx, r.prefix+token).Bytes()
	if err == redis.Nil {
		return nil, false, nil
	}
	return b, err == nil, err
}

func (r *clusterStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	return r.client.Set(ctx, r.prefix+token, string(b), time.Until(expiry)).Err()
}

func (r *clusterStore) DeleteCtx(ctx context.Context, token string) error {
	return r.client.Del(ctx, r.prefix+token).Err()
}

func (r *clusterStore) Find(string) ([]byte, bool, error)      { panic("missing context arg") }
func (r *clusterStore) Commit(string, []byte, time.Time) error { panic("missing context arg") }
func (r *clusterStore) Delete(string) error                    { panic("missing context arg") }

// roundTrips is a go-redis hook that counts the exchanges with the server: a
// command, or a pipeline.
type roundTrips struct{ n atomic.Int64 }

func (c *roundTrips) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// newRedisBenchApp is newBenchApp over Redis: plain scs on goredisstore
// (clusterStore on Cluster) when plain is set, otherwise Manager.Middleware
// over redisstore.
func newRedisBenchApp(b *testing.B, c redis.UniversalClient, plain bool) *benchApp {
	b.Helper()
	a := &benchApp{sessions: scs.New()}
	prefix := redisPrefix(b, c)
	switch c := c.(type) {
	case *redis.Client:
		if plain {
			a.sessions.Store = goredisstore.NewWithPrefix(c, prefix)
		}
	default:
		if plain {
			a.sessions.Store = &clusterStore{client: c, prefix: prefix}
		}
	}
	if !plain {
		m, err := singlesession.New(a.sessions, redisstore.NewWithPrefix(c, prefix), singlesession.Config{})
		require.NoError(b, err)
		a.m = m
	}
	a.route()
	return a
}

// redisClients returns a function that makes a new client of the Redis
// (REDIS_URL) or the Redis Cluster (REDIS_CLUSTER_ADDRS) of topology
// ("single" or "cluster"), each request side having its own.
func redisClients(b *testing.B, topology string) func() redis.UniversalClient {
	if topology == "single" {
		c := redisClient(b)
		return func() redis.UniversalClient { return redis.NewClient(c.Options()) }
	}
	c := redisCluster(b)
	return func() redis.UniversalClient { return redis.NewClusterClient(c.Options()) }
}

// BenchmarkRequestRedis compares plain scs over its goredisstore with
// singlesession over redisstore, on the same Redis (REDIS_URL), and on a
// Redis Cluster (REDIS_CLUSTER_ADDRS) plain scs over goredisstore's
// commands (clusterStore) with redisstore: a signed-in read, a signed-in
// write, and a login from a new browser (which, under the default policy,
// ends the user's previous session). It reports the round trips to Redis of
// each request (roundtrips/op). Both sides run in one process, alternating
// case by case, so that their ratio comes from the same run; compare them
// with benchstat -col /impl.
func BenchmarkRequestRedis(b *testing.B) {
	impls := []string{"scs", "singlesession"}
	if *benchSwap {
		impls[0], impls[1] = impls[1], impls[0]
	}
	for _, topology := range []string{"single", "cluster"} {
		b.Run("topology="+topology, func(b *testing.B) {
			newClient := redisClients(b, topology)
			for _, op := range []string{"read", "write", "login"} {
				for _, impl := range impls {
					b.Run(fmt.Sprintf("case=%s/impl=%s", op, impl), func(b *testing.B) {
						counter := &roundTrips{}
						client := newClient()
						b.Cleanup(func() { client.Close() })
						client.AddHook(counter)
						a := newRedisBenchApp(b, client, impl == "scs")
						user := fmt.Sprintf("%s-%s", op, impl)
						cookie := a.login(b, user)
						counter.n.Store(0)
						for b.Loop() {
							var rec *httptest.ResponseRecorder
							switch op {
							case "read":
								rec = a.serve("GET", "/read", cookie)
							case "write":
								rec = a.serve("POST", "/write", cookie)
							default:
								rec = a.serve("POST", "/login?user="+user, nil)
							}
							if rec.Code >= 300 {
								b.Fatalf("%s: %d %s", op, rec.Code, rec.Body)
							}
						}
						b.ReportMetric(float64(counter.n.Load())/float64(b.N), "roundtrips/op")
					})
				}
			}
		})
	}
}
