package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// testDSN creates a schema for t, dropped when t ends, and returns a DSN whose
// connections work in it.
func testDSN(t *testing.T) string { return pgtest.DSN(t, pgtest.Schema(t, "ss_cli")) }

// cli runs the command line in process and returns its exit status and
// output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// migrated returns a DSN on a migrated schema, and a pool on it.
func migrated(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	dsn := testDSN(t)
	code, out, errOut := cli(t, "-dsn", dsn, "migrate")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "applied migrations 1 to 5: the database is up to date (version 5)\n", out)
	pool, err := pgxpool.New(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return dsn, pool
}

func seed(t *testing.T, store singlesession.Store, userID string, n int) []string {
	t.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("cli-%s-%d-%d", userID, i, time.Now().UnixNano())
		_, err := store.Login(context.Background(), singlesession.Login{
			UserID: userID, Token: tokens[i], Data: []byte{0}, Expiry: time.Now().Add(time.Hour),
			IP: "192.0.2.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
		})
		require.NoError(t, err)
	}
	return tokens
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	dsn, pool := migrated(t)
	code, out, _ := cli(t, "-dsn", dsn, "migrate")
	assert.Equal(t, 0, code, "again: nothing to do")
	assert.Equal(t, "nothing to apply: the database is up to date (version 5)\n", out, "says that it applied nothing")
	var tables []string
	require.NoError(t, pool.QueryRow(context.Background(), `
SELECT array_agg(table_name::text ORDER BY table_name) FROM information_schema.tables
WHERE table_schema = current_schema()`).Scan(&tables))
	assert.Equal(t, []string{"sessions", "singlesession_db_version", "singlesession_endings", "singlesession_grants", "singlesession_links"}, tables)
}

func TestGrantRemoveGrant(t *testing.T) {
	t.Parallel()
	dsn, pool := migrated(t)
	dir := pgxstore.NewDirectory(pool)
	lookup := func() singlesession.User {
		t.Helper()
		found, err := dir.Users(context.Background(), []string{"sam"})
		require.NoError(t, err)
		return found["sam"]
	}

	code, out, errOut := cli(t, "-dsn", dsn, "grant", "sam", "single_session.logout")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "granted single_session.logout to sam\n", out)
	code, _, _ = cli(t, "-dsn", dsn, "grant", "sam", "admin")
	require.Equal(t, 0, code)
	assert.Equal(t, singlesession.User{ID: "sam", Admin: true, Permissions: []string{singlesession.PermLogout}}, lookup())

	code, out, _ = cli(t, "-dsn", dsn, "remove-grant", "sam", "admin")
	require.Equal(t, 0, code)
	assert.Equal(t, "removed admin from sam\n", out)
	assert.Equal(t, singlesession.User{ID: "sam", Permissions: []string{singlesession.PermLogout}}, lookup())
	code, out, errOut = cli(t, "-dsn", dsn, "remove-grant", "sam", "admin")
	assert.Equal(t, 0, code, "revoking what is not held is fine")
	assert.Equal(t, "sam did not hold admin: nothing changed\n", out)
	assert.Empty(t, errOut)
	code, out, errOut = cli(t, "-dsn", dsn, "grant", "sam", "single_session.logout")
	assert.Equal(t, 0, code, "granting what is held is fine")
	assert.Equal(t, "sam already holds single_session.logout: nothing changed\n", out)
	assert.Empty(t, errOut)
	assert.Equal(t, singlesession.User{ID: "sam", Permissions: []string{singlesession.PermLogout}}, lookup())
	code, out, _ = cli(t, "-dsn", dsn, "remove-grant", "tess", "single_session.logout_all")
	assert.Equal(t, 0, code)
	assert.Equal(t, "tess did not hold single_session.logout_all: nothing changed\n", out, "an unknown user holds nothing")

	code, _, errOut = cli(t, "-dsn", dsn, "grant", "sam", "superuser")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown permission "superuser"`)
	assert.Contains(t, errOut, "single_session.logout, single_session.logout_all or admin")
	assert.Equal(t, singlesession.User{ID: "sam", Permissions: []string{singlesession.PermLogout}}, lookup())
}

func TestSessions(t *testing.T) {
	t.Parallel()
	dsn, pool := migrated(t)
	store := pgxstore.New(pool)
	tokens := seed(t, store, "alice", 2)

	code, out, errOut := cli(t, "-dsn", dsn, "sessions", "alice")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	assert.Regexp(t, `^SESSION\s+SIGNED IN\s+LAST SEEN\s+EXPIRES\s+IP\s+USER AGENT$`, lines[0])
	for _, tok := range tokens {
		assert.Contains(t, out, singlesession.SessionID(tok), "sessions are shown by their opaque ID")
		assert.NotContains(t, out, tok, "never by token")
	}
	stamp := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`
	assert.Regexp(t, `\s`+stamp+`\s+`+stamp+`\s+`+stamp+`\s+192\.0\.2\.7\s+Mozilla/5\.0 \(X11; Linux x86_64\) Firefox/140\.0$`, lines[1],
		"signed in, last seen, expires, IP and user agent")

	code, out, _ = cli(t, "-dsn", dsn, "sessions", "bob")
	assert.Equal(t, 0, code)
	assert.Equal(t, "bob has no active session\n", out)

	seed(t, store, "crowd", 53)
	code, out, errOut = cli(t, "-dsn", dsn, "sessions", "crowd")
	require.Equal(t, 0, code, errOut)
	lines = strings.Split(strings.TrimSpace(out), "\n")
	assert.Len(t, lines, 1+50+1, "a header, one page, and a line about the rest")
	assert.Equal(t, "... and 3 more: 53 active sessions in all, the 50 most recently used shown", lines[len(lines)-1])
}

func TestLogout(t *testing.T) {
	t.Parallel()
	dsn, pool := migrated(t)
	store := pgxstore.New(pool)
	seed(t, store, "alice", 3)
	seed(t, store, "bob", 1)
	seed(t, store, "carol", 1)

	code, out, errOut := cli(t, "-dsn", dsn, "logout", "alice", "bob", "ghost", "alice")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "alice: 3 session(s) ended\nbob: 1 session(s) ended\nghost: 0 session(s) ended\n4 session(s) ended in all\n", out)
	counts, err := store.CountSessions(context.Background(), []string{"alice", "bob", "carol"})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"carol": 1}, counts, "only the named users")

	// A user ID that starts with "-" after --.
	seed(t, store, "-dash", 1)
	code, out, errOut = cli(t, "-dsn", dsn, "logout", "--", "-dash")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "-dash: 1 session(s) ended\n", out)
}

// DATABASE_URL is used when -dsn is absent; without either it is a usage error.
func TestDatabaseURLFromEnvironment(t *testing.T) {
	dsn := testDSN(t)
	t.Setenv("DATABASE_URL", dsn)
	code, out, errOut := cli(t, "migrate")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "up to date")

	t.Setenv("DATABASE_URL", "")
	code, _, errOut = cli(t, "migrate")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "no database: pass -dsn URL or set DATABASE_URL")
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	dsn := "postgres://nobody@127.0.0.1:1/none" // never reached: usage comes first
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no command":         {[]string{"-dsn", dsn}, "no command"},
		"unknown command":    {[]string{"-dsn", dsn, "purge"}, `unknown command "purge"`},
		"unknown flag":       {[]string{"-database", dsn, "migrate"}, "flag provided but not defined: -database"},
		"migrate with args":  {[]string{"-dsn", dsn, "migrate", "now"}, "migrate takes no arguments"},
		"sessions alone":     {[]string{"-dsn", dsn, "sessions"}, "sessions takes one USER"},
		"sessions two":       {[]string{"-dsn", dsn, "sessions", "a", "b"}, "sessions takes one USER"},
		"logout alone":       {[]string{"-dsn", dsn, "logout"}, "logout takes one or more USERs"},
		"grant one arg":      {[]string{"-dsn", dsn, "grant", "sam"}, "grant takes USER PERM"},
		"remove-grant three": {[]string{"-dsn", dsn, "remove-grant", "sam", "admin", "x"}, "remove-grant takes USER PERM"},
		"flag after":         {[]string{"logout", "-dsn", dsn, "alice"}, "flags go before the command"},
		"empty user":         {[]string{"-dsn", dsn, "logout", "alice", ""}, "empty"},
		"invalid UTF-8":      {[]string{"-dsn", dsn, "sessions", "a\xff"}, "not valid UTF-8"},
		"too long":           {[]string{"-dsn", dsn, "grant", strings.Repeat("x", 513), "admin"}, "more than 512"},
		"unknown permission": {[]string{"-dsn", dsn, "remove-grant", "sam", "root"}, `unknown permission "root"`},
		"flag without value": {[]string{"-dsn"}, "flag needs an argument: -dsn"},
		"no command, no dsn": {nil, "no command"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := cli(t, tc.args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tc.want)
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			require.Len(t, lines, 2, "one line for the error, one for the pointer to help: %s", errOut)
			assert.True(t, strings.HasPrefix(lines[0], "singlesession: "), lines[0])
			assert.Equal(t, "Run 'singlesession help' for usage.", lines[1], "every usage error points to help the same way")
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	code, out, _ := cli(t, "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Usage: singlesession [-dsn URL] COMMAND [ARGUMENTS]")
	for _, cmd := range []string{"migrate", "sessions USER", "logout USER...", "grant USER PERM", "remove-grant USER PERM"} {
		assert.Contains(t, out, cmd)
	}
	for _, flag := range []string{"-h", "-help", "--help"} {
		code, out, errOut := cli(t, flag)
		assert.Equal(t, 0, code)
		assert.Contains(t, out, "Usage: singlesession", "help asked for goes to stdout")
		assert.Empty(t, errOut)
	}
}

// A database that cannot be reached, or a URL that does not parse, fails
// with status 1 and says why.
func TestBadDatabase(t *testing.T) {
	t.Parallel()
	code, out, errOut := cli(t, "-dsn", "postgres://nobody@127.0.0.1:1/none?connect_timeout=5", "migrate")
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "singlesession: connect to 127.0.0.1:1")

	code, _, errOut = cli(t, "-dsn", "postgres://secret-user:hunter2@127.0.0.1:5432/x?sslmode=bogus", "migrate")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "singlesession: bad database URL")
	assert.NotContains(t, errOut, "hunter2", "the password is not printed")

	// Reachable, but not migrated.
	code, _, errOut = cli(t, "-dsn", testDSN(t), "sessions", "alice")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `sessions of "alice"`)
}

// On a database that was never migrated, a command says what to run.
func TestUnmigratedDatabasePointsToMigrate(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t) // a fresh schema, no tables
	code, _, errOut := cli(t, "-dsn", dsn, "sessions", "alice")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "singlesession_links")
	assert.Contains(t, errOut, "run 'singlesession migrate' first")
}
