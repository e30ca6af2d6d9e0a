package redisstore_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/redisstore"
)

// logged returns a logger that writes every level, Debug included, to the
// returned buffer.
func logged() (*slog.Logger, *testapp.SyncBuffer) {
	buf := &testapp.SyncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// storeWithLog returns a store over c with a prefix of its own that logs to
// the returned buffer.
func storeWithLog(t testing.TB, c redis.UniversalClient) (*redisstore.Store, *testapp.SyncBuffer) {
	logger, buf := logged()
	s, err := redisstore.NewWithOptions(c, redisstore.Options{Prefix: testPrefix(t, c), Logger: logger})
	require.NoError(t, err)
	return s, buf
}

// some runs a few operations of every kind.
func some(t testing.TB, s *redisstore.Store) {
	ctx := context.Background()
	for range 3 {
		tok := token("some")
		require.NoError(t, s.Insert(ctx, tok, []byte("x"), time.Now().Add(time.Hour)))
		_, err := s.Find(ctx, tok, time.Minute)
		require.NoError(t, err)
		_, err = s.CountSessions(ctx, []string{"alice"})
		require.NoError(t, err)
	}
}

// SPEC 8.2: at its first operation the store reads maxmemory-policy and,
// when Redis may evict its keys, logs one warning that says what eviction
// costs; a Redis that refuses CONFIG GET is noted once at Debug.
func TestEvictionPolicyWarning(t *testing.T) {
	for _, policy := range []string{"allkeys-lru", "volatile-lru", "allkeys-lfu"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			srv := startPrivateRedis(t, "--maxmemory", "64mb", "--maxmemory-policy", policy)
			s, logs := storeWithLog(t, srv.client())
			some(t, s)
			out := logs.String()
			assert.Equal(t, 1, strings.Count(out, "level=WARN"), out)
			assert.Contains(t, out, "maxmemory-policy="+policy)
			assert.Contains(t, out, "nodes=["+srv.addr()+"]")
			assert.Contains(t, out, "signs out its session")
		})
	}
	t.Run("noeviction", func(t *testing.T) {
		t.Parallel()
		srv := startPrivateRedis(t, "--maxmemory", "64mb", "--maxmemory-policy", "noeviction")
		s, logs := storeWithLog(t, srv.client())
		some(t, s)
		assert.Empty(t, logs.String())
	})
	t.Run("CONFIG refused", func(t *testing.T) {
		t.Parallel()
		srv := startPrivateRedis(t, "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru", "--rename-command", "CONFIG", "")
		s, logs := storeWithLog(t, srv.client())
		some(t, s)
		out := logs.String()
		assert.Equal(t, 1, strings.Count(out, "\n"), out)
		assert.Contains(t, out, "level=DEBUG")
		assert.Contains(t, out, "cannot read maxmemory-policy")
	})
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		c := clusterClient(t)
		s, logs := storeWithLog(t, c)
		some(t, s)
		var mu sync.Mutex
		policies := map[string]bool{}
		require.NoError(t, c.ForEachMaster(context.Background(), func(ctx context.Context, n *redis.Client) error {
			v, err := n.ConfigGet(ctx, "maxmemory-policy").Result()
			mu.Lock()
			defer mu.Unlock()
			policies[v["maxmemory-policy"]] = true
			return err
		}))
		if policies["noeviction"] && len(policies) == 1 {
			assert.Empty(t, logs.String())
		} else {
			assert.Equal(t, 1, strings.Count(logs.String(), "level=WARN"), logs.String())
		}
	})
}
