package redisstore

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// evictionCheck reads, once, whether Redis may evict the store's keys.
type evictionCheck struct {
	done atomic.Bool
	mu   sync.Mutex
	next time.Time // after a failure to ask: when to ask again
}

// checkEviction reads maxmemory-policy on every node (every master of a
// cluster) at the store's first operation, and logs one warning when a node
// may evict keys: an evicted key signs sessions out before they expire
// (the store fails closed), so the README asks for noeviction. A node that
// refuses CONFIG GET (a managed Redis, an ACL) is noted once at Debug; a
// node that cannot be reached is asked again at a later operation, at most
// every 10 seconds.
func (s *Store) checkEviction(ctx context.Context) {
	if s.eviction.done.Load() {
		return
	}
	s.eviction.mu.Lock()
	defer s.eviction.mu.Unlock()
	if s.eviction.done.Load() || time.Now().Before(s.eviction.next) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var (
		mu       sync.Mutex
		evicting []string
		policy   string
	)
	err := s.forEachNode(ctx, func(ctx context.Context, c *redis.Client) error {
		v, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
		if err != nil {
			return err
		}
		if p := v["maxmemory-policy"]; p != "noeviction" {
			mu.Lock()
			defer mu.Unlock()
			evicting = append(evicting, c.Options().Addr)
			policy = p
		}
		return nil
	})
	var refused redis.Error
	switch {
	case errors.As(err, &refused):
		s.log().DebugContext(ctx, "singlesession: redisstore: cannot read maxmemory-policy; if Redis may evict keys, evicted keys sign sessions out early", "err", err)
	case err != nil:
		s.eviction.next = time.Now().Add(10 * time.Second)
		return
	case len(evicting) > 0:
		slices.Sort(evicting)
		s.log().WarnContext(ctx, "singlesession: redisstore: Redis may evict this store's keys: an evicted key signs out its session, or every session of its user, before it expires (the store fails closed: an evicted session is never served, listed or counted); set maxmemory-policy noeviction and give Redis enough memory, see the README's \"Eviction\"",
			"maxmemory-policy", policy, "nodes", evicting)
	}
	s.eviction.done.Store(true)
}
