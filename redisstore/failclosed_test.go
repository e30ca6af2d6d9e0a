package redisstore_test

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// SPEC 8.2, deterministically: each kind of key the store keeps is deleted
// (as an eviction would), on a single Redis and on Cluster, and the store
// fails closed: a session that lost its hash, its pointer or an index
// entry, or whose user lost its meta, is never served again, on this
// instance or another; Sessions and CountSessions show exactly what Find
// serves; a RejectNew user can sign in up to what a browser can reach;
// saves never bring a lost session back; and the user can sign in and out
// afterwards.
func TestEachKeyLostFailsClosed(t *testing.T) {
	kinds := []struct {
		name string
		// key returns the key to delete: of the first session, or of its
		// user.
		key func(t testing.TB, c redis.UniversalClient, prefix, id string) string
		// all: every session of the user is lost with it.
		all bool
	}{
		{"pointer", func(_ testing.TB, _ redis.UniversalClient, prefix, id string) string {
			return prefix + "t:{" + id + "}"
		}, false},
		{"session hash", func(_ testing.TB, _ redis.UniversalClient, prefix, id string) string {
			return prefix + "u:{alice}:s:" + id
		}, false},
		{"index by expiry", func(t testing.TB, c redis.UniversalClient, prefix, _ string) string {
			return prefix + "u:{alice}:x:" + generation(t, c, prefix, "alice")
		}, true},
		{"index by last seen", func(t testing.TB, c redis.UniversalClient, prefix, _ string) string {
			return prefix + "u:{alice}:l:" + generation(t, c, prefix, "alice")
		}, true},
		{"meta", func(_ testing.TB, _ redis.UniversalClient, prefix, _ string) string { return prefix + "u:{alice}:m" }, true},
	}
	forEachTopology(t, func(t *testing.T, client func() redis.UniversalClient) {
		for _, kind := range kinds {
			t.Run(kind.name, func(t *testing.T) {
				c := client()
				s, prefix := newStore(t, c)
				ctx := context.Background()
				toks := []string{token("lost"), token("two"), token("three")}
				for _, tok := range toks {
					_, err := login(t, s, "alice", tok, singlesession.Limit{})
					require.NoError(t, err)
				}
				for _, tok := range toks {
					f, err := s.Find(ctx, tok, time.Minute) // this instance knows them all
					require.NoError(t, err)
					require.True(t, f.Found)
				}
				key := kind.key(t, c, prefix, singlesession.SessionID(toks[0]))
				n, err := c.Del(ctx, key).Result()
				require.NoError(t, err)
				require.EqualValues(t, 1, n, "deleted %s", key)

				lost := toks[:1]
				if kind.all {
					lost = toks
				}
				other := redisstore.NewWithPrefix(client(), prefix) // an instance that never met the tokens
				for _, st := range []*redisstore.Store{s, other} {
					for _, tok := range lost {
						f, err := st.Find(ctx, tok, time.Minute)
						require.NoError(t, err)
						assert.False(t, f.Found, "a session whose %s is gone is not served", kind.name)
						assert.Nil(t, f.Ending, "an eviction records no reason")
						found, err := st.Update(ctx, singlesession.Update{Token: tok, Data: []byte("late"), Expiry: time.Now().Add(time.Hour), Touch: true})
						require.NoError(t, err)
						assert.False(t, found, "a save does not bring it back")
					}
				}
				ids := served(t, s, "alice", toks)
				assert.Len(t, ids, len(toks)-len(lost))
				list, total := listed(t, s, "alice")
				assert.Equal(t, ids, list, "Sessions shows what Find serves")
				assert.Equal(t, len(ids), total)
				counts, err := other.CountSessions(ctx, []string{"alice"})
				require.NoError(t, err)
				assert.Equal(t, len(ids), counts["alice"], "CountSessions counts what Find serves")

				// RejectNew: room for exactly one more than a browser can reach.
				limit := singlesession.Limit{Max: len(ids) + 1, RejectNew: true}
				_, err = login(t, other, "alice", token("room"), limit)
				require.NoError(t, err, "a RejectNew user signs in up to what a browser can reach")
				_, err = login(t, s, "alice", token("full"), limit)
				require.ErrorIs(t, err, singlesession.ErrTooManySessions)

				// A logout from a session that is still served ends everything.
				if len(ids) > 0 {
					res, err := s.Logout(ctx, singlesession.Logout{Tokens: []string{toks[1]}, UserID: "alice"})
					require.NoError(t, err)
					assert.Equal(t, len(ids), res.Ended, "the other reachable session and the new one")
				} else {
					_, err := s.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"alice"}, Reason: singlesession.ReasonAdmin})
					require.NoError(t, err)
				}
				assert.Empty(t, served(t, s, "alice", toks))
				assert.Zero(t, count(t, s, "alice"))
				again := token("again")
				_, err = login(t, other, "alice", again, singlesession.Limit{Max: 1, RejectNew: true})
				require.NoError(t, err)
				f, err := s.Find(ctx, again, time.Minute)
				require.NoError(t, err)
				assert.True(t, f.Found)
				assert.Equal(t, "alice", f.UserID)
			})
		}
	})
}

func count(t testing.TB, s singlesession.Store, user string) int {
	t.Helper()
	counts, err := s.CountSessions(context.Background(), []string{user})
	require.NoError(t, err)
	return counts[user]
}

// SPEC 8.3 on the store: EndSessions asked by a session (By) ends nothing
// and returns ErrSessionNotFound when that session has ended (a login
// elsewhere under Always, an operator, a cut of more than 100 sessions) or
// can no longer be reached (its pointer evicted); the user's other sessions
// stay and record no reason.
func TestEndSessionsByAnEndedSession(t *testing.T) {
	forEachTopology(t, func(t *testing.T, client func() redis.UniversalClient) {
		enders := map[string]func(t *testing.T, s *redisstore.Store, c redis.UniversalClient, prefix, by string) []string{
			"a login elsewhere": func(t *testing.T, s *redisstore.Store, _ redis.UniversalClient, _, _ string) []string {
				tok := token("new")
				_, err := login(t, s, "alice", tok, singlesession.Limit{Max: 1})
				require.NoError(t, err)
				return []string{tok}
			},
			"an operator, then logins": func(t *testing.T, s *redisstore.Store, _ redis.UniversalClient, _, _ string) []string {
				_, err := s.EndUsers(context.Background(), singlesession.EndUsers{UserIDs: []string{"alice"}, Reason: singlesession.ReasonAdmin})
				require.NoError(t, err)
				return []string{loginNew(t, s), loginNew(t, s)}
			},
			"a cut of 150": func(t *testing.T, s *redisstore.Store, _ redis.UniversalClient, _, _ string) []string {
				for range 150 {
					loginNew(t, s)
				}
				tok := token("new")
				_, err := login(t, s, "alice", tok, singlesession.Limit{Max: 1})
				require.NoError(t, err)
				return []string{tok, loginNew(t, s)}
			},
			"its pointer evicted": func(t *testing.T, s *redisstore.Store, c redis.UniversalClient, prefix, by string) []string {
				require.NoError(t, c.Del(context.Background(), prefix+"t:{"+singlesession.SessionID(by)+"}").Err())
				return []string{loginNew(t, s), loginNew(t, s)}
			},
		}
		for name, end := range enders {
			t.Run(name, func(t *testing.T) {
				c := client()
				s, prefix := newStore(t, c)
				ctx := context.Background()
				by := loginNew(t, s)
				stays := end(t, s, c, prefix, by)
				for _, e := range []singlesession.EndSessions{
					{UserID: "alice", By: by, Reason: singlesession.ReasonRevoked, UserAgent: "stolen"},
					{UserID: "alice", By: by, IDs: []string{singlesession.SessionID(stays[0])}, Reason: singlesession.ReasonRevoked},
				} {
					_, err := s.EndSessions(ctx, e)
					require.ErrorIs(t, err, singlesession.ErrSessionNotFound)
				}
				for _, tok := range stays {
					f, err := s.Find(ctx, tok, time.Minute)
					require.NoError(t, err)
					assert.True(t, f.Found, "the user's newer sessions stay")
				}
			})
		}
	})
}

func loginNew(t testing.TB, s singlesession.Store) string {
	t.Helper()
	tok := token("s")
	_, err := login(t, s, "alice", tok, singlesession.Limit{})
	require.NoError(t, err)
	return tok
}

// failing is a go-redis hook that fails the EVALSHA of one script (by its
// digest) whose arguments contain match, before it is sent, as a network
// fault would.
type failing struct {
	sha, match string
	n          atomic.Int64
}

var errInjected = &net.OpError{Op: "write", Net: "tcp", Err: errTest("injected fault")}

type errTest string

func (e errTest) Error() string { return string(e) }

func (f *failing) hit(cmd redis.Cmder) bool {
	args := cmd.Args()
	if len(args) < 2 || !strings.EqualFold(cmd.Name(), "evalsha") || args[1] != f.sha {
		return false
	}
	for _, a := range args {
		if s, ok := a.(string); ok && strings.Contains(s, f.match) {
			f.n.Add(1)
			return true
		}
	}
	return false
}

func (f *failing) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f *failing) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if f.hit(cmd) {
			cmd.SetErr(errInjected)
			return errInjected
		}
		return next(ctx, cmd)
	}
}

func (f *failing) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var rest []redis.Cmder
		for _, cmd := range cmds {
			if f.hit(cmd) {
				cmd.SetErr(errInjected)
			} else {
				rest = append(rest, cmd)
			}
		}
		if len(rest) == 0 {
			return errInjected
		}
		return next(ctx, rest)
	}
}

// SPEC 8.4: the cleanup that follows a cut may be interrupted; the cut has
// ended the sessions already (Find tells why, from the cut's grave), lists
// and counts show only the survivors, and the user's next operation or
// DeleteExpired resumes the cleanup, after which each ended session has its
// own ending and nothing of the old generation is left.
func TestInterruptedCleanup(t *testing.T) {
	forEachTopology(t, func(t *testing.T, client func() redis.UniversalClient) {
		c := client()
		prefix := testPrefix(t, c)
		fault := &failing{sha: redisstore.ScriptHashes["clean"], match: prefix}
		faulty := client()
		switch f := faulty.(type) {
		case *redis.Client:
			f.AddHook(fault)
		case *redis.ClusterClient:
			f.AddHook(fault)
		}
		logger, logs := logged()
		s, err := redisstore.NewWithOptions(faulty, redisstore.Options{Prefix: prefix, Logger: logger})
		require.NoError(t, err)
		ctx := context.Background()
		var toks []string
		for range 150 {
			toks = append(toks, loginNew(t, s))
		}
		res, err := s.EndSessions(ctx, singlesession.EndSessions{UserID: "alice", By: toks[0], Reason: singlesession.ReasonRevoked, UserAgent: "phone"})
		require.NoError(t, err, "the cut happened; its cleanup failed")
		assert.Equal(t, 149, res.Ended)
		assert.Positive(t, fault.n.Load())
		assert.Contains(t, logs.String(), "cleanup of ended sessions failed")
		assert.NotEmpty(t, keys(t, c, prefix, "u:{alice}:o"), "a generation is left to clean")

		check := func(when string) {
			for _, tok := range toks[1:] {
				f, err := s.Find(ctx, tok, time.Minute)
				require.NoError(t, err)
				require.False(t, f.Found, when)
				require.NotNil(t, f.Ending, when)
				assert.Equal(t, singlesession.ReasonRevoked, f.Ending.Reason, when)
				assert.Equal(t, "phone", f.Ending.UserAgent, when)
			}
			ids, total := listed(t, s, "alice")
			assert.Equal(t, map[string]bool{singlesession.SessionID(toks[0]): true}, ids, when)
			assert.Equal(t, 1, total, when)
			assert.Equal(t, 1, count(t, s, "alice"), when)
		}
		check("before the cleanup")
		fault.match = "no such prefix" // the fault is gone
		_, err = s.DeleteExpired(ctx)
		require.NoError(t, err)
		check("after DeleteExpired")
		assert.Empty(t, keys(t, c, prefix, "u:{alice}:o"), "nothing left to clean")
		assert.Len(t, keys(t, c, prefix, "u:{alice}:s:*"), 1, "only the survivor's hash")
		assert.Len(t, keys(t, c, prefix, "u:{alice}:e:*"), 149, "an ending for each ended session")

		// The next operation that cuts resumes its own cleanup at once.
		for range 150 {
			loginNew(t, s)
		}
		fault.match = prefix
		_, err = s.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"alice"}, Reason: singlesession.ReasonAdmin})
		require.NoError(t, err)
		assert.NotEmpty(t, keys(t, c, prefix, "u:{alice}:o"))
		fault.match = "no such prefix"
		_, err = login(t, s, "alice", token("later"), singlesession.Limit{Max: 1})
		require.NoError(t, err)
		assert.Empty(t, keys(t, c, prefix, "u:{alice}:o"), "the login resumed the cleanup")
		assert.Len(t, keys(t, c, prefix, "u:{alice}:s:*"), 1)
	})
}
