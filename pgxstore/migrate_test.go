package pgxstore_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/migrations"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// Migrate is idempotent and records versions as goose does.
func TestMigrateIdempotent(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t, testSchema(t), nil)
	for range 3 {
		require.NoError(t, pgxstore.Migrate(context.Background(), pool))
	}
	assert.Equal(t, []string{"sessions", "singlesession_db_version", "singlesession_endings", "singlesession_grants", "singlesession_links"}, pgtest.Tables(t, pool))
	var versions []int64
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT array_agg(version_id ORDER BY id) FROM singlesession_db_version`).Scan(&versions))
	assert.Equal(t, allVersions, versions, "each version once, after goose's 0")
}

// Instances that start at once all succeed, and migrate once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t, testSchema(t), nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- pgxstore.Migrate(context.Background(), pool) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM singlesession_db_version`).Scan(&n))
	assert.Equal(t, len(allVersions), n)
}

// paramPool returns a pool whose connections start with the run-time settings
// params (search_path among them), for the tests of a database's defaults.
func paramPool(t testing.TB, params map[string]string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.DatabaseURL())
	require.NoError(t, err)
	for k, v := range params {
		cfg.ConnConfig.RuntimeParams[k] = v
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	if err := pool.Ping(context.Background()); err != nil {
		pgtest.Unreachable(t, err)
	}
	return pool
}

// Instances that start at once all succeed, and migrate once, when the
// database's default isolation is REPEATABLE READ: a transaction snapshot
// taken before the advisory lock is granted would miss the tables the
// instance holding the lock had just created.
func TestMigrateConcurrentlyUnderRepeatableRead(t *testing.T) {
	t.Parallel()
	for round := range 5 {
		schema := testSchema(t)
		params := map[string]string{"search_path": schema, "default_transaction_isolation": "repeatable read"}
		pools := make([]*pgxpool.Pool, 3) // three instances
		for i := range pools {
			pools[i] = paramPool(t, params)
		}
		var isolation string
		require.NoError(t, pools[0].QueryRow(context.Background(), `SHOW transaction_isolation`).Scan(&isolation))
		require.Equal(t, "repeatable read", isolation)

		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, len(pools))
		for i, pool := range pools {
			wg.Go(func() {
				<-start
				errs[i] = pgxstore.Migrate(context.Background(), pool)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			assert.NoError(t, err, "round %d, instance %d", round, i)
		}
		assert.Equal(t, []string{"sessions", "singlesession_db_version", "singlesession_endings", "singlesession_grants", "singlesession_links"}, pgtest.Tables(t, pools[0]))
		var versions []int64
		require.NoError(t, pools[0].QueryRow(context.Background(),
			`SELECT array_agg(version_id ORDER BY id) FROM singlesession_db_version`).Scan(&versions))
		assert.Equal(t, allVersions, versions, "round %d: each version once", round)
	}
}

// Migrate creates its tables in the first schema of search_path, even when a
// later schema of the path is already migrated, and leaves that one alone.
func TestMigrateFirstSchemaOfSearchPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	other := testSchema(t)
	otherPool := pgtest.Pool(t, other, nil)
	require.NoError(t, pgxstore.Migrate(ctx, otherPool))
	all := []string{"sessions", "singlesession_db_version", "singlesession_endings", "singlesession_grants", "singlesession_links"}
	require.Equal(t, all, pgtest.Tables(t, otherPool))

	fresh := testSchema(t)
	pool := pgtest.Pool(t, fresh+", "+other, nil)
	versions := func(schema string) []int64 {
		t.Helper()
		var v []int64
		require.NoError(t, pool.QueryRow(ctx, `SELECT array_agg(version_id ORDER BY id) FROM `+
			pgx.Identifier{schema, migrations.VersionTable}.Sanitize()).Scan(&v))
		return v
	}
	for i := range 2 { // the second is a no-op
		require.NoError(t, pgxstore.Migrate(ctx, pool), "Migrate #%d", i+1)
		assert.Equal(t, all, pgtest.Tables(t, pool), "Migrate #%d: every table in %s", i+1, fresh)
		assert.Equal(t, allVersions, versions(fresh), "Migrate #%d: each version once", i+1)
		assert.Equal(t, all, pgtest.Tables(t, otherPool), "Migrate #%d: %s unchanged", i+1, other)
		assert.Equal(t, allVersions, versions(other), "Migrate #%d: %s unchanged", i+1, other)
	}

	// The unqualified names of the migration files resolved to fresh too.
	var (
		fkSchema string
		index    string
	)
	require.NoError(t, pool.QueryRow(ctx, `
SELECT n.nspname FROM pg_constraint c
JOIN pg_class r ON r.oid = c.confrelid JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE c.conrelid = $1::regclass AND c.contype = 'f'`, fresh+".singlesession_links").Scan(&fkSchema))
	assert.Equal(t, fresh, fkSchema, "singlesession_links references the sessions beside it")
	require.NoError(t, pool.QueryRow(ctx, `
SELECT schemaname FROM pg_indexes WHERE indexname = 'sessions_expiry_idx' AND schemaname = $1`, fresh).Scan(&index))
	assert.Equal(t, fresh, index)
}

// Migrate fails clearly when no schema of search_path exists.
func TestMigrateNoSchemaInSearchPath(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t, "ss_test_no_such_schema", nil)
	err := pgxstore.Migrate(context.Background(), pool)
	assert.ErrorContains(t, err, "singlesession: pgxstore: migrate: no existing schema in search_path")
}

// Migrate keeps an existing scs sessions table and its rows.
func TestMigrateKeepsSessionsTable(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t, testSchema(t), nil)
	_, err := pool.Exec(context.Background(), `
CREATE TABLE sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL);
INSERT INTO sessions VALUES ('kept', '\x01', now() + interval '1 hour');`)
	require.NoError(t, err)
	require.NoError(t, pgxstore.Migrate(context.Background(), pool))
	var token string
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT token FROM sessions`).Scan(&token))
	assert.Equal(t, "kept", token)
}

// Migrate fails clearly on a nil pool.
func TestMigrateNilPool(t *testing.T) {
	err := pgxstore.Migrate(context.Background(), nil)
	assert.ErrorContains(t, err, "singlesession: pgxstore: migrate: pool is nil")
}

// allVersions are the versions recorded once every migration is applied:
// goose's 0, then one per file of migrations/.
var allVersions = []int64{0, 1, 2, 3, 4, 5}

// upgradeUpSQL returns the Up section of the migration file of version.
func upgradeUpSQL(t *testing.T, version int) string {
	t.Helper()
	names, err := fs.Glob(migrations.FS, fmt.Sprintf("%05d_*.sql", version))
	require.NoError(t, err)
	require.Len(t, names, 1, "one file for version %d", version)
	b, err := fs.ReadFile(migrations.FS, names[0])
	require.NoError(t, err)
	_, up, ok := strings.Cut(string(b), "-- +goose Up")
	require.True(t, ok, "%s has an Up section", names[0])
	up, _, _ = strings.Cut(up, "-- +goose Down")
	return up
}

// upgradeAtVersion3 builds, in pool's schema, the database a deployment of
// the previous release has: migrations 1 to 3 applied and recorded in
// goose's version table, as Migrate then recorded them.
func upgradeAtVersion3(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	_, err := pool.Exec(ctx, `CREATE TABLE `+migrations.VersionTable+` (
	id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
	version_id bigint NOT NULL,
	is_applied boolean NOT NULL,
	tstamp timestamp NOT NULL DEFAULT now()
)`)
	require.NoError(t, err)
	for v := range 4 {
		_, err := pool.Exec(ctx, `INSERT INTO `+migrations.VersionTable+` (version_id, is_applied) VALUES ($1, true)`, v)
		require.NoError(t, err)
		if v > 0 {
			_, err := pool.Exec(ctx, upgradeUpSQL(t, v), pgx.QueryExecModeSimpleProtocol)
			require.NoError(t, err, "migration %d", v)
		}
	}
}

// upgradeToken makes a token as scs does: 32 random bytes, base64url.
func upgradeToken(t *testing.T) string {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// A database at version 3 (the previous release) upgrades in place, and its
// signed-in users stay signed in: after Migrate a browser that holds the
// cookie of a session signed in before the upgrade is still that user, with
// its data; its link got the ID that SessionID computes, LastSeen equal to
// its login time, and it is listed, counted and ended like any session. An
// untracked session keeps its data and stays untracked.
func TestMigrateUpgradeFromVersion3KeepsSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t, testSchema(t), nil)
	upgradeAtVersion3(t, pool)

	// Sessions written as the previous release wrote them: scs's row, with
	// data in scs's codec, and a link (token, user_id, created).
	deadline := time.Now().Add(time.Hour).Round(time.Microsecond)
	created := time.Now().Add(-2 * time.Hour).Round(time.Microsecond)
	signedIn, anonymous := upgradeToken(t), upgradeToken(t)
	for token, values := range map[string]map[string]any{
		signedIn:  {"cart": "3 apples"},
		anonymous: {"cart": "1 pear"},
	} {
		data, err := scs.GobCodec{}.Encode(deadline, values)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)`, token, data, deadline)
		require.NoError(t, err)
	}
	_, err := pool.Exec(ctx, `INSERT INTO singlesession_links (token, user_id, created) VALUES ($1, 'alice', $2)`, signedIn, created)
	require.NoError(t, err)

	require.NoError(t, pgxstore.Migrate(ctx, pool))

	var versions []int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT array_agg(version_id ORDER BY id) FROM `+migrations.VersionTable).Scan(&versions))
	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	want := []int64{}
	for v := range len(files) + 1 {
		want = append(want, int64(v))
	}
	require.Greater(t, len(files), 3)
	assert.Equal(t, want, versions, "versions 0 to 3 kept, the new ones added once")

	var (
		id, ip, userAgent string
		linkCreated, seen time.Time
	)
	require.NoError(t, pool.QueryRow(ctx, `SELECT id, ip, user_agent, created, last_seen FROM singlesession_links WHERE token = $1`, signedIn).
		Scan(&id, &ip, &userAgent, &linkCreated, &seen))
	assert.Equal(t, singlesession.SessionID(signedIn), id, "the generated ID is SessionID(token)")
	assert.True(t, created.Equal(linkCreated), "created kept: %v, want %v", linkCreated, created)
	assert.True(t, seen.Equal(linkCreated), "last_seen = created: %v, created %v", seen, linkCreated)
	assert.Empty(t, ip)
	assert.Empty(t, userAgent)
	var links int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM singlesession_links`).Scan(&links))
	assert.Equal(t, 1, links, "the untracked session stays untracked")

	store := pgxstore.New(pool)
	a := newApp(t, store, withPolicy(singlesession.Never))
	list, err := a.M.UserSessions(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, singlesession.SessionID(signedIn), list[0].ID)
	assert.True(t, created.Equal(list[0].Created))
	assert.True(t, created.Equal(list[0].LastSeen), "LastSeen = created until its first request")
	assert.True(t, deadline.Equal(list[0].Expiry))

	old := a.Browser("old")
	old.SetCookie(signedIn)
	assert.Equal(t, "alice", old.WhoAmI(), "signed in before the upgrade, still signed in")
	assert.Equal(t, "3 apples", old.Get("cart"), "its data decodes")
	list, err = a.M.UserSessions(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.True(t, list[0].LastSeen.After(created), "its first request refreshed the stale LastSeen")

	anon := a.Browser("anon")
	anon.SetCookie(anonymous)
	assert.Equal(t, "", anon.WhoAmI())
	assert.Equal(t, "1 pear", anon.Get("cart"))

	// The upgraded session follows the rules like any other.
	a.Browser("new").MustLogin("alice")
	counts, err := a.M.CountSessions(ctx, []string{"alice"})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"alice": 2}, counts)
	n, err := a.M.LogoutUser(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, "", old.WhoAmI())
	assert.Equal(t, "1 pear", anon.Get("cart"), "the untracked session is untouched")
}
