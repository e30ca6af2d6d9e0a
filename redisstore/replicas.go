package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated is returned, wrapped, by Login, Logout, EndUsers and
// EndSessions of a store made with [Options].WaitReplicas when fewer
// replicas than that acknowledged the change within Options.WaitTimeout.
// Unlike other errors, it does not mean that nothing changed: the change is
// applied on the primary, and a failover before the replicas receive it
// may lose it (an ended session signed in again). See the README's
// "Replicas and failover".
var ErrNotReplicated = errors.New("not acknowledged by enough replicas")

// defaultWaitTimeout is Options.WaitTimeout's default.
const defaultWaitTimeout = time.Second

// runEnding runs ops, scripts that end sessions, as s.pipeline does; when
// the store waits for replicas it sends each node's share on one
// connection followed by WAIT (in the same pipeline, one round trip, when
// the client's read timeout allows), and returns an error wrapping
// ErrNotReplicated, besides the results, when a node's replicas did not
// all acknowledge.
func (s *Store) runEnding(ctx context.Context, ops ...op) ([]result, error) {
	if s.waitReplicas == 0 || len(ops) == 0 {
		return s.pipeline(ctx, ops...), nil
	}
	out := make([]result, len(ops))
	var nodes []*redis.Client
	shares := map[*redis.Client][]int{}
	for i, o := range ops {
		node, err := s.nodeFor(ctx, o.keys[0])
		if err != nil {
			out[i] = result{err: err}
			continue
		}
		if _, ok := shares[node]; !ok {
			nodes = append(nodes, node)
		}
		shares[node] = append(shares[node], i)
	}
	var notReplicated error
	for _, node := range nodes {
		idx := shares[node]
		share := make([]op, len(idx))
		for j, i := range idx {
			share[j] = ops[i]
		}
		results, err := s.runWaited(ctx, node, share)
		for j, i := range idx {
			out[i] = results[j]
		}
		if err != nil && notReplicated == nil {
			notReplicated = err
		}
	}
	return out, notReplicated
}

// nodeFor returns the client of the node that holds key: the client
// itself on a single Redis, the key's master on Cluster.
func (s *Store) nodeFor(ctx context.Context, key string) (*redis.Client, error) {
	switch c := s.client.(type) {
	case *redis.Client:
		return c, nil
	case *redis.ClusterClient:
		return c.MasterForKey(ctx, key)
	}
	return nil, fmt.Errorf("waiting for replicas needs a *redis.Client or a *redis.ClusterClient, not a %T", s.client)
}

// runWaited runs ops on one connection to node, then WAIT on that
// connection: WAIT counts the replicas that acknowledged every write the
// connection made.
func (s *Store) runWaited(ctx context.Context, node *redis.Client, ops []op) ([]result, error) {
	out := make([]result, len(ops))
	for attempt := 0; ; attempt++ {
		conn := node.Conn()
		rt := node.Options().ReadTimeout
		inline := rt <= 0 || s.waitTimeout+200*time.Millisecond < rt
		cmds := make([]*redis.Cmd, len(ops))
		var wait *redis.Cmd
		_, _ = conn.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, o := range ops {
				cmds[i] = o.script.EvalSha(ctx, p, o.keys, o.args...)
			}
			if inline {
				wait = p.Do(ctx, "wait", s.waitReplicas, s.waitTimeout.Milliseconds())
			}
			return nil
		})
		moved := false
		for i, cmd := range cmds {
			v, err := cmd.Result()
			if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
				// Not loaded on that node yet: it did not run; run it
				// with its source, on the same connection.
				v, err = ops[i].script.Eval(ctx, conn, ops[i].keys, ops[i].args...).Result()
				inline = false
			}
			if redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK") {
				moved = true
			}
			out[i] = result{v, err}
		}
		var acked int64
		var err error
		if inline {
			acked, err = wait.Int64()
		} else {
			acked, err = conn.Wait(ctx, s.waitReplicas, s.waitTimeout).Result()
		}
		_ = conn.Close()
		if moved && attempt == 0 {
			// The slot moved (a resharding): nothing ran there; find
			// its node again.
			if cc, ok := s.client.(*redis.ClusterClient); ok {
				cc.ReloadState(ctx)
				if n, err := cc.MasterForKey(ctx, ops[0].keys[0]); err == nil {
					node = n
				}
			}
			continue
		}
		if err != nil {
			return out, fmt.Errorf("%w: WAIT: %v", ErrNotReplicated, err)
		}
		if int(acked) < s.waitReplicas {
			return out, fmt.Errorf("%w: %d of %d replicas within %v", ErrNotReplicated, acked, s.waitReplicas, s.waitTimeout)
		}
		return out, nil
	}
}
