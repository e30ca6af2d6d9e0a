package singlesession

import "time"

// Test-only access to a MemoryStore's rows, for tests that expire sessions or
// look for rows that Find would not report.

// ExpireNow makes the session with token expired.
func (s *MemoryStore) ExpireNow(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.sessions[token]; ok {
		sess.expiry = time.Now().Add(-time.Second)
		s.sessions[token] = sess
	}
}

// Rows returns how many sessions and links the store holds, expired included.
func (s *MemoryStore) Rows() (sessions, links int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.sessions {
		if sess.userID != "" {
			links++
		}
	}
	return len(s.sessions), links
}

// HasRow reports whether a session with token exists, expired or not.
func (s *MemoryStore) HasRow(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sessions[token]
	return ok
}

// Watches returns how many SessionContexts m holds.
func (m *Manager) Watches() int {
	m.hub.mu.Lock()
	defer m.hub.mu.Unlock()
	return m.hub.n
}

// Listening reports whether m's hub runs its listener.
func (m *Manager) Listening() bool {
	m.hub.mu.Lock()
	defer m.hub.mu.Unlock()
	return m.hub.stop != nil
}

// SetPingInterval sets WatchHandler's ping interval for a test.
func SetPingInterval(d time.Duration) (restore func()) {
	old := pingInterval
	pingInterval = d
	return func() { pingInterval = old }
}
