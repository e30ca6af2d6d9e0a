package redisstore_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// forEachTopology runs f on a single Redis and on Redis Cluster, each with a
// factory of clients (two stores over one backend need two clients).
func forEachTopology(t *testing.T, f func(t *testing.T, client func() redis.UniversalClient)) {
	t.Run("single", func(t *testing.T) {
		t.Parallel()
		f(t, func() redis.UniversalClient { return singleClient(t) })
	})
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		f(t, func() redis.UniversalClient { return clusterClient(t) })
	})
}

func login(t testing.TB, s singlesession.Store, user, token string, limit singlesession.Limit, replaces ...string) (singlesession.LoginResult, error) {
	t.Helper()
	return s.Login(context.Background(), singlesession.Login{
		UserID: user, Token: token, Data: []byte("data of " + token), Expiry: time.Now().Add(time.Hour),
		Replaces: replaces, Limit: limit, IP: "192.0.2.1", UserAgent: "test",
	})
}

// token makes a token as scs would (43 base64url characters), unique per call.
var tokenN struct {
	sync.Mutex
	n int
}

func token(name string) string {
	tokenN.Lock()
	defer tokenN.Unlock()
	tokenN.n++
	return fmt.Sprintf("%s%0*d", name, 43-len(name), tokenN.n)
}

// Every key the store writes has an absolute expiry, an ended session's
// token appears in no key or value, and the user's keys share one hash slot.
func TestKeysExpireAndHideEndedTokens(t *testing.T) {
	forEachTopology(t, func(t *testing.T, client func() redis.UniversalClient) {
		c := client()
		s, prefix := newStore(t, c)
		ctx := context.Background()
		anon, first, second := token("anon"), token("first"), token("second")
		require.NoError(t, s.Insert(ctx, anon, []byte("cart"), time.Now().Add(time.Hour)))
		_, err := login(t, s, "ali{ce}%", first, singlesession.Limit{Max: 1})
		require.NoError(t, err)
		res, err := login(t, s, "ali{ce}%", second, singlesession.Limit{Max: 1})
		require.NoError(t, err)
		assert.Equal(t, 1, res.Ended)
		f, err := s.Find(ctx, first, time.Minute)
		require.NoError(t, err)
		require.NotNil(t, f.Ending)
		assert.Equal(t, singlesession.ReasonLogin, f.Ending.Reason)
		f, err = s.Find(ctx, second, time.Minute)
		require.NoError(t, err)
		assert.True(t, f.Found)
		assert.Equal(t, "ali{ce}%", f.UserID)

		all := keys(t, c, prefix, "*")
		require.NotEmpty(t, all)
		slots := map[int64]bool{}
		for _, k := range all {
			ttl, err := c.PTTL(ctx, k).Result()
			require.NoError(t, err)
			assert.Positive(t, ttl, "%s has no expiry", k)
			assert.NotContains(t, k, first, "an ended token in a key")
			if strings.Contains(k, ":u:{") {
				slot, err := c.ClusterKeySlot(ctx, k).Result()
				if err == nil {
					slots[slot] = true
				}
			}
			if typ, _ := c.Type(ctx, k).Result(); typ == "hash" {
				vals, err := c.HGetAll(ctx, k).Result()
				require.NoError(t, err)
				for _, v := range vals {
					assert.NotContains(t, v, first, "an ended token in %s", k)
				}
			}
		}
		if _, ok := c.(*redis.ClusterClient); ok {
			assert.Len(t, slots, 1, "the user's keys share one hash slot")
		}
	})
}

// A save with an expiry in the past, or a zero one, never writes a key
// without expiry (go-redis would drop a non-positive TTL).
func TestPastExpiry(t *testing.T) {
	forEachTopology(t, func(t *testing.T, client func() redis.UniversalClient) {
		c := client()
		s, prefix := newStore(t, c)
		ctx := context.Background()
		anon := token("anon")
		require.NoError(t, s.Insert(ctx, anon, []byte("x"), time.Time{}))
		require.NoError(t, s.Insert(ctx, token("past"), []byte("x"), time.Now().Add(-time.Hour)))
		assert.Empty(t, keys(t, c, prefix, "*"))
		live, linked := token("live"), token("linked")
		require.NoError(t, s.Insert(ctx, live, []byte("x"), time.Now().Add(time.Hour)))
		_, err := login(t, s, "bob", linked, singlesession.Limit{})
		require.NoError(t, err)
		for _, tok := range []string{live, linked} {
			found, err := s.Update(ctx, singlesession.Update{Token: tok, Data: []byte("y"), Expiry: time.Now().Add(-time.Second)})
			require.NoError(t, err)
			assert.True(t, found)
			f, err := s.Find(ctx, tok, time.Minute)
			require.NoError(t, err)
			assert.False(t, f.Found, "expired by the update")
		}
		for _, k := range keys(t, c, prefix, "*") {
			ttl, err := c.PTTL(ctx, k).Result()
			require.NoError(t, err)
			assert.Positive(t, ttl, "%s has no expiry", k)
		}
	})
}

// Many rounds of concurrent logins of one user on two clients: exactly Max
// sessions, and with RejectNew exactly Max successes.
func TestConcurrentLoginsTwoClients(t *testing.T) {
	forEachTopology(t, func(t *testing.T, client func() redis.UniversalClient) {
		one := client()
		s1, prefix := newStore(t, one)
		s2 := redisstore.NewWithPrefix(client(), prefix)
		stores := []singlesession.Store{s1, s2}
		for _, limit := range []singlesession.Limit{{Max: 1}, {Max: 3}, {Max: 3, RejectNew: true}} {
			user := fmt.Sprintf("user-%d-%t", limit.Max, limit.RejectNew)
			for round := range 25 {
				var (
					wg      sync.WaitGroup
					mu      sync.Mutex
					ok      int
					refused int
				)
				start := make(chan struct{})
				for i := range 24 {
					wg.Go(func() {
						<-start
						_, err := login(t, stores[i%2], user, token("c"), limit)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							ok++
						case assert.ErrorIs(t, err, singlesession.ErrTooManySessions):
							refused++
						}
					})
				}
				close(start)
				wg.Wait()
				list, err := s1.Sessions(context.Background(), singlesession.SessionsQuery{UserID: user, Limit: 100})
				require.NoError(t, err)
				assert.Len(t, list.Sessions, limit.Max, "%+v round %d", limit, round)
				if limit.RejectNew {
					assert.Equal(t, limit.Max, ok, "round %d", round)
					assert.Equal(t, 24-limit.Max, refused)
					_, err := s2.EndUsers(context.Background(), singlesession.EndUsers{UserIDs: []string{user}})
					require.NoError(t, err)
				} else {
					assert.Equal(t, 24, ok)
				}
				if !limit.RejectNew {
					assert.EqualValues(t, limit.Max, indexEntries(t, one, prefix, user), "index entries, round %d", round)
				}
			}
		}
	})
}

// snapshot is every key under prefix with its type-independent dump.
func snapshot(t testing.TB, c redis.UniversalClient, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range keys(t, c, prefix, "*") {
		d, err := c.Dump(context.Background(), k).Result()
		require.NoError(t, err)
		out[k] = d
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// A script that fails (a key of the wrong type in its way) changes nothing:
// every script reads each key it writes before its first write. (A session
// hash that a script only deletes, as ending it does, is not in its way.)
func TestFailingScriptChangesNothing(t *testing.T) {
	forEachTopology(t, func(t *testing.T, client func() redis.UniversalClient) {
		c := client()
		ctx := context.Background()
		corruptSession := func(t *testing.T, prefix, tok string) {
			k := prefix + "u:{alice}:s:" + singlesession.SessionID(tok)
			require.NoError(t, c.Del(ctx, k).Err())
			require.NoError(t, c.RPush(ctx, k, "garbage").Err())
		}
		type change func(s *redisstore.Store, toks []string) error
		loginMax1 := func(s *redisstore.Store, toks []string) error {
			_, err := login(t, s, "alice", token("new"), singlesession.Limit{Max: 1})
			return err
		}
		cases := map[string]struct {
			corrupt func(t *testing.T, prefix string, toks []string)
			change  change
		}{
			"an index is a string, login": {
				func(t *testing.T, prefix string, toks []string) {
					k := prefix + "u:{alice}:x:" + generation(t, c, prefix, "alice")
					require.NoError(t, c.Del(ctx, k).Err())
					require.NoError(t, c.Set(ctx, k, "garbage", time.Hour).Err())
				},
				loginMax1,
			},
			"the meta is a list, operators' sign-out": {
				func(t *testing.T, prefix string, toks []string) {
					k := prefix + "u:{alice}:m"
					require.NoError(t, c.Del(ctx, k).Err())
					require.NoError(t, c.RPush(ctx, k, "garbage").Err())
				},
				func(s *redisstore.Store, toks []string) error {
					_, err := s.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"alice"}, Reason: singlesession.ReasonAdmin})
					return err
				},
			},
			"a session is a list, login under RejectNew": {
				func(t *testing.T, prefix string, toks []string) { corruptSession(t, prefix, toks[1]) },
				func(s *redisstore.Store, toks []string) error {
					_, err := login(t, s, "alice", token("new"), singlesession.Limit{Max: 3, RejectNew: true})
					return err
				},
			},
			"the browser's previous session is a list, login": {
				func(t *testing.T, prefix string, toks []string) { corruptSession(t, prefix, toks[0]) },
				func(s *redisstore.Store, toks []string) error {
					_, err := login(t, s, "alice", token("new"), singlesession.Limit{Max: 1}, toks[0])
					return err
				},
			},
			"the browser's session is a list, logout": {
				func(t *testing.T, prefix string, toks []string) { corruptSession(t, prefix, toks[0]) },
				func(s *redisstore.Store, toks []string) error {
					_, err := s.Logout(ctx, singlesession.Logout{Tokens: []string{toks[0]}, UserID: "alice"})
					return err
				},
			},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				s, prefix := newStore(t, c)
				toks := []string{token("one"), token("two"), token("three")}
				for _, tok := range toks {
					_, err := login(t, s, "alice", tok, singlesession.Limit{})
					require.NoError(t, err)
				}
				require.NoError(t, s.Insert(ctx, token("anon"), []byte("cart"), time.Now().Add(time.Hour)))
				tc.corrupt(t, prefix, toks)
				err := tc.change(s, toks)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "WRONGTYPE")
				assert.True(t, strings.HasPrefix(err.Error(), "singlesession: redisstore: "), err.Error())
				before := snapshot(t, c, prefix)
				// The same failure again, on the corrupted keys as they are now.
				require.Error(t, tc.change(s, toks))
				after := snapshot(t, c, prefix)
				if _, ok := c.(*redis.ClusterClient); ok {
					// On Cluster a login writes its token's pointer first, in
					// another slot: a stale pointer, harmless ("not found").
					for k := range after {
						if _, was := before[k]; !was && strings.HasPrefix(k, prefix+"t:{") {
							delete(after, k)
						}
					}
				}
				assert.Equal(t, sortedKeys(before), sortedKeys(after), "keys")
				assert.Equal(t, before, after, "values")
			})
		}
	})
}
