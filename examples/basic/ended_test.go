package main

// The login page of a browser that was signed out says why (Manager.Ended),
// in an element with data-reason.

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var reasonRE = regexp.MustCompile(`(?s)<div id="ended" class="notice" data-reason="([^"]*)" role="status">(.*?)</div>`)

// reason returns the data-reason of c's login page, and the notice's text
// with its tags; "" when the page has none.
func (c *client) reason() (string, string) {
	c.t.Helper()
	res, body := c.do("GET", "/login", nil)
	require.Equal(c.t, http.StatusOK, res.StatusCode)
	m := reasonRE.FindStringSubmatch(body)
	if m == nil {
		return "", ""
	}
	return m[1], m[2]
}

func TestLoginPageSaysWhy(t *testing.T) {
	t.Parallel()
	signIn := func(t *testing.T, app *testApp, name, user, ua string) *client {
		c := newClient(t, name, app.URL)
		c.ua = ua
		c.login(user)
		return c
	}

	t.Run("login", func(t *testing.T) {
		t.Parallel()
		app := startApp(t)
		a := signIn(t, app, "A", "alice", uaChromeLin)
		signIn(t, app, "B", "alice", uaFirefoxMac)
		reason, text := a.reason()
		assert.Equal(t, "login", reason)
		assert.Contains(t, text, "You signed in on another browser, so this one was signed out.")
		assert.Contains(t, text, "Signed in on Firefox 128 on macOS, just now.")
		_, body := a.do("GET", "/", nil)
		assert.Contains(t, body, `data-reason="login"`, "the home page says it too")
		reason, _ = a.reason()
		assert.Equal(t, "login", reason, "on every visit until the browser signs in again")

		a.login("alice")
		a.logout()
		reason, _ = a.reason()
		assert.Empty(t, reason, "no reason after signing in again and out")
	})
	t.Run("login, evicted by -max-sessions 2", func(t *testing.T) {
		t.Parallel()
		app := startApp(t, "-max-sessions", "2")
		a := signIn(t, app, "A", "alice", uaChromeLin)
		signIn(t, app, "B", "alice", uaChromeLin)
		signIn(t, app, "C", "alice", uaIPhone)
		reason, text := a.reason()
		assert.Equal(t, "login", reason)
		assert.Contains(t, text, "Signed in on Safari 17 on iOS")
		assert.Contains(t, text, "You may be signed in on 2 browsers at once, and this one was the least recently used.")
	})
	t.Run("logout", func(t *testing.T) {
		t.Parallel()
		app := startApp(t, "-max-sessions", "0")
		a := signIn(t, app, "A", "alice", uaChromeLin)
		b := signIn(t, app, "B", "alice", uaFirefoxMac)
		b.logout()
		reason, text := a.reason()
		assert.Equal(t, "logout", reason)
		assert.Contains(t, text, "You signed out on another browser, which signs out every browser.")
		assert.Contains(t, text, "Signed out on Firefox 128 on macOS")
		reason, _ = b.reason()
		assert.Empty(t, reason, "the browser that signed out knows why")
	})
	t.Run("revoked", func(t *testing.T) {
		t.Parallel()
		app := startApp(t, "-max-sessions", "0")
		a := signIn(t, app, "A", "alice", uaChromeLin)
		b := signIn(t, app, "B", "alice", uaIPhone)
		res, _ := b.do("POST", "/sessions/end-others", url.Values{})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		reason, text := a.reason()
		assert.Equal(t, "revoked", reason)
		assert.Contains(t, text, "This session was ended from another of your sessions.")
		assert.Contains(t, text, "Safari 17 on iOS")
	})
	t.Run("admin", func(t *testing.T) {
		t.Parallel()
		app := startApp(t)
		a := signIn(t, app, "A", "alice", uaChromeLin)
		root := signIn(t, app, "root", "root", uaFirefoxMac)
		root.act("logout", "alice")
		reason, text := a.reason()
		assert.Equal(t, "admin", reason)
		assert.Contains(t, text, "An operator signed you out.")
		assert.NotContains(t, text, "Firefox", "operators are not named by browser")
	})
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		app := startApp(t)
		fresh := newClient(t, "fresh", app.URL)
		reason, _ := fresh.reason()
		assert.Empty(t, reason, "a browser that never signed in")
		own := signIn(t, app, "own", "alice", uaChromeLin)
		reason, _ = own.reason()
		assert.Empty(t, reason, "a signed-in browser")
		own.logout()
		reason, _ = own.reason()
		assert.Empty(t, reason, "a browser that signed itself out")
		ended := signIn(t, app, "ended", "bob", uaChromeLin)
		id, _ := ended.sessionIDs()
		res, _ := ended.endSession(id)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		reason, _ = ended.reason()
		assert.Empty(t, reason, "a browser that ended its own session on its sessions page")
	})
}
