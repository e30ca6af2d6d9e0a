package redisstore_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/redisstore"
)

// SPEC 8.5 on Redis: the operators' page of a user with 100,000 sessions
// answers within 1 s and under 1 MB, one page at a time, as it does over
// the memory store and PostgreSQL (TestAdminHTTP100000Sessions of the root
// package).
func TestAdminPage100000Sessions(t *testing.T) {
	const n = 100_000
	for _, topology := range []string{"single", "cluster"} {
		t.Run(topology, func(t *testing.T) {
			var c redis.UniversalClient
			if topology == "single" {
				c = singleClient(t)
			} else {
				c = clusterClient(t)
			}
			s, _ := newStore(t, c)
			tokens := make([]string, n)
			for i := range tokens {
				tokens[i] = token("crowd")
			}
			start := time.Now()
			require.NoError(t, redisstore.BulkLogin(context.Background(), s, "crowd", tokens, []byte("d"), time.Now().Add(time.Hour), "192.0.2.1", "pile"))
			t.Logf("%d sessions in %v", n, time.Since(start).Round(time.Millisecond))
			t.Cleanup(func() {
				_, _ = s.EndUsers(context.Background(), singlesession.EndUsers{UserIDs: []string{"crowd"}, Reason: singlesession.ReasonAdmin})
			})

			dir := singlesession.NewStaticDirectory(singlesession.User{ID: "root", Admin: true}, singlesession.User{ID: "crowd"})
			a := testapp.New(t, s, testapp.WithRoute("/admin/sessions/", func(a *testapp.App) http.HandlerFunc {
				admin, err := singlesession.NewAdmin(a.M, dir, singlesession.AdminConfig{})
				require.NoError(t, err)
				return http.StripPrefix("/admin/sessions", admin).ServeHTTP
			}))
			root := a.Browser("root")
			root.MustLogin("root")
			for _, accept := range []string{"text/html", "application/json"} {
				// The fastest of up to three: the bound is the page's, not
				// that of a machine busy with other work at that moment.
				var body string
				fastest := time.Hour
				for try := 0; try < 3 && fastest >= time.Second; try++ {
					start := time.Now()
					res, b := root.Send("GET", "/admin/sessions/?user=crowd", "", "Accept", accept)
					took := time.Since(start)
					require.Equal(t, http.StatusOK, res.StatusCode, b[:min(len(b), 300)])
					t.Logf("%s: %v, %d bytes", accept, took.Round(time.Millisecond), len(b))
					body, fastest = b, min(fastest, took)
				}
				assert.Less(t, fastest, time.Second, "within 1 s")
				assert.Less(t, len(body), 1<<20, "under 1 MB")
				if accept == "text/html" {
					assert.Contains(t, body, `100,000 sessions, most recently used first: 50 on this page.`)
				} else {
					assert.Contains(t, body, `"total":100000`)
				}
				assert.True(t, strings.Count(body, "192.0.2.1") >= 50, "one page of sessions")
			}
		})
	}
}
