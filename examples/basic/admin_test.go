package main

// What the operators' actions do in the application, over HTTP: the status
// codes alone are checked in TestAdminRoutes (app_test.go).

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	resultRE = regexp.MustCompile(`(?s)<section class="(?:[^"]* )?result(?: [^"]*)?" role="status">(.*?)</section>`)
	tagRE    = regexp.MustCompile(`<[^>]*>`)
	spaceRE  = regexp.MustCompile(`\s+`)
	buttonRE = regexp.MustCompile(`<button type="submit" name="action" value="([^"]*)"`)
)

// resultText returns the text of the result an admin page reports, tags
// stripped and spaces collapsed: "" when the page reports none.
func resultText(page string) string {
	m := resultRE.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(spaceRE.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(m[1], " ")), " "))
}

// actionsOffered returns the actions an admin page offers, as the values its
// buttons send.
func actionsOffered(page string) []string {
	var list []string
	for _, m := range buttonRE.FindAllStringSubmatch(page, -1) {
		list = append(list, m[1])
	}
	return list
}

// act posts an action as c and requires the redirect back to the page.
func (c *client) act(action string, users ...string) {
	c.t.Helper()
	res, body := c.do("POST", "/admin/sessions/logout", url.Values{"action": {action}, "user": users})
	require.Equal(c.t, http.StatusSeeOther, res.StatusCode, "%s: %s on %v: %s", c.name, action, users, body)
	require.Equal(c.t, "/admin/sessions", res.Header.Get("Location"), "%s: %s on %v", c.name, action, users)
}

// adminPage returns the admin page as c sees it and requires 200.
func (c *client) adminPage() string {
	c.t.Helper()
	res, body := c.do("GET", "/admin/sessions", nil)
	require.Equal(c.t, http.StatusOK, res.StatusCode, "%s: admin page: %s", c.name, body)
	return body
}

// sessionCounts returns the active sessions per user, as the admin page
// lists them to c (its JSON form).
func (c *client) sessionCounts() map[string]int {
	c.t.Helper()
	res, body := c.do("GET", "/admin/sessions", nil, "Accept", "application/json")
	require.Equal(c.t, http.StatusOK, res.StatusCode, "%s: admin page as JSON: %s", c.name, body)
	var page struct {
		Users []struct {
			ID       string `json:"id"`
			Sessions int    `json:"sessions"`
		} `json:"users"`
	}
	require.NoError(c.t, json.Unmarshal([]byte(body), &page))
	counts := map[string]int{}
	for _, u := range page.Users {
		counts[u.ID] = u.Sessions
	}
	return counts
}

// adminActions runs the operators' actions with the operators on the instance
// at opURL and the users they act on signed in on the instance at userURL.
// The application lets a user hold many sessions (-single-session=false), so
// the counts the page reports are more than one.
func adminActions(t *testing.T, opURL, userURL string) {
	signIn := func(name, user, base string) *client {
		c := newClient(t, name, base)
		c.login(user)
		return c
	}
	alice1 := signIn("alice 1", "alice", userURL)
	alice2 := signIn("alice 2", "alice", userURL)
	bob := signIn("bob", "bob", userURL)
	root := signIn("root", "root", userURL)
	sam := signIn("sam", "sam", opURL)
	tess := signIn("tess", "tess", opURL)

	counts := sam.sessionCounts()
	require.Equal(t, map[string]int{"alice": 2, "bob": 1, "root": 1, "ruth": 0, "sam": 1, "tess": 1}, counts)

	// sam holds single_session.logout: alice is signed out of both her
	// sessions; root, an admin user, and mallory, unknown, are skipped.
	sam.act("logout", "alice", "root", "mallory")
	assert.Empty(t, alice1.whoami(), "alice is signed out")
	assert.Empty(t, alice2.whoami(), "alice is signed out everywhere")
	assert.Equal(t, "root", root.whoami(), "logout skips admin users")
	assert.Equal(t, "bob", bob.whoami(), "users not chosen keep their sessions")
	assert.Equal(t, "sam", sam.whoami())

	page := sam.adminPage()
	result := resultText(page)
	assert.Contains(t, result, "Signed out everywhere")
	assert.Contains(t, result, "1 user signed out, 2 sessions ended, 2 users skipped.")
	assert.Contains(t, result, "Signed out alice: 2 sessions ended")
	assert.Contains(t, result, "root was skipped: an admin user; only “Sign out everywhere, admin users included” (single_session.logout_all) signs admin users out.")
	assert.Contains(t, result, "mallory was skipped: the directory does not know this user.")
	assert.Empty(t, resultText(sam.adminPage()), "the result is reported once")
	counts = sam.sessionCounts()
	assert.Equal(t, 0, counts["alice"])
	assert.Equal(t, 1, counts["root"])

	// tess holds single_session.logout_all, which signs admin users out too.
	tess.act("logout_all", "root")
	assert.Empty(t, root.whoami(), "logout_all signs admin users out")
	assert.Equal(t, "bob", bob.whoami())
	result = resultText(tess.adminPage())
	assert.Contains(t, result, "Signed out everywhere, admin users included")
	assert.Contains(t, result, "1 user signed out, 1 session ended.")
	assert.Contains(t, result, "root: 1 session ended")
	assert.NotContains(t, result, "Skipped")
	assert.Equal(t, 0, tess.sessionCounts()["root"])
}

func TestAdminActions(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		app := startApp(t, "-single-session=false")
		adminActions(t, app.URL, app.URL)
	})
	t.Run("postgres, two instances", func(t *testing.T) {
		t.Parallel()
		dsn := schemaDSN(t)
		one := startApp(t, "-dsn", dsn, "-single-session=false")
		two := startApp(t, "-dsn", dsn, "-single-session=false")
		adminActions(t, one.URL, two.URL)
	})
}

// TestAdminActionOnSelf: an operator may sign themself out; the response
// completes, and the next visit to the page asks them to sign in.
func TestAdminActionOnSelf(t *testing.T) {
	t.Parallel()
	app := startApp(t, "-single-session=false")
	signIn := func(name, user string) *client {
		c := newClient(t, name, app.URL)
		c.login(user)
		return c
	}

	for _, tc := range []struct{ actor, action string }{
		{"sam", "logout"},
		{"tess", "logout_all"},
		{"ruth", "logout_all"},
	} {
		t.Run(tc.actor, func(t *testing.T) {
			op := signIn(tc.actor, tc.actor)
			other := signIn(tc.actor+" elsewhere", tc.actor)
			bob := signIn("bob", "bob")
			alice := signIn("alice", "alice")

			res, body := op.do("POST", "/admin/sessions/logout", url.Values{"action": {tc.action}, "user": {tc.actor, "bob"}})
			require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
			next := res.Header.Get("Location")
			assert.Contains(t, []string{"/admin/sessions", "/login"}, next)
			assert.Empty(t, op.whoami(), "the actor signed themself out")
			assert.Empty(t, other.whoami(), "everywhere")
			assert.Empty(t, bob.whoami(), "and bob")
			assert.Equal(t, "alice", alice.whoami(), "but no one else")

			res, body = op.do("GET", next, nil)
			if next == "/login" {
				assert.Equal(t, http.StatusOK, res.StatusCode, body)
				assert.Contains(t, body, `<form id="login"`)
				assert.Contains(t, body, `<p id="flash" class="flash" role="status">You signed this browser out.</p>`)
				assert.NotContains(t, body, `data-reason=`, "not told that an operator did it")
			}
			res, _ = op.do("GET", "/admin/sessions", nil)
			assert.Equal(t, http.StatusSeeOther, res.StatusCode, "the page asks the signed-out actor to sign in")
			assert.Equal(t, "/login", res.Header.Get("Location"))
		})
	}

	t.Run("own session", func(t *testing.T) {
		root := signIn("root", "root")
		laptop := signIn("root's laptop", "root")
		res, body := root.do("GET", "/admin/sessions?user=root", nil, "Accept", "application/json")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		var p struct {
			User struct {
				Sessions []struct {
					ID      string `json:"id"`
					Current bool   `json:"current"`
				} `json:"sessions"`
			} `json:"user"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &p))
		var mine string
		for _, s := range p.User.Sessions {
			if s.Current {
				mine = s.ID
			}
		}
		require.NotEmpty(t, mine)
		res, body = root.do("POST", "/admin/sessions/sessions/end", url.Values{"user": {"root"}, "id": {mine}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
		assert.Equal(t, "/login", res.Header.Get("Location"))
		assert.Empty(t, root.whoami())
		assert.Equal(t, "root", laptop.whoami(), "root's other browser stays")
		_, body = root.do("GET", "/login", nil)
		assert.Contains(t, body, "You signed this browser out.")
		assert.NotContains(t, body, `data-reason=`)
		_, body = root.do("GET", "/login", nil)
		assert.NotContains(t, body, "You signed this browser out.", "once")
	})

	t.Run("admin user with logout", func(t *testing.T) {
		root := signIn("root", "root")
		bob := signIn("bob", "bob")
		root.act("logout", "root", "bob")
		assert.Equal(t, "root", root.whoami(), "logout skips admin users, the actor too")
		assert.Empty(t, bob.whoami())
		result := resultText(root.adminPage())
		assert.Contains(t, result, "bob: 1 session ended")
		assert.Contains(t, result, "root was skipped: an admin user")
	})
}

// TestAdminActionsOffered: the page offers each operator the actions it holds
// the permission of, and only those.
func TestAdminActionsOffered(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	for user, want := range map[string][]string{
		"sam":  {"logout"},
		"tess": {"logout_all"},
		"root": {"logout", "logout_all"},
		"ruth": {"logout", "logout_all"},
	} {
		t.Run(user, func(t *testing.T) {
			c := newClient(t, user, app.URL)
			c.login(user)
			page := c.adminPage()
			assert.Equal(t, want, actionsOffered(page), user)
			for _, id := range []string{"alice", "bob", "sam", "tess", "root", "ruth"} {
				assert.Contains(t, page, `name="user" value="`+id+`"`, "%s sees %s", user, id)
			}
		})
	}
}

// timeRE is how every page writes a time: the year and the zone.
var timeRE = regexp.MustCompile(`<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"[^>]*>\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC</time>`)

// The operators' page and "Your sessions" name a device alike (the
// application's parser, through AdminConfig.Device) and write times alike.
func TestAdminPageAndAppAgree(t *testing.T) {
	t.Parallel()
	app := startApp(t, "-max-sessions", "2")
	phone := newClient(t, "bob's phone", app.URL)
	phone.ua = uaIPhone
	phone.login("bob")
	root := newClient(t, "root", app.URL)
	root.login("root")

	res, admin := root.do("GET", "/admin/sessions?user=bob", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, admin)
	assert.Contains(t, admin, "<span>Safari 17 on iOS</span>")
	assert.Regexp(t, timeRE, admin)
	_, body := root.do("GET", "/admin/sessions?user=bob", nil, "Accept", "application/json")
	assert.Contains(t, body, `"device":"Safari 17 on iOS"`)

	own := phone.sessionsPage()
	assert.Contains(t, own, "<strong>Safari 17 on iOS</strong>")
	assert.Regexp(t, timeRE, own)

	// The same session signed in at the same time, written the same way.
	a := regexp.MustCompile(`data-label="Signed in" class="time"><span><time datetime="[^"]+">([^<]+)</time>`).FindStringSubmatch(admin)
	b := regexp.MustCompile(`Signed in <time datetime="[^"]+">([^<]+)</time>`).FindStringSubmatch(own)
	require.NotNil(t, a, "the operators' page says when bob signed in")
	require.NotNil(t, b, "Your sessions says when bob signed in")
	assert.Equal(t, a[1], b[1])
}
