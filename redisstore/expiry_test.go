package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// A signed-in session's hash, which find serves without reading its expiry
// field, expires exactly when the session does: after a login, and after
// every save, longer or shorter, with LastSeen or without, on a first save
// and on a save of a token the store knows; on a single Redis and on a
// Cluster. (A hash that outlived its session would serve it past its end.)
func TestSessionHashExpiresWithTheSession(t *testing.T) {
	for _, topology := range []string{"single", "cluster"} {
		t.Run(topology, func(t *testing.T) {
			var c redis.UniversalClient
			if topology == "single" {
				c = singleClient(t)
			} else {
				c = clusterClient(t)
			}
			s, prefix := newStore(t, c)
			ctx := context.Background()
			tok := token("expiry")
			key := prefix + "u:{alice}:s:" + singlesession.SessionID(tok)
			expiresAt := func() int64 {
				t.Helper()
				v, err := c.Do(ctx, "PEXPIRETIME", key).Int64()
				require.NoError(t, err)
				return v
			}
			base := time.Now().Add(time.Hour).Truncate(time.Millisecond)
			_, err := s.Login(ctx, singlesession.Login{UserID: "alice", Token: tok, Data: []byte("d"), Expiry: base})
			require.NoError(t, err)
			assert.Equal(t, base.UnixMilli(), expiresAt(), "after the login")

			for i, step := range []struct {
				name   string
				expiry time.Time
				touch  bool
				find   bool // load it first: the store then knows the token
			}{
				{"same expiry, first save", base, false, false},
				{"longer, with LastSeen", base.Add(time.Hour), true, true},
				{"shorter", base.Add(-30 * time.Minute), false, true},
				{"shorter, with LastSeen", base.Add(-40 * time.Minute), true, false},
				{"same again", base.Add(-40 * time.Minute), false, true},
			} {
				if step.find {
					_, err := s.Find(ctx, tok, time.Hour)
					require.NoError(t, err)
				}
				ok, err := s.Update(ctx, singlesession.Update{Token: tok, Data: []byte{byte(i)}, Expiry: step.expiry, Touch: step.touch})
				require.NoError(t, err)
				require.True(t, ok, step.name)
				assert.Equal(t, step.expiry.UnixMilli(), expiresAt(), step.name)
			}
		})
	}
}
