package loadtest_test

import (
	"context"
	"flag"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	loadDuration = flag.Duration("load.duration", 3*time.Second, "how long TestRun loads the application (for example 20s)")
	loadClients  = flag.Int("load.clients", 64, "concurrent browsers in TestRun")
	loadUsers    = flag.Int("load.users", 50, "distinct users in TestRun")
)

// databaseURL is where the tests connect; DATABASE_URL overrides it.
func databaseURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// requireDatabase stops a test that cannot reach PostgreSQL: a failure under
// CI=true, a skip otherwise.
func requireDatabase(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL())
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL at %s is unreachable (CI=true makes this a failure): %v", databaseURL(), err)
	}
	t.Skipf("PostgreSQL at %s is unreachable: %v; start it or set DATABASE_URL (./scripts/test.sh does both)", databaseURL(), err)
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
