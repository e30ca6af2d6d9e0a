package singlesession

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"
)

// MemoryStore is a [Store] in process memory, with the same rules as
// [PostgresStore]. It suits demos, tests of applications and single-instance
// programs; its sessions are lost when the process exits. A zero MemoryStore
// is not usable: create one with [NewMemoryStore]. It is safe for concurrent use.
type MemoryStore struct {
	mu       sync.Mutex
	sessions map[string]memorySession
	byUser   map[string]map[string]struct{} // user → tokens linked to it
}

type memorySession struct {
	data    []byte
	expiry  time.Time
	userID  string    // "" when linked to no user
	created time.Time // when userID signed in on it
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		sessions: map[string]memorySession{},
		byUser:   map[string]map[string]struct{}{},
	}
}

// Find implements [Store.Find].
func (s *MemoryStore) Find(_ context.Context, token string) ([]byte, string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[token]
	if !ok || !time.Now().Before(sess.expiry) {
		return nil, "", false, nil
	}
	return slices.Clone(sess.data), sess.userID, true, nil
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
func (s *MemoryStore) Update(_ context.Context, token string, data []byte, expiry time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[token]
	if !ok {
		return false, nil
	}
	sess.data, sess.expiry = slices.Clone(data), expiry
	s.sessions[token] = sess
	return true, nil
}

// Login implements [Store.Login] under the store's lock.
func (s *MemoryStore) Login(_ context.Context, l Login) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[l.Token]; ok {
		return 0, errors.New("singlesession: login: token already exists")
	}
	for _, t := range l.Replaces {
		s.delete(t)
	}
	ended := 0
	if l.EndOthers {
		for t := range s.byUser[l.UserID] {
			s.delete(t)
			ended++
		}
	}
	s.sessions[l.Token] = memorySession{data: slices.Clone(l.Data), expiry: l.Expiry, userID: l.UserID, created: time.Now()}
	if s.byUser[l.UserID] == nil {
		s.byUser[l.UserID] = map[string]struct{}{}
	}
	s.byUser[l.UserID][l.Token] = struct{}{}
	return ended, nil
}

// Logout implements [Store.Logout].
func (s *MemoryStore) Logout(_ context.Context, userID string, tokens []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, wasUsers := 0, false
	for _, t := range tokens {
		if _, ok := s.sessions[t]; !ok {
			continue
		}
		if u := s.delete(t); userID != "" && u == userID {
			wasUsers = true
		}
		n++
	}
	if wasUsers {
		for t := range s.byUser[userID] {
			s.delete(t)
			n++
		}
	}
	return n, nil
}

// End implements [Store.End].
func (s *MemoryStore) End(_ context.Context, userIDs []string) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := map[string]int{}
	for _, u := range userIDs {
		for t := range s.byUser[u] {
			s.delete(t)
			counts[u]++
		}
	}
	return counts, nil
}

// All implements [Store.All].
func (s *MemoryStore) All(context.Context) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	all := map[string][]byte{}
	for t, sess := range s.sessions {
		if now.Before(sess.expiry) {
			all[t] = slices.Clone(sess.data)
		}
	}
	return all, nil
}

// Sessions implements [Store.Sessions].
func (s *MemoryStore) Sessions(_ context.Context, userID string) ([]SessionInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	tokens := slices.Sorted(maps.Keys(s.byUser[userID]))
	slices.SortStableFunc(tokens, func(a, b string) int {
		return s.sessions[a].created.Compare(s.sessions[b].created)
	})
	var list []SessionInfo
	for _, t := range tokens {
		if sess := s.sessions[t]; now.Before(sess.expiry) {
			list = append(list, SessionInfo{ID: SessionID(t), Created: sess.created, Expiry: sess.expiry})
		}
	}
	return list, nil
}

// CountSessions implements [Store.CountSessions].
func (s *MemoryStore) CountSessions(_ context.Context, userIDs []string) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
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

// DeleteExpired implements [Store.DeleteExpired].
func (s *MemoryStore) DeleteExpired(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	n := 0
	for t, sess := range s.sessions {
		if !now.Before(sess.expiry) {
			s.delete(t)
			n++
		}
	}
	return n, nil
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
