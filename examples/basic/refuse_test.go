package main

// -reject-new: a login past -max-sessions is refused with 409 and the form.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// refusedLogin posts the login form of user and requires the refusal.
func (c *client) refusedLogin(user string) string {
	c.t.Helper()
	res, body := c.do("POST", "/login", url.Values{"username": {user}, "password": {user}})
	require.Equal(c.t, http.StatusConflict, res.StatusCode, "%s: login as %s: %s", c.name, user, body)
	assert.Equal(c.t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Empty(c.t, res.Header.Get("Location"))
	assert.Contains(c.t, body, `<form id="login"`, "the form comes back")
	assert.Contains(c.t, body, `value="`+user+`"`, "with the username")
	return body
}

func rejectNewRules(t *testing.T, args ...string) {
	app := startApp(t, append([]string{"-reject-new"}, args...)...)
	a := newClient(t, "A", app.URL)
	b := newClient(t, "B", app.URL)
	a.login("alice")

	body := b.refusedLogin("alice")
	assert.Contains(t, body, "You are already signed in on another browser, the most allowed at once. Sign out there first")
	assert.Contains(t, body, "ask an operator (sam, tess, root or ruth) to sign you out")
	assert.Empty(t, b.whoami(), "B is not signed in")
	assert.Equal(t, "alice", a.whoami(), "A keeps its session")

	a.login("alice") // this browser's own session never counts
	assert.Equal(t, "alice", a.whoami())
	b.login("bob") // another user is not refused
	b.refusedLogin("alice")
	assert.Equal(t, "bob", b.whoami(), "a refused login leaves the browser as it was")

	a.logout()
	b.login("alice")
	assert.Equal(t, "alice", b.whoami(), "once A signed out, B may sign in")
}

func TestRejectNew(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		rejectNewRules(t)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		rejectNewRules(t, "-dsn", schemaDSN(t))
	})
	t.Run("max 2", func(t *testing.T) {
		t.Parallel()
		app := startApp(t, "-reject-new", "-max-sessions", "2")
		newClient(t, "A", app.URL).login("alice")
		newClient(t, "B", app.URL).login("alice")
		c := newClient(t, "C", app.URL)
		body := c.refusedLogin("alice")
		assert.Contains(t, body, "You are already signed in on 2 browsers, the most allowed at once.")
	})
}

// TestRejectNewConcurrent: of many logins at once, exactly -max-sessions
// succeed and every other one gets the 409 page, whether LoginHook refused
// it or its save did (Config.ErrorFunc).
func TestRejectNewConcurrent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"memory", func(*testing.T) []string { return nil }},
		{"postgres, two instances", func(t *testing.T) []string { return []string{"-dsn", schemaDSN(t)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			extra := tc.args(t)
			args := append([]string{"-reject-new", "-max-sessions", "2"}, extra...)
			one := startApp(t, args...)
			two := one
			if len(extra) > 0 {
				two = startApp(t, args...) // the same database
			}
			const n = 12
			browsers := make([]*client, n)
			status := make([]int, n)
			bodies := make([]string, n)
			for i := range browsers {
				base := one.URL
				if i%2 == 1 {
					base = two.URL
				}
				browsers[i] = newClient(t, fmt.Sprint(i), base)
			}
			var wg sync.WaitGroup
			for i, c := range browsers {
				wg.Go(func() {
					res, body := c.do("POST", "/login", url.Values{"username": {"alice"}, "password": {"alice"}})
					status[i], bodies[i] = res.StatusCode, body
				})
			}
			wg.Wait()
			signedIn, refused := 0, 0
			for i, c := range browsers {
				switch status[i] {
				case http.StatusSeeOther:
					signedIn++
					assert.Equal(t, "alice", c.whoami())
				case http.StatusConflict:
					refused++
					assert.Contains(t, bodies[i], "You are already signed in on 2 browsers")
					assert.Empty(t, c.whoami())
				default:
					t.Errorf("login %d: %d %s", i, status[i], bodies[i])
				}
			}
			assert.Equal(t, 2, signedIn, "exactly -max-sessions logins succeed")
			assert.Equal(t, n-2, refused)
		})
	}
}

// TestRefusedInSave: a refusal that reaches Config.ErrorFunc (the login lost
// a race after LoginHook's check) gets the same 409 page; other errors 500.
func TestRefusedInSave(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, _, release, err := buildApp(ctx, flagsConfig(t, io.Discard, "-reject-new", "-max-sessions", "3"))
	require.NoError(t, err)
	defer release()

	req := httptest.NewRequest("POST", "/login", strings.NewReader("username=alice&password=alice"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	require.NoError(t, req.ParseForm())
	rec := httptest.NewRecorder()
	rec.Header().Set("Location", "/") // the handler's redirect, under way
	a.sessionError(rec, req, fmt.Errorf("singlesession: save: %w (3 of 3)", singlesession.ErrTooManySessions))
	assert.Equal(t, http.StatusConflict, rec.Code)
	assert.Empty(t, rec.Header().Get("Location"), "the redirect is dropped")
	assert.Contains(t, rec.Body.String(), `<form id="login"`)
	assert.Contains(t, rec.Body.String(), "You are already signed in on 3 browsers")
	assert.Contains(t, rec.Body.String(), `value="alice"`)

	rec = httptest.NewRecorder()
	a.sessionError(rec, req, fmt.Errorf("store: %w", io.ErrUnexpectedEOF))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
}
