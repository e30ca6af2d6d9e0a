package pgxstore

import (
	"sync"
	"time"
)

// maxLinks bounds the links a Store remembers: about 10 MB. Past it the
// cache starts again empty.
const maxLinks = 65_536

// linkCache remembers, in this process, which user each token that the
// store has seen is linked to, and when its LastSeen was last known to be
// refreshed, so that loading a session that this process has loaded before
// is the query of scs's own store: the session alone, without the join on
// its link.
//
// It is never wrong about the user: a token's link is written with its
// session, by the login that made the token, and goes only with it (ON
// DELETE CASCADE), so while a token's session exists its user is the one the
// cache saw (an anonymous session is never linked later: a login makes a new
// token). A remembered token whose session is gone is simply not found. It
// can be late about LastSeen (another process refreshed it): the store then
// refreshes it once more than needed, never less. It holds tokens, in
// memory only; they never leave the process.
type linkCache struct {
	mu sync.Mutex
	m  map[string]link
}

// link is what the cache knows of a token.
type link struct {
	userID string    // "" for an anonymous session
	seen   time.Time // when LastSeen was last known to be refreshed (this process's clock)
}

func (c *linkCache) get(token string) (link, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.m[token]
	return l, ok
}

func (c *linkCache) put(token string, l link) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxLinks {
		c.m = make(map[string]link)
	}
	c.m[token] = l
}

// touched records that the LastSeen of token was refreshed now.
func (c *linkCache) touched(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.m[token]; ok && l.userID != "" {
		l.seen = time.Now()
		c.m[token] = l
	}
}

func (c *linkCache) forget(tokens ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range tokens {
		delete(c.m, t)
	}
}
