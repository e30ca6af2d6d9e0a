package main

// The "Your sessions" page over HTTP: GET /sessions, POST /sessions/end and
// POST /sessions/end-others.

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	uaFirefoxMac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0"
	uaIPhone     = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaChromeLin  = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36"
)

var sessionRE = regexp.MustCompile(`<li class="session[^"]*" data-id="([^"]+)"( data-current)?>`)

// sessionsPage returns the "Your sessions" page as c sees it, requiring 200.
func (c *client) sessionsPage() string {
	c.t.Helper()
	res, body := c.do("GET", "/sessions", nil)
	require.Equal(c.t, http.StatusOK, res.StatusCode, "%s: /sessions: %s", c.name, body)
	return body
}

// sessionIDs returns the IDs the page lists: this browser's and the others'.
func (c *client) sessionIDs() (current string, others []string) {
	c.t.Helper()
	for _, m := range sessionRE.FindAllStringSubmatch(c.sessionsPage(), -1) {
		if m[2] != "" {
			require.Empty(c.t, current, "%s: one session is this browser's", c.name)
			current = m[1]
		} else {
			others = append(others, m[1])
		}
	}
	return current, others
}

// endSession posts the End button of the session id.
func (c *client) endSession(id string, header ...string) (*http.Response, string) {
	c.t.Helper()
	return c.do("POST", "/sessions/end", url.Values{"id": {id}}, header...)
}

func yourSessionsFlow(t *testing.T, args ...string) {
	app := startApp(t, append([]string{"-max-sessions", "3"}, args...)...)
	a := newClient(t, "A", app.URL)
	a.ua = uaChromeLin
	b := newClient(t, "B", app.URL)
	b.ua = uaFirefoxMac
	c := newClient(t, "C", app.URL)
	c.ua = uaIPhone
	bob := newClient(t, "bob", app.URL)
	for _, x := range []*client{a, b, c} {
		x.login("alice")
	}
	bob.login("bob")

	page := a.sessionsPage()
	assert.Contains(t, page, `<h1>Your sessions</h1>`)
	assert.Contains(t, page, "<strong>Chrome 141 on Linux</strong> <span class=\"tag this\">this browser</span>")
	assert.Contains(t, page, "<strong>Firefox 128 on macOS</strong>")
	assert.Contains(t, page, "<strong>Safari 17 on iOS</strong>")
	assert.Contains(t, page, "Phone · IP <code>127.0.0.1</code>")
	assert.Contains(t, page, "Computer · IP <code>127.0.0.1</code>")
	assert.Contains(t, page, `>just now</time>`, "last seen, relative")
	// This browser's button signs it out; the others' end those sessions.
	// Each asks first (static/app.js reads data-confirm).
	assert.Regexp(t, `(?s)data-current>.*?data-confirm="Sign this browser out\? Your other sessions stay signed in.">Sign out</button>`, page)
	assert.Contains(t, page, `data-confirm="End the session on Firefox 128 on macOS? That browser is signed out.">End session</button>`)
	assert.Equal(t, 2, strings.Count(page, `>End session</button>`))
	assert.Contains(t, page, `data-confirm="Sign out the 2 other sessions of alice? This browser stays signed in."`)
	assert.Contains(t, page, `id="end-others"`)
	assert.NotContains(t, page, "basic_session", "no cookie name, no token")
	assert.NotContains(t, page, a.cookie(), "the page never shows a token")
	current, others := a.sessionIDs()
	require.NotEmpty(t, current)
	require.Len(t, others, 2)
	_, bobOthers := bob.sessionIDs()
	assert.Empty(t, bobOthers, "bob sees his own session only")

	// End B's session, found by the browser it names.
	bID := idOf(t, page, "Firefox 128 on macOS")
	res, _ := a.endSession(bID)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/sessions", res.Header.Get("Location"))
	assert.Empty(t, b.whoami(), "B is signed out")
	assert.Equal(t, "alice", c.whoami(), "C is not")
	assert.Equal(t, "alice", a.whoami())
	page = a.sessionsPage()
	assert.Contains(t, page, `id="flash"`)
	assert.Contains(t, page, "The session ended: that browser is signed out.")
	assert.NotContains(t, page, "Firefox 128 on macOS")
	assert.NotContains(t, a.sessionsPage(), `id="flash"`, "the message shows once")

	// Ending it again: it is no longer the user's.
	res, body := a.endSession(bID)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Contains(t, body, "No such session")
	assert.Contains(t, body, `href="/sessions"`, "the 404 page leads back")

	// Sign out all the others: C.
	b.login("alice")
	res, _ = a.do("POST", "/sessions/end-others", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/sessions", res.Header.Get("Location"))
	assert.Empty(t, b.whoami())
	assert.Empty(t, c.whoami())
	assert.Equal(t, "alice", a.whoami(), "this browser stays")
	assert.Equal(t, "bob", bob.whoami(), "other users keep theirs")
	page = a.sessionsPage()
	assert.Contains(t, page, "Signed out 2 other sessions.")
	assert.NotContains(t, page, `id="end-others"`, "no other session left")
	res, _ = a.do("POST", "/sessions/end-others", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Contains(t, a.sessionsPage(), "There was no other session to end.")

	// Ending this browser's own session signs it out, and only it.
	b.login("alice")
	current, _ = a.sessionIDs()
	res, _ = a.endSession(current)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/login", res.Header.Get("Location"))
	assert.Empty(t, a.whoami())
	assert.Equal(t, "alice", b.whoami(), "the other session stays")
	_, page = a.do("GET", "/login", nil)
	assert.Contains(t, page, `<p id="flash" class="flash" role="status">You signed this browser out.</p>`, "the login page says so")
	assert.NotContains(t, page, `data-reason=`)
	_, page = a.do("GET", "/login", nil)
	assert.NotContains(t, page, "You signed this browser out.", "once")
}

// idOf returns the ID of the session the page lists for a browser.
func idOf(t *testing.T, page, browser string) string {
	t.Helper()
	i := strings.Index(page, "<strong>"+browser+"</strong>")
	require.NotEqual(t, -1, i, "the page lists %s", browser)
	ms := sessionRE.FindAllStringSubmatchIndex(page[:i], -1)
	require.NotEmpty(t, ms)
	m := ms[len(ms)-1]
	return page[m[2]:m[3]]
}

func TestYourSessions(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		yourSessionsFlow(t)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		yourSessionsFlow(t, "-dsn", schemaDSN(t))
	})
}

func TestYourSessionsAnonymous(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	alice := newClient(t, "alice", app.URL)
	alice.login("alice")
	id, _ := alice.sessionIDs()

	anon := newClient(t, "anonymous", app.URL)
	for _, tc := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/sessions", nil},
		{"POST", "/sessions/end", url.Values{"id": {id}}},
		{"POST", "/sessions/end-others", url.Values{}},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			res, _ := anon.do(tc.method, tc.path, tc.form)
			assert.Equal(t, http.StatusSeeOther, res.StatusCode)
			assert.Equal(t, "/login", res.Header.Get("Location"))
			assert.Equal(t, "alice", alice.whoami(), "nothing ended")
		})
	}
}

func TestEndSessionBadInput(t *testing.T) {
	t.Parallel()
	app := startApp(t, "-max-sessions", "0")
	a := newClient(t, "A", app.URL)
	a.login("alice")
	b := newClient(t, "B", app.URL)
	b.login("alice")
	bob := newClient(t, "bob", app.URL)
	bob.login("bob")
	bobID, _ := bob.sessionIDs()
	aliceID, _ := a.sessionIDs()
	bobIDs := func() []string { cur, others := bob.sessionIDs(); return append(others, cur) }
	nothingEnded := func(t *testing.T) {
		t.Helper()
		assert.Equal(t, "alice", a.whoami(), "nothing ended")
		assert.Equal(t, "alice", b.whoami(), "nothing ended")
		assert.Equal(t, "bob", bob.whoami(), "nothing ended")
		assert.Equal(t, []string{bobID}, bobIDs())
	}

	for _, tc := range []struct{ name, id string }{
		{"another user's session", bobID},
		{"unknown", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"empty", ""},
		{"not an ID", "../../etc/passwd"},
		{"too long", strings.Repeat("a", 200)},
		{"a token", a.cookie()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := b.endSession(tc.id)
			assert.Equal(t, http.StatusNotFound, res.StatusCode, body)
			assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
			assert.Contains(t, body, "No such session")
			nothingEnded(t)
		})
	}
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"no id", "", http.StatusBadRequest},
		{"two ids", "id=" + aliceID + "&id=" + bobID, http.StatusBadRequest},
		{"bad escape", "id=%zz", http.StatusBadRequest},
		{"too large", "id=" + strings.Repeat("a", 64<<10), http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := b.raw("POST", "/sessions/end", strings.NewReader(tc.body), "application/x-www-form-urlencoded")
			assert.Equal(t, tc.status, res.StatusCode, body)
			nothingEnded(t)
		})
	}
	t.Run("methods", func(t *testing.T) {
		for _, path := range []string{"/sessions/end", "/sessions/end-others"} {
			res, _ := b.do("GET", path, nil)
			assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode, path)
		}
		res, _ := b.do("DELETE", "/sessions", nil)
		assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
		nothingEnded(t)
	})
}

func TestYourSessionsCrossOrigin(t *testing.T) {
	t.Parallel()
	app := startApp(t, "-max-sessions", "0")
	a := newClient(t, "A", app.URL)
	a.login("alice")
	b := newClient(t, "B", app.URL)
	b.login("alice")
	_, others := a.sessionIDs()
	require.Len(t, others, 1)
	evil := []string{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}

	res, _ := a.endSession(others[0], evil...)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = a.do("POST", "/sessions/end-others", url.Values{}, evil...)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Equal(t, "alice", b.whoami(), "a refused post ends nothing")

	res, _ = a.endSession(others[0], "Origin", app.URL, "Sec-Fetch-Site", "same-origin")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "the page's own origin may")
	assert.Empty(t, b.whoami())
}

var nextPageRE = regexp.MustCompile(`<a id="next-page" href="([^"]+)" rel="next">`)

// "Your sessions" shows one page (Config.PageSize, 50) of a user's
// sessions, most recently used first, with the total and a link to the
// next page; a cursor no page gave is 400. Every session is on one page.
func TestYourSessionsPaged(t *testing.T) {
	t.Parallel()
	const n = 60
	app := startApp(t, "-max-sessions", "0")
	var a *client
	for i := range n {
		c := newClient(t, "alice "+strconv.Itoa(i), app.URL)
		c.login("alice")
		a = c // the last one, the most recently used
	}

	res, page := a.do("GET", "/sessions", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, page)
	assert.Contains(t, page, "alice is signed in on <strong>60</strong> browsers.")
	assert.Contains(t, page, "Most recently used first: 50 on this page.")
	assert.Equal(t, 50, len(sessionRE.FindAllString(page, -1)))
	assert.Regexp(t, `<li class="session current" data-id="[^"]+" data-current>`, page, "this browser, the most recently used, comes first")
	assert.NotContains(t, page, `id="first-page"`)
	seen := map[string]bool{}
	for _, m := range sessionRE.FindAllStringSubmatch(page, -1) {
		seen[m[1]] = true
	}
	m := nextPageRE.FindStringSubmatch(page)
	require.NotNil(t, m, "a link to the next page")
	next := html.UnescapeString(m[1])
	assert.True(t, strings.HasPrefix(next, "/sessions?cursor="), next)

	res, page = a.do("GET", next, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, page)
	assert.Contains(t, page, "alice is signed in on <strong>60</strong> browsers.")
	assert.Contains(t, page, "Most recently used first: 10 on this page.")
	assert.Contains(t, page, `<a id="first-page" href="/sessions">`)
	assert.NotRegexp(t, nextPageRE, page, "the last page")
	for _, m := range sessionRE.FindAllStringSubmatch(page, -1) {
		assert.False(t, seen[m[1]], "a session on two pages")
		seen[m[1]] = true
	}
	assert.Len(t, seen, n, "every session on a page")
	assert.Contains(t, page, `id="end-others"`, "the others can be ended from any page")

	for _, cursor := range []string{"nope", "%21", "MTIz"} {
		res, page = a.do("GET", "/sessions?cursor="+cursor, nil)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, cursor)
		assert.Contains(t, page, "No such page", cursor)
		assert.Contains(t, page, `href="/sessions"`, "a way back")
	}
	res, _ = newClient(t, "anonymous", app.URL).do("GET", next, nil)
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/login", res.Header.Get("Location"))
}
