package redisstore_test

import (
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/redisstore"
)

// SPEC 8.1: with scs's IdleTimeout every key a session needs lives as long
// as the session. A browser active only on instance 1 for longer than its
// first expiry stays signed in on instance 2 (which has never seen its
// token, so it reads the token's pointer), and its logout on either
// instance ends it everywhere: the old cookie is anonymous on both.
func TestSlidingExpiryAcrossInstances(t *testing.T) {
	const idle = 2 * time.Second
	forEachTopology(t, func(t *testing.T, client func() redis.UniversalClient) {
		for _, logoutOn := range []int{1, 2} {
			t.Run("logout on instance "+string(rune('0'+logoutOn)), func(t *testing.T) {
				t.Parallel()
				c1 := client()
				s1, prefix := newStore(t, c1)
				s2 := redisstore.NewWithPrefix(client(), prefix)
				opts := []testapp.Option{
					testapp.WithPolicy(singlesession.Never),
					testapp.WithSessions(func(s *scs.SessionManager) { s.IdleTimeout = idle }),
				}
				one, two := testapp.New(t, s1, opts...), testapp.New(t, s2, opts...)
				b1 := one.Browser("browser")
				b1.MustLogin("alice")
				cookie := b1.Cookie()
				// Active on instance 1 only, past the login's expiry.
				for deadline := time.Now().Add(idle + idle/2); time.Now().Before(deadline); {
					require.Equal(t, "alice", b1.WhoAmI(), "instance 1 keeps the active session")
					time.Sleep(idle / 5)
				}
				b2 := two.Browser("browser")
				b2.SetCookie(cookie)
				assert.Equal(t, "alice", b2.WhoAmI(), "instance 2 sees the session that slid on instance 1")

				if logoutOn == 1 {
					b1.MustLogout()
				} else {
					b2.MustLogout()
				}
				for _, a := range []*testapp.App{one, two} {
					old := a.Browser("old cookie")
					old.SetCookie(cookie)
					assert.Equal(t, "", old.WhoAmI(), "the old cookie on %s", a.Srv.URL)
				}
				assert.Equal(t, 0, testapp.Count(t, s1, "alice"))
				assert.Equal(t, 0, testapp.Count(t, s2, "alice"))
				assert.Zero(t, one.Errors.Load()+two.Errors.Load())
			})
		}
	})
}
