package pgxstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/go-singlesession/singlesession/storetest"
)

// rowsRead runs the login statement under EXPLAIN ANALYZE for userID with
// limit max, in a transaction it rolls back, and returns how many rows its
// scans of sessions and singlesession_links returned in all.
func rowsRead(t *testing.T, conn *pgx.Conn, userID string, max int) int {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	var out string
	err = tx.QueryRow(ctx, fmt.Sprintf("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE login_plan('%s', 'new-token-0123456789', '\\x00', now() + interval '1 hour', '{}', %d, false, '', '')",
		userID, max), pgx.QueryExecModeSimpleProtocol).Scan(&out)
	require.NoError(t, err)
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &plans))
	return plans[0].Plan.rows()
}

type planNode struct {
	Relation string     `json:"Relation Name"`
	Rows     float64    `json:"Actual Rows"`
	Loops    float64    `json:"Actual Loops"`
	Plans    []planNode `json:"Plans"`
}

// rows sums the rows that scans of the session tables returned under n.
func (n planNode) rows() int {
	total := 0
	if n.Relation == "sessions" || n.Relation == "singlesession_links" {
		total += int(n.Rows * n.Loops)
	}
	for _, c := range n.Plans {
		total += c.rows()
	}
	return total
}

// SPEC 8.4: a login with no limit looks at no other session of the user:
// for a user with 100,000 sessions, as for one with 10, its scans of the
// session tables return no row. Under a limit it must look at them, and does (which shows that
// the measure sees it).
func TestLoginWithNoLimitLooksAtNoOtherSession(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t)
	pgtest.Seed(t, pool, "few", 10)
	pgtest.Seed(t, pool, "crowd", 100_000)
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "PREPARE login_plan AS "+pgxstore.StoreStatements["login"])
	require.NoError(t, err)

	few, crowd := rowsRead(t, conn.Conn(), "few", 0), rowsRead(t, conn.Conn(), "crowd", 0)
	t.Logf("rows a login with no limit reads: user with 10 sessions %d, with 100,000 %d", few, crowd)
	assert.Zero(t, few, "no other session")
	assert.Zero(t, crowd, "no other session, whatever the user's pile")

	limited := rowsRead(t, conn.Conn(), "crowd", 1)
	t.Logf("under Limit{Max: 1}, which ends the 100,000: %d", limited)
	assert.GreaterOrEqual(t, limited, 100_000, "the measure sees a login that looks at the pile")
}

// A login with no limit costs the same for a user with 10 sessions and one
// with 100,000 (SPEC 8.4).
func BenchmarkLogin(b *testing.B) {
	storetest.BenchmarkLogin(b, func(b *testing.B) storetest.Backend {
		pool := migratedPool(b)
		return storetest.Backend{Store: pgxstore.New(pool), Seed: func(t testing.TB, user string, n int) { pgtest.Seed(t, pool, user, n) }}
	})
}

// How soon a watch on one instance learns that an operator's sign-out on
// another ended its session (LISTEN/NOTIFY).
func BenchmarkEndingDelay(b *testing.B) {
	storetest.BenchmarkEndingDelay(b, func(b *testing.B) storetest.Backend {
		pool := migratedPool(b)
		second, err := pgxpool.NewWithConfig(context.Background(), pool.Config())
		require.NoError(b, err)
		b.Cleanup(second.Close)
		return storetest.Backend{Store: pgxstore.New(pool), Second: pgxstore.New(second)}
	})
}
