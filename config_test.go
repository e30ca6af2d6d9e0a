package singlesession_test

import (
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// Rule 12: configuration errors fail in New, and New changes nothing then.
func TestNewRejectsBadConfig(t *testing.T) {
	mem := singlesession.NewMemoryStore()
	var nilMem *singlesession.MemoryStore
	var nilPG *pgxstore.Store
	mod := func(f func(*scs.SessionManager)) *scs.SessionManager {
		s := scs.New()
		f(s)
		return s
	}
	taken := scs.New()
	_, err := singlesession.New(taken, mem, singlesession.Config{})
	require.NoError(t, err)

	for name, c := range map[string]struct {
		sessions *scs.SessionManager
		store    singlesession.Store
		want     string
	}{
		"nil sessions":       {nil, mem, "sessions is nil"},
		"nil store":          {scs.New(), nil, "store is nil"},
		"typed nil memory":   {scs.New(), nilMem, "store is nil"},
		"typed nil postgres": {scs.New(), nilPG, "store is nil"},
		"zero MemoryStore":   {scs.New(), &singlesession.MemoryStore{}, "NewMemoryStore"},
		"no codec":           {mod(func(s *scs.SessionManager) { s.Codec = nil }), mem, "Codec"},
		"no cookie name":     {mod(func(s *scs.SessionManager) { s.Cookie.Name = "" }), mem, "Cookie.Name"},
		"negative lifetime":  {mod(func(s *scs.SessionManager) { s.Lifetime = -1 }), mem, "Lifetime"},
		"negative idle":      {mod(func(s *scs.SessionManager) { s.IdleTimeout = -1 }), mem, "IdleTimeout"},
		"taken sessions":     {taken, mem, "already belongs"},
	} {
		t.Run(name, func(t *testing.T) {
			before := c.sessions
			var store any
			if before != nil {
				store = before.Store
			}
			m, err := singlesession.New(c.sessions, c.store, singlesession.Config{})
			assert.Nil(t, m, name)
			if assert.Error(t, err, name) {
				assert.Contains(t, err.Error(), c.want, name)
				assert.True(t, strings.HasPrefix(err.Error(), "singlesession: "), name)
			}
			if before != nil {
				assert.Equal(t, store, before.Store, "%s: New left sessions.Store alone", name)
			}
		})
	}
}
