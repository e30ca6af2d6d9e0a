package loadtest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The collision scenario's check finds a session that outlived an operator's
// sign-out of its user, in a reply during the load and in the tables after
// it, and accepts what raced with the sign-out: a request sent while it ran,
// a login answered after it began.
func TestCheckSignOutsFindsSurvivors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := checkPool(t)
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
