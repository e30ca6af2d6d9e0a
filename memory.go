package singlesession

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// MemoryStore is a [Store] in process memory, with the same rules as the
// stores of PostgreSQL and Redis. It is an [IterableStore], a
// [CleanupStore] and a [NotifyingStore] (whose notices reach the Listens of
// this process, the only one that shares it). It suits demos, tests of applications and single-instance
// programs; its sessions are lost when the process exits. A zero MemoryStore
// is not usable: create one with [NewMemoryStore]. It is safe for concurrent
// use; one lock serialises every operation, which is the user lock of the
// [Store] contract.
type MemoryStore struct {
	mu        sync.Mutex
	sessions  map[string]memorySession
	byUser    map[string]map[string]struct{} // user → tokens linked to it
	endings   map[string]memoryEnding        // endingKey(token) → why it ended
	now       func() time.Time               // the clock; tests may set it
	pending   []Notice                       // the notices of the operation that runs
	listeners map[*memoryListener]struct{}   // the running Listens
}

type memorySession struct {
	data   []byte
	expiry time.Time
	userID string // "" when linked to no user; the fields below only then
	info   SessionInfo
}

type memoryEnding struct {
	Ending
	expiry time.Time // the ended session's expiry: the ending is kept until then
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		sessions: map[string]memorySession{},
		byUser:   map[string]map[string]struct{}{},
		endings:  map[string]memoryEnding{},
		now:      nowMicro,
	}
}

// nowMicro is the clock of a MemoryStore: to the microsecond, as PostgreSQL
// and Redis keep times, so that positions in session lists compare alike.
func nowMicro() time.Time { return time.Now().Truncate(time.Microsecond) }

// memoryEndingKey is the key of the ending of the session with token: a
// hash, so that the store keeps no token of an ended session.
func memoryEndingKey(token string) string {
	return hashToken("singlesession:ended:" + token)
}

// Find implements [Store.Find].
func (s *MemoryStore) Find(_ context.Context, token string, staleAfter time.Duration) (FindResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	sess, ok := s.sessions[token]
	if !ok || !now.Before(sess.expiry) {
		if e, ok := s.endings[memoryEndingKey(token)]; ok && now.Before(e.expiry) {
			ending := e.Ending
			return FindResult{Ending: &ending}, nil
		}
		return FindResult{}, nil
	}
	f := FindResult{Found: true, Data: slices.Clone(sess.data), Expiry: sess.expiry, UserID: sess.userID}
	f.Stale = sess.userID != "" && now.Sub(sess.info.LastSeen) >= staleAfter
	return f, nil
}

// Insert implements [Store.Insert].
func (s *MemoryStore) Insert(_ context.Context, token string, data []byte, expiry time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[token]; ok {
		return errors.New("singlesession: insert session: token already exists")
	}
	s.sessions[token] = memorySession{data: slices.Clone(data), expiry: expiry}
	return nil
}

// Update implements [Store.Update].
func (s *MemoryStore) Update(_ context.Context, u Update) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[u.Token]
	if !ok {
		return false, nil
	}
	sess.data, sess.expiry = slices.Clone(u.Data), u.Expiry
	sess.info.Expiry = u.Expiry
	if u.Touch && sess.userID != "" {
		sess.info.LastSeen = s.now()
	}
	s.sessions[u.Token] = sess
	return true, nil
}

// Touch implements [Store.Touch].
func (s *MemoryStore) Touch(_ context.Context, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.sessions[token]; ok && sess.userID != "" {
		sess.info.LastSeen = s.now()
		s.sessions[token] = sess
	}
	return nil
}

// Login implements [Store.Login] under the store's lock.
func (s *MemoryStore) Login(_ context.Context, l Login) (LoginResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.publish()
	if _, ok := s.sessions[l.Token]; ok {
		return LoginResult{}, fmt.Errorf("singlesession: login of %q: token already exists", l.UserID)
	}
	now := s.now()
	var live, expired []string
	for t := range s.byUser[l.UserID] {
		if l.Limit.Max == 0 {
			break // no limit: a login looks at no other session
		}
		switch {
		case slices.Contains(l.Replaces, t):
		case now.Before(s.sessions[t].expiry):
			live = append(live, t)
		default:
			expired = append(expired, t)
		}
	}
	if l.Limit.RejectNew && l.Limit.Max > 0 && len(live) >= l.Limit.Max {
		return LoginResult{}, fmt.Errorf("singlesession: login of %q: %w (limit %d)", l.UserID, ErrTooManySessions, l.Limit.Max)
	}
	for _, t := range l.Replaces {
		s.endOwn(t, now)
	}
	for _, t := range expired {
		s.delete(t)
	}
	ended := 0
	if l.Limit.Max > 0 && len(live) >= l.Limit.Max {
		// Most recently used first; the ones past Max-1 end.
		slices.SortFunc(live, func(a, b string) int {
			x, y := s.sessions[a].info, s.sessions[b].info
			if c := y.LastSeen.Compare(x.LastSeen); c != 0 {
				return c
			}
			if c := y.Created.Compare(x.Created); c != 0 {
				return c
			}
			return cmp.Compare(b, a)
		})
		for _, t := range live[l.Limit.Max-1:] {
			s.end(t, ReasonLogin, now, l.UserAgent)
			ended++
		}
	}
	s.sessions[l.Token] = memorySession{
		data: slices.Clone(l.Data), expiry: l.Expiry, userID: l.UserID,
		info: SessionInfo{ID: SessionID(l.Token), Created: now, Expiry: l.Expiry, LastSeen: now, IP: l.IP, UserAgent: l.UserAgent},
	}
	if s.byUser[l.UserID] == nil {
		s.byUser[l.UserID] = map[string]struct{}{}
	}
	s.byUser[l.UserID][l.Token] = struct{}{}
	return LoginResult{Ended: ended, At: now}, nil
}

// Logout implements [Store.Logout].
func (s *MemoryStore) Logout(_ context.Context, l Logout) (LogoutResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.publish()
	now := s.now()
	res := LogoutResult{At: now}
	wasUsers := l.Always
	for _, t := range l.Tokens {
		if _, ok := s.sessions[t]; !ok {
			continue
		}
		if u := s.endOwn(t, now); l.UserID != "" && u == l.UserID {
			wasUsers = true
		}
		res.Deleted++
	}
	if l.UserID != "" && wasUsers {
		for t := range s.byUser[l.UserID] {
			if s.end(t, ReasonLogout, now, l.UserAgent) {
				res.Ended++
			}
			res.Deleted++
		}
	}
	return res, nil
}

// EndUsers implements [Store.EndUsers].
func (s *MemoryStore) EndUsers(_ context.Context, e EndUsers) (EndUsersResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.publish()
	now := s.now()
	res := EndUsersResult{Ended: map[string]int{}, At: now}
	for _, u := range e.UserIDs {
		for t := range s.byUser[u] {
			if s.end(t, e.Reason, now, e.UserAgent) {
				res.Ended[u]++
			}
		}
	}
	return res, nil
}

// EndSessions implements [Store.EndSessions].
func (s *MemoryStore) EndSessions(_ context.Context, e EndSessions) (EndSessionsResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.publish()
	now := s.now()
	res := EndSessionsResult{At: now}
	if e.By != "" {
		by, ok := s.sessions[e.By]
		if !ok || by.userID != e.UserID || !now.Before(by.expiry) {
			return EndSessionsResult{}, fmt.Errorf("singlesession: end sessions of %q: the asking session: %w", e.UserID, ErrSessionNotFound)
		}
	}
	for t := range s.byUser[e.UserID] {
		chosen := t != e.By
		if e.IDs != nil {
			chosen = slices.Contains(e.IDs, s.sessions[t].info.ID)
		}
		if chosen && s.end(t, e.Reason, now, e.UserAgent) {
			res.Ended++
		}
	}
	return res, nil
}

// All implements [IterableStore].
func (s *MemoryStore) All(context.Context) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	all := map[string][]byte{}
	for t, sess := range s.sessions {
		if now.Before(sess.expiry) {
			all[t] = slices.Clone(sess.data)
		}
	}
	return all, nil
}

// Sessions implements [Store.Sessions]. It sorts the user's sessions on
// each call: fine for the thousands a process holds.
func (s *MemoryStore) Sessions(_ context.Context, q SessionsQuery) (SessionsResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	// One pass that keeps at most 2×Limit candidates, trimmed to the
	// Limit most recently used when full: a page of a user with 100,000
	// sessions neither sorts nor copies them all.
	newestFirst := func(a, b SessionInfo) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), cmp.Compare(b.ID, a.ID))
	}
	var res SessionsResult
	var page []SessionInfo
	for t := range s.byUser[q.UserID] {
		sess := s.sessions[t]
		if !now.Before(sess.expiry) {
			continue
		}
		res.Total++
		info := sess.info
		if q.Limit <= 0 || !(q.After.IsZero() || info.LastSeen.Before(q.After.LastSeen) ||
			(info.LastSeen.Equal(q.After.LastSeen) && info.ID < q.After.ID)) {
			continue
		}
		info.Expiry = sess.expiry
		page = append(page, info)
		if len(page) == 2*q.Limit {
			slices.SortFunc(page, newestFirst)
			page = page[:q.Limit]
		}
	}
	slices.SortFunc(page, newestFirst)
	if len(page) > q.Limit {
		page = page[:q.Limit]
	}
	res.Sessions = page
	return res, nil
}

// CountSessions implements [Store.CountSessions].
func (s *MemoryStore) CountSessions(_ context.Context, userIDs []string) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	counts := map[string]int{}
	for _, u := range userIDs {
		if _, done := counts[u]; done {
			continue
		}
		n := 0
		for t := range s.byUser[u] {
			if now.Before(s.sessions[t].expiry) {
				n++
			}
		}
		if n > 0 {
			counts[u] = n
		}
	}
	return counts, nil
}

// DeleteExpired implements [CleanupStore].
func (s *MemoryStore) DeleteExpired(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n := 0
	for t, sess := range s.sessions {
		if !now.Before(sess.expiry) {
			s.delete(t)
			n++
		}
	}
	maps.DeleteFunc(s.endings, func(_ string, e memoryEnding) bool { return !now.Before(e.expiry) })
	return n, nil
}

// end deletes a session and, when it was live and reason is not "", records
// why; it reports whether the session was live. s.mu must be held.
func (s *MemoryStore) end(token string, reason Reason, now time.Time, userAgent string) bool {
	sess, ok := s.sessions[token]
	if !ok {
		return false
	}
	s.delete(token)
	live := now.Before(sess.expiry)
	if live && reason != "" {
		s.endings[memoryEndingKey(token)] = memoryEnding{Ending: Ending{Reason: reason, At: now, UserAgent: userAgent}, expiry: sess.expiry}
	}
	if live {
		s.notice(sess.userID, sess.info.ID, Ending{Reason: reason, At: now, UserAgent: userAgent})
	}
	return live
}

// endOwn deletes a session of the browser that asks (its logout, its
// previous token at a login): no reason is recorded, and its watches hear
// an ending without one. It returns the user the session was linked to.
// s.mu must be held.
func (s *MemoryStore) endOwn(token string, now time.Time) string {
	sess, ok := s.sessions[token]
	if ok && sess.userID != "" && now.Before(sess.expiry) {
		s.notice(sess.userID, sess.info.ID, Ending{At: now})
	}
	return s.delete(token)
}

// delete removes a session and its link, and returns the user it was linked
// to ("" when none or when there was no such session). s.mu must be held.
func (s *MemoryStore) delete(token string) string {
	sess, ok := s.sessions[token]
	if !ok {
		return ""
	}
	delete(s.sessions, token)
	if sess.userID != "" {
		delete(s.byUser[sess.userID], token)
		if len(s.byUser[sess.userID]) == 0 {
			delete(s.byUser, sess.userID)
		}
	}
	return sess.userID
}

func (s *MemoryStore) validate() error {
	if s == nil || s.sessions == nil {
		return errors.New("MemoryStore is not initialised: create it with NewMemoryStore()")
	}
	return nil
}

// notice adds the end of the session id of userID to the notices of the
// operation that runs. s.mu must be held.
func (s *MemoryStore) notice(userID, id string, e Ending) {
	if userID == "" || len(s.listeners) == 0 {
		return
	}
	if n := len(s.pending); n > 0 && s.pending[n-1].UserID == userID && s.pending[n-1].Ending == e {
		s.pending[n-1].IDs = append(s.pending[n-1].IDs, id)
		return
	}
	s.pending = append(s.pending, Notice{UserID: userID, IDs: []string{id}, Ending: e})
}

// publish hands the operation's notices to every Listen, in order, as the
// operation ends. s.mu must be held.
func (s *MemoryStore) publish() {
	if len(s.pending) == 0 {
		return
	}
	for l := range s.listeners {
		l.push(s.pending)
	}
	s.pending = nil
}

// memoryListener is one Listen: its queue of notices, which it delivers on
// its own goroutine, so that the store never waits for a listener.
type memoryListener struct {
	mu    sync.Mutex
	queue []Notice
	wake  chan struct{}
}

func (l *memoryListener) push(notices []Notice) {
	l.mu.Lock()
	l.queue = append(l.queue, notices...)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *memoryListener) take() []Notice {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queue
	l.queue = nil
	return q
}

// Listen implements [NotifyingStore]: the notices of this store, which only
// this process shares.
func (s *MemoryStore) Listen(ctx context.Context, ready func(), notify func(Notice)) error {
	l := &memoryListener{wake: make(chan struct{}, 1)}
	s.mu.Lock()
	if s.listeners == nil {
		s.listeners = map[*memoryListener]struct{}{}
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	ready()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.wake:
			for _, n := range l.take() {
				notify(n)
			}
		}
	}
}
