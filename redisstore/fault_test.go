package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// Redis restarted in the middle of logins, saves and logouts: afterwards
// every session that claims a user is in that user's index and has its
// pointer, every index entry has its session, no user holds more sessions
// than the limit, and DeleteExpired leaves no orphaned index entry.
func TestRedisRestartMidLoad(t *testing.T) {
	// An append-only file fsynced at every write: what survives a restart
	// is every acknowledged script, whole.
	srv := startPrivateRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
		t.Cleanup(func() { c.Close() })
		return c
	}
	one, two := newClient(), newClient()
	prefix := "restart:"
	stores := []*redisstore.Store{redisstore.NewWithPrefix(one, prefix), redisstore.NewWithPrefix(two, prefix)}
	users := []string{"alice", "bob", "carol"}
	ctx := context.Background()

	kept := token("kept")
	_, err := stores[0].Login(ctx, singlesession.Login{UserID: "dave", Token: kept, Data: []byte("d"), Expiry: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	var (
		stop          atomic.Bool
		wg            sync.WaitGroup
		okOps, failed atomic.Int64
	)
	for g := range 12 {
		wg.Go(func() {
			s := stores[g%2]
			var previous string
			for i := 0; !stop.Load(); i++ {
				user := users[(g+i)%len(users)]
				tok := token(fmt.Sprint("g", g, "-"))
				var replaces []string
				if previous != "" {
					replaces = []string{previous}
				}
				_, err := s.Login(ctx, singlesession.Login{UserID: user, Token: tok, Data: []byte("d"),
					Expiry: time.Now().Add(time.Hour), Replaces: replaces, Limit: singlesession.Limit{Max: 2}})
				if err == nil {
					previous = tok
					_, err = s.Update(ctx, singlesession.Update{Token: tok, Data: []byte("e"), Expiry: time.Now().Add(time.Hour), Touch: true})
				}
				if err == nil && i%5 == 4 {
					_, err = s.Logout(ctx, singlesession.Logout{Tokens: []string{tok}, UserID: user})
					previous = ""
				}
				if err != nil {
					failed.Add(1)
					time.Sleep(5 * time.Millisecond)
				} else {
					okOps.Add(1)
				}
			}
		})
	}
	time.Sleep(700 * time.Millisecond)
	srv.restart()
	time.Sleep(700 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d operations succeeded, %d failed while Redis restarted", okOps.Load(), failed.Load())
	require.Positive(t, okOps.Load())

	f, err := stores[0].Find(ctx, kept, time.Minute)
	require.NoError(t, err)
	require.True(t, f.Found, "what Redis acknowledged before the restart survives it (append-only file)")

	c := newClient()
	check := func() {
		for _, u := range users {
			base := prefix + "u:{" + u + "}"
			g := generation(t, c, prefix, u)
			byExpiry, err := c.ZRange(ctx, base+":x:"+g, 0, -1).Result()
			require.NoError(t, err)
			byLastSeen, err := c.ZRange(ctx, base+":l:"+g, 0, -1).Result()
			require.NoError(t, err)
			assert.ElementsMatch(t, byExpiry, byLastSeen, "%s: the two indexes agree", u)
			inIndex := map[string]bool{}
			for _, id := range byExpiry {
				inIndex[id] = true
				gen, err := c.HGet(ctx, base+":s:"+id, "g").Result()
				require.NoError(t, err, "index entry %s of %s has no session", id, u)
				assert.Equal(t, g, gen, "index entry %s of %s", id, u)
			}
			assert.LessOrEqual(t, len(byExpiry), 2, "%s holds more sessions than the limit", u)
			for _, k := range keys(t, c, prefix, "u:{"+u+"}:s:*") {
				f, err := c.HMGet(ctx, k, "g", "t").Result()
				require.NoError(t, err)
				id := k[strings.LastIndex(k, ":")+1:]
				if f[0] != g {
					continue // of an old generation: ended, cleaned later
				}
				assert.True(t, inIndex[id], "session %s of %s is not in the index (a half login)", id, u)
				found, err := stores[0].Find(ctx, f[1].(string), time.Minute)
				require.NoError(t, err)
				assert.True(t, found.Found, "session %s of %s cannot be loaded (no pointer)", id, u)
				assert.Equal(t, u, found.UserID)
			}
		}
	}
	check()
	_, err = stores[0].DeleteExpired(ctx)
	require.NoError(t, err)
	check()
}
