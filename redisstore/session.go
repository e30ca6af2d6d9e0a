package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-singlesession/singlesession"
)

// Find implements [singlesession.Store.Find]: one script, which for a
// token whose user this process knows reads only the user's keys and checks
// that the token's pointer still exists; on Cluster, for such a token, one
// round trip (the user's script and the pointer's check, to their two nodes
// at once), and two the first time (the token's slot, then the user's).
//
// A signed-in session is found only when it is of its user's current
// generation, in both of the user's indexes, and reachable through its
// pointer: a session that an eviction left without one of them is ended
// (see the package documentation).
func (s *Store) Find(ctx context.Context, token string, staleAfter time.Duration) (singlesession.FindResult, error) {
	s.checkEviction(ctx)
	f, err := s.find(ctx, token, staleAfter)
	if err != nil {
		return singlesession.FindResult{}, fmt.Errorf("singlesession: redisstore: find session: %w", err)
	}
	return f, nil
}

func (s *Store) find(ctx context.Context, token string, staleAfter time.Duration) (singlesession.FindResult, error) {
	id := singlesession.SessionID(token)
	anon, ptr := s.anonKey(id, token), s.ptrKey(id)
	reply := func(v any, err error) (singlesession.FindResult, error) { return findReply(v, err, staleAfter) }
	p, known := s.pointers.get(ptr)
	if !s.cluster {
		if known {
			v, err := scriptFindKnown.Run(ctx, s.client, []string{ptr, s.metaKey(p)}, s.prefix, p, token, id).Result()
			if a, _ := asArray(v); err != nil || len(a) != 1 || asInt(a[0]) != 3 {
				return reply(v, err)
			}
			s.pointers.forget(ptr) // its pointer is gone: ask as for an unknown token
		}
		v, err := scriptFindSingle.Run(ctx, s.client, []string{anon, ptr}, s.prefix, token, id).Result()
		f, err := reply(v, err)
		if err == nil && f.Found && f.UserID != "" {
			if a, _ := asArray(v); len(a) > 2 {
				s.pointers.put(ptr, asString(a[2]))
			}
		}
		return f, err
	}
	if known {
		r := s.pipeline(ctx,
			op{args: []any{"exists", ptr}},
			op{script: scriptFindUser, keys: []string{s.metaKey(p)}, args: []any{s.prefix, p, token, id}})
		if r[0].err != nil {
			return singlesession.FindResult{}, r[0].err
		}
		f, err := reply(r[1].v, r[1].err)
		if err == nil && f.Found && asInt(r[0].v) == 0 {
			// Its pointer is gone (evicted): no other instance can load
			// the session, so neither does this one (fail closed).
			s.pointers.forget(ptr)
			return singlesession.FindResult{}, nil
		}
		return f, err
	}
	// The token's slot: an anonymous session, nothing, or its user.
	v, err := scriptFindToken.Run(ctx, s.client, []string{anon, ptr}, s.prefix).Result()
	if a, _ := asArray(v); err == nil && len(a) == 2 && asInt(a[0]) == 3 {
		p := asString(a[1])
		s.pointers.put(ptr, p)
		return reply(scriptFindUser.Run(ctx, s.client, []string{s.metaKey(p)}, s.prefix, p, token, id).Result())
	}
	return reply(v, err)
}

// findReply reads the reply of the find scripts. A signed-in session is
// stale when its last seen is at least staleAfter old by Redis's clock,
// which stamped it: this process's clock may differ.
func findReply(v any, err error, staleAfter time.Duration) (singlesession.FindResult, error) {
	if err != nil {
		return singlesession.FindResult{}, err
	}
	a, err := asArray(v)
	if err != nil || len(a) == 0 {
		return singlesession.FindResult{}, errors.Join(err, errors.New("empty reply"))
	}
	switch asInt(a[0]) {
	case 1:
		if len(a) < 5 {
			return singlesession.FindResult{}, errors.New("short reply")
		}
		f := singlesession.FindResult{Found: true, Data: []byte(asString(a[1])), UserID: unescape(asString(a[2])),
			Expiry: time.UnixMilli(asInt(a[4]))}
		if f.UserID != "" {
			f.Stale = time.Duration(asInt(a[3]))*time.Microsecond >= staleAfter
		}
		return f, nil
	case 2:
		if len(a) < 4 {
			return singlesession.FindResult{}, errors.New("short reply")
		}
		return singlesession.FindResult{Ending: &singlesession.Ending{Reason: singlesession.Reason(asString(a[1])), At: micro(a[2]), UserAgent: asString(a[3])}}, nil
	}
	return singlesession.FindResult{}, nil
}

// Insert implements [singlesession.Store.Insert] with SET NX PXAT: one
// command.
func (s *Store) Insert(ctx context.Context, token string, data []byte, expiry time.Time) error {
	s.checkEviction(ctx)
	err := s.client.Do(ctx, "SET", s.anonKey(singlesession.SessionID(token), token), data, "NX", "PXAT", ms(expiry)).Err()
	if errors.Is(err, redis.Nil) {
		err = errors.New("token already exists")
	}
	if err != nil {
		return fmt.Errorf("singlesession: redisstore: insert session: %w", err)
	}
	return nil
}

// Update implements [singlesession.Store.Update]: it writes only a session
// that exists (SET XX for an anonymous one, a script that checks the
// signed-in one), so an ended session never comes back. A signed-in save
// also extends the token's pointer to the session's new expiry (PEXPIREAT
// ... GT), so that with scs's IdleTimeout every key of the session slides
// with it: on Cluster, for a token this process knows, in the same
// pipeline as the save (one round trip of latency, to two nodes).
func (s *Store) Update(ctx context.Context, u singlesession.Update) (bool, error) {
	s.checkEviction(ctx)
	found, err := s.update(ctx, u)
	if err != nil {
		return false, fmt.Errorf("singlesession: redisstore: update session: %w", err)
	}
	return found, nil
}

func (s *Store) update(ctx context.Context, u singlesession.Update) (bool, error) {
	id := singlesession.SessionID(u.Token)
	anon, ptr := s.anonKey(id, u.Token), s.ptrKey(id)
	x := ms(u.Expiry)
	if !s.cluster {
		if p, ok := s.pointers.get(ptr); ok {
			n, err := scriptUpdateKnown.Run(ctx, s.client, []string{ptr}, s.prefix, p, u.Token, id, u.Data, x, b01(u.Touch)).Int()
			if err != nil || n != 3 {
				return n >= 1, err
			}
			s.pointers.forget(ptr) // its pointer is gone: ask as for an unknown token
		}
		n, err := scriptUpdateSingle.Run(ctx, s.client, []string{anon, ptr}, s.prefix, u.Token, id, u.Data, x, b01(u.Touch)).Int()
		return n >= 1, err
	}
	user := func(p string) op {
		return op{script: scriptUpdateUser, keys: []string{s.metaKey(p)}, args: []any{s.prefix, p, u.Token, id, u.Data, x, b01(u.Touch)}}
	}
	if p, ok := s.pointers.get(ptr); ok {
		replies, err := all(s.pipeline(ctx, op{script: scriptSlide, keys: []string{ptr}, args: []any{x}}, user(p)))
		if err != nil {
			return false, err
		}
		if asInt(replies[1]) >= 1 && asInt(replies[0]) == 0 {
			// Saved, but its pointer is gone (evicted): unreachable, so
			// ended (fail closed), as Find then says.
			s.pointers.forget(ptr)
			return false, nil
		}
		return asInt(replies[1]) >= 1, nil
	}
	v, err := scriptUpdateToken.Run(ctx, s.client, []string{anon, ptr}, s.prefix, u.Data, x).Result()
	if err != nil {
		return false, err
	}
	a, err := asArray(v)
	if err != nil || len(a) == 0 {
		return false, errors.Join(err, errors.New("empty reply"))
	}
	if asInt(a[0]) != 2 {
		return asInt(a[0]) == 1, nil // saved anonymous, or no session
	}
	p := asString(a[1])
	s.pointers.put(ptr, p)
	n, err := user(p).script.Run(ctx, s.client, user(p).keys, user(p).args...).Int()
	return n >= 1, err
}

// Touch implements [singlesession.Store.Touch]: one script, and on Cluster
// one more the first time this process meets the token.
func (s *Store) Touch(ctx context.Context, token string) error {
	s.checkEviction(ctx)
	var err error
	id := singlesession.SessionID(token)
	ptr := s.ptrKey(id)
	if !s.cluster {
		err = scriptTouchSingle.Run(ctx, s.client, []string{ptr}, s.prefix, token, id).Err()
	} else {
		p, ok := s.pointers.get(ptr)
		if !ok {
			p, err = s.client.Get(ctx, ptr).Result()
			if errors.Is(err, redis.Nil) {
				return nil
			}
			if err == nil {
				s.pointers.put(ptr, p)
			}
		}
		if err == nil {
			err = scriptTouchUser.Run(ctx, s.client, []string{s.metaKey(p)}, s.prefix, p, token, id).Err()
		}
	}
	if err != nil {
		return fmt.Errorf("singlesession: redisstore: touch session: %w", err)
	}
	return nil
}
