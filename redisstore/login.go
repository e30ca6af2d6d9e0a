package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-singlesession/singlesession"
)

// Login implements [singlesession.Store.Login]: one script on a single
// Redis; on Cluster the new token's pointer, then one script in the user's
// slot, then, when the browser's previous session was anonymous or another
// user's, a step in that session's slot (and its user's).
//
// A login with no limit looks at no other session of the user. Under a
// limit it first deletes the user's expired sessions, 500 per script; when
// the user is full it reads the sessions it needs to decide (the Max most
// recently used) and checks that a browser can still reach them (on
// Cluster, their pointers live in other slots: it reads them in one
// pipelined round trip and runs the script again), so that a session an
// eviction left unreachable never takes a slot. It ends the least recently
// used sessions one by one when they are at most 100, and by a cut (a new
// generation, see the package documentation) when there are more.
//
// It is sent only while ctx is alive, and once sent its reply is awaited
// even if ctx ends meanwhile, so an error means the login did not happen. A
// retry of a login that was applied (go-redis retries after a network
// error) applies nothing twice. With [Options].WaitReplicas, a login that
// ended or replaced sessions and that the replicas did not acknowledge
// returns an error wrapping [ErrNotReplicated]: its endings are applied on
// the primary, and the new session is deleted again; a login that ended
// nothing succeeds whatever the replicas say (a failover would lose only
// the new session: the browser signs in again).
func (s *Store) Login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	s.checkEviction(ctx)
	res, pending, err := s.login(ctx, l)
	if err != nil {
		return singlesession.LoginResult{}, fmt.Errorf("singlesession: redisstore: login of %q: %w", l.UserID, err)
	}
	if pending {
		s.cleanup(ctx, escape(l.UserID))
	}
	return res, nil
}

func (s *Store) login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, bool, error) {
	if l.Limit.Max < 0 {
		return singlesession.LoginResult{}, false, fmt.Errorf("negative limit %d", l.Limit.Max)
	}
	if err := ctx.Err(); err != nil {
		return singlesession.LoginResult{}, false, err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout+s.waitTimeout)
	defer cancel()
	p := escape(l.UserID)
	id := singlesession.SessionID(l.Token)
	x := ms(l.Expiry)
	script := scriptLoginSingle
	if s.cluster {
		// The pointer first: on its own it is harmless (it leads to no
		// session until the login adds it), and the session is never in
		// the user's indexes without its pointer.
		if err := s.client.Do(wctx, "SET", s.ptrKey(id), p, "PXAT", x).Err(); err != nil {
			return singlesession.LoginResult{}, false, err
		}
		s.pointers.put(s.ptrKey(id), p)
		script = scriptLoginUser
	}
	var verified, dead []string
	for round := 0; ; round++ {
		if round > 0 {
			// Nothing is applied yet: a step of pruning or repair, or a
			// verification, is all that happened.
			if err := ctx.Err(); err != nil {
				return singlesession.LoginResult{}, false, err
			}
			if round > maxRounds {
				return singlesession.LoginResult{}, false, errors.New("too many rounds")
			}
		}
		r, notReplicated := s.runEnding(wctx, op{script: script, keys: []string{s.metaKey(p)}, args: s.loginArgs(l, verified, dead)})
		if r[0].err != nil {
			return singlesession.LoginResult{}, false, r[0].err
		}
		a, err := asArray(r[0].v)
		if err != nil || len(a) == 0 {
			return singlesession.LoginResult{}, false, errors.Join(err, errors.New("empty reply"))
		}
		switch asString(a[0]) {
		case "again":
			continue
		case "check":
			ids := make([]string, 0, len(a)-1)
			for _, v := range a[1:] {
				ids = append(ids, asString(v))
			}
			good, gone, err := s.reachable(wctx, p, ids)
			if err != nil {
				return singlesession.LoginResult{}, false, err
			}
			verified, dead = append(verified, good...), append(dead, gone...)
			continue
		case "full":
			return singlesession.LoginResult{}, false, fmt.Errorf("%w (%d of %d)", singlesession.ErrTooManySessions, asInt(a[1]), l.Limit.Max)
		case "ok":
		default:
			return singlesession.LoginResult{}, false, fmt.Errorf("unexpected reply %q", a[0])
		}
		if len(a) < 4 {
			return singlesession.LoginResult{}, false, errors.New("short reply")
		}
		res := singlesession.LoginResult{Ended: int(asInt(a[1])), At: micro(a[2])}
		if notReplicated != nil && (res.Ended > 0 || len(l.Replaces) > 0) {
			// It ended sessions, and the replicas may not know: say so. The
			// new session goes (no replica waited for), so that the error
			// leaves no session that no browser holds.
			_, _, _ = s.logout(wctx, singlesession.Logout{Tokens: []string{l.Token}}, false)
			return singlesession.LoginResult{}, false, notReplicated
		}
		if s.cluster {
			var rest []string
			for _, r := range l.Replaces {
				rid := singlesession.SessionID(r)
				if !slices.ContainsFunc(a[4:], func(v any) bool { return asString(v) == rid }) {
					rest = append(rest, r)
				}
			}
			s.endElsewhere(wctx, rest, p, l.UserID)
		}
		return res, asInt(a[3]) == 1, nil
	}
}

// loginArgs are the ARGV of the login scripts (see login_args).
func (s *Store) loginArgs(l singlesession.Login, verified, dead []string) []any {
	return append([]any{s.prefix, escape(l.UserID), l.Token, singlesession.SessionID(l.Token), l.Data, ms(l.Expiry),
		l.Limit.Max, b01(l.Limit.RejectNew), l.IP, l.UserAgent, strings.Join(verified, " "), strings.Join(dead, " ")},
		pairs(l.Replaces)...)
}

// endElsewhere ends, on Cluster, the browser's previous sessions that were
// not the user's: anonymous ones in their own slots, and other users'
// sessions in their users' slots. The login has happened whatever this
// does; a step that fails leaves that session until it expires (or its
// user signs in or out), and is logged as a warning with the session's ID
// (never its token).
func (s *Store) endElsewhere(ctx context.Context, tokens []string, p, user string) {
	if len(tokens) == 0 {
		return
	}
	ops := make([]op, len(tokens))
	for i, t := range tokens {
		id := singlesession.SessionID(t)
		ops[i] = op{script: scriptTake, keys: []string{s.anonKey(id, t), s.ptrKey(id)}, args: []any{s.prefix}}
	}
	groups := map[string][]string{}
	var order []string
	for i, r := range s.pipeline(ctx, ops...) {
		a, err := asArray(r.v)
		if r.err == nil && (err != nil || len(a) < 2) {
			r.err = errors.Join(err, errors.New("short reply"))
		}
		if r.err != nil {
			s.log().WarnContext(ctx, "singlesession: redisstore: a Cluster login could not end the browser's previous session (anonymous or another user's) in its own slot; it stays until it expires",
				"session", singlesession.SessionID(tokens[i]), "login_user", user, "err", r.err)
			continue
		}
		if q := asString(a[1]); q != "" && q != p {
			if _, ok := groups[q]; !ok {
				order = append(order, q)
			}
			groups[q] = append(groups[q], tokens[i])
		}
	}
	ops = ops[:0]
	for _, q := range order {
		ops = append(ops, op{script: scriptLogoutUser, keys: []string{s.metaKey(q)}, args: append([]any{s.prefix, q, "none", ""}, pairs(groups[q])...)})
	}
	for i, r := range s.pipeline(ctx, ops...) {
		if r.err == nil {
			continue
		}
		for _, t := range groups[order[i]] {
			s.log().WarnContext(ctx, "singlesession: redisstore: a Cluster login could not end the browser's previous session of another user in that user's slot; it stays until it expires or that user signs in or out",
				"session", singlesession.SessionID(t), "user", unescape(order[i]), "login_user", user, "err", r.err)
		}
	}
}
