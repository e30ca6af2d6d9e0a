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

// The collision scenario: three users under Never, each signed in on several
// of 32 browsers, whose sessions logouts, re-logins and operators' sign-outs
// (LogoutUser and LogoutUsers, users in random order) end at the same
// moments. Every operation succeeds (a conflict between them, a deadlock
// included, is the library's to resolve), and every invariant holds, among
// them that no session outlives a later sign-out of its user.
func TestCollide(t *testing.T) {
	t.Parallel()
	requireDatabase(t)
	report, err := loadtest.Run(context.Background(), loadtest.Config{
		DSN:      pgtest.DatabaseURL(),
		Clients:  32,
		Collide:  true,
		Duration: 3 * time.Second,
	})
	require.NoError(t, err)
	t.Log("\n" + report.String())
	assert.True(t, report.OK(), "violations: %v", report.Violations())
	assert.Zero(t, report.Deadlocks, "deadlocks")
	assert.Positive(t, report.Succeeded[loadtest.OpSignOut], "operators signed users out")
}
