package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// replicated starts a primary and a replica of it (private redis-servers;
// the replica accepts DEBUG from loopback) and waits until the replica is
// in sync.
func replicated(t *testing.T) (primary, replica *privateRedis) {
	t.Helper()
	primary = startPrivateRedis(t, "--repl-diskless-sync-delay", "0")
	replica = startPrivateRedis(t, "--replicaof", "127.0.0.1", fmt.Sprint(primary.port), "--enable-debug-command", "local")
	r := replica.client()
	require.Eventually(t, func() bool {
		info, err := r.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	}, 20*time.Second, 20*time.Millisecond, "the replica did not sync")
	return primary, replica
}

// promote makes the replica a primary, as Sentinel does in a failover.
func promote(t *testing.T, replica *privateRedis) {
	t.Helper()
	require.NoError(t, replica.client().Do(context.Background(), "replicaof", "no", "one").Err())
}

// stall blocks the replica for d (DEBUG SLEEP), so that it acknowledges
// nothing meanwhile; it returns once the replica sleeps.
func stall(t *testing.T, replica *privateRedis, d time.Duration) {
	t.Helper()
	c := replica.client(func(o *redis.Options) { o.ReadTimeout = d + 5*time.Second })
	go func() { _ = c.Do(context.Background(), "debug", "sleep", d.Seconds()).Err() }()
	probe := replica.client(func(o *redis.Options) { o.ReadTimeout = 20 * time.Millisecond; o.MaxRetries = -1 })
	require.Eventually(t, func() bool { return probe.Ping(context.Background()).Err() != nil }, 5*time.Second, 5*time.Millisecond, "the replica did not stall")
}

// SPEC 8.10: Redis replicates asynchronously. With WaitReplicas, an
// operation that ends sessions returns only once a replica has it (or an
// error wrapping ErrNotReplicated within WaitTimeout); without it, a
// failover right after an acknowledged End signs the ended session in
// again.
func TestReplicasAndFailover(t *testing.T) {
	t.Run("WaitReplicas 1: the end survives a failover", func(t *testing.T) {
		t.Parallel()
		primary, replica := replicated(t)
		s, err := redisstore.NewWithOptions(primary.client(), redisstore.Options{Prefix: "r:", WaitReplicas: 1, WaitTimeout: 500 * time.Millisecond})
		require.NoError(t, err)
		ctx := context.Background()
		ended, kept := token("ended"), token("kept")
		_, err = login(t, s, "alice", ended, singlesession.Limit{})
		require.NoError(t, err)
		_, err = login(t, s, "bob", kept, singlesession.Limit{})
		require.NoError(t, err)
		_, err = s.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"alice"}, Reason: singlesession.ReasonAdmin})
		require.NoError(t, err)
		primary.kill() // the primary fails at once
		promote(t, replica)
		after := redisstore.NewWithPrefix(replica.client(), "r:")
		f, err := after.Find(ctx, ended, time.Minute)
		require.NoError(t, err)
		assert.False(t, f.Found, "the ended session stays ended on the promoted replica")
		require.NotNil(t, f.Ending)
		assert.Equal(t, singlesession.ReasonAdmin, f.Ending.Reason)
		f, err = after.Find(ctx, kept, time.Minute)
		require.NoError(t, err)
		assert.True(t, f.Found)
	})

	t.Run("WaitReplicas 1: a stalled replica gives ErrNotReplicated", func(t *testing.T) {
		t.Parallel()
		primary, replica := replicated(t)
		const timeout = 300 * time.Millisecond
		s, err := redisstore.NewWithOptions(primary.client(), redisstore.Options{Prefix: "r:", WaitReplicas: 1, WaitTimeout: timeout})
		require.NoError(t, err)
		ctx := context.Background()
		toks := []string{token("a"), token("b"), token("c"), token("d")}
		for _, tok := range toks {
			_, err := login(t, s, "alice", tok, singlesession.Limit{})
			require.NoError(t, err)
		}
		stall(t, replica, 4*time.Second)
		ops := map[string]func() error{
			"EndSessions": func() error {
				_, err := s.EndSessions(ctx, singlesession.EndSessions{UserID: "alice", IDs: []string{singlesession.SessionID(toks[0])}, Reason: singlesession.ReasonRevoked})
				return err
			},
			"a login that ends others": func() error {
				_, err := login(t, s, "alice", token("new"), singlesession.Limit{Max: 3})
				return err
			},
			"Logout": func() error {
				_, err := s.Logout(ctx, singlesession.Logout{Tokens: []string{toks[3]}, UserID: "alice"})
				return err
			},
			"EndUsers": func() error {
				_, err := s.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"alice"}, Reason: singlesession.ReasonAdmin})
				return err
			},
		}
		for _, name := range []string{"EndSessions", "a login that ends others", "Logout", "EndUsers"} {
			start := time.Now()
			err := ops[name]()
			took := time.Since(start)
			assert.ErrorIs(t, err, redisstore.ErrNotReplicated, name)
			assert.True(t, strings.HasPrefix(fmt.Sprint(err), "singlesession: redisstore: "), "%s: %v", name, err)
			assert.GreaterOrEqual(t, took, timeout, name)
			assert.Less(t, took, timeout+time.Second, "%s: within the timeout", name)
			t.Logf("%-26s %v after %v", name, err, took.Round(time.Millisecond))
		}
		// The changes are applied on the primary.
		assert.Empty(t, served(t, s, "alice", toks))
		// A login that ends nothing does not need the replicas.
		_, err = login(t, s, "carol", token("carol"), singlesession.Limit{})
		assert.NoError(t, err)
	})

	t.Run("no WaitReplicas: a failover loses an acknowledged end", func(t *testing.T) {
		t.Parallel()
		primary, replica := replicated(t)
		s := redisstore.NewWithPrefix(primary.client(), "r:")
		ctx := context.Background()
		tok := token("lost")
		_, err := login(t, s, "alice", tok, singlesession.Limit{})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			f, err := redisstore.NewWithPrefix(replica.client(), "r:").Find(ctx, tok, time.Minute)
			return err == nil && f.Found
		}, 5*time.Second, 10*time.Millisecond, "the login reached the replica")
		// The replica falls behind (stalled, its link cut), the primary
		// acknowledges the end, and fails before the replica has it.
		stall(t, replica, time.Second)
		require.NoError(t, primary.client().Do(ctx, "client", "kill", "type", "replica").Err())
		res, err := s.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"alice"}, Reason: singlesession.ReasonAdmin})
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"alice": 1}, res.Ended, "acknowledged by the primary")
		primary.kill()
		require.Eventually(t, func() bool { return replica.client().Ping(ctx).Err() == nil }, 5*time.Second, 20*time.Millisecond)
		promote(t, replica)
		f, err := redisstore.NewWithPrefix(replica.client(), "r:").Find(ctx, tok, time.Minute)
		require.NoError(t, err)
		assert.True(t, f.Found, "documented: the ended session is signed in again after the failover")
	})

	t.Run("options", func(t *testing.T) {
		t.Parallel()
		c := singleClient(t)
		_, err := redisstore.NewWithOptions(c, redisstore.Options{WaitReplicas: -1})
		assert.Error(t, err)
		_, err = redisstore.NewWithOptions(redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}}), redisstore.Options{WaitReplicas: 1})
		assert.Error(t, err, "WAIT needs a connection to the primary that ran the change")
		_, err = redisstore.NewWithOptions(nil, redisstore.Options{})
		assert.Error(t, err)
	})
}

// On Cluster, WAIT goes to the node that holds the user's slot, on the
// connection that ran the change: with no replicas there, WaitReplicas 1
// reports ErrNotReplicated, and 0 waits for nothing.
func TestWaitReplicasCluster(t *testing.T) {
	c := clusterClient(t)
	prefix := testPrefix(t, c)
	s, err := redisstore.NewWithOptions(c, redisstore.Options{Prefix: prefix, WaitReplicas: 1, WaitTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	ctx := context.Background()
	for _, u := range []string{"alice", "bob", "carol"} {
		_, err := login(t, s, u, token(u), singlesession.Limit{})
		require.NoError(t, err, "a login that ends nothing")
	}
	_, err = s.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"alice", "bob", "carol"}, Reason: singlesession.ReasonAdmin})
	assert.ErrorIs(t, err, redisstore.ErrNotReplicated)
	assert.Zero(t, count(t, s, "alice")+count(t, s, "bob")+count(t, s, "carol"), "applied on the primaries")
}
