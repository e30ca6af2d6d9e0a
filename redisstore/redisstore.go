// Package redisstore is a [singlesession.Store] over Redis, for
// applications whose sessions live in Redis, on one server (or a primary
// with replicas, through Sentinel) or on Redis Cluster.
//
// Create it with [New] over a go-redis client and hand it to
// singlesession.New, as any store:
//
//	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}})
//	m, err := singlesession.New(scs.New(), redisstore.New(client), singlesession.Config{})
//
// # Keys
//
// With the prefix P ("singlesession:" by default), a user's ID escaped (U:
// '%', '{' and '}' as %25, %7B, %7D), ID a session's [singlesession.SessionID]
// and G a generation (below), the store keeps:
//
//	P a:{ID}:token  an anonymous session's data (string)
//	P t:{ID}        a signed-in session's pointer: U (string)
//	P u:{U}:m       the user's meta: its current generation G (hash)
//	P u:{U}:s:ID    a signed-in session (hash: data, token, expiry, created,
//	                last seen, generation, IP, User-Agent)
//	P u:{U}:x:G     generation G's index by expiry (sorted set: ID → expiry)
//	P u:{U}:l:G     generation G's index by last seen (sorted set: ID → last seen)
//	P u:{U}:e:ID    why a session ended: reason, at, User-Agent (string), or
//	                "@G": the reason of its generation's grave
//	P u:{U}:c:G     the grave of generation G, ended by a cut: why (string)
//	P u:{U}:o       the user's generations left to clean (set)
//
// Everything of one user shares the hash tag {U}, so on Redis Cluster one
// script can see and change all of it. A token cannot carry its user's tag
// (scs makes tokens before anyone signs in), so the token's own slot ({ID})
// holds only its anonymous session and its pointer to the user. Every key
// has an absolute expiry (PXAT, PEXPIREAT): a session's keys expire with it,
// and every key that a session needs to be loaded (its pointer and its
// user's meta and indexes) is extended with it when a save extends the
// session (scs's IdleTimeout), never shortened. No key or value holds the
// token of an ended session.
//
// # Generations and cuts
//
// A user's signed-in sessions belong to a generation, a time from Redis's
// clock in microseconds: the meta names the current one, each session
// records its own, and the generation's two indexes list its sessions. A
// session is served only when it is of its user's current generation and
// in its indexes. Ending many sessions at once (a logout, an operators'
// sign-out, EndOtherSessions, a login under a limit that ends more than
// 100) is a cut: one script starts a new generation, moves the sessions
// that stay into it (at most the limit), and records the reason in the old
// generation's grave. Every other session of the old generation is ended
// at that moment, whatever their number. Cleanup then deletes them, 500 to
// a script, writing each one's ending; it runs right after the operation,
// and if it is interrupted the user's next operation that ends sessions, or
// [Store.DeleteExpired], resumes it (and the keys expire anyway). Up to 100
// sessions end one by one instead, in the operation's own script.
//
// So no script the store sends looks at more than a bounded number of
// sessions, whatever a user's pile: a login with no limit looks at none; a
// login under a limit at most Max + 500 (and deletes the user's expired
// sessions first, 500 to a script); a page of Sessions at most its limit +
// 500; a count at most 100; a cut only the sessions that stay. Scripts hold
// all of Redis while they run; with 100,000 sessions of one user, none of
// them runs 50 ms (see TestBigPileSlowlog).
//
// # Eviction
//
// Redis deletes keys before they expire only under maxmemory with a policy
// other than noeviction. The store fails closed: a session whose hash,
// pointer or index entry is gone, or whose user's meta or an index is gone,
// is never served again (on Cluster, Find checks the pointer in the same
// round trip even when it knows the user); a page of Sessions, a count of a
// user with at most 100 sessions, and a login under a limit that is full
// check each session they count as Find does and end those a browser can
// no longer reach, so that such a session never takes a slot (a RejectNew
// user can always sign in) and lists show what Find serves. What an
// eviction costs is that sessions end early, without a recorded reason. At
// its first operation the store reads maxmemory-policy on every node and
// logs one warning when it is not noeviction.
//
// # Live endings
//
// The store is a [singlesession.NotifyingStore]: every script that ends
// live sessions PUBLISHes a notice on the channel P+"ended" as it commits
// (a small JSON object: the user, the sessions' IDs, or none for a cut,
// the reason, when, the acting user agent), and [Store.Listen] subscribes
// to it on one connection, so that [singlesession.Manager.SessionContext]
// learns at once, on every instance, that a session ended. On Cluster
// PUBLISH reaches every node, and Listen subscribes on one. Two prefixes do
// not hear each other. Sessions that an eviction ends are published when
// the store meets them (a page, a count, a login), with the reason
// [singlesession.ReasonExpired]: to the user an eviction is an early expiry.
//
// # Replicas
//
// Redis replicates asynchronously: a change the primary acknowledged may be
// lost by a failover (Sentinel or Cluster promoting a replica that did not
// have it yet), and an ended session is then signed in again. With
// [Options].WaitReplicas, every operation that ends sessions sends WAIT on
// the connection that ran it, in the same pipeline, and returns an error
// wrapping [ErrNotReplicated] when fewer replicas acknowledged within
// Options.WaitTimeout; the README's "Replicas and failover" says what that
// does and does not guarantee.
//
// # Scripts and round trips
//
// Every change is a Lua script (EVALSHA; go-redis sends the script's text
// only when a node does not have it yet), which Redis runs whole with
// nothing in between: the script that changes a user's sessions is that
// user's lock, across every process that shares the Redis. The times the
// store records and compares come from Redis's clock (TIME). A script reads
// every key it writes before its first write, so a script that fails
// changes nothing.
//
// On a single Redis (a [*redis.Client], Sentinel's included) every method
// but All and DeleteExpired is one script, one round trip (EndUsers and
// CountSessions: one script per 10 users, in one pipeline), plus the
// cleanup steps after a cut, and, rarely, a bounded step first (more than
// 500 expired sessions to delete, sessions an eviction left to repair).
//
// On Redis Cluster (any other client: [*redis.ClusterClient],
// [*redis.Ring]) one script may only touch one hash slot, so an operation
// that involves a token's slot and a user's slot takes a step in each; the
// store caches, in process, which user each signed-in token it has seen
// belongs to (a token's pointer never changes; at most 100,000 entries,
// keyed by SessionIDs, no tokens):
//
//   - Find: 1 round trip for an anonymous or unknown token and for a
//     signed-in or ended one this process knows (the user's script and an
//     EXISTS of the pointer, to their two nodes in one pipeline); 2 the
//     first time (the pointer, then the user's slot).
//   - Insert: 1. Update: 1 for an anonymous session or a known token (the
//     save and the extension of the pointer in one pipeline), 2 the first
//     time. Touch: 1 for a known token, 2 the first time.
//   - Login: 2 (the new token's pointer, then one script in the user's slot
//     that does everything the single-Redis login does for that user); 2
//     more when the user is full under a limit that keeps sessions
//     (RejectNew, or a Max of 2 or more: the pointers of the sessions that
//     decide, then the script again); and,
//     when the browser's previous session was anonymous or another user's,
//     its end in its own slot (1 more, and 1 more again for another
//     user's). The pointer is written first: on its own it is harmless. If
//     the step in another slot fails, the login has still happened; that
//     session stays until it expires, and the store logs a warning with its
//     ID and user.
//   - Logout: 2 (the browser's tokens' slots, then the users' slots).
//   - EndUsers: 1 (one script per user, in one pipeline). EndSessions: 1;
//     2 when a session asks (its pointer first).
//   - Sessions: 2 (the page, then its pointers). CountSessions: 1, and 1
//     more when a counted user has 1 to 100 sessions (their pointers).
//
// Each user's part is atomic, which is what the rules need: limits are
// exact and no ended session comes back on Cluster too. EndUsers over many
// users is atomic per user, not across users.
//
// All and DeleteExpired SCAN the prefix's keys on every node (every master
// on Cluster): their cost grows with the whole keyspace of the database, not
// with the number of sessions. Run DeleteExpired (singlesession's
// RunCleanup) rarely: Redis expires sessions, endings and indexes itself,
// and DeleteExpired only deletes index entries of expired sessions early
// and finishes interrupted cleanups.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
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

	waitReplicas int           // WAIT for this many replicas after each change that ends sessions
	waitTimeout  time.Duration // for that long
}

// Options configures a [Store] made by [NewWithOptions]. A zero Options
// makes the store that [New] makes.
type Options struct {
	// Prefix is the key prefix; "" means "singlesession:" (use
	// [NewWithPrefix] for no prefix at all). Braces are escaped, as
	// NewWithPrefix does.
	Prefix string

	// Logger receives the store's warnings (Redis may evict its keys; a
	// step of a Cluster login failed in another slot; a cleanup failed) and
	// debug messages. nil means slog.Default(), at the time of each message.
	Logger *slog.Logger

	// WaitReplicas, when positive, makes every operation that ends
	// sessions (Login, Logout, EndUsers, EndSessions) wait until that many
	// replicas of the primary acknowledged it (Redis's WAIT, sent on the
	// same connection, in the same pipeline when the client's read timeout
	// allows), and return an error wrapping [ErrNotReplicated] when fewer
	// did within WaitTimeout. 0 (the default) waits for none: replication
	// is asynchronous, and a failover may lose a change the primary
	// acknowledged (see the README's "Replicas and failover"). It needs a
	// [*redis.Client] or a [*redis.ClusterClient].
	WaitReplicas int

	// WaitTimeout bounds each wait for replicas; 0 means one second. Keep
	// it under the client's ReadTimeout (3 s by default) for the WAIT to
	// ride in the same round trip as the change.
	WaitTimeout time.Duration
}

var (
	_ singlesession.Store         = (*Store)(nil)
	_ singlesession.IterableStore = (*Store)(nil)
	_ singlesession.CleanupStore  = (*Store)(nil)
)

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
	if opts.WaitReplicas < 0 || opts.WaitTimeout < 0 {
		return nil, fmt.Errorf("singlesession: redisstore: negative WaitReplicas (%d) or WaitTimeout (%v)", opts.WaitReplicas, opts.WaitTimeout)
	}
	if opts.WaitReplicas > 0 {
		switch client.(type) {
		case *redis.Client, *redis.ClusterClient:
		default:
			return nil, fmt.Errorf("singlesession: redisstore: WaitReplicas needs a *redis.Client or a *redis.ClusterClient, not a %T", client)
		}
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = "singlesession:"
	}
	s := NewWithPrefix(client, prefix)
	s.logger = opts.Logger
	s.waitReplicas, s.waitTimeout = opts.WaitReplicas, opts.WaitTimeout
	if s.waitTimeout == 0 {
		s.waitTimeout = defaultWaitTimeout
	}
	return s, nil
}

func (s *Store) log() *slog.Logger {
	if s.logger != nil {
		return s.logger
	}
	return slog.Default()
}

// pointerCache remembers, on Cluster, which user each signed-in token that
// this process has seen belongs to, so that a load or save goes straight to
// the user's slot. A token's pointer never changes while the token lives (a
// login always takes a new token), so the cache is never wrong about the
// user; whether the pointer still exists (an eviction) is checked in the
// same round trip as the load. It is keyed by the pointer's key, which
// holds no token, and it is bounded: past maxPointers it starts again
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

func (c *pointerCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// writeTimeout bounds a change that has been sent: it is not cut short by
// the caller's context, so that an error means the change did not happen.
const writeTimeout = 5 * time.Second

// maxRounds bounds the bounded steps one operation may take (pruning,
// repairs, verifications of pointers): far more than any pile needs.
const maxRounds = 10_000

// --- keys --------------------------------------------------------------------

// A token's keys live in the slot of its SessionID, so that its pointer,
// which outlives its session, names no token.
func (s *Store) anonKey(id, token string) string { return s.prefix + "a:{" + id + "}:" + token }
func (s *Store) ptrKey(id string) string         { return s.prefix + "t:{" + id + "}" }

// A user's keys share the hash tag of its escaped ID; the meta key stands
// for the user's slot in KEYS.
func (s *Store) userBase(p string) string { return s.prefix + "u:{" + p + "}" }
func (s *Store) metaKey(p string) string  { return s.userBase(p) + ":m" }

// escape makes s safe inside a hash tag: no '{' or '}' (and '%', which
// escapes them).
func escape(s string) string {
	if !strings.ContainsAny(s, "%{}") {
		return s
	}
	return escaper.Replace(s)
}

var (
	escaper   = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")
	unescaper = strings.NewReplacer("%25", "%", "%7B", "{", "%7D", "}")
)

// unescape is escape undone.
func unescape(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	return unescaper.Replace(p)
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

// pairs returns, for each token, its SessionID and the token, as the
// scripts take them.
func pairs(tokens []string) []any {
	out := make([]any, 0, 2*len(tokens))
	for _, t := range tokens {
		out = append(out, singlesession.SessionID(t), t)
	}
	return out
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

// chunks splits s into slices of at most n.
func chunks[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
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

// --- sending -----------------------------------------------------------------

// op is one command of a pipeline: a script, or a plain command (args).
type op struct {
	script *redis.Script
	keys   []string
	args   []any
}

// result is the reply of an op, or its error.
type result struct {
	v   any
	err error
}

// pipeline sends ops in one pipeline (on Cluster, go-redis sends each node
// its share at once: one round trip of latency) and returns their results
// in order. A script not yet loaded on its node (NOSCRIPT) did not run; it
// is run again with its source.
func (s *Store) pipeline(ctx context.Context, ops ...op) []result {
	cmds := make([]*redis.Cmd, len(ops))
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, o := range ops {
			if o.script == nil {
				cmds[i] = p.Do(ctx, o.args...)
			} else {
				cmds[i] = o.script.EvalSha(ctx, p, o.keys, o.args...)
			}
		}
		return nil
	})
	out := make([]result, len(ops))
	for i, cmd := range cmds {
		v, err := cmd.Result()
		if err != nil && ops[i].script != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			v, err = ops[i].script.Run(ctx, s.client, ops[i].keys, ops[i].args...).Result()
		}
		if errors.Is(err, redis.Nil) {
			v, err = nil, nil
		}
		out[i] = result{v, err}
	}
	return out
}

// all returns the replies of results, or the first error.
func all(results []result) ([]any, error) {
	out := make([]any, len(results))
	for i, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		out[i] = r.v
	}
	return out, nil
}

// reachable reads, in one round trip, the pointers of the sessions ids of
// the user p, and splits them into those a browser can still reach (the
// pointer leads to p) and those it cannot (evicted: gone for good, since a
// pointer is written only at its session's login).
func (s *Store) reachable(ctx context.Context, p string, ids []string) (good, gone []string, err error) {
	ops := make([]op, len(ids))
	for i, id := range ids {
		ops[i] = op{args: []any{"get", s.ptrKey(id)}}
	}
	replies, err := all(s.pipeline(ctx, ops...))
	if err != nil {
		return nil, nil, err
	}
	for i, v := range replies {
		if asString(v) == p {
			good = append(good, ids[i])
		} else {
			gone = append(gone, ids[i])
		}
	}
	return good, gone, nil
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

// scan calls found with the keys of every node (every master of a cluster)
// that match pattern and have type typ.
func (s *Store) scan(ctx context.Context, pattern, typ string, found func([]string)) error {
	var mu sync.Mutex
	return s.forEachNode(ctx, func(ctx context.Context, c *redis.Client) error {
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
	})
}

// globEscape makes s match itself in a SCAN pattern.
func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}
