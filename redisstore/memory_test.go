package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// The memory of each key of the store, measured with MEMORY USAGE (SAMPLES
// 0: every element) on a private redis-server, for a session of 100 bytes
// of data and a 100-byte User-Agent; the README's table comes from its
// log. A signed-in session costs under 1.5 KB in all, with its entries in
// big indexes.
func TestMemoryUsage(t *testing.T) {
	srv := startPrivateRedis(t)
	c := srv.client()
	s := redisstore.NewWithPrefix(c, "singlesession:")
	ctx := context.Background()
	data := []byte(strings.Repeat("d", 100))
	ua := strings.Repeat("u", 100)
	hour := time.Now().Add(time.Hour)
	usage := func(key string) int {
		n, err := c.MemoryUsage(ctx, key, 0).Result()
		require.NoError(t, err, key)
		return int(n)
	}
	anon := token("anon")
	require.NoError(t, s.Insert(ctx, anon, data, hour))
	signIn := func(user string, n int) []string {
		toks := make([]string, n)
		for i := range toks {
			toks[i] = token("mem")
		}
		require.NoError(t, redisstore.BulkLogin(ctx, s, user, toks, data, hour, "192.0.2.1", ua))
		return toks
	}
	one := signIn("alice", 1)[0]
	id := singlesession.SessionID(one)
	g := generation(t, c, "singlesession:", "alice")
	base := "singlesession:u:{alice}"
	type row struct {
		what string
		n    int
	}
	rows := []row{
		{"a:{ID}:token  an anonymous session", usage("singlesession:a:{" + singlesession.SessionID(anon) + "}:" + anon)},
		{"u:{U}:s:ID    a signed-in session", usage(base + ":s:" + id)},
		{"t:{ID}        its pointer", usage("singlesession:t:{" + id + "}")},
		{"u:{U}:m       the user's meta", usage(base + ":m")},
		{"u:{U}:x:G     index by expiry, 1 session", usage(base + ":x:" + g)},
		{"u:{U}:l:G     index by last seen, 1 session", usage(base + ":l:" + g)},
	}
	session := rows[1].n + rows[2].n
	for _, n := range []int{100, 10_000} {
		user := fmt.Sprint("bob", n)
		signIn(user, n)
		gb := generation(t, c, "singlesession:", user)
		b := "singlesession:u:{" + user + "}"
		x, l := usage(b+":x:"+gb), usage(b+":l:"+gb)
		rows = append(rows,
			row{fmt.Sprintf("u:{U}:x:G     per session, of %d", n), x / n},
			row{fmt.Sprintf("u:{U}:l:G     per session, of %d", n), l / n})
		if n == 10_000 {
			session += (x + l) / n
		}
	}
	// Endings: one by one (a limit, EndSession), and after a cut.
	two := signIn("carol", 1)[0]
	_, err := s.EndSessions(ctx, singlesession.EndSessions{UserID: "carol", IDs: []string{singlesession.SessionID(two)}, Reason: singlesession.ReasonRevoked, UserAgent: ua})
	require.NoError(t, err)
	dave := signIn("dave", 150)
	_, err = s.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"dave"}, Reason: singlesession.ReasonAdmin, UserAgent: ua})
	require.NoError(t, err)
	graves := keys(t, c, "singlesession:", "u:{dave}:c:*")
	require.Len(t, graves, 1)
	rows = append(rows, []row{
		{"u:{U}:e:ID    why a session ended (one by one)", usage("singlesession:u:{carol}:e:" + singlesession.SessionID(two))},
		{"u:{U}:e:ID    why a session ended (by a cut)", usage("singlesession:u:{dave}:e:" + singlesession.SessionID(dave[0]))},
		{"u:{U}:c:G     the grave of a cut generation", usage(graves[0])},
	}...)
	for _, r := range rows {
		t.Logf("%-48s %5d B", r.what, r.n)
	}
	t.Logf("%-48s %5d B", "a signed-in session in a big pile, in all", session)
	assert.Less(t, session, 1500)
}
