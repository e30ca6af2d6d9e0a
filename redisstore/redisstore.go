// Package redisstore is a [singlesession.Store] over Redis, for
// applications whose sessions live in Redis, on one server (or a
// primary with replicas, through Sentinel) or on Redis Cluster.
//
// Create it with [New] over a go-redis client and hand it to
// singlesession.New, as any store:
//
//	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}})
//	m, err := singlesession.New(scs.New(), redisstore.New(client), singlesession.Config{})
//
// # Keys
//
// With the prefix P ("singlesession:" by default) and a user's ID escaped
// (U: '%', '{' and '}' as %25, %7B, %7D) and H a SHA-256 of a token, the
// store keeps:
//
//	P a:{H}:token      an anonymous session's data (string, PXAT its expiry)
//	P t:{H}            the user a signed-in session's token belongs to: U (string, PXAT)
//	P u:{U}:s:token    a signed-in session (hash: data, user, ID, IP, User-Agent,
//	                   created, last seen, expiry; PXAT its expiry)
//	P u:{U}:i          the user's index (sorted set: token → expiry; PXAT its latest session's)
//	P u:{U}:e:H        why a session of the user ended, keyed by the hash of its
//	                   token (hash: reason, at, User-Agent; PXAT the session's expiry)
//
// Everything of one user shares the hash tag {U}, so on Redis Cluster one
// script can see and change all of it. A token cannot carry its user's tag
// (scs makes tokens before anyone signs in), so the token's own slot ({H})
// holds only the pointer to the user, and anonymous sessions. Pointers are never trusted: a pointer whose
// session is gone (a stale pointer) means "not found", and it expires with
// the session. Every key has an absolute expiry (PXAT, PEXPIREAT), so
// nothing outlives its session even if [Store.DeleteExpired] never runs.
//
// # Scripts and round trips
//
// Every change is a Lua script, which Redis runs whole with nothing in
// between: the script that changes a user's sessions is that user's lock,
// across every process that shares the Redis. The times the store records
// and compares come from Redis's clock (TIME). A script reads every key it
// writes before its first write, so a script that fails changes nothing.
//
// On a single Redis (a [*redis.Client], Sentinel's included) every method
// but All and DeleteExpired is one script, one round trip, and atomic:
// Find reads the session, its link and, for an ended session, why it ended;
// Login prunes the user's index, applies the limit, ends the least recently
// used sessions, deletes the browser's previous tokens and adds the session.
//
// On Redis Cluster (any other client: [*redis.ClusterClient], [*redis.Ring])
// one script may only touch one hash slot, so an operation that involves a
// token's slot and a user's slot takes a step in each:
//
//   - Find: 1 round trip for an anonymous or unknown token; for a signed-in
//     or ended one, 1 when this process knows the token's user (it signed
//     the token in, or loaded it before: the store caches each token's
//     pointer, which never changes), and 2 the first time (the pointer, then
//     the user's slot).
//   - Update: 1 for an anonymous session or a known token, 2 the first time
//     for a signed-in one. A signed-in save also extends the token's pointer
//     to the session's new expiry (PEXPIREAT ... GT), so that with scs's
//     IdleTimeout the pointer slides with the session; for a known token
//     that goes in the same pipeline as the save (one round trip of
//     latency, to the two nodes at once).
//   - Touch: 1 for a known token, 2 the first time.
//   - Login: 2 (the new token's pointer, then one script in the user's slot
//     that does everything the single-Redis login does for that user), plus,
//     when the browser's previous session was anonymous or another user's,
//     a cleanup of that session in its own slot (1 more, and 1 more again
//     for another user's).
//   - Logout: the browser's tokens' slots, then the users' slots (2).
//   - End and CountSessions: one script per user, sent in one pipeline;
//     Revoke and Sessions: 1.
//
// Each user's part is atomic, which is what the rules need: limits are exact
// and no ended session comes back on Cluster too. What is not atomic on
// Cluster is the part in another slot: the pointer is written before the
// login (a login that then fails leaves a stale pointer, which is harmless),
// and the browser's previous anonymous or other user's session is deleted
// after it (if that step fails, that session stays until it expires or its
// user signs in again; the login itself has happened and is reported). End
// over many users is atomic per user, not across users.
//
// All and DeleteExpired SCAN the prefix's keys on every node (every master
// on Cluster): their cost grows with the whole keyspace of the database, not
// with the number of sessions. Run DeleteExpired (singlesession's
// RunCleanup) rarely: Redis expires sessions, endings and indexes itself,
// and DeleteExpired only prunes index entries of expired sessions early.
package redisstore

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-singlesession/singlesession"
)

// Store is a [singlesession.Store] over Redis. Create it with [New],
// [NewWithPrefix] or [NewWithOptions]; it is safe for concurrent use.
type Store struct {
	client   redis.UniversalClient
	prefix   string
	cluster  bool // one script per hash slot (see the package documentation)
	logger   *slog.Logger
	pointers pointerCache
	eviction evictionCheck
}

// Options configures a [Store] made by [NewWithOptions]. A zero Options
// makes the store that [New] makes.
type Options struct {
	// Prefix is the key prefix; "" means "singlesession:" (use
	// [NewWithPrefix] for no prefix at all). Braces are escaped, as
	// NewWithPrefix does.
	Prefix string

	// Logger receives the store's warnings (Redis may evict its keys; a
	// step of a Cluster login failed in another slot) and debug messages.
	// nil means slog.Default(), at the time of each message.
	Logger *slog.Logger
}

// pointerCache remembers, on Cluster, which user each signed-in token that
// this process has seen belongs to, so that a load or save goes straight to
// the user's slot: one round trip instead of two. A token's pointer never
// changes while the token lives (a login always takes a new token), so the
// cache is never wrong; a cached pointer whose session is gone means "not
// found", as a stale pointer does. It is keyed by the pointer's key, a hash,
// so it holds no token, and it is bounded: past maxPointers it starts again
// empty.
type pointerCache struct {
	mu sync.Mutex
	m  map[string]string // pointer key → escaped user ID
}

// maxPointers bounds the pointer cache: about 10 MB.
const maxPointers = 100_000

func (c *pointerCache) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[key]
	return p, ok
}

func (c *pointerCache) put(key, p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxPointers {
		c.m = make(map[string]string)
	}
	c.m[key] = p
}

var _ singlesession.Store = (*Store)(nil)

// New returns a store over client with the key prefix "singlesession:".
// A [*redis.Client] is treated as a single Redis (one script per
// operation); any other client (a [*redis.ClusterClient], a [*redis.Ring])
// as a cluster, where each script touches one hash slot.
func New(client redis.UniversalClient) *Store {
	return NewWithPrefix(client, "singlesession:")
}

// NewWithPrefix is [New] with another key prefix, so that several
// applications can share one Redis. Braces in prefix are escaped (as %7B and
// %7D), because Redis Cluster reads the first {...} of a key as its hash tag.
func NewWithPrefix(client redis.UniversalClient, prefix string) *Store {
	_, single := client.(*redis.Client)
	return &Store{client: client, prefix: escape(prefix), cluster: !single}
}

// NewWithOptions is [New] configured by opts. It returns an error for a nil
// client or options it cannot use.
func NewWithOptions(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("singlesession: redisstore: the client is nil")
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = "singlesession:"
	}
	s := NewWithPrefix(client, prefix)
	s.logger = opts.Logger
	return s, nil
}

func (s *Store) log() *slog.Logger {
	if s.logger != nil {
		return s.logger
	}
	return slog.Default()
}

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
		s.log().WarnContext(ctx, "singlesession: redisstore: Redis may evict this store's keys: an evicted key signs out its session, or every session of its user, before it expires; set maxmemory-policy noeviction and give Redis enough memory, see the README's \"Eviction\"",
			"maxmemory-policy", policy, "nodes", evicting)
	}
	s.eviction.done.Store(true)
}

// forEachNode calls f for the client's node, or for every master (every
// shard) of a cluster (a ring), concurrently.
func (s *Store) forEachNode(ctx context.Context, f func(context.Context, *redis.Client) error) error {
	switch c := s.client.(type) {
	case *redis.Client:
		return f(ctx, c)
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, f)
	case *redis.Ring:
		return c.ForEachShard(ctx, f)
	}
	return fmt.Errorf("cannot reach the nodes of a %T", s.client)
}

// writeTimeout bounds a change that has been sent: it is not cut short by
// the caller's context, so that an error means the change did not happen.
const writeTimeout = 5 * time.Second

// --- keys --------------------------------------------------------------------

// The token's slot is that of a hash of the token, so that the pointer,
// which outlives its session, holds no token.
// tokenKeys are a token's keys and the hash of its ending, from one hash of
// the token: Find and Update need all three on every request.
type tokenKeys struct{ anon, ptr, hash string }

func (s *Store) tokenKeys(token string) tokenKeys {
	h := endingHash(token)
	return tokenKeys{anon: s.prefix + "a:{" + h + "}:" + token, ptr: s.prefix + "t:{" + h + "}", hash: h}
}
func (s *Store) userBase(p string) string { return s.prefix + "u:{" + p + "}" }
func (s *Store) indexKey(p string) string { return s.userBase(p) + ":i" }
func (s *Store) sessionKey(p, token string) string {
	return s.userBase(p) + ":s:" + token
}

// escape makes s safe inside a hash tag: no '{' or '}' (and '%', which
// escapes them).
func escape(s string) string {
	if !strings.ContainsAny(s, "%{}") {
		return s
	}
	r := strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")
	return r.Replace(s)
}

// endingHash is the key of the ending of the session with token: a hash,
// so that Redis keeps no token of an ended session.
func endingHash(token string) string {
	h := sha256.Sum256([]byte("singlesession:ended:" + token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// ms is expiry as PXAT takes it: never 0 or less, which Redis refuses (and a
// relative TTL of 0 would mean no expiry at all).
func ms(expiry time.Time) int64 {
	return max(expiry.UnixMilli(), 1)
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// --- replies -----------------------------------------------------------------

func asArray(v any) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("unexpected reply %T", v)
	}
	return a, nil
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

func asString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func micro(v any) time.Time { return time.UnixMicro(asInt(v)) }

// call is one script invocation.
type call struct {
	keys []string
	args []any
}

// scriptCall is one invocation of a script.
type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
}

// pipeline runs calls in one pipeline (on Cluster, go-redis sends each node
// its share at once: one round trip of latency) and returns their replies
// in order.
func (s *Store) pipeline(ctx context.Context, calls ...scriptCall) ([]any, error) {
	cmds := make([]*redis.Cmd, len(calls))
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range calls {
			cmds[i] = c.script.EvalSha(ctx, p, c.keys, c.args...)
		}
		return nil
	})
	out := make([]any, len(calls))
	for i, cmd := range cmds {
		v, err := cmd.Result()
		if err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")) {
			// Not loaded on that node yet: it did not run; run it with its source.
			v, err = calls[i].script.Run(ctx, s.client, calls[i].keys, calls[i].args...).Result()
		}
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// runAll runs script once per call, in one pipeline (on Cluster, go-redis
// sends each node its share at once), and returns the replies in order.
func (s *Store) runAll(ctx context.Context, script *redis.Script, calls []call) ([]any, error) {
	if len(calls) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.Cmd, len(calls))
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range calls {
			cmds[i] = script.EvalSha(ctx, p, c.keys, c.args...)
		}
		return nil
	})
	out := make([]any, len(calls))
	for i, cmd := range cmds {
		v, err := cmd.Result()
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			// Not loaded on that node yet: it did not run; run it with its source.
			v, err = script.Run(ctx, s.client, calls[i].keys, calls[i].args...).Result()
		}
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// --- the Store ---------------------------------------------------------------

// Find implements [singlesession.Store.Find]: one script on a single Redis;
// on Cluster one for the token's slot and, for a signed-in or ended session,
// one for its user's.
func (s *Store) Find(ctx context.Context, token string, staleAfter time.Duration) (singlesession.FindResult, error) {
	s.checkEviction(ctx)
	f, err := s.find(ctx, token, staleAfter)
	if err != nil {
		return singlesession.FindResult{}, fmt.Errorf("singlesession: redisstore: find session: %w", err)
	}
	return f, nil
}

func (s *Store) find(ctx context.Context, token string, staleAfter time.Duration) (singlesession.FindResult, error) {
	tk := s.tokenKeys(token)
	keys := []string{tk.anon, tk.ptr}
	stale := strconv.FormatInt(staleAfter.Microseconds(), 10)
	var (
		v   any
		err error
	)
	if !s.cluster {
		v, err = scriptFindSingle.Run(ctx, s.client, keys, s.prefix, token, tk.hash, stale).Result()
	} else {
		p, ok := s.pointers.get(tk.ptr)
		if !ok {
			// The token's slot: an anonymous session, nothing, or its user.
			v, err = scriptFindToken.Run(ctx, s.client, keys, s.prefix).Result()
			if a, _ := asArray(v); err == nil && len(a) == 2 && asInt(a[0]) == 3 {
				p, ok = asString(a[1]), true
				s.pointers.put(tk.ptr, p)
			}
		}
		if ok {
			v, err = scriptFindUser.Run(ctx, s.client, []string{s.sessionKey(p, token)}, s.prefix, p, token, tk.hash, stale).Result()
		}
	}
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
		return singlesession.FindResult{Found: true, Data: []byte(asString(a[1])), UserID: asString(a[2]), Stale: asInt(a[3]) == 1, Expiry: time.UnixMilli(asInt(a[4]))}, nil
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
	err := s.client.Do(ctx, "SET", s.tokenKeys(token).anon, data, "NX", "PXAT", ms(expiry)).Err()
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
// signed-in one), so an ended session never comes back.
func (s *Store) Update(ctx context.Context, u singlesession.Update) (bool, error) {
	s.checkEviction(ctx)
	found, err := s.update(ctx, u)
	if err != nil {
		return false, fmt.Errorf("singlesession: redisstore: update session: %w", err)
	}
	return found, nil
}

func (s *Store) update(ctx context.Context, u singlesession.Update) (bool, error) {
	tk := s.tokenKeys(u.Token)
	keys := []string{tk.anon, tk.ptr}
	x := ms(u.Expiry)
	if !s.cluster {
		n, err := scriptUpdateSingle.Run(ctx, s.client, keys, s.prefix, u.Token, u.Data, x, b01(u.Touch)).Int()
		return n == 1, err
	}
	p, ok := s.pointers.get(tk.ptr)
	if ok {
		// The token's pointer must live as long as the session (SPEC 8.1):
		// extend it in the same round trip as the save, on its own node.
		replies, err := s.pipeline(ctx,
			scriptCall{scriptSlide, []string{tk.ptr}, []any{x}},
			scriptCall{scriptUpdateUser, []string{s.sessionKey(p, u.Token)}, []any{s.prefix, p, u.Token, u.Data, x, b01(u.Touch)}})
		if err != nil {
			return false, err
		}
		return asInt(replies[1]) == 1, nil
	}
	{
		v, err := scriptUpdateToken.Run(ctx, s.client, keys, s.prefix, u.Data, x).Result()
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
		p = asString(a[1])
		s.pointers.put(tk.ptr, p)
	}
	n, err := scriptUpdateUser.Run(ctx, s.client, []string{s.sessionKey(p, u.Token)}, s.prefix, p, u.Token, u.Data, x, b01(u.Touch)).Int()
	return n == 1, err
}

// Touch implements [singlesession.Store.Touch].
func (s *Store) Touch(ctx context.Context, token string) error {
	s.checkEviction(ctx)
	var err error
	ptr := s.tokenKeys(token).ptr
	if !s.cluster {
		err = scriptTouchSingle.Run(ctx, s.client, []string{ptr}, s.prefix, token).Err()
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
			err = scriptTouchUser.Run(ctx, s.client, []string{s.sessionKey(p, token)}, s.prefix, p, token).Err()
		}
	}
	if err != nil {
		return fmt.Errorf("singlesession: redisstore: touch session: %w", err)
	}
	return nil
}

// Login implements [singlesession.Store.Login]: one script (see the package
// documentation for Cluster). It is sent only while ctx is alive, and once
// sent its reply is awaited even if ctx ends meanwhile, so an error means
// the login did not happen. A retry of a login that was applied (go-redis
// retries after a network error) applies nothing twice.
func (s *Store) Login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	s.checkEviction(ctx)
	res, err := s.login(ctx, l)
	if err != nil {
		return singlesession.LoginResult{}, fmt.Errorf("singlesession: redisstore: login of %q: %w", l.UserID, err)
	}
	return res, nil
}

func (s *Store) login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	if l.Limit.Max < 0 {
		return singlesession.LoginResult{}, fmt.Errorf("negative limit %d", l.Limit.Max)
	}
	if err := ctx.Err(); err != nil {
		return singlesession.LoginResult{}, err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	p := escape(l.UserID)
	x := ms(l.Expiry)
	tk := s.tokenKeys(l.Token)
	args := []any{s.prefix, p, l.UserID, l.Token, l.Data, x, l.Limit.Max, b01(l.Limit.RejectNew),
		l.IP, l.UserAgent, tk.hash, singlesession.SessionID(l.Token)}
	for _, r := range l.Replaces {
		args = append(args, r)
	}
	var (
		v   any
		err error
	)
	if !s.cluster {
		keys := []string{tk.ptr}
		for _, r := range l.Replaces {
			rk := s.tokenKeys(r)
			keys = append(keys, rk.anon, rk.ptr)
		}
		v, err = scriptLoginSingle.Run(wctx, s.client, keys, args...).Result()
	} else {
		// The pointer first: on its own it is harmless (stale until the
		// login adds the session it points to).
		err = s.client.Do(wctx, "SET", tk.ptr, p, "PXAT", x).Err()
		if err == nil {
			s.pointers.put(tk.ptr, p)
			err = ctx.Err()
		}
		if err == nil {
			v, err = scriptLoginUser.Run(wctx, s.client, []string{s.indexKey(p)}, args...).Result()
		}
	}
	if err != nil {
		return singlesession.LoginResult{}, err
	}
	a, err := asArray(v)
	if err != nil || len(a) < 2 {
		return singlesession.LoginResult{}, errors.Join(err, errors.New("short reply"))
	}
	if asString(a[0]) == "full" {
		return singlesession.LoginResult{}, fmt.Errorf("%w (%d of %d)", singlesession.ErrTooManySessions, asInt(a[1]), l.Limit.Max)
	}
	if len(a) < 3 {
		return singlesession.LoginResult{}, errors.New("short reply")
	}
	res := singlesession.LoginResult{Ended: int(asInt(a[1])), At: micro(a[2])}
	if s.cluster {
		// The browser's previous sessions in other slots (anonymous, or
		// another user's). The login has happened whatever this does.
		var rest []string
		for _, r := range l.Replaces {
			if !slices.ContainsFunc(a[3:], func(v any) bool { return asString(v) == r }) {
				rest = append(rest, r)
			}
		}
		_, _ = s.logoutCluster(wctx, rest, "", "none", "", p)
	}
	return res, nil
}

// Logout implements [singlesession.Store.Logout]: one script on a single
// Redis; on Cluster, one script per token slot then one per user, in two
// pipelines.
func (s *Store) Logout(ctx context.Context, l singlesession.Logout) (singlesession.LogoutResult, error) {
	s.checkEviction(ctx)
	var res singlesession.LogoutResult
	if len(l.Tokens) == 0 && (l.UserID == "" || !l.Always) {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("singlesession: redisstore: logout of %q: %w", l.UserID, err)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	mode := "ifany"
	if l.Always {
		mode = "always"
	}
	p := ""
	if l.UserID != "" {
		p = escape(l.UserID)
	}
	var err error
	if !s.cluster {
		keys := make([]string, 0, 2*len(l.Tokens))
		args := []any{s.prefix, p, mode, l.UserAgent}
		for _, t := range l.Tokens {
			k := s.tokenKeys(t)
			keys = append(keys, k.anon, k.ptr)
			args = append(args, t)
		}
		if len(keys) == 0 {
			keys = []string{s.indexKey(p)}
		}
		var a []any
		a, err = scriptLogoutSingle.Run(wctx, s.client, keys, args...).Slice()
		if err == nil && len(a) == 3 {
			res = singlesession.LogoutResult{Deleted: int(asInt(a[0])), Ended: int(asInt(a[1])), At: micro(a[2])}
		}
	} else {
		res, err = s.logoutCluster(wctx, l.Tokens, p, mode, l.UserAgent, "")
	}
	if err != nil {
		return singlesession.LogoutResult{}, fmt.Errorf("singlesession: redisstore: logout of %q: %w", l.UserID, err)
	}
	return res, nil
}

// logoutCluster deletes tokens in their own slots, then in their users'
// (but skip's), ending the other sessions of the user myp by mode.
func (s *Store) logoutCluster(ctx context.Context, tokens []string, myp, mode, userAgent, skip string) (singlesession.LogoutResult, error) {
	var res singlesession.LogoutResult
	calls := make([]call, len(tokens))
	for i, t := range tokens {
		k := s.tokenKeys(t)
		calls[i] = call{keys: []string{k.anon, k.ptr}, args: []any{s.prefix}}
	}
	replies, err := s.runAll(ctx, scriptTake, calls)
	if err != nil {
		return res, err
	}
	groups := map[string][]any{}
	var order []string
	for i, v := range replies {
		a, err := asArray(v)
		if err != nil || len(a) < 3 {
			return res, errors.Join(err, errors.New("short reply"))
		}
		res.Deleted += int(asInt(a[0]))
		res.At = micro(a[2])
		if q := asString(a[1]); q != "" && q != skip {
			if _, ok := groups[q]; !ok {
				order = append(order, q)
			}
			groups[q] = append(groups[q], tokens[i])
		}
	}
	if _, ok := groups[myp]; myp != "" && !ok {
		order = append(order, myp)
	}
	calls = calls[:0]
	for _, q := range order {
		m := "none"
		if q == myp {
			m = mode
		}
		calls = append(calls, call{keys: []string{s.indexKey(q)}, args: append([]any{s.prefix, q, m, userAgent}, groups[q]...)})
	}
	replies, err = s.runAll(ctx, scriptLogoutUser, calls)
	if err != nil {
		return res, err
	}
	for _, v := range replies {
		a, err := asArray(v)
		if err != nil || len(a) < 3 {
			return res, errors.Join(err, errors.New("short reply"))
		}
		res.Deleted += int(asInt(a[0]))
		res.Ended += int(asInt(a[1]))
		res.At = micro(a[2])
	}
	return res, nil
}

// EndUsers implements [singlesession.Store.EndUsers]: one script for every user on a
// single Redis; on Cluster one script per user (atomic for each user, not
// across users), all in one pipeline.
func (s *Store) EndUsers(ctx context.Context, e singlesession.EndUsers) (singlesession.EndUsersResult, error) {
	s.checkEviction(ctx)
	res := singlesession.EndUsersResult{Ended: map[string]int{}}
	users := distinct(e.UserIDs)
	if len(users) == 0 {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("singlesession: redisstore: end sessions: %w", err)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	replies, err := s.runAll(wctx, scriptEnd, s.userCalls(users, s.prefix, string(e.Reason), e.UserAgent))
	if err != nil {
		return singlesession.EndUsersResult{}, fmt.Errorf("singlesession: redisstore: end sessions: %w", err)
	}
	i := 0
	for _, v := range replies {
		a, _ := asArray(v)
		if len(a) == 0 {
			return singlesession.EndUsersResult{}, errors.New("singlesession: redisstore: end sessions: empty reply")
		}
		res.At = micro(a[0])
		for _, n := range a[1:] {
			if n := int(asInt(n)); n > 0 && i < len(users) {
				res.Ended[users[i]] = n
			}
			i++
		}
	}
	return res, nil
}

// userCalls are the calls of a script that takes args then escaped users:
// one call for every user on a single Redis, one per user on Cluster (a
// script touches one slot). Each call's key is its first user's index.
func (s *Store) userCalls(users []string, args ...any) []call {
	if !s.cluster {
		c := call{keys: []string{s.indexKey(escape(users[0]))}, args: slices.Clip(args)}
		for _, u := range users {
			c.args = append(c.args, escape(u))
		}
		return []call{c}
	}
	calls := make([]call, len(users))
	for i, u := range users {
		calls[i] = call{keys: []string{s.indexKey(escape(u))}, args: append(slices.Clip(args), escape(u))}
	}
	return calls
}

func distinct(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// EndSessions implements [singlesession.Store.EndSessions]: one script in
// the user's slot.
func (s *Store) EndSessions(ctx context.Context, e singlesession.EndSessions) (singlesession.EndSessionsResult, error) {
	s.checkEviction(ctx)
	if err := ctx.Err(); err != nil {
		return singlesession.EndSessionsResult{}, fmt.Errorf("singlesession: redisstore: end sessions of %q: %w", e.UserID, err)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	p := escape(e.UserID)
	mode := "keep"
	if e.IDs != nil {
		mode = "ids"
	}
	args := []any{s.prefix, p, mode, e.By, string(e.Reason), e.UserAgent}
	for _, id := range e.IDs {
		args = append(args, id)
	}
	a, err := scriptRevoke.Run(wctx, s.client, []string{s.indexKey(p)}, args...).Slice()
	if err == nil && len(a) < 2 {
		err = errors.New("short reply")
	}
	if err == nil && asInt(a[0]) < 0 {
		err = fmt.Errorf("the asking session: %w", singlesession.ErrSessionNotFound)
	}
	if err != nil {
		return singlesession.EndSessionsResult{}, fmt.Errorf("singlesession: redisstore: end sessions of %q: %w", e.UserID, err)
	}
	return singlesession.EndSessionsResult{Ended: int(asInt(a[0])), At: micro(a[1])}, nil
}

// Sessions implements [singlesession.Store.Sessions]: one script in the
// user's slot.
func (s *Store) Sessions(ctx context.Context, q singlesession.SessionsQuery) (singlesession.SessionsResult, error) {
	s.checkEviction(ctx)
	p := escape(q.UserID)
	a, err := scriptSessions.Run(ctx, s.client, []string{s.indexKey(p)}, s.prefix, p).Slice()
	if err != nil {
		return singlesession.SessionsResult{}, fmt.Errorf("singlesession: redisstore: sessions of %q: %w", q.UserID, err)
	}
	var list []singlesession.SessionInfo
	for i := 0; i+6 <= len(a); i += 6 {
		list = append(list, singlesession.SessionInfo{
			ID: asString(a[i]), Created: micro(a[i+1]), Expiry: time.UnixMilli(asInt(a[i+2])),
			LastSeen: micro(a[i+3]), IP: asString(a[i+4]), UserAgent: asString(a[i+5]),
		})
	}
	slices.SortFunc(list, func(a, b singlesession.SessionInfo) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), cmp.Compare(b.ID, a.ID))
	})
	res := singlesession.SessionsResult{Total: len(list)}
	for _, info := range list {
		if len(res.Sessions) == q.Limit {
			break
		}
		if q.After.IsZero() || info.LastSeen.Before(q.After.LastSeen) ||
			(info.LastSeen.Equal(q.After.LastSeen) && info.ID < q.After.ID) {
			res.Sessions = append(res.Sessions, info)
		}
	}
	return res, nil
}

// CountSessions implements [singlesession.Store.CountSessions]: one script
// on a single Redis, one per user in one pipeline on Cluster.
func (s *Store) CountSessions(ctx context.Context, userIDs []string) (map[string]int, error) {
	s.checkEviction(ctx)
	counts := map[string]int{}
	users := distinct(userIDs)
	if len(users) == 0 {
		return counts, nil
	}
	replies, err := s.runAll(ctx, scriptCount, s.userCalls(users, s.prefix))
	if err != nil {
		return nil, fmt.Errorf("singlesession: redisstore: count sessions: %w", err)
	}
	i := 0
	for _, v := range replies {
		a, _ := asArray(v)
		for _, n := range a {
			if n := int(asInt(n)); n > 0 && i < len(users) {
				counts[users[i]] = n
			}
			i++
		}
	}
	return counts, nil
}

// All implements [singlesession.IterableStore] with SCAN over the prefix's keys
// on every node: its cost grows with the whole keyspace.
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
	gets := make([]*redis.StringCmd, len(anon))
	hgets := make([]*redis.SliceCmd, len(signed))
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range anon {
			gets[i] = p.Get(ctx, k)
		}
		for i, k := range signed {
			hgets[i] = p.HMGet(ctx, k, "d", "x")
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
		if err != nil || len(f) < 2 || f[0] == nil {
			continue
		}
		rest := k[len(s.prefix)+3:]
		j := strings.Index(rest, "}:s:")
		if j < 0 || asInt(f[1]) <= nowms {
			continue
		}
		all[rest[j+4:]] = []byte(asString(f[0]))
	}
	return all, nil
}

// DeleteExpired implements [singlesession.CleanupStore]: it SCANs
// the users' indexes on every node and prunes each with a script that
// deletes its expired sessions. Sessions, endings and indexes also expire
// by themselves; anonymous sessions are left to Redis and not counted.
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	s.checkEviction(ctx)
	var indexes []string
	err := s.scan(ctx, globEscape(s.prefix)+"u:{*}:i", "zset", func(keys []string) { indexes = append(indexes, keys...) })
	if err != nil {
		return 0, fmt.Errorf("singlesession: redisstore: delete expired sessions: %w", err)
	}
	total := 0
	for len(indexes) > 0 {
		batch := indexes[:min(len(indexes), 500)]
		indexes = indexes[len(batch):]
		var calls []call
		for _, k := range batch {
			p := strings.TrimSuffix(k[len(s.prefix)+3:], "}:i")
			if strings.Contains(p, "}") {
				continue
			}
			calls = append(calls, call{keys: []string{k}, args: []any{s.prefix, p}})
		}
		replies, err := s.runAll(ctx, scriptPrune, calls)
		if err != nil {
			return total, fmt.Errorf("singlesession: redisstore: delete expired sessions: %w", err)
		}
		for _, v := range replies {
			total += int(asInt(v))
		}
	}
	return total, nil
}

// scan calls found with the keys of every node (every master of a cluster)
// that match pattern and have type typ.
func (s *Store) scan(ctx context.Context, pattern, typ string, found func([]string)) error {
	var mu sync.Mutex
	each := func(ctx context.Context, c *redis.Client) error {
		var cursor uint64
		for {
			keys, next, err := c.ScanType(ctx, cursor, pattern, 1000, typ).Result()
			if err != nil {
				return err
			}
			mu.Lock()
			found(keys)
			mu.Unlock()
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	return s.forEachNode(ctx, each)
}

// globEscape makes s match itself in a SCAN pattern.
func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}
