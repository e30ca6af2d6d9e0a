package loadtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkPool returns a pool on a migrated schema of its own, made and dropped
// with createSchema and dropSchema, for the tests of the checks. Without
// PostgreSQL the test is skipped, or fails under CI=true.
func checkPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	schema, err := createSchema(ctx, cfg.ConnConfig)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s: %v (CI=true makes this a failure)", dsn, err)
		}
		t.Skipf("PostgreSQL at %s: %v", dsn, err)
	}
	t.Cleanup(func() { dropSchema(cfg.ConnConfig, schema, 10*time.Second) })
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, pgxstore.Migrate(ctx, pool))
	return pool
}

// The checks of the tables find each kind of corruption, which the library's
// store cannot produce on purpose: a user with two live sessions, a link
// without its session, a session whose data claims a user it is not linked
// to.
func TestCheckTablesFindsCorruption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := checkPool(t)

	claim := func(user string) []byte {
		values := map[string]any{}
		if user != "" {
			values["user"] = user
		}
		b, err := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), values)
		require.NoError(t, err)
		return b
	}
	session := func(token, user, linked string) {
		_, err := pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, now() + interval '1 hour')`, token, claim(user))
		require.NoError(t, err)
		if linked != "" {
			_, err := pool.Exec(ctx, `INSERT INTO singlesession_links (token, user_id) VALUES ($1, $2)`, token, linked)
			require.NoError(t, err)
		}
	}
	failed := func() map[string]string {
		out := map[string]string{}
		for _, inv := range checkTables(ctx, pool, true, time.Second) {
			if !inv.OK {
				out[inv.Name] = inv.Detail
			}
		}
		return out
	}

	session("a1", "alice", "alice")
	session("anon", "", "")
	assert.Empty(t, failed(), "a clean database passes")

	session("a2", "alice", "alice")
	assert.Contains(t, failed()["no user has more than one live session"], "alice×2")
	_, err := pool.Exec(ctx, `DELETE FROM sessions WHERE token = 'a2'`)
	require.NoError(t, err)

	session("m1", "mallory", "")
	assert.Contains(t, failed()["no session claims a user without a link"], `data says "mallory", link says ""`)
	_, err = pool.Exec(ctx, `UPDATE sessions SET data = $1 WHERE token = 'm1'`, claim(""))
	require.NoError(t, err)
	session("b1", "bob", "carol")
	assert.Contains(t, failed()["no session claims a user without a link"], `data says "bob", link says "carol"`)
	_, err = pool.Exec(ctx, `DELETE FROM sessions WHERE token = 'b1'`)
	require.NoError(t, err)
	assert.Empty(t, failed())

	// Only without the foreign key can a link outlive its session.
	var fk string
	require.NoError(t, pool.QueryRow(ctx, `SELECT conname FROM pg_constraint
WHERE conrelid = 'singlesession_links'::regclass AND contype = 'f'`).Scan(&fk))
	_, err = pool.Exec(ctx, `ALTER TABLE singlesession_links DROP CONSTRAINT `+pgx.Identifier{fk}.Sanitize())
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO singlesession_links (token, user_id) VALUES ('gone', 'dave')`)
	require.NoError(t, err)
	assert.Contains(t, failed()["no link row without its session"], "1 link rows without a session")
}
