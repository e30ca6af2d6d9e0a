package redisstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
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

// evictedKeys returns INFO stats' evicted_keys of the server of c.
func evictedKeys(t testing.TB, c *redis.Client) int {
	t.Helper()
	info, err := c.Info(context.Background(), "stats").Result()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "evicted_keys:"); ok {
			n, err := strconv.Atoi(v)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no evicted_keys in INFO stats")
	return 0
}

// served returns the IDs of the tokens whose sessions Find serves as
// signed in as user.
func served(t testing.TB, s singlesession.Store, user string, tokens []string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, tok := range tokens {
		f, err := s.Find(context.Background(), tok, time.Minute)
		require.NoError(t, err)
		if f.Found && f.UserID != "" {
			require.Equal(t, user, f.UserID)
			out[singlesession.SessionID(tok)] = true
		}
	}
	return out
}

// listed pages through the user's sessions and returns their IDs and the
// Total of the first page.
func listed(t testing.TB, s singlesession.Store, user string) (map[string]bool, int) {
	t.Helper()
	out := map[string]bool{}
	q := singlesession.SessionsQuery{UserID: user, Limit: 7}
	total := -1
	for {
		res, err := s.Sessions(context.Background(), q)
		require.NoError(t, err)
		if total < 0 {
			total = res.Total
		}
		for _, info := range res.Sessions {
			assert.False(t, out[info.ID], "%s listed twice", info.ID)
			out[info.ID] = true
		}
		if len(res.Sessions) < q.Limit {
			return out, total
		}
		last := res.Sessions[len(res.Sessions)-1]
		q.After = singlesession.Position{LastSeen: last.LastSeen, ID: last.ID}
	}
}

// SPEC 8.2: Redis under maxmemory with an evicting policy deletes keys of
// the store until it evicts. However it chose them, no session is served
// as signed in that Sessions, CountSessions, a limit, a logout or an
// operators' sign-out cannot see; Sessions and CountSessions show exactly
// what Find serves; and a RejectNew user can always sign in up to the
// sessions a browser can still reach.
func TestEvictionFailsClosed(t *testing.T) {
	for _, policy := range []string{"allkeys-lru", "volatile-lru", "allkeys-lfu"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			srv := startPrivateRedis(t, "--maxmemory", "3mb", "--maxmemory-policy", policy)
			c := srv.client()
			logger, _ := logged()
			s, err := redisstore.NewWithOptions(c, redisstore.Options{Prefix: "ev:", Logger: logger})
			require.NoError(t, err)
			ctx := context.Background()
			const users = 300
			user := func(i int) string { return fmt.Sprintf("user-%03d", i) }
			tokens := make([][]string, users)
			data := []byte(strings.Repeat("d", 600))
			hour := time.Now().Add(time.Hour)
			for round := 0; evictedKeys(t, c) < 1500 && round < 60; round++ {
				for i := range users {
					tok := token("ev")
					_, err := s.Login(ctx, singlesession.Login{UserID: user(i), Token: tok, Data: data, Expiry: hour, IP: "192.0.2.1", UserAgent: "eviction"})
					require.NoError(t, err)
					tokens[i] = append(tokens[i], tok)
					// Some traffic on older sessions, so that LRU and LFU
					// have something to tell apart.
					old := tokens[(i*7+round)%users]
					if len(old) > 0 {
						_, err = s.Find(ctx, old[0], time.Minute)
						require.NoError(t, err)
						_, err = s.Update(ctx, singlesession.Update{Token: old[len(old)-1], Data: data, Expiry: hour, Touch: true})
						require.NoError(t, err)
					}
				}
			}
			evicted := evictedKeys(t, c)
			require.Positive(t, evicted, "the fill evicted nothing")
			require.NoError(t, c.ConfigSet(ctx, "maxmemory", "0").Err()) // no more eviction while checking
			t.Logf("%s: %d keys evicted", policy, evicted)

			signedIn := 0
			for i := range users {
				u := user(i)
				ids := served(t, s, u, tokens[i])
				signedIn += len(ids)
				list, total := listed(t, s, u)
				assert.Equal(t, ids, list, "%s: Sessions shows exactly what Find serves", u)
				assert.Equal(t, len(ids), total, "%s: Total", u)
				counts, err := s.CountSessions(ctx, []string{u})
				require.NoError(t, err)
				assert.Equal(t, len(ids), counts[u], "%s: CountSessions", u)

				switch i % 4 {
				case 0: // an operator signs the user out
					_, err := s.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{u}, Reason: singlesession.ReasonAdmin})
					require.NoError(t, err)
				case 1: // a logout, from a browser still signed in if any
					l := singlesession.Logout{UserID: u, Always: true}
					for _, tok := range tokens[i] {
						if ids[singlesession.SessionID(tok)] {
							l = singlesession.Logout{Tokens: []string{tok}, UserID: u}
							break
						}
					}
					_, err := s.Logout(ctx, l)
					require.NoError(t, err)
				case 2: // a login under Always
					tok := token("always")
					_, err := s.Login(ctx, singlesession.Login{UserID: u, Token: tok, Data: data, Expiry: hour, Limit: singlesession.Limit{Max: 1}})
					require.NoError(t, err)
					assert.Equal(t, map[string]bool{singlesession.SessionID(tok): true}, served(t, s, u, append(tokens[i], tok)), "%s: a login under Always leaves one session", u)
					tokens[i] = append(tokens[i], tok)
				case 3: // RejectNew: room for exactly one more than a browser can reach
					limit := singlesession.Limit{Max: len(ids) + 1, RejectNew: true}
					tok := token("reject")
					_, err := s.Login(ctx, singlesession.Login{UserID: u, Token: tok, Data: data, Expiry: hour, Limit: limit})
					require.NoError(t, err, "%s: %d reachable sessions, Max %d", u, len(ids), limit.Max)
					_, err = s.Login(ctx, singlesession.Login{UserID: u, Token: token("refused"), Data: data, Expiry: hour, Limit: limit})
					require.ErrorIs(t, err, singlesession.ErrTooManySessions, u)
					ids[singlesession.SessionID(tok)] = true
					tokens[i] = append(tokens[i], tok)
					assert.Equal(t, ids, served(t, s, u, tokens[i]), "%s: the sessions it had and the new one", u)
				}
				if i%4 < 2 {
					assert.Empty(t, served(t, s, u, tokens[i]), "%s: still signed in", u)
				}
			}
			t.Logf("%s: %d of %d sessions were still signed in after the eviction", policy, signedIn, users*len(tokens[0]))

			all := make([]string, users)
			for i := range users {
				all[i] = user(i)
			}
			_, err = s.EndUsers(ctx, singlesession.EndUsers{UserIDs: all, Reason: singlesession.ReasonAdmin})
			require.NoError(t, err)
			left := 0
			for i := range users {
				left += len(served(t, s, user(i), tokens[i]))
			}
			assert.Zero(t, left, "sessions still signed in after EndUsers of every user")
			counts, err := s.CountSessions(ctx, all)
			require.NoError(t, err)
			assert.Empty(t, counts)
		})
	}
}
