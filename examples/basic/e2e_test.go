package main

// End-to-end tests in a real browser: headless Chromium driven by chromedp.
// Each browser is a Chromium process of its own with its own profile, so two
// browsers share no cookie. Screenshots of the key pages go to
// testdata/screenshots/<TestName>/ (not committed).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	stepTimeout    = 30 * time.Second // one browser step: a page load, a click
	browserTimeout = 5 * time.Minute  // the whole life of one browser
)

// chromium returns the path of the browser: $CHROMIUM_PATH when set, else
// Chromium found on PATH or in /usr/bin. When there is none the test fails
// under CI=true and is skipped otherwise.
func chromium(t *testing.T) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser", "/usr/bin/chromium"}
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		names = []string{p}
	}
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const how = "install it with apt-get install chromium, or run ./scripts/test.sh, which does"
	if os.Getenv("CI") == "true" {
		t.Fatalf("Chromium not found (CI=true makes this a failure): %s", how)
	}
	t.Skipf("Chromium not found, end-to-end test skipped: %s", how)
	return ""
}

// shots saves the screenshots of one test, numbered in the order taken.
type shots struct {
	t   *testing.T
	dir string
	mu  sync.Mutex
	n   int
}

func newShots(t *testing.T) *shots {
	dir := filepath.Join("testdata", "screenshots", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return &shots{t: t, dir: dir}
}

func (s *shots) save(name string, png []byte) {
	s.mu.Lock()
	s.n++
	file := filepath.Join(s.dir, fmt.Sprintf("%02d-%s.png", s.n, name))
	s.mu.Unlock()
	require.NoError(s.t, os.WriteFile(file, png, 0o644))
}

// browser is one headless Chromium with a tab.
type browser struct {
	t     *testing.T
	name  string
	ctx   context.Context
	shots *shots

	width int64 // the window's width set by setWidth; 0 for the default

	mu      sync.Mutex
	dialogs []string // the questions the pages asked (confirm), in order
	decline bool     // answer the next questions "Cancel"
}

func newBrowser(t *testing.T, name string, sh *shots, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 760),
	)
	opts = append(opts, extra...)
	life, cancelLife := context.WithTimeout(context.Background(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelLife()
	})
	// The first Do starts the browser and ties it to ctx, so it gets no
	// step timeout of its own: browserTimeout bounds it.
	require.NoError(t, chromedp.Do(ctx), "%s: start Chromium", name)
	b := &browser{t: t, name: name, ctx: ctx, shots: sh}
	b.answerDialogs()
	return b
}

// answerDialogs answers every question a page asks (confirm()), "OK"
// unless decline is set, and keeps the questions for dialogs.
func (b *browser) answerDialogs() {
	events := chromedp.Events(b.ctx, cdppage.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			accept := !b.decline
			b.mu.Unlock()
			if _, err := chromedp.Call(b.ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: accept}); err != nil {
				return
			}
		}
	}()
}

// takeDialogs returns the questions the pages asked since the last call,
// waiting a little for one to come when none has.
func (b *browser) takeDialogs() []string {
	b.t.Helper()
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b.mu.Lock()
		d := b.dialogs
		b.dialogs = nil
		b.mu.Unlock()
		if d != nil || time.Now().After(deadline) {
			return d
		}
	}
}

// declineDialogs makes the browser answer "Cancel" (on) or "OK" (off).
func (b *browser) declineDialogs(on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.decline = on
}

// do runs steps within stepTimeout.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, steps...), "%s: %s", b.name, what)
}

// load runs a step that loads a page, then waits until the new page has
// loaded. The current page is marked first so the wait cannot mistake it for
// the new one. It works for any page, the library's admin page included.
func (b *browser) load(what string, step chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.do(what,
		chromedp.Evaluate[chromedp.Void](`document.body && document.body.setAttribute("data-stale", "")`),
		step,
		chromedp.WaitReady(chromedp.CSS(`body:not([data-stale])`)),
		chromedp.Poll[chromedp.Void](`document.readyState === "complete"`, chromedp.WithPollingTimeout(stepTimeout)),
	)
	b.fits(what)
}

// fitsJS finds what makes a page wider than the window: the page itself
// scrolling sideways, a box inside it that scrolls sideways (a table in an
// overflow container), or a pill ("this browser", "admin") broken over two
// lines. It returns one line for each, or none.
const fitsJS = `(() => {
	const problems = [];
	const page = document.documentElement;
	if (page.scrollWidth > window.innerWidth) {
		problems.push("the page is " + page.scrollWidth + " px wide in a window of " + window.innerWidth);
	}
	for (const e of document.body ? document.body.querySelectorAll("*") : []) {
		const x = getComputedStyle(e).overflowX;
		if ((x === "auto" || x === "scroll") && e.scrollWidth > e.clientWidth + 1) {
			problems.push(e.tagName.toLowerCase() + "." + e.className + " scrolls sideways: " + e.scrollWidth + " px in " + e.clientWidth);
		}
	}
	for (const e of document.querySelectorAll(".tag")) {
		if (e.getClientRects().length > 1) {
			problems.push("the pill " + JSON.stringify(e.textContent) + " breaks over " + e.getClientRects().length + " lines");
		}
	}
	return problems;
})()`

// fits checks that the page b shows fits its window: nothing scrolls
// sideways and no pill breaks, at whatever width b has (setWidth).
func (b *browser) fits(what string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fitsJS))
	require.NoError(b.t, err, "%s: measure the page after %s", b.name, what)
	assert.Empty(b.t, problems, "%s: the page after %s does not fit its window", b.name, what)
}

// setWidth makes b's window width px wide (390: a phone; 1280: a laptop),
// for every page it loads from now on.
func (b *browser) setWidth(width int64) {
	b.t.Helper()
	b.do(fmt.Sprint("set the width to ", width), chromedp.EmulateViewport(width, 900))
	b.width = width
}

func (b *browser) open(url string) { b.t.Helper(); b.load("open "+url, chromedp.Navigate(url)) }
func (b *browser) reload()         { b.t.Helper(); b.load("reload", chromedp.Reload()) }

// attr returns an attribute of the page's body.
func (b *browser) attr(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("body"), name))
	require.NoError(b.t, err, "%s: read body[%s]", b.name, name)
	return v.Value
}

// user returns who the page says is signed in ("" for nobody).
func (b *browser) user() string { b.t.Helper(); return b.attr("data-user") }

// text returns the visible text of the first element that sel matches.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(b.t, err, "%s: text of %s", b.name, sel)
	return strings.TrimSpace(s)
}

// shot saves a screenshot of the whole page.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err, "%s: screenshot", b.name)
	b.shots.save(b.name+"-"+name, png)
}

// signIn fills the login form of the instance at base and submits it.
func (b *browser) signIn(base, user, password string) {
	b.t.Helper()
	b.open(base + "/login")
	b.load("sign in as "+user, chromedp.Steps(
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("submit")),
	))
}

// signOut presses the sign-out button of the current page.
func (b *browser) signOut() {
	b.t.Helper()
	b.load("sign out", chromedp.Click(chromedp.ID("logout")))
}

// oneSessionFlow is the flow: A signs in as alice, B signs in as
// alice, A's reload shows it is signed out; B signs out, A and B are both
// anonymous. A uses the instance at urlA, B the one at urlB.
func oneSessionFlow(t *testing.T, sh *shots, urlA, urlB string) {
	a := newBrowser(t, "A", sh)
	b := newBrowser(t, "B", sh)

	a.signIn(urlA, "alice", "alice")
	require.Equal(t, "home", a.attr("data-page"))
	assert.Equal(t, "alice", a.user())
	assert.Contains(t, a.text("#who"), "Signed in as alice")
	a.shot("alice-home")

	if urlA != urlB {
		// The instances are one application: A's session works on both.
		a.open(urlB + "/")
		assert.Equal(t, "alice", a.user(), "A's session on the other instance")
		a.shot("alice-other-instance")
		a.open(urlA + "/")
	}

	b.signIn(urlB, "alice", "alice")
	assert.Equal(t, "alice", b.user())
	b.shot("alice-home")

	a.reload()
	assert.Equal(t, "", a.user(), "B's login signed A out")
	assert.Equal(t, "Not signed in", a.text("#who"))
	a.shot("signed-out-by-B")

	b.signOut()
	assert.Equal(t, "login", b.attr("data-page"), "sign-out leads to the login page")
	assert.Equal(t, "", b.user())
	b.shot("signed-out")

	a.reload()
	assert.Equal(t, "", a.user())
	b.open(urlB + "/")
	assert.Equal(t, "", b.user())
	assert.Equal(t, "Not signed in", b.text("#who"))
}

func TestE2EOneSessionPerUser(t *testing.T) {
	chromium(t)
	app := startApp(t)
	sh := newShots(t)

	// The login page, then bad credentials: the form comes back with an error.
	c := newBrowser(t, "C", sh)
	c.open(app.URL + "/login")
	assert.Contains(t, c.text("#accounts"), "tess")
	c.shot("login")
	c.signIn(app.URL, "alice", "wrong")
	assert.Equal(t, "login", c.attr("data-page"))
	assert.Equal(t, "Wrong username or password.", c.text("#error"))
	assert.Equal(t, "", c.user())
	c.shot("bad-password")

	oneSessionFlow(t, sh, app.URL, app.URL)
}

func TestE2ETwoInstancesPostgres(t *testing.T) {
	chromium(t)
	dsn := schemaDSN(t)
	one := startApp(t, "-dsn", dsn)
	two := startApp(t, "-dsn", dsn)
	oneSessionFlow(t, newShots(t), one.URL, two.URL)
}
