package loadtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// The collision scenario's check finds a session that outlived an operator's
// sign-out of its user, in a reply during the load and in the tables after
// it, and accepts what raced with the sign-out: a request sent while it ran,
// a login answered after it began.
func TestCheckSignOutsFindsSurvivors(t *testing.T) {
	t.Parallel()
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
	require.NoError(t, singlesession.Migrate(ctx, pool))
	session := func(token, user string) {
		_, err := pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, '', now() + interval '1 hour')`, token)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO singlesession_links (token, user_id) VALUES ($1, $2)`, token, user)
		require.NoError(t, err)
	}

	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	signOuts := []signOut{{users: []string{"bob", "alice"}, begin: at(10), end: at(20)}}
	before := login{token: "before", user: "alice", done: at(0)}  // answered before the sign-out began
	racing := login{token: "racing", user: "alice", done: at(15)} // answered while it ran
	c := &client{
		logins: []login{before, racing},
		signedIn: []signedInRead{
			{login: &before, sent: at(5)},  // before the sign-out
			{login: &before, sent: at(15)}, // while it ran
			{login: &racing, sent: at(30)}, // a login it may not have seen
		},
	}
	session("racing", "alice")
	session("carol", "carol") // no sign-out of carol, no login traced
	inv := checkSignOuts(ctx, pool, signOuts, []*client{c}, time.Second)
	assert.True(t, inv.OK, inv.Detail)

	c.signedIn = append(c.signedIn, signedInRead{login: &before, sent: at(25)})
	inv = checkSignOuts(ctx, pool, signOuts, []*client{c}, time.Second)
	assert.False(t, inv.OK)
	assert.Contains(t, inv.Detail, "4 signed-in replies, 1 still signed in after a later sign-out")

	c.signedIn = c.signedIn[:3]
	session("before", "alice")
	inv = checkSignOuts(ctx, pool, signOuts, []*client{c}, time.Second)
	assert.False(t, inv.OK)
	assert.Contains(t, inv.Detail, "3 sessions left, 2 traced to their login, 1 older than a sign-out")
}
