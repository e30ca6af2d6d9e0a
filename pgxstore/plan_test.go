package pgxstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every statement of PostgresStore finds its rows through an index, so that
// its cost does not grow with the size of the tables: with sequential scans
// disabled, no plan, custom or generic, still contains one. (A statement that
// cannot avoid a sequential scan keeps it even then.) BenchmarkLogin and
// BenchmarkLogoutUsers with -bench.rows 1000000 show what a scan costs.
func TestStatementsUseIndexes(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t)
	ctx := context.Background()
	// Arguments for each statement, as SQL literals for EXECUTE.
	args := map[string][]string{
		"find":         {`('tok')`},
		"find session": {`('tok')`},
		"find ending":  {`('tok')`},
		"insert":       {`('tok', '\x00', now())`},
		"update":       {`('tok', '\x00', now())`},
		"update touch": {`('tok', '\x00', now())`},
		"touch":        {`('tok')`},
		"lock users":   {`('{alice,bob}', '{tok}')`},
		"login": {
			`('alice', 'new', '\x00', now(), '{old}', 1, false, '127.0.0.1', 'ua')`,
			`('alice', 'new', '\x00', now(), '{}', 0, false, '', '')`,
			`('alice', 'new', '\x00', now(), '{}', 3, true, '', '')`,
		},
		"logout":                 {`('alice', '{tok}', false, 'ua')`, `('alice', '{tok,old}', true, 'ua')`},
		"delete tokens":          {`('{tok,other}')`},
		"end users":              {`('{alice,bob}', 'admin', '')`, `('{alice}', '', '')`},
		"end sessions":           {`('alice', '{id1}', '', 'revoked', 'ua')`, `('alice', NULL, 'tok', 'revoked', 'ua')`, `('alice', '{id1}', 'tok', 'revoked', 'ua')`},
		"count sessions":         {`('{alice,bob}')`},
		"sessions":               {`('alice', NULL, '', 51)`, `('alice', now(), 'abcdefghijkl', 51)`},
		"delete expired":         {``},
		"delete expired endings": {``},
	}
	require.Len(t, args, len(pgxstore.StoreStatements), "arguments for every statement")

	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, `SET LOCAL enable_seqscan = off`)
	require.NoError(t, err)

	i := 0
	for name, sql := range pgxstore.StoreStatements {
		t.Run(name, func(t *testing.T) {
			i++
			stmt := fmt.Sprintf("plan_%d", i)
			_, err := tx.Exec(ctx, "PREPARE "+stmt+" AS "+sql, pgx.QueryExecModeSimpleProtocol)
			require.NoError(t, err, name)
			for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
				t.Run(mode, func(t *testing.T) {
					_, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = "+mode)
					require.NoError(t, err)
					for _, a := range args[name] {
						var plan string
						err := tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) EXECUTE "+stmt+a, pgx.QueryExecModeSimpleProtocol).Scan(&plan)
						require.NoError(t, err, name)
						assert.NotContains(t, plan, `"Seq Scan"`, "%s %s (%s): %s", name, a, mode, plan)
					}
				})
			}
		})
	}
}
