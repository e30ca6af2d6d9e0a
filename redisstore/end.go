package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/go-singlesession/singlesession"
)

// Logout implements [singlesession.Store.Logout]: one script on a single
// Redis; on Cluster one script per token's slot, then one per user, in two
// pipelines. Ending the user's other sessions is bounded whatever their
// number (one by one up to 100, otherwise a cut, and cleanup steps after).
func (s *Store) Logout(ctx context.Context, l singlesession.Logout) (singlesession.LogoutResult, error) {
	s.checkEviction(ctx)
	if len(l.Tokens) == 0 && (l.UserID == "" || !l.Always) {
		return singlesession.LogoutResult{}, nil
	}
	if err := ctx.Err(); err != nil {
		return singlesession.LogoutResult{}, fmt.Errorf("singlesession: redisstore: logout of %q: %w", l.UserID, err)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout+s.waitTimeout)
	defer cancel()
	res, pending, err := s.logout(wctx, l, true)
	if err != nil {
		return singlesession.LogoutResult{}, fmt.Errorf("singlesession: redisstore: logout of %q: %w", l.UserID, err)
	}
	s.cleanup(ctx, pending...)
	return res, nil
}

// logout applies l, waiting for replicas when wait is set and the store
// does, and returns the users with generations left to clean.
func (s *Store) logout(ctx context.Context, l singlesession.Logout, wait bool) (singlesession.LogoutResult, []string, error) {
	var res singlesession.LogoutResult
	run := s.runEnding
	if !wait {
		run = func(ctx context.Context, ops ...op) ([]result, error) { return s.pipeline(ctx, ops...), nil }
	}
	mode := "ifany"
	if l.Always {
		mode = "always"
	}
	p := ""
	if l.UserID != "" {
		p = escape(l.UserID)
	}
	if s.cluster {
		return s.logoutCluster(ctx, run, l.Tokens, p, mode, l.UserAgent)
	}
	r, notReplicated := run(ctx, op{script: scriptLogoutSingle, keys: []string{s.metaKey(p)}, args: append([]any{s.prefix, p, mode, l.UserAgent}, pairs(l.Tokens)...)})
	if r[0].err != nil {
		return res, nil, r[0].err
	}
	a, err := asArray(r[0].v)
	if err != nil || len(a) < 3 {
		return res, nil, errors.Join(err, errors.New("short reply"))
	}
	res = singlesession.LogoutResult{Deleted: int(asInt(a[0])), Ended: int(asInt(a[1])), At: micro(a[2])}
	var pending []string
	for _, q := range a[3:] {
		pending = append(pending, asString(q))
	}
	return res, pending, notReplicated
}

// logoutCluster deletes tokens in their own slots (their anonymous
// sessions), then in their users' (the signed-in ones), ending the other
// sessions of the user myp by mode. It returns the users with
// generations left to clean.
func (s *Store) logoutCluster(ctx context.Context, run func(context.Context, ...op) ([]result, error), tokens []string, myp, mode, userAgent string) (singlesession.LogoutResult, []string, error) {
	var res singlesession.LogoutResult
	ops := make([]op, len(tokens))
	for i, t := range tokens {
		id := singlesession.SessionID(t)
		ops[i] = op{script: scriptTake, keys: []string{s.anonKey(id, t), s.ptrKey(id)}, args: []any{s.prefix}}
	}
	replies, err := all(s.pipeline(ctx, ops...))
	if err != nil {
		return res, nil, err
	}
	groups := map[string][]string{}
	var order []string
	for i, v := range replies {
		a, err := asArray(v)
		if err != nil || len(a) < 3 {
			return res, nil, errors.Join(err, errors.New("short reply"))
		}
		res.Deleted += int(asInt(a[0]))
		res.At = micro(a[2])
		q := asString(a[1])
		if q == "" {
			q = myp // no pointer: if it is a session of myp's, it is in myp's slot
		}
		if q == "" {
			continue
		}
		if _, ok := groups[q]; !ok {
			order = append(order, q)
		}
		groups[q] = append(groups[q], tokens[i])
	}
	if _, ok := groups[myp]; myp != "" && !ok {
		order = append(order, myp)
	}
	ops = ops[:0]
	for _, q := range order {
		m := "none"
		if q == myp {
			m = mode
		}
		ops = append(ops, op{script: scriptLogoutUser, keys: []string{s.metaKey(q)}, args: append([]any{s.prefix, q, m, userAgent}, pairs(groups[q])...)})
	}
	results, notReplicated := run(ctx, ops...)
	replies, err = all(results)
	if err != nil {
		return res, nil, err
	}
	var pending []string
	for i, v := range replies {
		a, err := asArray(v)
		if err != nil || len(a) < 4 {
			return res, nil, errors.Join(err, errors.New("short reply"))
		}
		res.Deleted += int(asInt(a[0]))
		res.Ended += int(asInt(a[1]))
		res.At = micro(a[2])
		if asInt(a[3]) == 1 {
			pending = append(pending, order[i])
		}
	}
	return res, pending, notReplicated
}

// usersPerScript bounds how many users one script ends or counts on a
// single Redis: each user costs up to 100 sessions read one by one, so a
// script stays within about 1,000 of them.
const usersPerScript = 10

// EndUsers implements [singlesession.Store.EndUsers]: on a single Redis one
// script per 10 users; on Cluster one script per user, all in one
// pipeline. Each user's part is atomic and bounded whatever the user's
// pile (one by one up to 100 sessions, otherwise a cut, and cleanup steps
// after); the operation as a whole is atomic per script, not across them.
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
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout+s.waitTimeout)
	defer cancel()
	calls := s.userCalls(scriptEndUsers, users, s.prefix, string(e.Reason), e.UserAgent)
	results, notReplicated := s.runEnding(wctx, calls...)
	replies, err := all(results)
	if err != nil {
		return singlesession.EndUsersResult{}, fmt.Errorf("singlesession: redisstore: end sessions: %w", err)
	}
	var pending []string
	i := 0
	for _, v := range replies {
		a, _ := asArray(v)
		if len(a) == 0 || len(a)%2 != 1 {
			return singlesession.EndUsersResult{}, errors.New("singlesession: redisstore: end sessions: short reply")
		}
		res.At = micro(a[0])
		for j := 1; j+1 < len(a) && i < len(users); j += 2 {
			if n := int(asInt(a[j])); n > 0 {
				res.Ended[users[i]] = n
			}
			if asInt(a[j+1]) == 1 {
				pending = append(pending, escape(users[i]))
			}
			i++
		}
	}
	s.cleanup(ctx, pending...)
	if notReplicated != nil {
		return singlesession.EndUsersResult{}, fmt.Errorf("singlesession: redisstore: end sessions: %w", notReplicated)
	}
	return res, nil
}

// userCalls are the calls of a script that takes args then escaped users:
// one call per 10 users on a single Redis, one per user on Cluster (a
// script touches one slot). Each call's key is its first user's meta.
func (s *Store) userCalls(script *redis.Script, users []string, args ...any) []op {
	var out []op
	size := usersPerScript
	if s.cluster {
		size = 1
	}
	for _, group := range chunks(users, size) {
		c := op{script: script, keys: []string{s.metaKey(escape(group[0]))}, args: slices.Clip(args)}
		for _, u := range group {
			c.args = append(c.args, escape(u))
		}
		out = append(out, c)
	}
	return out
}

// EndSessions implements [singlesession.Store.EndSessions]: one script in
// the user's slot (one per 1,000 IDs). When a session asks (By), the script
// first checks that it is a live session of the user that a browser can
// reach; on Cluster, where its pointer lives in another slot, the store
// reads the pointer first (one more round trip): a pointer that is gone
// never comes back, so this is safe.
func (s *Store) EndSessions(ctx context.Context, e singlesession.EndSessions) (singlesession.EndSessionsResult, error) {
	s.checkEviction(ctx)
	res, pending, err := s.endSessions(ctx, e)
	if pending {
		s.cleanup(ctx, escape(e.UserID))
	}
	if err != nil {
		return singlesession.EndSessionsResult{}, fmt.Errorf("singlesession: redisstore: end sessions of %q: %w", e.UserID, err)
	}
	return res, nil
}

func (s *Store) endSessions(ctx context.Context, e singlesession.EndSessions) (singlesession.EndSessionsResult, bool, error) {
	var res singlesession.EndSessionsResult
	if err := ctx.Err(); err != nil {
		return res, false, err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout+s.waitTimeout)
	defer cancel()
	p := escape(e.UserID)
	byID := ""
	if e.By != "" {
		byID = singlesession.SessionID(e.By)
		if s.cluster {
			good, _, err := s.reachable(wctx, p, []string{byID})
			if err != nil {
				return res, false, err
			}
			if len(good) == 0 {
				return res, false, fmt.Errorf("the asking session: %w", singlesession.ErrSessionNotFound)
			}
		}
	}
	mode, groups := "keep", [][]string{nil}
	if e.IDs != nil {
		mode, groups = "ids", chunks(e.IDs, 1000)
		if len(groups) == 0 {
			groups = [][]string{{}}
		}
	}
	pending := false
	var notReplicated error
	for _, ids := range groups {
		args := []any{s.prefix, p, mode, byID, e.By, string(e.Reason), e.UserAgent, b01(!s.cluster)}
		for _, id := range ids {
			args = append(args, id)
		}
		r, err := s.runEnding(wctx, op{script: scriptEndSessions, keys: []string{s.metaKey(p)}, args: args})
		notReplicated = cmp.Or(notReplicated, err)
		a, aerr := asArray(r[0].v)
		err = r[0].err
		if err == nil && (aerr != nil || len(a) < 3) {
			err = errors.Join(aerr, errors.New("short reply"))
		}
		if err != nil {
			return res, pending, err
		}
		if asInt(a[0]) < 0 {
			return res, pending, fmt.Errorf("the asking session: %w", singlesession.ErrSessionNotFound)
		}
		res.Ended += int(asInt(a[0]))
		res.At = micro(a[1])
		pending = pending || asInt(a[2]) == 1
	}
	return res, pending, notReplicated
}

// cleanup deletes, in bounded steps (500 sessions a script), what cuts of
// the users ps left in their old generations, and writes the endings of
// their sessions. It runs right after the operation that cut, until done
// or until ctx ends; what it leaves is resumed by the users' next
// operation that ends sessions, or by DeleteExpired, and expires with its
// keys anyway. The cut itself has already ended those sessions: cleanup
// only frees their memory, so its failures are logged, not returned.
func (s *Store) cleanup(ctx context.Context, ps ...string) {
	for _, p := range ps {
		for round := 0; round < maxRounds; round++ {
			if ctx.Err() != nil {
				return
			}
			a, err := scriptClean.Run(ctx, s.client, []string{s.metaKey(p)}, s.prefix, p).Slice()
			if err == nil && len(a) < 2 {
				err = errors.New("short reply")
			}
			if err != nil {
				if ctx.Err() == nil {
					s.log().WarnContext(ctx, "singlesession: redisstore: cleanup of ended sessions failed; the user's next operation or DeleteExpired resumes it",
						"user", unescape(p), "err", err)
				}
				break
			}
			if asInt(a[1]) == 0 {
				break
			}
		}
	}
}
