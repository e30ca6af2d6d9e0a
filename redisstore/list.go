package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-singlesession/singlesession"
)

// Sessions implements [singlesession.Store.Sessions]: one script in the
// user's slot that reads one page from the user's index by last seen,
// starting at the position (ZRANGE ... BYSCORE REV LIMIT): its cost grows
// with the page, not with the user's pile. Total counts the live entries
// of the index (ZCOUNT).
//
// Every session on the page is checked as Find checks it; one that an
// eviction left unreachable is ended (fail closed) and left out. On
// Cluster the pointers of the page are read in one more round trip, and
// when one is gone the page is read again. Sessions that an eviction left
// unreachable and that no page, count or login met yet are in Total until
// then.
func (s *Store) Sessions(ctx context.Context, q singlesession.SessionsQuery) (singlesession.SessionsResult, error) {
	s.checkEviction(ctx)
	res, err := s.sessions(ctx, q)
	if err != nil {
		return singlesession.SessionsResult{}, fmt.Errorf("singlesession: redisstore: sessions of %q: %w", q.UserID, err)
	}
	return res, nil
}

func (s *Store) sessions(ctx context.Context, q singlesession.SessionsQuery) (singlesession.SessionsResult, error) {
	p := escape(q.UserID)
	afterL, afterID := "", ""
	if !q.After.IsZero() {
		afterL, afterID = strconv.FormatInt(q.After.LastSeen.UnixMicro(), 10), q.After.ID
	}
	var dead []string
	for round := 0; round <= maxRounds; round++ {
		a, err := scriptSessions.Run(ctx, s.client, []string{s.metaKey(p)},
			s.prefix, p, afterL, afterID, max(q.Limit, 0), b01(!s.cluster), strings.Join(dead, " ")).Slice()
		if err != nil {
			return singlesession.SessionsResult{}, err
		}
		if len(a) == 0 {
			return singlesession.SessionsResult{}, errors.New("empty reply")
		}
		if asString(a[0]) == "again" {
			continue
		}
		res := singlesession.SessionsResult{Total: int(asInt(a[0]))}
		var ids []string
		for i := 1; i+6 <= len(a); i += 6 {
			res.Sessions = append(res.Sessions, singlesession.SessionInfo{
				ID: asString(a[i]), Created: micro(a[i+1]), Expiry: time.UnixMilli(asInt(a[i+2])),
				LastSeen: micro(a[i+3]), IP: asString(a[i+4]), UserAgent: asString(a[i+5]),
			})
			ids = append(ids, asString(a[i]))
		}
		if !s.cluster || len(ids) == 0 {
			return res, nil
		}
		_, gone, err := s.reachable(ctx, p, ids)
		if err != nil {
			return singlesession.SessionsResult{}, err
		}
		if len(gone) == 0 {
			return res, nil
		}
		dead = gone // the script ends them, and reads the page again
	}
	return singlesession.SessionsResult{}, errors.New("too many rounds")
}

// CountSessions implements [singlesession.Store.CountSessions]: on a single
// Redis one script per 10 users, on Cluster one script per user in one
// pipeline. A count is one ZCOUNT of the user's index, whatever the pile.
// For a user with at most 100 sessions each one is checked as Find checks
// it (on Cluster their pointers are read in one more round trip), so that
// the count is exactly what Find serves, and one that an eviction left
// unreachable is ended (fail closed): a RejectNew user is never refused
// for a session no browser can reach. Above 100, the count is the index's.
func (s *Store) CountSessions(ctx context.Context, userIDs []string) (map[string]int, error) {
	s.checkEviction(ctx)
	counts, err := s.countSessions(ctx, userIDs)
	if err != nil {
		return nil, fmt.Errorf("singlesession: redisstore: count sessions: %w", err)
	}
	return counts, nil
}

func (s *Store) countSessions(ctx context.Context, userIDs []string) (map[string]int, error) {
	counts := map[string]int{}
	users := distinct(userIDs)
	if len(users) == 0 {
		return counts, nil
	}
	replies, err := all(s.pipeline(ctx, s.userCalls(scriptCount, users, s.prefix, b01(!s.cluster))...))
	if err != nil {
		return nil, err
	}
	toCheck := map[string][]string{} // escaped user → IDs whose pointers to read
	i := 0
	for _, v := range replies {
		a, _ := asArray(v)
		for j := 0; j+1 < len(a) && i < len(users); i++ {
			if n := int(asInt(a[j])); n > 0 {
				counts[users[i]] = n
			}
			k := int(asInt(a[j+1]))
			for _, id := range a[j+2 : min(j+2+k, len(a))] {
				toCheck[escape(users[i])] = append(toCheck[escape(users[i])], asString(id))
			}
			j += 2 + k
		}
	}
	if len(toCheck) == 0 {
		return counts, nil
	}
	// Cluster: the pointers of every counted session, in one round trip;
	// the sessions whose pointers are gone are ended, in another.
	var (
		ops   []op
		order []string
		ids   []string
		owner []string
	)
	for p, list := range toCheck {
		for _, id := range list {
			ops = append(ops, op{args: []any{"get", s.ptrKey(id)}})
			ids, owner = append(ids, id), append(owner, p)
		}
	}
	ptrs, err := all(s.pipeline(ctx, ops...))
	if err != nil {
		return nil, err
	}
	gone := map[string][]any{}
	for k, v := range ptrs {
		if asString(v) != owner[k] {
			if _, ok := gone[owner[k]]; !ok {
				order = append(order, owner[k])
			}
			gone[owner[k]] = append(gone[owner[k]], ids[k])
		}
	}
	if len(gone) == 0 {
		return counts, nil
	}
	ops = ops[:0]
	for _, p := range order {
		ops = append(ops, op{script: scriptEndDead, keys: []string{s.metaKey(p)}, args: append([]any{s.prefix, p}, gone[p]...)})
	}
	if _, err := all(s.pipeline(ctx, ops...)); err != nil {
		return nil, err
	}
	for _, p := range order {
		u := unescape(p)
		counts[u] -= len(gone[p])
		if counts[u] <= 0 {
			delete(counts, u)
		}
	}
	return counts, nil
}

// All implements [singlesession.IterableStore] with SCAN over the prefix's
// keys on every node: its cost grows with the whole keyspace.
func (s *Store) All(ctx context.Context) (map[string][]byte, error) {
	s.checkEviction(ctx)
	all, err := s.all(ctx)
	if err != nil {
		return nil, fmt.Errorf("singlesession: redisstore: all sessions: %w", err)
	}
	return all, nil
}

func (s *Store) all(ctx context.Context) (map[string][]byte, error) {
	var anon, signed []string
	err := s.scan(ctx, globEscape(s.prefix)+"a:{*", "string", func(keys []string) { anon = append(anon, keys...) })
	if err == nil {
		err = s.scan(ctx, globEscape(s.prefix)+"u:{*}:s:*", "hash", func(keys []string) { signed = append(signed, keys...) })
	}
	if err != nil {
		return nil, err
	}
	now, err := s.client.Time(ctx).Result()
	if err != nil {
		return nil, err
	}
	nowms := now.UnixMilli()
	users := map[string]*redis.StringCmd{}
	gets := make([]*redis.StringCmd, len(anon))
	hgets := make([]*redis.SliceCmd, len(signed))
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range anon {
			gets[i] = p.Get(ctx, k)
		}
		for i, k := range signed {
			hgets[i] = p.HMGet(ctx, k, "d", "x", "t", "g")
			u := userOf(s.prefix, k)
			if _, ok := users[u]; !ok && u != "" {
				users[u] = p.HGet(ctx, s.metaKey(u), "g")
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	all := map[string][]byte{}
	for i, k := range anon {
		if d, err := gets[i].Result(); err == nil {
			if _, token, ok := strings.Cut(k[len(s.prefix)+3:], "}:"); ok {
				all[token] = []byte(d)
			}
		}
	}
	for i, k := range signed {
		f, err := hgets[i].Result()
		u := userOf(s.prefix, k)
		if err != nil || len(f) < 4 || f[0] == nil || users[u] == nil {
			continue
		}
		if gen, err := users[u].Result(); err != nil || asString(f[3]) != gen || asInt(f[1]) <= nowms {
			continue // ended by a cut, or expired
		}
		all[asString(f[2])] = []byte(asString(f[0]))
	}
	return all, nil
}

// userOf returns the escaped user of a key of a user's, "" if it is not
// one.
func userOf(prefix, key string) string {
	rest, ok := strings.CutPrefix(key, prefix+"u:{")
	if !ok {
		return ""
	}
	u, _, ok := strings.Cut(rest, "}:")
	if !ok {
		return ""
	}
	return u
}

// DeleteExpired implements [singlesession.CleanupStore]: it SCANs the
// users' indexes on every node, and, in scripts of at most 500 sessions,
// deletes the expired sessions of each current generation and cleans
// every old generation (left by a cut whose cleanup was interrupted, or by
// an eviction). Sessions, endings and indexes also expire by themselves;
// anonymous sessions are left to Redis and not counted. It returns how
// many expired sessions it deleted.
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	s.checkEviction(ctx)
	n, err := s.deleteExpired(ctx)
	if err != nil {
		return n, fmt.Errorf("singlesession: redisstore: delete expired sessions: %w", err)
	}
	return n, nil
}

func (s *Store) deleteExpired(ctx context.Context) (int, error) {
	type gen struct{ p, g string }
	seen := map[gen]bool{}
	var gens []gen
	found := func(keys []string) {
		for _, k := range keys {
			p := userOf(s.prefix, k)
			rest := strings.TrimPrefix(k, s.prefix+"u:{"+p+"}:")
			if p == "" || len(rest) < 3 || (rest[:2] != "x:" && rest[:2] != "l:") {
				continue
			}
			if g := (gen{p, rest[2:]}); !seen[g] {
				seen[g] = true
				gens = append(gens, g)
			}
		}
	}
	pattern := globEscape(s.prefix) + "u:{*}:[xl]:*"
	if err := s.scan(ctx, pattern, "zset", found); err != nil {
		return 0, err
	}
	total := 0
	for _, batch := range chunks(gens, 100) {
		todo := batch
		for round := 0; len(todo) > 0 && round <= maxRounds; round++ {
			ops := make([]op, len(todo))
			for i, g := range todo {
				ops[i] = op{script: scriptTidy, keys: []string{s.metaKey(g.p)}, args: []any{s.prefix, g.p, g.g}}
			}
			replies, err := all(s.pipeline(ctx, ops...))
			if err != nil {
				return total, err
			}
			var more []gen
			for i, v := range replies {
				a, _ := asArray(v)
				if len(a) < 2 {
					return total, errors.New("short reply")
				}
				total += int(asInt(a[0]))
				if asInt(a[1]) == 1 {
					more = append(more, todo[i])
				}
			}
			todo = more
		}
	}
	return total, nil
}
