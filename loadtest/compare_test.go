package loadtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/loadtest"
)

// A short comparison with plain scs: both sides serve every request
// correctly and the report has both throughputs and a ratio. The ratio's
// value is reported, never asserted: timing is not a test's to judge
// (cmd/singlesession-load -baseline measures it).
func TestCompare(t *testing.T) {
	t.Parallel()
	requireDatabase(t)
	report, err := loadtest.Compare(context.Background(), loadtest.Config{
		DSN:      pgtest.DatabaseURL(),
		Clients:  8,
		Duration: time.Second, // per side, over both rounds
		Rounds:   2,
	})
	require.NoError(t, err)
	t.Log("\n" + report.String())
	assert.True(t, report.OK(), "failures: singlesession %d, plain scs %d", report.SingleSession.Failures, report.Plain.Failures)
	assert.Positive(t, report.SingleSession.Throughput)
	assert.Positive(t, report.Plain.Throughput)
	assert.Len(t, report.Ratios, 2)
	assert.Positive(t, report.Ratio)
}

// Compare refuses what does not apply to a comparison, before touching the
// database.
func TestCompareBadConfig(t *testing.T) {
	_, err := loadtest.Compare(context.Background(), loadtest.Config{})
	assert.ErrorContains(t, err, "no DSN")
	_, err = loadtest.Compare(context.Background(), loadtest.Config{DSN: "postgres://x", Collide: true})
	assert.ErrorContains(t, err, "do not apply")
	_, err = loadtest.Compare(context.Background(), loadtest.Config{DSN: "postgres://x", Rounds: -1})
	assert.ErrorContains(t, err, "invalid config")
	_, err = loadtest.Compare(context.Background(), loadtest.Config{DSN: "postgres://x", Duration: 3, Rounds: 5})
	assert.ErrorContains(t, err, "too short")
}
