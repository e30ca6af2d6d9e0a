package loadtest

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/redis/go-redis/v9"

	"github.com/go-singlesession/singlesession/redisstore"
)

// redisStores makes the comparison's stores on cfg's Redis or Redis
// Cluster: redisstore under the prefix "sslt:<random>:ss:" and plain scs's
// store under "sslt:<random>:scs:". Each side has a client, and so a pool,
// of its own, as each has a pgxpool on PostgreSQL.
func redisStores(ctx context.Context, cfg *Config) (*compareStores, error) {
	newClient, backend, err := redisClients(cfg)
	if err != nil {
		return nil, err
	}
	ssClient, plainClient := newClient(), newClient()
	closeClients := func() {
		ssClient.Close()
		plainClient.Close()
	}
	for _, c := range []redis.UniversalClient{ssClient, plainClient} {
		if err := ping(ctx, c); err != nil {
			closeClients()
			return nil, fmt.Errorf("loadtest: compare: %s at %s: %w", backend, redisWhere(cfg), err)
		}
	}

	b := make([]byte, 6)
	_, _ = crand.Read(b)
	prefix := "sslt:" + hex.EncodeToString(b) + ":"
	ssPrefix, plainPrefix := prefix+"ss:", prefix+"scs:"
	ss, err := redisstore.NewWithOptions(ssClient, redisstore.Options{Prefix: ssPrefix, Logger: cfg.Logger})
	if err != nil {
		closeClients()
		return nil, fmt.Errorf("loadtest: compare: %w", err)
	}
	stores := &compareStores{
		backend:   backend,
		keyPrefix: prefix,
		ss:        ss,
		ssName:    "singlesession (redisstore)",
		release: func() (ssKeys, plainKeys int, err error) {
			defer closeClients()
			// The keys go even when ctx ended (an interrupted run), within
			// their own deadline.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.RecoveryTimeout)
			defer cancel()
			ssKeys, ssErr := unlinkPrefix(ctx, ssClient, ssPrefix)
			plainKeys, plainErr := unlinkPrefix(ctx, plainClient, plainPrefix)
			if err := errors.Join(ssErr, plainErr); err != nil {
				return ssKeys, plainKeys, fmt.Errorf("loadtest: compare: delete the keys under %s*: %w", prefix, err)
			}
			return ssKeys, plainKeys, nil
		},
	}
	switch c := plainClient.(type) {
	case *redis.Client:
		stores.plain = goredisstore.NewWithPrefix(c, plainPrefix)
		stores.plainName = "plain scs (goredisstore)"
	default:
		stores.plain = &clusterStore{client: c, prefix: plainPrefix}
		stores.plainName = "plain scs (goredisstore's commands)"
	}
	return stores, nil
}

// redisClients returns a function that makes a new client of cfg's Redis or
// Redis Cluster, and the name of the backend.
func redisClients(cfg *Config) (func() redis.UniversalClient, string, error) {
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, "", fmt.Errorf("loadtest: compare: Redis URL: %w", err)
		}
		return func() redis.UniversalClient {
			o := *opts
			o.PoolSize = int(cfg.MaxConns)
			return redis.NewClient(&o)
		}, "Redis", nil
	}
	for _, a := range cfg.RedisClusterAddrs {
		if a == "" || strings.ContainsAny(a, " ,/") {
			return nil, "", fmt.Errorf("loadtest: compare: Redis Cluster address %q: want host:port", a)
		}
	}
	return func() redis.UniversalClient {
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:    cfg.RedisClusterAddrs,
			PoolSize: int(cfg.MaxConns),
		})
	}, "Redis Cluster", nil
}

// redisWhere names cfg's Redis for an error, without the URL's password.
func redisWhere(cfg *Config) string {
	if cfg.RedisURL != "" {
		if opts, err := redis.ParseURL(cfg.RedisURL); err == nil {
			return opts.Addr
		}
	}
	return strings.Join(cfg.RedisClusterAddrs, ",")
}

// ping checks that the Redis, or every master of the cluster, answers,
// within 10 seconds.
func ping(ctx context.Context, c redis.UniversalClient) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return n.Ping(ctx).Err() })
	}
	return c.Ping(ctx).Err()
}

// unlinkPrefix deletes every key under prefix, on every master of a
// cluster, and returns how many it deleted. It walks the key space once
// with SCAN (1,000 keys a step) and unlinks each step's keys in one
// pipeline, one key a command (a cluster node refuses a command on keys of
// several slots); ctx bounds it.
func unlinkPrefix(ctx context.Context, c redis.UniversalClient, prefix string) (int, error) {
	var deleted atomic.Int64
	node := func(ctx context.Context, n *redis.Client) error {
		var cursor uint64
		for {
			keys, next, err := n.Scan(ctx, cursor, prefix+"*", 1000).Result()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				cmds, err := n.Pipelined(ctx, func(p redis.Pipeliner) error {
					for _, k := range keys {
						p.Unlink(ctx, k)
					}
					return nil
				})
				if err != nil {
					return err
				}
				for _, cmd := range cmds {
					deleted.Add(cmd.(*redis.IntCmd).Val())
				}
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	var err error
	switch c := c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, node)
	case *redis.Client:
		err = node(ctx, c)
	default:
		err = fmt.Errorf("unexpected client %T", c)
	}
	return int(deleted.Load()), err
}

// clusterStore is scs's goredisstore over a Redis Cluster client, which
// goredisstore does not take (it wants a *redis.Client): the same three
// commands, GET, SET with PX and DEL, of one key each. It is plain scs's
// side of the comparison on Cluster. It is a copy of compat's clusterStore
// (compat/redis_bench_test.go): sharing it would make one unreleased module
// require the other.
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
