package test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/otelsinglesession"
	"github.com/go-singlesession/singlesession/otelsinglesession/test/internal/oteltest"
	"github.com/go-singlesession/singlesession/redisstore"
)

// redisURL is the single Redis of the tests: REDIS_URL, by default
// redis://127.0.0.1:6379/0.
func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// client returns a client of the single Redis, closed when t ends. Under
// CI=true an unreachable Redis fails the test; otherwise it is skipped.
func client(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL())
	require.NoError(t, err)
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis at %s is unreachable (CI=true: a failure, not a skip): %v", redisURL(), err)
		}
		t.Skipf("Redis at %s is unreachable: %v", redisURL(), err)
	}
	return c
}

// prefix returns a key prefix of t's own, whose keys are deleted when t
// ends.
func prefix(t testing.TB, c *redis.Client) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	p := "ssotel:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, p+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return p
}

// redisBackend returns an empty store on the single Redis, with a key
// prefix of t's own, and one over a closed client.
func redisBackend(t *testing.T) oteltest.Backend {
	c := client(t)
	p := prefix(t, c)
	closed := redis.NewClient(c.Options())
	closed.Close()
	return oteltest.Backend{Store: redisstore.NewWithPrefix(c, p), Broken: redisstore.NewWithPrefix(closed, p)}
}

// Through NewStore, redisstore keeps its optional interfaces and no more:
// scs's Iterate works, and SessionContext learns of an ending from the
// notices when redisstore sends them, and by checking every 2 s when it
// does not.
func TestRedisOptionalInterfaces(t *testing.T) {
	t.Parallel()
	c := client(t)
	bare := redisstore.NewWithPrefix(c, prefix(t, c))
	tel := oteltest.NewTelemetry(t)
	wrapped := otelsinglesession.NewStore(bare, tel.Options()...)
	require.Equal(t, oteltest.Bits(bare), oteltest.Bits(wrapped))
	t.Logf("redisstore's optional interfaces: %b (iterable 1, cleanup 2, notifying 4)", oteltest.Bits(bare))

	a := testapp.New(t, wrapped)
	A := a.Browser("A")
	A.MustLogin("alice")
	if oteltest.Bits(bare)&oteltest.Iterable != 0 {
		res, body := A.Do("POST", "/iterate", url.Values{})
		require.Equal(t, 204, res.StatusCode, body)
		assert.Equal(t, "yes", A.Get("seen"))
		assert.Equal(t, 1, tel.Count("singlesession.All"))
	}
	w := A.Watch()
	start := time.Now()
	_, err := a.M.LogoutUsers(context.Background(), []string{"alice"})
	require.NoError(t, err)
	l, ok := w.Next(5 * time.Second)
	require.True(t, ok, "the watch ends")
	assert.Equal(t, "ended admin ", l.Text)
	t.Logf("the watch ended %v after the sign-out began", l.At.Sub(start).Round(time.Millisecond))
	if oteltest.Bits(bare)&oteltest.Notifying == 0 {
		assert.Zero(t, tel.Count("singlesession.Listen"))
		assert.Positive(t, tel.Count("singlesession.Find"), "the Manager checked the watched session")
	}
}
