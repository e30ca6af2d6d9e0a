package main

// The flags -max-sessions and -reject-new over HTTP: how many browsers stay
// signed in, and which one ends.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// evictionRules: with -max-sessions 2, a third browser's login signs out the
// least recently used of the other two, not the oldest login.
func evictionRules(t *testing.T, args ...string) {
	app := startApp(t, append([]string{"-max-sessions", "2", "-last-seen-interval", "1ms"}, args...)...)
	a := newClient(t, "A", app.URL)
	b := newClient(t, "B", app.URL)
	c := newClient(t, "C", app.URL)
	bob := newClient(t, "bob", app.URL)
	bob.login("bob")

	a.login("alice")
	b.login("alice")
	assert.Equal(t, "alice", a.whoami(), "two sessions fit")
	assert.Equal(t, "alice", b.whoami(), "two sessions fit")

	// A is used after B: B is the least recently used.
	time.Sleep(5 * time.Millisecond)
	assert.Equal(t, "alice", a.whoami())
	c.login("alice")
	assert.Equal(t, "alice", c.whoami())
	assert.Equal(t, "alice", a.whoami(), "A was used last: it stays")
	assert.Empty(t, b.whoami(), "B, the least recently used, was signed out")
	assert.Equal(t, "bob", bob.whoami(), "other users keep their sessions")

	// Signing in again on a browser that holds one of the two ends nothing.
	a.login("alice")
	assert.Equal(t, "alice", a.whoami())
	assert.Equal(t, "alice", c.whoami())
}

func TestMaxSessionsEvicts(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		evictionRules(t)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		evictionRules(t, "-dsn", schemaDSN(t))
	})
}

func TestMaxSessionsZero(t *testing.T) {
	t.Parallel()
	app := startApp(t, "-max-sessions", "0")
	var browsers []*client
	for _, name := range []string{"A", "B", "C", "D"} {
		c := newClient(t, name, app.URL)
		c.login("alice")
		browsers = append(browsers, c)
	}
	for _, c := range browsers {
		assert.Equal(t, "alice", c.whoami(), "%s: no limit", c.name)
	}
}

// TestLimitShown: the footer says which limit the instance applies.
func TestLimitShown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, `<strong id="limit">one, a new sign-in ends the other</strong>`},
		{[]string{"-single-session=false"}, `<strong id="limit">no limit</strong>`},
		{[]string{"-max-sessions", "3"}, `<strong id="limit">at most 3, the least recently used signed out</strong>`},
		{[]string{"-max-sessions", "2", "-reject-new"}, `<strong id="limit">at most 2, new sign-ins refused</strong>`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			app := startApp(t, tc.args...)
			res, body := newClient(t, "A", app.URL).do("GET", "/", nil)
			require.Equal(t, http.StatusOK, res.StatusCode)
			assert.Contains(t, body, tc.want)
		})
	}
}
