package singlesession_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/go-singlesession/singlesession"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonCodec is a Codec other than scs's gob default.
type jsonCodec struct{}

func (jsonCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	return json.Marshal(struct {
		Deadline time.Time
		Values   map[string]any
	}{deadline, values})
}

func (jsonCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	var v struct {
		Deadline time.Time
		Values   map[string]any
	}
	err := json.Unmarshal(b, &v)
	return v.Deadline, v.Values, err
}

// Rule 10: the rules hold with each of scs's options, alone and together.
func TestScsOptions(t *testing.T) {
	options := []struct {
		name string
		set  func(*scs.SessionManager)
	}{
		{"hashed token", func(s *scs.SessionManager) { s.HashTokenInStore = true }},
		{"idle timeout", func(s *scs.SessionManager) { s.IdleTimeout = 10 * time.Minute }},
		{"lifetime", func(s *scs.SessionManager) { s.Lifetime = 2 * time.Hour }},
		{"cookie name", func(s *scs.SessionManager) { s.Cookie.Name = "sid" }},
		{"codec", func(s *scs.SessionManager) { s.Codec = jsonCodec{} }},
	}
	forEachStore(t, func(t *testing.T, e *env) {
		for mask := 0; mask < 1<<len(options); mask++ {
			name := ""
			var set []func(*scs.SessionManager)
			for i, o := range options {
				if mask&(1<<i) != 0 {
					name += "+" + o.name
					set = append(set, o.set)
				}
			}
			if name == "" {
				name = "+defaults"
			}
			t.Run(name[1:], func(t *testing.T) {
				a := newApp(t, e.Store, withSessions(func(s *scs.SessionManager) {
					for _, f := range set {
						f(s)
					}
				}))
				user := fmt.Sprint("user-", mask)
				one, two := a.Browser("one"), a.Browser("two")
				one.Put("cart", "kiwis")
				one.MustLogin(user)
				require.NotEmpty(t, one.Cookie(), "cookie %q is set", a.Sessions.Cookie.Name)
				assert.Equal(t, "kiwis", one.Get("cart"))
				assert.Equal(t, user, one.WhoAmI())

				res, err := e.Store.Sessions(t.Context(), singlesession.SessionsQuery{UserID: user, Limit: 10})
				require.NoError(t, err)
				list := res.Sessions
				require.Len(t, list, 1)
				want := time.Now().Add(a.Sessions.Lifetime)
				if a.Sessions.IdleTimeout > 0 {
					want = time.Now().Add(a.Sessions.IdleTimeout)
				}
				assert.WithinDuration(t, want, list[0].Expiry, time.Minute, "expiry follows Lifetime and IdleTimeout")

				two.MustLogin(user)
				assert.Equal(t, "", one.WhoAmI())
				assert.Equal(t, user, two.WhoAmI())
				assert.Equal(t, 1, e.SessionsOf(t, user))

				assert.Equal(t, http.StatusNoContent, two.Logout().StatusCode)
				assert.Equal(t, "", two.WhoAmI())
				assert.Equal(t, 0, e.SessionsOf(t, user))
				assert.Zero(t, a.Errors.Load())
			})
		}
	})
}
