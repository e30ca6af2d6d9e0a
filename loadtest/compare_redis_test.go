package loadtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession/loadtest"
)

// A short comparison on Redis, without PostgreSQL (no DSN): singlesession
// over redisstore and plain scs over goredisstore each serve every request,
// the report names their stores and has a ratio (reported, never asserted),
// and when Compare returns, nothing is left under either side's prefix,
// where each side did keep its sessions.
func TestCompareRedis(t *testing.T) {
	t.Parallel()
	c := requireRedis(t)
	report, err := loadtest.Compare(context.Background(), loadtest.Config{
		RedisURL: redisURL(),
		Clients:  4,
		Duration: 600 * time.Millisecond, // per side: 2 rounds of 300 ms
		Rounds:   2,
	})
	require.NoError(t, err)
	t.Log("\n" + report.String())
	checkRedisComparison(t, c, report, "Redis", "plain scs (goredisstore)")
}

// The same on Redis Cluster, where plain scs runs goredisstore's commands
// on a cluster client.
func TestCompareRedisCluster(t *testing.T) {
	t.Parallel()
	addrs, c := requireRedisCluster(t)
	report, err := loadtest.Compare(context.Background(), loadtest.Config{
		RedisClusterAddrs: addrs,
		Clients:           4,
		Duration:          600 * time.Millisecond,
		Rounds:            2,
	})
	require.NoError(t, err)
	t.Log("\n" + report.String())
	checkRedisComparison(t, c, report, "Redis Cluster", "plain scs (goredisstore's commands)")
}

func checkRedisComparison(t *testing.T, c redis.UniversalClient, report *loadtest.Comparison, backend, plainName string) {
	t.Helper()
	assert.True(t, report.OK(), "failures: singlesession %d, plain scs %d", report.SingleSession.Failures, report.Plain.Failures)
	assert.Equal(t, backend, report.Backend)
	assert.Equal(t, "singlesession (redisstore)", report.SingleSession.Name)
	assert.Equal(t, plainName, report.Plain.Name)
	assert.Contains(t, report.String(), "singlesession (redisstore): ")
	assert.Contains(t, report.String(), plainName+": ")
	assert.Positive(t, report.SingleSession.Throughput)
	assert.Positive(t, report.Plain.Throughput)
	assert.Len(t, report.Ratios, 2)
	assert.Positive(t, report.Ratio)

	// Each browser signed in once: plain scs keeps one key per session;
	// redisstore more (the session, its pointer, the user's meta and
	// indexes).
	require.True(t, strings.HasPrefix(report.KeyPrefix, "sslt:"), report.KeyPrefix)
	assert.Equal(t, report.Clients, report.Plain.KeysDeleted)
	assert.GreaterOrEqual(t, report.SingleSession.KeysDeleted, 2*report.Clients)
	assert.Empty(t, redisKeys(t, c, report.KeyPrefix+"*"), "keys left under %s", report.KeyPrefix)
}

// A comparison stopped early, before its first round ends, still deletes its keys:
// the cleanup does not run on the ended ctx.
func TestCompareRedisInterrupted(t *testing.T) {
	t.Parallel()
	c := requireRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(2*time.Second, cancel)
	report, err := loadtest.Compare(ctx, loadtest.Config{
		RedisURL: redisURL(),
		Clients:  4,
		Duration: time.Minute,
		Rounds:   2,
	})
	cancel()
	require.NoError(t, err)
	assert.Empty(t, report.Ratios)
	assert.False(t, report.OK())
	assert.Equal(t, report.Clients, report.Plain.KeysDeleted)
	assert.Positive(t, report.SingleSession.KeysDeleted)
	assert.Empty(t, redisKeys(t, c, report.KeyPrefix+"*"), "keys left under %s", report.KeyPrefix)
}

// When the keys cannot all be deleted (here: no time given to delete them),
// Compare returns the report and an error that says so, and the keys are
// still there: the cleanup's count and check are not vacuous.
func TestCompareRedisKeysLeft(t *testing.T) {
	t.Parallel()
	c := requireRedis(t)
	report, err := loadtest.Compare(context.Background(), loadtest.Config{
		RedisURL:        redisURL(),
		Clients:         2,
		Duration:        200 * time.Millisecond,
		Rounds:          1,
		RecoveryTimeout: time.Nanosecond,
	})
	require.NotNil(t, report)
	assert.ErrorContains(t, err, "delete the keys under "+report.KeyPrefix)
	assert.True(t, report.OK())
	left := redisKeys(t, c, report.KeyPrefix+"*")
	assert.NotEmpty(t, left)
	if len(left) > 0 {
		require.NoError(t, c.Unlink(context.Background(), left...).Err())
	}
}

// An unreachable Redis is an error of the set-up, not a report.
func TestCompareRedisUnreachable(t *testing.T) {
	t.Parallel()
	_, err := loadtest.Compare(context.Background(), loadtest.Config{RedisURL: "redis://127.0.0.1:1/0", Rounds: 1, Duration: time.Second})
	assert.ErrorContains(t, err, "Redis at 127.0.0.1:1")
}

// Compare on Redis refuses what it cannot use before connecting; Run does
// not take Redis at all.
func TestCompareRedisBadConfig(t *testing.T) {
	_, err := loadtest.Compare(context.Background(), loadtest.Config{RedisURL: "http://127.0.0.1:6379"})
	assert.ErrorContains(t, err, "Redis URL")
	_, err = loadtest.Compare(context.Background(), loadtest.Config{RedisURL: "redis://127.0.0.1:6379", DSN: "postgres://x"})
	assert.ErrorContains(t, err, "exclude each other")
	_, err = loadtest.Compare(context.Background(), loadtest.Config{RedisURL: "redis://127.0.0.1:6379", RedisClusterAddrs: []string{"127.0.0.1:7001"}})
	assert.ErrorContains(t, err, "exclude each other")
	_, err = loadtest.Compare(context.Background(), loadtest.Config{RedisClusterAddrs: []string{"127.0.0.1:7001,127.0.0.1:7002"}})
	assert.ErrorContains(t, err, "want host:port")
	_, err = loadtest.Compare(context.Background(), loadtest.Config{RedisURL: "redis://127.0.0.1:6379", Collide: true})
	assert.ErrorContains(t, err, "do not apply")
	_, err = loadtest.Run(context.Background(), loadtest.Config{RedisURL: "redis://127.0.0.1:6379"})
	assert.ErrorContains(t, err, "only to Compare")
	_, err = loadtest.Run(context.Background(), loadtest.Config{RedisClusterAddrs: []string{"127.0.0.1:7001"}})
	assert.ErrorContains(t, err, "only to Compare")
}
