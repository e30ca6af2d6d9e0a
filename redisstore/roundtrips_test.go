package redisstore_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// counter is a go-redis hook that counts the exchanges with the server: a
// command, or a pipeline, to one node.
type counter struct{ n atomic.Int64 }

func (c *counter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// take returns the count since the last take.
func (c *counter) take() int { return int(c.n.Swap(0)) }

// countedSingle is a client of the single Redis whose exchanges c counts.
func countedSingle(t testing.TB, c *counter) redis.UniversalClient {
	client := singleClient(t)
	client.AddHook(c)
	return client
}

// countedCluster is a client of the cluster whose round trips c counts: a
// command, or a pipeline, however many nodes it reaches at once (one round
// trip of latency). nodes, when not nil, counts the exchanges with each
// node.
func countedCluster(t testing.TB, c, nodes *counter) redis.UniversalClient {
	clusterClient(t) // fails or skips when there is none
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(os.Getenv("REDIS_CLUSTER_ADDRS"), ",")})
	client.AddHook(c)
	if nodes != nil {
		client.OnNewNode(func(n *redis.Client) { n.AddHook(nodes) })
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// The round trips of each operation: one for every operation on a single
// Redis; on Cluster, one per step (see the package documentation). A step
// that needs two slots at once (a signed-in save extends the token's
// pointer beside the session) sends both in one pipeline: one round trip of
// latency, an exchange with each of two nodes.
func TestRoundTrips(t *testing.T) {
	type want struct{ single, cluster int }
	wants := map[string]want{
		"find anonymous":      {1, 1},
		"find signed-in":      {1, 1}, // the login cached the token's pointer
		"find ended":          {1, 1},
		"find, new instance":  {1, 2}, // its first load of the token reads the pointer
		"find, again":         {1, 1}, // then it knows it
		"find unknown":        {1, 1},
		"insert":              {1, 1},
		"update anonymous":    {1, 1},
		"update signed-in":    {1, 1},
		"touch":               {1, 1},
		"login":               {1, 2},
		"login, same user":    {1, 2},
		"logout":              {1, 2},
		"revoke":              {1, 1},
		"sessions":            {1, 2}, // the page's pointers are checked in a second round trip
		"count sessions of 1": {1, 2}, // so are those of the counted sessions
		"end 1 user":          {1, 1},
	}
	for _, topology := range []string{"single", "cluster"} {
		t.Run(topology, func(t *testing.T) {
			c, nodes := &counter{}, &counter{}
			var client redis.UniversalClient
			if topology == "single" {
				client = countedSingle(t, c)
			} else {
				client = countedCluster(t, c, nodes)
			}
			prefix := testPrefix(t, client)
			s := redisstore.NewWithPrefix(client, prefix)
			other := redisstore.NewWithPrefix(client, prefix) // another instance: its own cache
			ctx := context.Background()
			hour := time.Now().Add(time.Hour)
			anon, first, second, third := token("anon"), token("first"), token("second"), token("third")
			ops := []struct {
				name string
				op   func() error
			}{
				{"insert", func() error { return s.Insert(ctx, anon, []byte("x"), hour) }},
				{"login", func() error { _, err := login(t, s, "alice", first, singlesession.Limit{Max: 1}); return err }},
				{"login, same user", func() error {
					_, err := login(t, s, "alice", second, singlesession.Limit{Max: 1}, first)
					return err
				}},
				{"find anonymous", func() error { _, err := s.Find(ctx, anon, time.Minute); return err }},
				{"find signed-in", func() error { _, err := s.Find(ctx, second, time.Minute); return err }},
				{"find ended", func() error { _, err := s.Find(ctx, first, time.Minute); return err }},
				{"find unknown", func() error { _, err := s.Find(ctx, token("unknown"), time.Minute); return err }},
				{"find, new instance", func() error {
					other = redisstore.NewWithPrefix(client, prefix) // forget what the warm-up taught it
					// Its first operation reads maxmemory-policy once; not counted.
					_, err := other.CountSessions(ctx, nil)
					require.NoError(t, err)
					c.take()
					nodes.take()
					f, err := other.Find(ctx, second, time.Minute)
					if err == nil && !f.Found {
						err = errors.New("not found")
					}
					return err
				}},
				{"find, again", func() error { _, err := other.Find(ctx, second, time.Minute); return err }},
				{"update anonymous", func() error {
					_, err := s.Update(ctx, singlesession.Update{Token: anon, Data: []byte("y"), Expiry: hour})
					return err
				}},
				{"update signed-in", func() error {
					_, err := s.Update(ctx, singlesession.Update{Token: second, Data: []byte("y"), Expiry: hour, Touch: true})
					return err
				}},
				{"touch", func() error { return s.Touch(ctx, second) }},
				{"sessions", func() error {
					_, err := s.Sessions(ctx, singlesession.SessionsQuery{UserID: "alice", Limit: 10})
					return err
				}},
				{"count sessions of 1", func() error { _, err := s.CountSessions(ctx, []string{"alice"}); return err }},
				{"revoke", func() error {
					_, err := s.EndSessions(ctx, singlesession.EndSessions{UserID: "alice", IDs: []string{"none"}})
					return err
				}},
				{"logout", func() error {
					_, err := s.Logout(ctx, singlesession.Logout{Tokens: []string{second}, UserID: "alice"})
					return err
				}},
				{"end 1 user", func() error {
					_, err := login(t, s, "bob", third, singlesession.Limit{Max: 1})
					require.NoError(t, err)
					c.take()
					nodes.take()
					_, err = s.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"bob"}})
					return err
				}},
			}
			// Load every script on every node first: a script's first run
			// on a node costs one more round trip (NOSCRIPT, then EVAL).
			// Fresh tokens land in random slots, so 20 warm-ups reach each
			// of three nodes with every token-slot script but for a
			// chance of about 3 in 10,000.
			for range 20 {
				for _, o := range ops {
					require.NoError(t, o.op(), o.name)
				}
				anon, first, second, third = token("anon"), token("first"), token("second"), token("third")
				_, err := s.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"alice", "bob"}})
				require.NoError(t, err)
			}
			c.take()
			nodes.take()
			for _, o := range ops {
				require.NoError(t, o.op(), o.name)
				n, e := c.take(), nodes.take()
				if topology == "single" {
					e = n
				}
				w := wants[o.name].single
				if topology == "cluster" {
					w = wants[o.name].cluster
				}
				assert.Equal(t, w, n, "%s: round trips", o.name)
				t.Logf("%-20s %d round trips, %d node exchanges", o.name, n, e)
			}
		})
	}
}
