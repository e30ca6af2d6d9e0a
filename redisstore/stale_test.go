package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// A signed-in session is stale when its last seen is at least staleAfter
// old, by Redis's clock, which stamped it: on either side of the boundary,
// on a first load and on a load of a token the store already knows, on a
// single Redis and on a Cluster.
func TestFindStale(t *testing.T) {
	for _, topology := range []string{"single", "cluster"} {
		t.Run(topology, func(t *testing.T) {
			var c redis.UniversalClient
			if topology == "single" {
				c = singleClient(t)
			} else {
				c = clusterClient(t)
			}
			s, _ := newStore(t, c)
			ctx := context.Background()
			tok := token("stale")
			_, err := login(t, s, "alice", tok, singlesession.Limit{})
			require.NoError(t, err)
			for _, load := range []string{"first", "known"} {
				f, err := s.Find(ctx, tok, time.Hour)
				require.NoError(t, err)
				require.Equal(t, "alice", f.UserID, load)
				assert.False(t, f.Stale, "%s load: seen just now, not an hour ago", load)
			}
			time.Sleep(30 * time.Millisecond)
			f, err := s.Find(ctx, tok, 20*time.Millisecond)
			require.NoError(t, err)
			assert.True(t, f.Stale, "seen 30 ms ago: stale after 20 ms")
			require.NoError(t, s.Touch(ctx, tok))
			f, err = s.Find(ctx, tok, 20*time.Millisecond)
			require.NoError(t, err)
			assert.False(t, f.Stale, "touched: seen just now")
		})
	}
}
