package main

// The flows of issue 11 in a real browser: "Your sessions", the reason a
// signed-out browser is shown, -max-sessions, -reject-new, and the
// operators' page of a user who may not use it. Helpers and screenshots as
// in e2e_test.go.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The User-Agents of the browsers whose sessions a page lists: headless
// Chromium calls itself HeadlessChrome, which the parser rightly files as
// automated; these read as the browsers people use.
const (
	uaDesktopChrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
)

// status returns the HTTP status of the page b shows.
func (b *browser) status() int {
	b.t.Helper()
	return int(eval[float64](b, `performance.getEntriesByType("navigation")[0].responseStatus`))
}

// count returns how many elements match sel.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return int(eval[float64](b, `document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
}

// click clicks sel and waits for the page it leads to.
func (b *browser) click(what, sel string) {
	b.t.Helper()
	b.load(what, chromedp.Click(chromedp.CSS(sel)))
}

// sessionOf returns the data-id of the session whose row mentions text.
func (b *browser) sessionOf(text string) string {
	b.t.Helper()
	id := eval[string](b, `(([...document.querySelectorAll("li.session")].find(li => li.textContent.includes(`+strconv.Quote(text)+`)) || {dataset: {}}).dataset.id || "")`)
	require.NotEmpty(b.t, id, "%s: a session of %s", b.name, text)
	return id
}

// docsShot saves a screenshot of the whole page as $DOCS_DIR/name-W.png,
// W the window's width (390 or 1280; other widths are checked, not shot),
// when DOCS_DIR is set: the README's screenshots.
func (b *browser) docsShot(name string) {
	b.t.Helper()
	dir := os.Getenv("DOCS_DIR")
	if dir == "" || (b.width != 390 && b.width != 1280) {
		return
	}
	require.NotZero(b.t, b.width, "%s: set a width for the docs' screenshots", b.name)
	png := b.png()
	require.NoError(b.t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, b.width)), png, 0o644))
}

func (b *browser) png() []byte {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err, "%s: screenshot", b.name)
	return png
}

func TestE2EYourSessions(t *testing.T) {
	chromium(t)
	app := startApp(t, "-max-sessions", "3")
	sh := newShots(t)
	a := newBrowser(t, "A", sh, chromedp.UserAgent(uaDesktopChrome))
	b := newBrowser(t, "B", sh, chromedp.UserAgent(uaFirefoxMac))
	c := newBrowser(t, "C", sh, chromedp.UserAgent(uaIPhone))

	a.signIn(app.URL, "alice", "alice")
	b.signIn(app.URL, "alice", "alice")
	require.Equal(t, "alice", a.user())
	require.Equal(t, "alice", b.user())
	a.open(app.URL + "/")

	a.click("open Your sessions", "#sessions-link")
	require.Equal(t, "sessions", a.attr("data-page"))
	assert.Equal(t, "Your sessions", a.text("h1"))
	assert.Equal(t, 2, a.count("li.session"), "two browsers")
	assert.Contains(t, a.text("li.session[data-current]"), "Chrome 156 on Linux")
	assert.Contains(t, a.text("li.session[data-current] .tag.this"), "this browser")
	assert.Contains(t, a.text("li.session:not([data-current])"), "Firefox 128 on macOS")
	assert.Contains(t, a.text("li.session:not([data-current])"), "just now")
	a.shot("two-browsers")

	// A third browser; A ends B's session.
	c.signIn(app.URL, "alice", "alice")
	a.reload()
	assert.Equal(t, 3, a.count("li.session"))
	assert.Equal(t, "Sign out", a.text("li.session[data-current] button"), "this browser's button signs it out")
	assert.Equal(t, "End session", a.text(`li.session[data-id="`+a.sessionOf("Firefox")+`"] button`))

	// Each button asks first; Cancel ends nothing.
	a.declineDialogs(true)
	a.do("end B's session, then cancel", chromedp.Click(chromedp.CSS(`li.session[data-id="`+a.sessionOf("Firefox")+`"] button`)))
	assert.Equal(t, []string{"End the session on Firefox 128 on macOS? That browser is signed out."}, a.takeDialogs())
	a.declineDialogs(false)
	a.reload()
	assert.Equal(t, 3, a.count("li.session"), "nothing ended")

	a.click("end B's session", `li.session[data-id="`+a.sessionOf("Firefox")+`"] button`)
	assert.Equal(t, []string{"End the session on Firefox 128 on macOS? That browser is signed out."}, a.takeDialogs())
	require.Equal(t, "sessions", a.attr("data-page"))
	assert.Equal(t, "The session ended: that browser is signed out.", a.text("#flash"))
	assert.Equal(t, 2, a.count("li.session"))
	a.shot("ended-one")
	b.reload()
	assert.Equal(t, "", b.user(), "B is signed out")
	b.open(app.URL + "/login")
	assert.True(t, b.has(`#ended[data-reason="revoked"]`), "B's login page says why")
	assert.Contains(t, b.text("#ended"), "Chrome 156 on Linux")
	b.shot("revoked")

	// A signs out all the others: C.
	a.click("sign out all other sessions", "#end-others")
	assert.Equal(t, []string{"Sign out the other session of alice? This browser stays signed in."}, a.takeDialogs())
	assert.Equal(t, "Signed out 1 other session.", a.text("#flash"))
	assert.Equal(t, 1, a.count("li.session"))
	assert.False(t, a.has("#end-others"), "no other session left")
	a.shot("ended-others")
	assert.Equal(t, "", c.signedInAs(app.URL), "C is signed out")
	assert.Equal(t, "alice", a.signedInAs(app.URL), "A is not")

	// Ending this browser's own session signs it out.
	a.open(app.URL + "/sessions")
	a.click("end this browser's session", "li.session[data-current] button")
	assert.Equal(t, []string{"Sign this browser out? Your other sessions stay signed in."}, a.takeDialogs())
	assert.Equal(t, "login", a.attr("data-page"))
	assert.Equal(t, "", a.user())
	assert.False(t, a.has("#ended"), "a browser that ended its own session is given no reason")
	assert.Equal(t, "You signed this browser out.", a.text("#flash"), "but is told what happened")
}

func TestE2EReasonOnLoginPage(t *testing.T) {
	chromium(t)
	app := startApp(t)
	sh := newShots(t)
	a := newBrowser(t, "A", sh)
	b := newBrowser(t, "B", sh, chromedp.UserAgent(uaFirefoxMac))

	a.signIn(app.URL, "alice", "alice")
	require.Equal(t, "alice", a.user())
	b.signIn(app.URL, "alice", "alice")
	require.Equal(t, "alice", b.user())

	a.reload()
	assert.Equal(t, "", a.user(), "B's login signed A out")
	a.open(app.URL + "/login")
	require.True(t, a.has(`#ended[data-reason="login"]`), "A's login page says why")
	assert.Contains(t, a.text("#ended"), "You signed in on another browser, so this one was signed out.")
	assert.Contains(t, a.text("#ended"), "Signed in on Firefox 128 on macOS, just now.")
	a.shot("reason")

	// B signs out everywhere; nothing is said to B, which did it.
	b.signOut()
	assert.Equal(t, "login", b.attr("data-page"))
	assert.False(t, b.has("#ended"))
	a.signIn(app.URL, "alice", "alice")
	assert.Equal(t, "alice", a.user(), "signing in again works")
	a.open(app.URL + "/login")
	assert.False(t, a.has("#ended"), "and the reason is gone")
}

func TestE2EMaxSessionsEvicts(t *testing.T) {
	chromium(t)
	app := startApp(t, "-max-sessions", "2", "-last-seen-interval", "1ms")
	sh := newShots(t)
	a := newBrowser(t, "A", sh)
	b := newBrowser(t, "B", sh)
	c := newBrowser(t, "C", sh)

	a.signIn(app.URL, "alice", "alice")
	b.signIn(app.URL, "alice", "alice")
	assert.Contains(t, a.text("#limit"), "at most 2")
	time.Sleep(5 * time.Millisecond)
	a.reload() // A is used after B: B is the least recently used
	require.Equal(t, "alice", a.user())
	c.signIn(app.URL, "alice", "alice")
	require.Equal(t, "alice", c.user())

	assert.Equal(t, "", b.signedInAs(app.URL), "B, the least recently used, is signed out")
	b.open(app.URL + "/login")
	assert.True(t, b.has(`#ended[data-reason="login"]`))
	assert.Contains(t, b.text("#ended"), "this one was the least recently used")
	b.shot("evicted")
	assert.Equal(t, "alice", a.signedInAs(app.URL), "A stays")
	a.open(app.URL + "/sessions")
	assert.Equal(t, 2, a.count("li.session"))
}

func TestE2ERejectNew(t *testing.T) {
	chromium(t)
	app := startApp(t, "-reject-new")
	sh := newShots(t)
	a := newBrowser(t, "A", sh)
	b := newBrowser(t, "B", sh)

	a.signIn(app.URL, "alice", "alice")
	require.Equal(t, "alice", a.user())
	b.signIn(app.URL, "alice", "alice")
	assert.Equal(t, "login", b.attr("data-page"), "the form comes back")
	assert.Equal(t, 409, b.status())
	assert.Contains(t, b.text("#error"), "You are already signed in on another browser")
	assert.Equal(t, "", b.user())
	b.shot("refused")
	assert.Equal(t, "alice", a.signedInAs(app.URL), "A keeps its session")

	a.signOut()
	b.signIn(app.URL, "alice", "alice")
	assert.Equal(t, "alice", b.user(), "once A signed out, B may sign in")
}

func TestE2EOperatorsOnly(t *testing.T) {
	chromium(t)
	app := startApp(t)
	sh := newShots(t)
	a := newBrowser(t, "alice", sh)

	a.signIn(app.URL, "alice", "alice")
	require.Equal(t, "alice", a.user())
	assert.False(t, a.has("#admin-link"), "no operators' link in the header")
	assert.False(t, a.has(`a[href="/admin/sessions"]`), "nor anywhere")
	assert.True(t, a.has("#operators-note"), "the home page explains the page")
	assert.Equal(t, "Sign out everywhere", a.text("#logout"))
	a.shot("home")

	a.open(app.URL + "/admin/sessions")
	assert.Equal(t, 403, a.status())
	assert.Equal(t, "Operators only", a.text("h1"))
	assert.Equal(t, "alice", a.user(), "the application's page, with its header")
	a.shot("forbidden")
	a.click("go back", "#back")
	assert.Equal(t, "home", a.attr("data-page"))
}
