package pgxstore_test

import (
	"io"
	"log/slog"

	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/internal/testapp"
)

// The shared harness (internal/testapp, internal/pgtest) under the names
// these tests use.
type (
	app     = testapp.App
	browser = testapp.Browser
	env     = pgtest.Env
	evLog   = testapp.EventLog
)

var (
	newApp             = testapp.New
	withPolicy         = testapp.WithPolicy
	withSessions       = testapp.WithSessions
	seedSessions       = testapp.SeedSessions
	checkDirectory     = testapp.CheckDirectory
	directoryUsers     = testapp.DirectoryUsers
	withConfig         = testapp.WithConfig
	withRoute          = testapp.WithRoute
	withEvLog          = testapp.WithEventLog
	forEachTracedStore = pgtest.ForEachTracedStore
	migratedPool       = pgtest.MigratedPool
	tracedPool         = pgtest.TracedPool
	normalSQL          = pgtest.NormalSQL
	testSchema         = pgtest.NewSchema
	concurrentLogins   = pgtest.ConcurrentLogins
	lockWaiters        = pgtest.LockWaiters
	grantErr           = pgtest.GrantErr
	checkUserID        = pgtest.CheckUserID
	userIDSeeds        = pgtest.UserIDSeeds
)

// quietLogger discards what the Managers of these tests log.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))
