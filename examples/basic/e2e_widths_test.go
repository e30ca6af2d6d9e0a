package main

// Every page as a new user meets it, on the narrowest phones (360 px), a
// common phone (390 px) and a laptop
// (1280 px): home, login (with its errors, the reason notice and the 409 of
// -reject-new), the notice an open page shows the moment its session ends,
// "Your sessions", the operators' page with a user's sessions
// and an action's result, and the problem pages (403, 400, 404). On each
// page, load checks that nothing scrolls sideways and no pill breaks
// (browser.fits). With DOCS_DIR set, the README's screenshots are written
// there at both widths:
//
//	cd examples && DOCS_DIR=$PWD/../docs go test -run TestE2EPagesFit ./basic

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// uaAndroid is the User-Agent of a phone the pages list.
const uaAndroid = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36"

func TestE2EPagesFit(t *testing.T) {
	chromium(t)
	for _, width := range []int64{360, 390, 1280} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			pagesAtWidth(t, width)
		})
	}
}

func pagesAtWidth(t *testing.T, width int64) {
	app := startApp(t, "-max-sessions", "3")
	sh := newShots(t)
	open := func(name string, opts ...chromedp.ExecAllocatorOption) *browser {
		b := newBrowser(t, name, sh, opts...)
		b.setWidth(width)
		return b
	}

	// A new visitor: the home page, the login page, a wrong password.
	visitor := open("visitor")
	visitor.open(app.URL + "/")
	assert.Equal(t, "Not signed in", visitor.text("#who"))
	visitor.open(app.URL + "/login")
	assert.Contains(t, visitor.text("#accounts"), "single_session.logout_all")
	visitor.shot("login")
	visitor.signIn(app.URL, "alice", "wrong")
	assert.Equal(t, 401, visitor.status())
	assert.Equal(t, "Wrong username or password.", visitor.text("#error"))
	assert.Equal(t, "box", eval[string](visitor, `getComputedStyle(document.querySelector("#error")).borderStyle === "solid" ? "box" : "text"`),
		"the error is a box, as every notice is")
	visitor.shot("bad-password")

	// alice on a laptop (this browser), a Mac and a phone.
	alice := open("alice", chromedp.UserAgent(uaDesktopChrome))
	mac := open("alice's Mac", chromedp.UserAgent(uaFirefoxMac))
	phone := open("alice's phone", chromedp.UserAgent(uaIPhone))
	mac.signIn(app.URL, "alice", "alice")
	phone.signIn(app.URL, "alice", "alice")
	alice.signIn(app.URL, "alice", "alice")
	require.Equal(t, "alice", alice.user())
	assert.Equal(t, "Sign out everywhere", alice.text("#logout"))
	alice.docsShot("home")
	alice.shot("home")

	alice.click("open Your sessions", "#sessions-link")
	assert.Equal(t, 3, alice.count("li.session"))
	assert.Contains(t, alice.text("li.session[data-current]"), "Chrome 156 on Linux")
	assert.Regexp(t, `Signed in \d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC · last seen just now`, alice.text("li.session[data-current] .meta:last-child"))
	alice.docsShot("sessions")
	alice.shot("sessions")

	// A fourth browser signs alice in: the least recently used, the Mac,
	// is signed out. Its open home page says why at once (the live notice),
	// and so does its login page.
	mac.open(app.URL + "/")
	mac.waitUntil("the clock ticks", `/UTC$/.test(document.getElementById("clock-time").textContent)`, 5*time.Second)
	open("alice's tablet", chromedp.UserAgent(uaAndroid)).signIn(app.URL, "alice", "alice")
	mac.waitUntil("the live notice", hasJS(`#ended[data-reason="login"]`)+` && `+hasJS(`#clock[data-stopped="login"]`), liveWithin)
	assert.Contains(t, mac.text("#ended"), "Signed in on Chrome 156 on Android, just now.")
	mac.fits("the live notice")
	mac.docsShot("live")
	mac.shot("live")
	mac.open(app.URL + "/login")
	require.True(t, mac.has(`#ended[data-reason="login"]`), "the Mac's login page says why")
	assert.Contains(t, mac.text("#ended"), "Signed in on Chrome 156 on Android, just now.")
	assert.Regexp(t, `\(\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC\)`, mac.text("#ended"))
	mac.docsShot("reason")
	mac.shot("reason")

	// A page that is not alice's, and a link that is not the site's.
	alice.open(app.URL + "/admin/sessions")
	assert.Equal(t, 403, alice.status())
	assert.Equal(t, "Operators only", alice.text("h1"))
	alice.docsShot("forbidden")
	alice.shot("forbidden")
	alice.open(app.URL + "/sessions?cursor=nope")
	assert.Equal(t, 400, alice.status())
	assert.Equal(t, "No such page", alice.text("h1"))
	alice.shot("bad-cursor")
	alice.load("end a session that is gone", chromedp.Evaluate[chromedp.Void](`(() => {
		const f = document.createElement("form");
		f.method = "post";
		f.action = "/sessions/end";
		f.innerHTML = '<input type="hidden" name="id" value="AAAAAAAAAAAA">';
		document.body.append(f);
		f.submit();
	})()`))
	assert.Equal(t, 404, alice.status())
	assert.Equal(t, "No such session", alice.text("h1"))
	alice.shot("no-such-session")

	// sam, an operator, opens bob's sessions (bob on a phone and a Mac) and
	// ticks alice and root: the operators' page as the README shows it.
	bobPhone := open("bob's phone", chromedp.UserAgent(uaIPhone))
	bobPhone.signIn(app.URL, "bob", "bob")
	open("bob's Mac", chromedp.UserAgent(uaFirefoxMac)).signIn(app.URL, "bob", "bob")
	open("root", chromedp.UserAgent(uaDesktopChrome)).signIn(app.URL, "root", "root")
	sam := open("sam", chromedp.UserAgent(uaDesktopChrome))
	sam.signIn(app.URL, "sam", "sam")
	sam.openAdmin(app.URL)
	sam.load("open bob's sessions", chromedp.Click(chromedp.CSS(`tr:has(input[name="user"][value="bob"]) a`)))
	assert.Equal(t, 2, sam.count("section.sessions tbody tr"))
	assert.Contains(t, sam.text("section.sessions"), "Safari 17 on iOS", "the application's names for devices")
	sam.tick("alice", "root")
	sam.docsShot("admin")
	sam.shot("admin")
	sam.runAction("logout")
	assert.Equal(t, []string{"Sign alice and root out everywhere? Every session of theirs ends; admin users are skipped."}, sam.takeDialogs())
	assert.Contains(t, sam.text(".result"), "1 user signed out, 3 sessions ended, 1 user skipped.")
	sam.shot("admin-result")

	// bob ends his other session from his phone, then signs this one out.
	bobPhone.open(app.URL + "/sessions")
	bobPhone.click("end bob's Mac session", "li.session:not([data-current]) button")
	assert.Equal(t, "The session ended: that browser is signed out.", bobPhone.text("#flash"))
	bobPhone.click("sign this browser out", "li.session[data-current] button")
	assert.Equal(t, "You signed this browser out.", bobPhone.text("#flash"))
	bobPhone.shot("signed-out-here")

	// -reject-new: a second browser of alice is refused, with the form and
	// the reason in a box.
	strict := startApp(t, "-reject-new")
	open("alice, first", chromedp.UserAgent(uaDesktopChrome)).signIn(strict.URL, "alice", "alice")
	second := open("alice, second", chromedp.UserAgent(uaIPhone))
	second.signIn(strict.URL, "alice", "alice")
	assert.Equal(t, 409, second.status())
	assert.Contains(t, second.text("#error"), "You are already signed in on another browser")
	assert.Equal(t, "box", eval[string](second, `getComputedStyle(document.querySelector("#error")).borderStyle === "solid" ? "box" : "text"`))
	second.shot("refused")
}
