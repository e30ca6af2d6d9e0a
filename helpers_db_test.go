package singlesession_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
)

// The shared PostgreSQL helpers (internal/pgtest) under the names these
// tests use.
type (
	env          = pgtest.Env
	queryCounter = pgtest.QueryCounter
)

var (
	forEachStore       = pgtest.ForEachStore
	forEachTracedStore = pgtest.ForEachTracedStore
	migratedPool       = pgtest.MigratedPool
	tracedPool         = pgtest.TracedPool
	testSchema         = pgtest.NewSchema
	concurrentLogins   = pgtest.ConcurrentLogins
	grantErr           = pgtest.GrantErr
	checkUserID        = pgtest.CheckUserID
	userIDSeeds        = pgtest.UserIDSeeds
)

// expire makes the session with the store token expired.
func expire(t testing.TB, e *env, token string) {
	t.Helper()
	e.Expire(t, token)
}

// hasRow reports whether the store holds a session with the store token,
// expired or not.
func hasRow(t testing.TB, e *env, token string) bool {
	t.Helper()
	return e.HasRow(t, token)
}

// assertGone checks that no row of the session with the store token is left.
func assertGone(t testing.TB, e *env, token string) {
	t.Helper()
	assert.False(t, hasRow(t, e, token), "session %s should have no row", singlesession.SessionID(token))
}

// rows returns how many sessions and links the store holds, expired included.
func rows(t testing.TB, e *env) (sessions, links int) {
	t.Helper()
	return e.Rows(t)
}
