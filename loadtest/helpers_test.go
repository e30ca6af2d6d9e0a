package loadtest_test

import (
	"context"
	"flag"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/go-singlesession/singlesession/internal/pgtest"
)

var (
	loadDuration = flag.Duration("load.duration", 3*time.Second, "how long TestRun loads the application (for example 20s)")
	loadClients  = flag.Int("load.clients", 64, "concurrent browsers in TestRun")
	loadUsers    = flag.Int("load.users", 50, "distinct users in TestRun")
)

// requireDatabase stops a test that cannot reach PostgreSQL (see pgtest).
func requireDatabase(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.DatabaseURL())
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		pgtest.Unreachable(t, err)
	}
}

// withParam adds a connection parameter to a URL or keyword/value DSN.
func withParam(dsn, key, value string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set(key, value)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " " + key + "=" + value
}
