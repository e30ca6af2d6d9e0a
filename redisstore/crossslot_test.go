package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// SPEC 8.11: on Cluster, when the step of a login in another slot fails
// (ending the browser's previous session: an anonymous one in its own slot,
// or another user's in that user's slot), the login still happens and the
// store logs a warning with that session's ID and user, never its token.
func TestCrossSlotStepFailureIsLogged(t *testing.T) {
	cases := []struct {
		name   string
		script string // the script the fault breaks
		setup  func(t *testing.T, s *redisstore.Store) (previous, user string)
	}{
		{"anonymous session", "take", func(t *testing.T, s *redisstore.Store) (string, string) {
			tok := token("anon")
			require.NoError(t, s.Insert(context.Background(), tok, []byte("cart"), time.Now().Add(time.Hour)))
			return tok, ""
		}},
		{"another user's session", "logoutUser", func(t *testing.T, s *redisstore.Store) (string, string) {
			tok := token("bob")
			_, err := login(t, s, "bob", tok, singlesession.Limit{})
			require.NoError(t, err)
			return tok, "bob"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := clusterClient(t)
			prefix := testPrefix(t, c)
			logger, logs := logged()
			s, err := redisstore.NewWithOptions(c, redisstore.Options{Prefix: prefix, Logger: logger})
			require.NoError(t, err)
			previous, user := tc.setup(t, s)
			match := prefix + "a:{" + singlesession.SessionID(previous) + "}" // the anonymous session's key
			if user != "" {
				match = prefix + "u:{" + user + "}" // the other user's slot
			}
			fault := &failing{sha: redisstore.ScriptHashes[tc.script], match: match}
			c.AddHook(fault)

			tok := token("alice")
			_, err = login(t, s, "alice", tok, singlesession.Limit{Max: 1}, previous)
			require.NoError(t, err, "the login happens whatever the other slot does")
			require.Positive(t, fault.n.Load(), "the fault was injected")
			f, err := s.Find(context.Background(), tok, time.Minute)
			require.NoError(t, err)
			assert.Equal(t, "alice", f.UserID)

			out := logs.String()
			assert.Contains(t, out, "level=WARN")
			assert.Contains(t, out, "could not end the browser's previous session")
			assert.Contains(t, out, "session="+singlesession.SessionID(previous))
			assert.Contains(t, out, "login_user=alice")
			if user != "" {
				assert.Contains(t, out, "user="+user)
			}
			assert.NotContains(t, out, previous, "no token in the logs")
			assert.NotContains(t, out, tok, "no token in the logs")

			// The session it could not end stays (until it expires, or its
			// user signs in or out).
			f, err = s.Find(context.Background(), previous, time.Minute)
			require.NoError(t, err)
			assert.True(t, f.Found)
		})
	}
}
