package singlesession_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-singlesession/singlesession"
)

// Bad input from the application or the network: clear errors or an
// anonymous session, never a panic or a 500.
func TestBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		b := a.Browser("b")
		b.MustLogin("alice")

		for name, id := range map[string]string{
			"empty":        "",
			"10 KB":        strings.Repeat("x", 10*1024),
			"invalid UTF8": "al\xffice",
			"NUL":          "al\x00ice",
		} {
			t.Run(name, func(t *testing.T) {
				err := a.M.LoginHook(context.Background(), id)
				assert.ErrorIs(t, err, singlesession.ErrInvalidUserID, name)
				res := b.Login(id)
				assert.Equal(t, http.StatusBadRequest, res.StatusCode, name)
				assert.Equal(t, "alice", b.WhoAmI(), "%s: a refused login changes nothing", name)
			})
		}
		_, err := a.M.LogoutUser(context.Background(), strings.Repeat("x", 10*1024))
		assert.ErrorIs(t, err, singlesession.ErrInvalidUserID)

		// A user ID at the limit is fine.
		long := strings.Repeat("é", singlesession.MaxUserIDLen/2)
		other := a.Browser("long")
		other.MustLogin(long)
		assert.Equal(t, long, other.WhoAmI())

		for name, cookie := range map[string]string{
			"garbage": "garbage", "43 A": strings.Repeat("A", 43), "4000 z": strings.Repeat("z", 4000),
			"escapes": "%00%ff", "dots": "a.b.Client", "altered": b.Cookie() + "x",
		} {
			t.Run("cookie "+name, func(t *testing.T) {
				forged := a.Browser("forged")
				forged.SetCookie(cookie)
				assert.Equal(t, "", forged.WhoAmI(), "cookie %.20q", cookie)
			})
		}
		assert.Equal(t, "alice", b.WhoAmI())
		assert.Zero(t, a.Errors.Load(), "no forged cookie reaches ErrorFunc")
	})
}
