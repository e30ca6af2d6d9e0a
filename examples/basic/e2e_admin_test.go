package main

// The operators' flows of issue 4 in a real browser, on the library's admin
// page mounted at /admin/sessions. Helpers and screenshots as in e2e_test.go.

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// adminHeading is the h1 of the library's operators' page.
const adminHeading = "Sign users out"

// eval returns the value of a JavaScript expression on b's current page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(b.t, err, "%s: evaluate %s", b.name, expr)
	return v
}

// openAdmin follows the header's link to the operators' page from the home
// page of the instance at base.
func (b *browser) openAdmin(base string) {
	b.t.Helper()
	b.open(base + "/")
	b.load("open the operators' page", chromedp.Click(chromedp.ID("admin-link")))
	require.Equal(b.t, adminHeading, b.text("h1"), "%s: the operators' page", b.name)
}

// tick ticks the checkboxes of users on the operators' page.
func (b *browser) tick(users ...string) {
	b.t.Helper()
	for _, u := range users {
		b.do("tick "+u, chromedp.Click(chromedp.CSS(`input[name="user"][value="`+u+`"]`)))
	}
}

// runAction presses the button that runs action on the ticked users and
// waits for the page the action leads to.
func (b *browser) runAction(action string) {
	b.t.Helper()
	b.load("run "+action, chromedp.Click(chromedp.CSS(`button[name="action"][value="`+action+`"]`)))
}

// actionLabels returns the labels of the action buttons the operators' page
// offers, in order.
func (b *browser) actionLabels() []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll('button[name="action"]')].map(e => e.textContent.trim())`)
}

// sessionCounts returns the active sessions of each user the operators' page
// lists.
func (b *browser) sessionCounts() map[string]int {
	b.t.Helper()
	return eval[map[string]int](b, `Object.fromEntries([...document.querySelectorAll('tbody tr')]
		.filter(r => r.querySelector('input[name="user"]'))
		.map(r => [r.querySelector('input[name="user"]').value, Number(r.querySelector('td.n').textContent)]))`)
}

// has reports whether an element matches sel on the current page.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	q, err := json.Marshal(sel)
	require.NoError(b.t, err)
	return eval[bool](b, `document.querySelector(`+string(q)+`) !== null`)
}

// signedInAs reloads the home page of the instance at base and returns who
// it says is signed in.
func (b *browser) signedInAs(base string) string {
	b.t.Helper()
	b.open(base + "/")
	return b.user()
}

// adminFlows runs the operators' flows of issue 4. The operators use the
// instance at opURL; alice and root, whom they sign out, use the one at
// userURL. Each of alice, root and the operators (sam, then tess) has a
// browser of their own.
func adminFlows(t *testing.T, sh *shots, opURL, userURL string) {
	alice := newBrowser(t, "alice", sh)
	root := newBrowser(t, "root", sh)
	op := newBrowser(t, "operator", sh)

	// root signs alice out of all her sessions.
	alice.signIn(userURL, "alice", "alice")
	require.Equal(t, "alice", alice.user())
	root.signIn(opURL, "root", "root")
	require.Equal(t, "root", root.user())
	assert.True(t, root.has(`#operator a[href="/admin/sessions"]`), "the home page links root to the operators' page")
	root.shot("home")
	root.openAdmin(opURL)
	assert.Equal(t, []string{"Sign out everywhere", "Sign out everywhere, admin users included"}, root.actionLabels(),
		"an admin user is offered both actions")
	assert.Equal(t, 1, root.sessionCounts()["alice"])
	root.shot("admin")
	root.tick("alice")
	root.runAction("logout")
	assert.Equal(t, []string{"Sign alice out everywhere? Every session of theirs ends; admin users are skipped."}, root.takeDialogs(),
		"the page asks first")
	require.Equal(t, adminHeading, root.text("h1"), "the action leads back to the page")
	assert.Contains(t, root.text(".result"), "1 user signed out, 1 session ended.")
	assert.Equal(t, "alice: 1 session ended", root.text("ul.signed-out"))
	assert.Equal(t, 0, root.sessionCounts()["alice"])
	root.shot("alice-signed-out")
	assert.Equal(t, "", alice.signedInAs(userURL), "alice's browser is signed out")
	alice.shot("signed-out-by-root")

	// sam holds single_session.logout only: of root and alice, only alice is
	// signed out, and the page says why root was skipped.
	alice.signIn(userURL, "alice", "alice")
	require.Equal(t, "alice", alice.user())
	require.Equal(t, "root", root.signedInAs(userURL), "root's browser is signed in on the users' instance too")
	op.signIn(opURL, "sam", "sam")
	require.Equal(t, "sam", op.user())
	op.openAdmin(opURL)
	assert.Equal(t, []string{"Sign out everywhere"}, op.actionLabels(), "sam is offered only logout")
	assert.Equal(t, map[string]int{"alice": 1, "bob": 0, "root": 1, "ruth": 0, "sam": 1, "tess": 0}, op.sessionCounts())
	op.tick("root", "alice")
	op.shot("admin-ticked")

	// Answering "Cancel" to the question ends nothing.
	op.declineDialogs(true)
	op.do("run logout, then cancel", chromedp.Click(chromedp.CSS(`button[name="action"][value="logout"]`)))
	assert.Equal(t, []string{"Sign alice and root out everywhere? Every session of theirs ends; admin users are skipped."}, op.takeDialogs())
	assert.Equal(t, map[string]int{"alice": 1, "bob": 0, "root": 1, "ruth": 0, "sam": 1, "tess": 0}, op.sessionCounts(), "nothing ended")
	op.declineDialogs(false)
	op.runAction("logout")
	require.Equal(t, adminHeading, op.text("h1"))
	assert.Contains(t, op.text(".result"), "1 user signed out, 1 session ended, 1 user skipped.")
	assert.Equal(t, "alice: 1 session ended", op.text("ul.signed-out"))
	assert.Equal(t, "root was skipped: an admin user; only “Sign out everywhere, admin users included” (single_session.logout_all) signs admin users out.", op.text("ul.skipped"))
	assert.Equal(t, map[string]int{"alice": 0, "bob": 0, "root": 1, "ruth": 0, "sam": 1, "tess": 0}, op.sessionCounts())
	op.shot("sam-result")
	assert.Equal(t, "", alice.signedInAs(userURL), "alice is signed out")
	assert.Equal(t, "root", root.signedInAs(userURL), "root, an admin user, is not")
	root.shot("not-signed-out-by-sam")

	// tess holds single_session.logout_all only, which signs admin users
	// out too.
	op.signIn(opURL, "tess", "tess")
	require.Equal(t, "tess", op.user())
	op.openAdmin(opURL)
	assert.Equal(t, []string{"Sign out everywhere, admin users included"}, op.actionLabels(), "tess is offered only logout_all")
	assert.False(t, op.has(`button[value="logout"]`))
	op.tick("root")
	op.runAction("logout_all")
	require.Equal(t, adminHeading, op.text("h1"))
	assert.Contains(t, op.text(".result"), "Signed out everywhere, admin users included")
	assert.Equal(t, "root: 1 session ended", op.text("ul.signed-out"))
	assert.False(t, op.has("ul.skipped"), "no one skipped")
	op.shot("tess-result")
	assert.Equal(t, "", root.signedInAs(userURL), "tess signed root out")
	root.shot("signed-out-by-tess")
}

func TestE2EAdmin(t *testing.T) {
	chromium(t)
	app := startApp(t)
	adminFlows(t, newShots(t), app.URL, app.URL)
}

func TestE2EAdminTwoInstancesPostgres(t *testing.T) {
	chromium(t)
	dsn := schemaDSN(t)
	one := startApp(t, "-dsn", dsn)
	two := startApp(t, "-dsn", dsn)
	adminFlows(t, newShots(t), one.URL, two.URL)
}

// An operator ends one session of a user from the operators' page: sam
// (single_session.logout) opens bob's sessions and ends the older one; that
// browser's login page then says an operator signed it out, and bob's other
// browser stays signed in. sam may not end an admin user's session: root's
// list offers no button.
func TestE2EAdminEndsOneSession(t *testing.T) {
	chromium(t)
	app := startApp(t, "-max-sessions", "3")
	sh := newShots(t)
	older := newBrowser(t, "bob on Firefox", sh, chromedp.UserAgent(uaFirefoxMac))
	newer := newBrowser(t, "bob on Chrome", sh, chromedp.UserAgent(uaDesktopChrome))
	root := newBrowser(t, "root", sh)
	op := newBrowser(t, "sam", sh)
	older.signIn(app.URL, "bob", "bob")
	newer.signIn(app.URL, "bob", "bob")
	root.signIn(app.URL, "root", "root")
	op.signIn(app.URL, "sam", "sam")

	op.openAdmin(app.URL)
	op.load("open bob's sessions", chromedp.Click(chromedp.CSS(`tr:has(input[name="user"][value="bob"]) a`)))
	require.Contains(t, op.text("#sessions-of"), "Sessions of bob")
	assert.Equal(t, 2, op.count("section.sessions tbody tr"), "bob's two browsers")
	assert.Contains(t, op.text("section.sessions tbody tr:last-child"), "Firefox", "most recently used first: the older browser last")
	op.shot("bob-sessions")
	op.load("end bob's older session", chromedp.Click(chromedp.CSS(`section.sessions tbody tr:last-child button`)))
	assert.Equal(t, []string{"End this session of bob (Firefox 128 on macOS)? That browser is signed out."}, op.takeDialogs(),
		"the page asks first, naming the device as the application does")
	assert.Equal(t, 1, op.count("section.sessions tbody tr"), "one session left")
	op.shot("bob-one-ended")

	assert.Equal(t, "", older.signedInAs(app.URL), "the ended browser is signed out")
	older.open(app.URL + "/login")
	assert.True(t, older.has(`#ended[data-reason="admin"]`), "its login page says an operator signed it out")
	older.shot("ended-by-operator")
	assert.Equal(t, "bob", newer.signedInAs(app.URL), "bob's other browser stays signed in")

	op.openAdmin(app.URL)
	op.load("open root's sessions", chromedp.Click(chromedp.CSS(`tr:has(input[name="user"][value="root"]) a`)))
	require.Contains(t, op.text("#sessions-of"), "Sessions of root")
	assert.Equal(t, 1, op.count("section.sessions tbody tr"))
	assert.False(t, op.has("section.sessions button"), "single_session.logout cannot end an admin user's session")
	assert.Equal(t, "root", root.signedInAs(app.URL))

	// sam's own session: its button signs this browser out, and the login
	// page says so, not that an operator did it.
	op.openAdmin(app.URL)
	op.load("open sam's sessions", chromedp.Click(chromedp.CSS(`tr:has(input[name="user"][value="sam"]) a`)))
	assert.Equal(t, "Sign out", op.text("section.sessions tbody tr button"))
	op.click("sign this browser out", "section.sessions tbody tr button")
	assert.Equal(t, []string{"Sign this browser out?"}, op.takeDialogs())
	assert.Equal(t, "login", op.attr("data-page"))
	assert.Equal(t, "", op.user())
	assert.Equal(t, "You signed this browser out.", op.text("#flash"))
	assert.False(t, op.has("#ended"))
}
