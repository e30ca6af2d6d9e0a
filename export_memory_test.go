package singlesession

import (
	"strings"
	"time"
)

// Test-only access to a MemoryStore's endings and rows.

// Endings returns how many endings the store remembers, expired included.
func (s *MemoryStore) Endings() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.endings)
}

// ExpireEndings puts every remembered ending past its session's expiry.
func (s *MemoryStore) ExpireEndings() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.endings {
		e.expiry = time.Now().Add(-time.Second)
		s.endings[k] = e
	}
}

// Holds reports whether any key or text of the store contains text.
func (s *MemoryStore) Holds(text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for token, sess := range s.sessions {
		if strings.Contains(token, text) || strings.Contains(string(sess.data), text) ||
			strings.Contains(sess.info.ID, text) || strings.Contains(sess.info.UserAgent, text) {
			return true
		}
	}
	for key, e := range s.endings {
		if strings.Contains(key, text) || strings.Contains(e.UserAgent, text) {
			return true
		}
	}
	return false
}
