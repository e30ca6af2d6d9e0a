package main

// Live endings in a real browser, across two instances that share one store
// (one memory store in this process, then PostgreSQL): an open tab says
// that its session ended the moment it ends elsewhere, without a reload; the
// home page's clock stops; "Your sessions" updates its list; the operators'
// page goes to the login page, which says why. Helpers and screenshots as in
// e2e_test.go; the HTTP side is in live_test.go.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// liveWithin is how soon an open tab must show that its session ended.
const liveWithin = 2 * time.Second

// mark marks the page b shows; marked tells whether b still shows it, that
// is, whether nothing navigated since.
func (b *browser) mark() {
	b.t.Helper()
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.liveMark = "the same page"`))
}

func (b *browser) marked() bool {
	b.t.Helper()
	return eval[bool](b, `window.liveMark === "the same page"`)
}

// waitUntil evaluates the JavaScript expression cond on b's page every 20
// ms, through navigations, until it is true, and returns when it was; it
// fails t when cond is still false after within.
func (b *browser) waitUntil(what, cond string, within time.Duration) time.Time {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 500*time.Millisecond)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+cond+`); } catch (e) { return false; } })()`))
		cancel()
		now := time.Now()
		if err == nil && ok {
			return now
		}
		if now.After(deadline) {
			require.FailNow(b.t, b.name+": "+what+": not within "+within.String(), "last error: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// has is the JavaScript test for an element matching sel.
func hasJS(sel string) string { return `document.querySelector(` + strconv.Quote(sel) + `) !== null` }

func TestE2ELiveEndings(t *testing.T) {
	chromium(t)
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			one, two := twoInstances(t, store, "-max-sessions", "3")
			liveFlow(t, newShots(t), one.URL, two.URL)
		})
	}
}

// liveFlow: alice holds three sessions (a laptop and a phone on instance
// one, a Mac on instance two); her laptop shows the home page with its
// clock, her phone "Your sessions". A tablet signs her in on instance two:
// the laptop, least recently used, is signed out, and its open page says so
// within liveWithin, without a reload, its clock stopped; the phone's list
// drops the laptop and shows the tablet. Then tess, on instance two, signs
// sam out everywhere: sam's operators' page, open on instance one, goes to
// the login page, which says an operator signed him out.
func liveFlow(t *testing.T, sh *shots, one, two string) {
	laptop := newBrowser(t, "alice's laptop", sh, chromedp.UserAgent(uaDesktopChrome))
	mac := newBrowser(t, "alice's Mac", sh, chromedp.UserAgent(uaFirefoxMac))
	phone := newBrowser(t, "alice's phone", sh, chromedp.UserAgent(uaIPhone))
	tablet := newBrowser(t, "alice's tablet", sh, chromedp.UserAgent(uaAndroid))

	laptop.signIn(one, "alice", "alice")
	mac.signIn(two, "alice", "alice")
	phone.signIn(one, "alice", "alice")
	require.Equal(t, "alice", laptop.user())
	laptop.waitUntil("the clock ticks", `/^\d\d:\d\d:\d\d UTC$/.test(document.getElementById("clock-time").textContent)`, 5*time.Second)
	phone.click("open Your sessions", "#sessions-link")
	require.Equal(t, 3, phone.count("li.session"))
	require.Contains(t, phone.text("#sessions"), "Chrome 156 on Linux", "the laptop")
	laptop.mark()
	phone.mark()
	laptop.shot("home")

	// The tablet signs alice in on instance two.
	tablet.open(two + "/login")
	notice := make(chan time.Time, 1)
	go func() { notice <- laptop.waitUntil("the notice", hasJS(`#ended[data-reason="login"]`), 2*liveWithin) }()
	start := time.Now()
	tablet.load("sign in as alice", chromedp.Steps(
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "alice"),
		chromedp.Click(chromedp.ID("submit")),
	))
	require.Equal(t, "alice", tablet.user())
	shown := <-notice
	t.Logf("%s: the laptop's tab showed the notice %v after the tablet's click", t.Name(), shown.Sub(start).Round(time.Millisecond))
	assert.Less(t, shown.Sub(start), liveWithin, "the notice within %v", liveWithin)

	assert.True(t, laptop.marked(), "the laptop's tab was not navigated")
	assert.Equal(t, "/", eval[string](laptop, `location.pathname`))
	assert.Contains(t, laptop.text("#ended"), "You signed in on another browser, so this one was signed out.")
	assert.Contains(t, laptop.text("#ended"), "Signed in on Chrome 156 on Android, just now.")
	assert.Contains(t, laptop.text("#ended"), "the least recently used", "-max-sessions 3")
	assert.Equal(t, "", laptop.user(), "the page no longer says who is signed in")
	assert.Equal(t, "Not signed in", laptop.text("#who"))
	assert.Zero(t, laptop.count("form"), "no form left that acts for alice")
	assert.Equal(t, "Sign in again", laptop.text("#sign-in-again"))
	laptop.waitUntil("the clock stops", hasJS(`#clock[data-stopped="login"]`), liveWithin)
	assert.Equal(t, "Stopped: the session ended, as you signed in on another browser.", laptop.text("#clock"))
	time.Sleep(1200 * time.Millisecond)
	assert.Equal(t, "Stopped: the session ended, as you signed in on another browser.", laptop.text("#clock"), "it ticks no more")
	laptop.fits("the notice")
	laptop.shot("live-notice")

	// The phone's list, live: the laptop gone, the tablet there.
	phone.waitUntil("the list drops the laptop", `document.querySelectorAll("li.session").length === 3 && !document.getElementById("sessions").textContent.includes("Chrome 156 on Linux")`, liveWithin)
	assert.Contains(t, phone.text("#sessions"), "Chrome 156 on Android")
	assert.Contains(t, phone.text("#sessions"), "Firefox")
	assert.True(t, phone.marked(), "the phone's tab was not navigated")
	assert.Equal(t, "alice", phone.user())
	phone.shot("sessions-live")

	// The laptop signs in again from the page it turned into.
	laptop.click("sign in again", "#sign-in-again")
	assert.Equal(t, "login", laptop.attr("data-page"))
	assert.True(t, laptop.has(`#ended[data-reason="login"]`), "the login page says why too")

	// sam's operators' page, on instance one, when tess signs him out
	// everywhere from instance two.
	sam := newBrowser(t, "sam", sh, chromedp.UserAgent(uaDesktopChrome))
	sam.signIn(one, "sam", "sam")
	sam.openAdmin(one)
	tess := newBrowser(t, "tess", sh, chromedp.UserAgent(uaFirefoxMac))
	tess.signIn(two, "tess", "tess")
	tess.openAdmin(two)
	tess.tick("sam")
	start = time.Now()
	tess.runAction("logout_all")
	shown = sam.waitUntil("the operators' page goes to the login page", `location.pathname === "/login" && `+hasJS(`#ended[data-reason="admin"]`), liveWithin)
	t.Logf("%s: sam's operators' page showed the login page's notice %v after tess's action", t.Name(), shown.Sub(start).Round(time.Millisecond))
	assert.Contains(t, sam.text("#ended"), "An operator signed you out.")
	assert.Equal(t, "", sam.user())
	sam.shot("admin-signed-out")
}

// streamCounter serves the application it holds (which a test may swap,
// as a restart would) and counts the streams open at each path.
type streamCounter struct {
	mu   sync.Mutex
	h    http.Handler
	open map[string]int
}

func (s *streamCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	stream := streamPaths[r.URL.Path]
	if stream {
		s.open[r.URL.Path]++
	}
	s.mu.Unlock()
	if stream {
		defer func() {
			s.mu.Lock()
			s.open[r.URL.Path]--
			s.mu.Unlock()
		}()
	}
	h.ServeHTTP(w, r)
}

// waitOpen waits until the streams open at /clock and /session/events are
// clock and events.
func (s *streamCounter) waitOpen(t *testing.T, what string, clock, events int) {
	t.Helper()
	var got [2]int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		s.mu.Lock()
		got = [2]int{s.open["/clock"], s.open["/session/events"]}
		s.mu.Unlock()
		if got == [2]int{clock, events} {
			return
		}
	}
	assert.Equal(t, [2]int{clock, events}, got, "%s: the streams open at /clock and /session/events", what)
}

// A tab holds one stream: the home page its clock, another page the
// events. A page that was about to be left but stayed (its beforeunload
// fired, no navigation followed) still shows its ending, a little later;
// the operators' page too. After a restart that forgot every session (a
// memory store), the home page (its clock answers 401) and "Your sessions"
// (the events answer 204) say that the browser was signed out.
func TestE2ELiveOneStreamATab(t *testing.T) {
	chromium(t)
	sh := newShots(t)
	newHandler := func() http.Handler {
		logs := &syncBuffer{}
		h, release, err := newApp(context.Background(), flagsConfig(t, logs))
		require.NoError(t, err)
		t.Cleanup(release)
		return h
	}
	sc := &streamCounter{h: newHandler(), open: map[string]int{}}
	srv := httptest.NewServer(sc)
	t.Cleanup(srv.Close)

	alice := newBrowser(t, "alice", sh)
	alice.signIn(srv.URL, "alice", "alice")
	alice.waitUntil("the clock ticks", `/UTC$/.test(document.getElementById("clock-time").textContent)`, 5*time.Second)
	sc.waitOpen(t, "the home page", 1, 0)
	alice.load("open Your sessions", chromedp.Click(chromedp.ID("sessions-link")))
	sc.waitOpen(t, "Your sessions", 0, 1)
	sam := newBrowser(t, "sam", sh)
	sam.signIn(srv.URL, "sam", "sam")
	sam.openAdmin(srv.URL)
	sc.waitOpen(t, "Your sessions and the operators' page", 0, 2)

	// Both pages are "being left", and stay: their endings come late, not
	// never.
	for _, b := range []*browser{alice, sam} {
		b.do("fire beforeunload", chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new Event("beforeunload"))`))
		b.mark()
	}
	newClient(t, "alice elsewhere", srv.URL).login("alice")
	tess := newClient(t, "tess", srv.URL)
	tess.login("tess")
	res, _ := tess.do("POST", "/admin/sessions/logout", url.Values{"action": {"logout_all"}, "user": {"sam"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	alice.waitUntil("the notice, after the wait", hasJS(`#ended[data-reason="login"]`), 3*time.Second+2*liveWithin)
	assert.True(t, alice.marked(), "alice's tab was not navigated")
	sam.waitUntil("the login page, after the wait", `location.pathname === "/login" && `+hasJS(`#ended[data-reason="admin"]`), 3*time.Second+2*liveWithin)

	// A restart forgets every session.
	alice.signIn(srv.URL, "alice", "alice")
	alice.waitUntil("the clock ticks", `/UTC$/.test(document.getElementById("clock-time").textContent)`, 5*time.Second)
	bob := newBrowser(t, "bob", sh)
	bob.signIn(srv.URL, "bob", "bob")
	bob.load("open Your sessions", chromedp.Click(chromedp.ID("sessions-link")))
	sc.waitOpen(t, "a home page and Your sessions", 1, 1)
	alice.mark()
	bob.mark()
	fresh := newHandler()
	sc.mu.Lock()
	sc.h = fresh
	sc.mu.Unlock()
	srv.CloseClientConnections()
	// EventSource reconnects after its retry time (Chromium: a few seconds).
	for _, b := range []*browser{alice, bob} {
		b.waitUntil("the notice after the restart", hasJS(`#ended[data-reason=""]`), 15*time.Second)
		assert.True(t, b.marked(), "%s: the tab was not navigated", b.name)
		assert.Contains(t, b.text("#ended"), "This browser was signed out.")
		assert.Equal(t, "", b.user())
	}
	assert.Equal(t, "Stopped: this browser is not signed in.", alice.text("#clock"))
}
