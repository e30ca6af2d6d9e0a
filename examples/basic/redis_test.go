package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With -redis the sessions live in Redis: a login there ends the user's
// session on another instance that shares the Redis.
func TestRedisFlag(t *testing.T) {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(url)
	require.NoError(t, err)
	probe := redis.NewClient(opts)
	defer probe.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := probe.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis at %s is unreachable (CI=true: a failure, not a skip): %v", url, err)
		}
		t.Skipf("Redis at %s is unreachable: %v", url, err)
	}
	user := "alice"
	one, two := startApp(t, "-redis", url), startApp(t, "-redis", url)
	a, b := newClient(t, "a", one.URL), newClient(t, "b", two.URL)
	a.login(user)
	require.Equal(t, user, a.whoami())
	b.login(user)
	assert.Equal(t, user, b.whoami())
	assert.Equal(t, "", a.whoami(), "the login on the other instance ended this one")
	b.logout()
	assert.Equal(t, "", b.whoami())
}
