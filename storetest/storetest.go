// Package storetest is the conformance suite of [singlesession.Store]: the
// behaviour tests that every store of singlesession passes, driven through a
// [singlesession.Manager] served by httptest, with browsers that are HTTP
// clients with cookie jars of their own. [singlesession.MemoryStore],
// [singlesession.PostgresStore] and the redisstore module run it; run it from
// the tests of a store of your own:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) singlesession.Store { return newEmptyStore(t) })
//	}
//
// Use [RunBackend] to also test two instances of the store on one backend
// (two pools, two clients) and what the backend leaves behind.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// Backend is one empty backend under test.
type Backend struct {
	// Store is the store under test. It must be empty.
	Store singlesession.Store

	// Second is another instance of the store over the same data (another
	// pool, another client), for the tests that run two application
	// instances. nil means Store again.
	Second singlesession.Store

	// Residue, when set, returns how many links (or index entries) and
	// recorded endings the backend holds, expired ones included, so that the
	// test of DeleteExpired can check that nothing is left behind.
	Residue func(t testing.TB) int
}

// Run runs the suite on the stores that newStore returns: each call must
// return a store over an empty backend of its own. The subtests run in
// parallel.
func Run(t *testing.T, newStore func(t *testing.T) singlesession.Store) {
	RunBackend(t, func(t *testing.T) Backend { return Backend{Store: newStore(t)} })
}

// RunBackend runs the suite on the backends that newBackend returns, one
// empty backend per subtest. The subtests run in parallel.
func RunBackend(t *testing.T, newBackend func(t *testing.T) Backend) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			if b.Second == nil {
				b.Second = b.Store
			}
			c.run(t, &b)
		})
	}
}

var cases = []struct {
	name string
	run  func(t *testing.T, b *Backend)
}{
	{"LoginEndsOthers", testLoginEndsOthers},
	{"NeverKeepsOthers", testNeverKeepsOthers},
	{"LogoutEndsAll", testLogoutEndsAll},
	{"ReLogin", testReLogin},
	{"SwitchUser", testSwitchUser},
	{"NoResurrection", testNoResurrection},
	{"ConcurrentLoginsTwoInstances", testConcurrentLogins},
	{"ConcurrentRejectNew", testConcurrentRejectNew},
	{"LeastRecentlyUsed", testLeastRecentlyUsed},
	{"Reasons", testReasons},
	{"EndSession", testEndSession},
	{"EndOtherSessions", testEndOtherSessions},
	{"Sessions", testSessions},
	{"CountSessions", testCountSessions},
	{"EndManyUsers", testEndManyUsers},
	{"DeleteExpired", testDeleteExpired},
	{"Untracked", testUntracked},
	{"IterateAndAll", testIterateAndAll},
	{"EveryPairOfChanges", testEveryPairOfChanges},
}

// --- the application and its browsers ---------------------------------------

type app struct {
	t        testing.TB
	sessions *scs.SessionManager
	store    singlesession.Store
	m        *singlesession.Manager
	srv      *httptest.Server
	errors   atomic.Int32 // ErrorFunc calls, refusals excepted
	entered  chan struct{}
	release  chan struct{}
}

type setup struct {
	cfg      singlesession.Config
	sessions func(*scs.SessionManager)
}

type option func(*setup)

func withPolicy(p singlesession.Policy) option { return func(s *setup) { s.cfg.Policy = p } }

func withLimit(l singlesession.Limit) option {
	return func(s *setup) {
		s.cfg.Limit = func(context.Context, string) singlesession.Limit { return l }
	}
}

func withSessions(f func(*scs.SessionManager)) option { return func(s *setup) { s.sessions = f } }

func withLastSeenInterval(d time.Duration) option {
	return func(s *setup) { s.cfg.LastSeenInterval = d }
}

func newApp(t testing.TB, store singlesession.Store, opts ...option) *app {
	t.Helper()
	a := &app{t: t, store: store, entered: make(chan struct{}, 64), release: make(chan struct{})}
	s := &setup{}
	s.cfg.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		if errors.Is(err, singlesession.ErrTooManySessions) {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		a.errors.Add(1)
		t.Logf("ErrorFunc: %v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
	for _, o := range opts {
		o(s)
	}
	a.sessions = scs.New()
	if s.sessions != nil {
		s.sessions(a.sessions)
	}
	m, err := singlesession.New(a.sessions, store, s.cfg)
	require.NoError(t, err)
	a.m = m
	a.srv = httptest.NewServer(m.Middleware(a.routes()))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.LoginHook(r.Context(), r.FormValue("user")); err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, singlesession.ErrTooManySessions) {
				code = http.StatusConflict
			}
			http.Error(w, err.Error(), code)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /login-limit", func(w http.ResponseWriter, r *http.Request) {
		max, _ := strconv.Atoi(r.FormValue("max"))
		limit := singlesession.Limit{Max: max, RejectNew: r.FormValue("reject") == "true"}
		if err := a.m.LoginHook(context.WithValue(r.Context(), limitKey{}, limit), r.FormValue("user")); err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, singlesession.ErrTooManySessions) {
				code = http.StatusConflict
			}
			http.Error(w, err.Error(), code)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /merge", func(w http.ResponseWriter, r *http.Request) {
		if err := a.sessions.MergeSession(r.Context(), r.FormValue("token")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.LogoutHook(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, a.m.UserID(r.Context()))
	})
	mux.HandleFunc("GET /ended", func(w http.ResponseWriter, r *http.Request) {
		if e, ok := a.m.Ended(r.Context()); ok {
			io.WriteString(w, string(e.Reason))
		}
	})
	mux.HandleFunc("POST /put", func(w http.ResponseWriter, r *http.Request) {
		a.sessions.Put(r.Context(), r.FormValue("key"), r.FormValue("val"))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, a.sessions.GetString(r.Context(), r.FormValue("key")))
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		a.entered <- struct{}{}
		<-a.release
		io.WriteString(w, "done")
	})
	mux.HandleFunc("POST /slow-put", func(w http.ResponseWriter, r *http.Request) {
		a.entered <- struct{}{}
		<-a.release
		a.sessions.Put(r.Context(), r.FormValue("key"), r.FormValue("val"))
		io.WriteString(w, "done")
	})
	mux.HandleFunc("GET /sessions", func(w http.ResponseWriter, r *http.Request) {
		list, err := a.m.Sessions(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for _, s := range list {
			fmt.Fprintf(w, "%s %t %s %s\n", s.ID, s.Current, s.IP, s.UserAgent)
		}
	})
	mux.HandleFunc("POST /end-session", func(w http.ResponseWriter, r *http.Request) {
		err := a.m.EndSession(r.Context(), r.FormValue("id"))
		switch {
		case errors.Is(err, singlesession.ErrSessionNotFound):
			http.Error(w, err.Error(), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("POST /end-others", func(w http.ResponseWriter, r *http.Request) {
		n, err := a.m.EndOtherSessions(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, n)
	})
	mux.HandleFunc("POST /iterate", func(w http.ResponseWriter, r *http.Request) {
		err := a.sessions.Iterate(r.Context(), func(ctx context.Context) error {
			a.sessions.Put(ctx, "seen", "yes")
			_, _, err := a.sessions.Commit(ctx)
			return err
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// hashToken is scs's HashTokenInStore: what the store sees of token.
func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// storeToken is what the store sees of a cookie value.
func (a *app) storeToken(cookie string) string {
	if !a.sessions.HashTokenInStore {
		return cookie
	}
	return hashToken(cookie)
}

type browser struct {
	t    testing.TB
	a    *app
	c    *http.Client
	name string
}

func (a *app) browser(name string) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(a.t, err)
	return &browser{t: a.t, a: a, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}, name: name}
}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.a.srv.URL+path, body)
	require.NoError(b.t, err)
	req.Header.Set("User-Agent", "storetest/"+b.name)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return res, string(text)
}

func (b *browser) login(user string) int {
	b.t.Helper()
	res, _ := b.do("POST", "/login", url.Values{"user": {user}})
	return res.StatusCode
}

func (b *browser) mustLogin(user string) {
	b.t.Helper()
	require.Equal(b.t, http.StatusNoContent, b.login(user), "%s: login as %q", b.name, user)
}

func (b *browser) mustLogout() {
	b.t.Helper()
	res, body := b.do("POST", "/logout", url.Values{})
	require.Equal(b.t, http.StatusNoContent, res.StatusCode, "%s: logout: %s", b.name, body)
}

func (b *browser) whoami() string {
	b.t.Helper()
	res, body := b.do("GET", "/whoami", nil)
	require.Equal(b.t, http.StatusOK, res.StatusCode, "%s: whoami: %s", b.name, body)
	return body
}

func (b *browser) ended() string {
	b.t.Helper()
	_, body := b.do("GET", "/ended", nil)
	return body
}

func (b *browser) put(key, val string) {
	b.t.Helper()
	res, body := b.do("POST", "/put", url.Values{"key": {key}, "val": {val}})
	require.Equal(b.t, http.StatusNoContent, res.StatusCode, "%s: put: %s", b.name, body)
}

func (b *browser) get(key string) string {
	b.t.Helper()
	_, body := b.do("GET", "/get?key="+url.QueryEscape(key), nil)
	return body
}

func (b *browser) cookie() string {
	u, _ := url.Parse(b.a.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == b.a.sessions.Cookie.Name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCookie(value string) {
	u, _ := url.Parse(b.a.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: b.a.sessions.Cookie.Name, Value: value, Path: "/"}})
}

// id is the SessionID of the browser's session.
func (b *browser) id() string { return singlesession.SessionID(b.a.storeToken(b.cookie())) }

// exists reports whether the store holds the browser's session, live.
func (b *browser) exists() bool {
	b.t.Helper()
	f, err := b.a.store.Find(context.Background(), b.a.storeToken(b.cookie()), time.Minute)
	require.NoError(b.t, err)
	return f.Found
}

type sessionLine struct {
	id, ip, userAgent string
	current           bool
}

func (b *browser) sessions() []sessionLine {
	b.t.Helper()
	res, body := b.do("GET", "/sessions", nil)
	require.Equal(b.t, http.StatusOK, res.StatusCode, body)
	var list []sessionLine
	for line := range strings.Lines(body) {
		f := strings.Fields(line)
		require.Len(b.t, f, 4, line)
		list = append(list, sessionLine{id: f[0], current: f[1] == "true", ip: f[2], userAgent: f[3]})
	}
	return list
}

func count(t testing.TB, s singlesession.Store, user string) int {
	t.Helper()
	list, err := s.Sessions(context.Background(), user)
	require.NoError(t, err)
	return len(list)
}

// --- the cases ---------------------------------------------------------------

// Rule 1: a login ends the user's other sessions (Always, the default).
func testLoginEndsOthers(t *testing.T, b *Backend) {
	a := newApp(t, b.Store)
	one, two := a.browser("one"), a.browser("two")
	one.put("cart", "apples")
	one.mustLogin("alice")
	assert.Equal(t, "apples", one.get("cart"), "the cart survives the login")
	two.mustLogin("alice")
	assert.Equal(t, "", one.whoami())
	assert.Equal(t, "alice", two.whoami())
	assert.False(t, one.exists())
	assert.Equal(t, 1, count(t, b.Store, "alice"))
	assert.Zero(t, a.errors.Load())
}

// Rule 2: Never keeps every session.
func testNeverKeepsOthers(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	one, two := a.browser("one"), a.browser("two")
	one.mustLogin("alice")
	two.mustLogin("alice")
	assert.Equal(t, "alice", one.whoami())
	assert.Equal(t, "alice", two.whoami())
	assert.Equal(t, 2, count(t, b.Store, "alice"))
}

// Rule 3: a logout ends every session of the user, even under Never.
func testLogoutEndsAll(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	bs := []*browser{a.browser("one"), a.browser("two"), a.browser("three")}
	for _, br := range bs {
		br.mustLogin("alice")
	}
	other := a.browser("bob")
	other.mustLogin("bob")
	bs[0].mustLogout()
	for _, br := range bs {
		assert.Equal(t, "", br.whoami(), br.name)
	}
	assert.Equal(t, 0, count(t, b.Store, "alice"))
	assert.Equal(t, "bob", other.whoami(), "another user's session stays")
	anon := a.browser("anon")
	anon.put("k", "v")
	anon.mustLogout() // an anonymous logout ends nothing else
	assert.Equal(t, "bob", other.whoami())
	assert.Zero(t, a.errors.Load())
}

// Rule 4: signing in again on a live session works and retires the old token.
func testReLogin(t *testing.T, b *Backend) {
	a := newApp(t, b.Store)
	br := a.browser("b")
	br.mustLogin("alice")
	first := br.cookie()
	br.mustLogin("alice")
	assert.NotEqual(t, first, br.cookie())
	assert.Equal(t, "alice", br.whoami())
	assert.Equal(t, 1, count(t, b.Store, "alice"))
	replay := a.browser("replay")
	replay.setCookie(first)
	assert.Equal(t, "", replay.whoami(), "the old token is retired")
	assert.Equal(t, "", replay.ended(), "a browser's own re-login records no reason")
	assert.Zero(t, a.errors.Load())
}

// Rule 5: switching user ends the first user's session on this browser only,
// and the first user's data does not carry over.
func testSwitchUser(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	br, elsewhere := a.browser("b"), a.browser("elsewhere")
	elsewhere.mustLogin("alice")
	br.mustLogin("alice")
	br.put("secret", "alice's")
	br.mustLogin("bob")
	assert.Equal(t, "bob", br.whoami())
	assert.Equal(t, "", br.get("secret"), "the first user's data does not carry over")
	assert.Equal(t, 1, count(t, b.Store, "alice"), "alice's session elsewhere stays")
	assert.Equal(t, "alice", elsewhere.whoami())
	assert.Equal(t, 1, count(t, b.Store, "bob"))
	assert.Zero(t, a.errors.Load())
}

var variants = []struct {
	name string
	opt  func(*scs.SessionManager)
	idle bool
}{
	{"plain", func(*scs.SessionManager) {}, false},
	{"idle", func(s *scs.SessionManager) { s.IdleTimeout = time.Hour }, true},
	{"hashed", func(s *scs.SessionManager) { s.HashTokenInStore = true }, false},
	{"idle+hashed", func(s *scs.SessionManager) { s.IdleTimeout = time.Hour; s.HashTokenInStore = true }, true},
}

// Rule 6: a request of a session ended while it is in flight completes, its
// write is dropped, and the session never comes back.
func testNoResurrection(t *testing.T, b *Backend) {
	enders := map[string]func(a *app, other *browser){
		"login elsewhere": func(a *app, other *browser) { other.mustLogin("alice") },
		"LogoutUser": func(a *app, other *browser) {
			_, err := a.m.LogoutUser(context.Background(), "alice")
			require.NoError(t, err)
		},
	}
	for _, v := range variants {
		for ender, end := range enders {
			for _, path := range []string{"/slow-put", "/slow"} {
				if path == "/slow" && !v.idle {
					continue // without IdleTimeout a request that writes nothing never saves
				}
				t.Run(v.name+"/"+ender+path, func(t *testing.T) {
					a := newApp(t, b.Store, withSessions(v.opt))
					A, B := a.browser("A"), a.browser("B")
					A.mustLogin("alice")
					done := make(chan int, 1)
					go func() {
						method := map[string]string{"/slow": "GET", "/slow-put": "POST"}[path]
						res, _ := A.do(method, path, url.Values{"key": {"k"}, "val": {"late"}})
						done <- res.StatusCode
					}()
					<-a.entered
					end(a, B)
					require.False(t, A.exists())
					close(a.release)
					assert.Equal(t, http.StatusOK, <-done, "the in-flight request completes")
					assert.False(t, A.exists(), "the in-flight save did not bring A back")
					assert.Equal(t, "", A.whoami())
					assert.Equal(t, "", A.get("k"))
					assert.Equal(t, 0, count(t, b.Store, "alice")-boolInt(ender == "login elsewhere"))
					assert.Zero(t, a.errors.Load())
				})
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Rule 7 and 6.1.2: many concurrent logins of one user through two
// application instances on two store instances leave exactly as many
// sessions as the limit allows, round after round.
func testConcurrentLogins(t *testing.T, b *Backend) {
	for _, max := range []int{1, 3} {
		t.Run(fmt.Sprint("max ", max), func(t *testing.T) {
			user := fmt.Sprint("alice", max)
			opts := []option{withLimit(singlesession.Limit{Max: max})}
			apps := []*app{newApp(t, b.Store, opts...), newApp(t, b.Second, opts...)}
			browsers := make([]*browser, 16)
			for i := range browsers {
				browsers[i] = apps[i%2].browser(fmt.Sprint("browser ", i))
			}
			for round := range 4 {
				var wg sync.WaitGroup
				start := make(chan struct{})
				for _, br := range browsers {
					wg.Go(func() { <-start; br.mustLogin(user) })
				}
				close(start)
				wg.Wait()
				signedIn := 0
				for _, br := range browsers {
					if br.whoami() == user {
						signedIn++
					}
				}
				assert.Equal(t, max, signedIn, "round %d: signed-in browsers", round)
				assert.Equal(t, max, count(t, b.Store, user), "round %d: sessions in the store", round)
			}
			for _, a := range apps {
				assert.Zero(t, a.errors.Load())
			}
		})
	}
}

// 6.1.1 and 6.1.2: with RejectNew, of many concurrent logins exactly Max
// succeed, and each refused one leaves nothing behind.
func testConcurrentRejectNew(t *testing.T, b *Backend) {
	const max = 3
	opts := []option{withLimit(singlesession.Limit{Max: max, RejectNew: true})}
	apps := []*app{newApp(t, b.Store, opts...), newApp(t, b.Second, opts...)}
	for round := range 3 {
		browsers := make([]*browser, 16)
		codes := make([]int, len(browsers))
		for i := range browsers {
			browsers[i] = apps[i%2].browser(fmt.Sprint("browser ", i))
			browsers[i].put("cart", "kept")
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, br := range browsers {
			wg.Go(func() { <-start; codes[i] = br.login("alice") })
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, br := range browsers {
			switch codes[i] {
			case http.StatusNoContent:
				ok++
				assert.Equal(t, "alice", br.whoami())
			case http.StatusConflict:
				assert.Equal(t, "", br.whoami(), "a refused login signs nothing in")
				assert.Equal(t, "kept", br.get("cart"), "a refused login keeps what the browser had")
			default:
				t.Errorf("round %d: %s: login answered %d", round, br.name, codes[i])
			}
		}
		assert.Equal(t, max, ok, "round %d: successful logins", round)
		assert.Equal(t, max, count(t, b.Store, "alice"), "round %d: sessions", round)
		_, err := apps[0].m.LogoutUser(context.Background(), "alice")
		require.NoError(t, err)
	}
	for _, a := range apps {
		assert.Zero(t, a.errors.Load())
	}
}

// 6.1.1: a limit ends the least recently used session: least recent LastSeen
// first, then the oldest login.
func testLeastRecentlyUsed(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withLimit(singlesession.Limit{Max: 2}), withLastSeenInterval(time.Millisecond))
	one, two, three, four := a.browser("one"), a.browser("two"), a.browser("three"), a.browser("four")
	one.mustLogin("alice")
	time.Sleep(5 * time.Millisecond)
	two.mustLogin("alice")
	time.Sleep(5 * time.Millisecond)
	assert.Equal(t, "alice", one.whoami(), "refreshes one's LastSeen")
	time.Sleep(5 * time.Millisecond)
	three.mustLogin("alice")
	assert.Equal(t, "", two.whoami(), "two was the least recently used")
	assert.Equal(t, "login", two.ended())
	assert.Equal(t, "alice", one.whoami())
	time.Sleep(5 * time.Millisecond)
	four.mustLogin("alice") // one was seen last, three signed in after that
	assert.Equal(t, "", three.whoami())
	assert.Equal(t, "alice", one.whoami())
	assert.Equal(t, "alice", four.whoami())
	assert.Equal(t, 2, count(t, b.Store, "alice"))
}

// 6.1.6: Manager.Ended tells a browser why its session ended, and nothing
// for its own logout, an expiry or an unknown token.
func testReasons(t *testing.T, b *Backend) {
	t.Run("login", func(t *testing.T) {
		a := newApp(t, b.Store)
		one, two := a.browser("one"), a.browser("two")
		one.mustLogin("alice")
		two.mustLogin("alice")
		assert.Equal(t, "login", one.ended())
		assert.Equal(t, "", two.ended())
		one.mustLogin("alice")
		assert.Equal(t, "", one.ended(), "nothing after the browser signs in again")
	})
	t.Run("logout", func(t *testing.T) {
		a := newApp(t, b.Store, withPolicy(singlesession.Never))
		one, two := a.browser("one"), a.browser("two")
		one.mustLogin("bob")
		two.mustLogin("bob")
		old := two.cookie()
		two.mustLogout()
		assert.Equal(t, "logout", one.ended())
		two.setCookie(old)
		assert.Equal(t, "", two.ended(), "the browser's own logout, even replayed")
	})
	t.Run("revoked", func(t *testing.T) {
		a := newApp(t, b.Store, withPolicy(singlesession.Never))
		one, two, three := a.browser("one"), a.browser("two"), a.browser("three")
		one.mustLogin("carol")
		two.mustLogin("carol")
		three.mustLogin("carol")
		res, _ := one.do("POST", "/end-session", url.Values{"id": {two.id()}})
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		assert.Equal(t, "revoked", two.ended())
		_, n := one.do("POST", "/end-others", url.Values{})
		assert.Equal(t, "1", n)
		assert.Equal(t, "revoked", three.ended())
	})
	t.Run("admin", func(t *testing.T) {
		a := newApp(t, b.Store)
		one := a.browser("one")
		one.mustLogin("dave")
		n, err := a.m.LogoutUser(context.Background(), "dave")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		assert.Equal(t, "admin", one.ended())
	})
	t.Run("none", func(t *testing.T) {
		a := newApp(t, b.Store, withSessions(func(s *scs.SessionManager) { s.Lifetime = time.Second }))
		unknown := a.browser("unknown")
		unknown.setCookie("Mc1t8X3u7yqI2Bnt2cO1ExFLqGqVhW2ks3pI2Jjv5dA")
		assert.Equal(t, "", unknown.ended())
		assert.Equal(t, "", a.browser("no cookie").ended())
		expiring := a.browser("expiring")
		expiring.mustLogin("erin")
		time.Sleep(1100 * time.Millisecond)
		assert.Equal(t, "", expiring.whoami())
		assert.Equal(t, "", expiring.ended(), "a plain expiry records no reason")
	})
}

// 6.1.5: EndSession ends one of the user's sessions by ID; another user's
// ID is refused with ErrSessionNotFound and ends nothing.
func testEndSession(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	alice, alice2, bob := a.browser("alice"), a.browser("alice2"), a.browser("bob")
	alice.mustLogin("alice")
	alice2.mustLogin("alice")
	bob.mustLogin("bob")
	res, _ := alice.do("POST", "/end-session", url.Values{"id": {bob.id()}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "another user's session")
	assert.Equal(t, "bob", bob.whoami())
	res, _ = alice.do("POST", "/end-session", url.Values{"id": {"nope"}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	err := a.m.EndUserSession(context.Background(), "alice", bob.id())
	assert.ErrorIs(t, err, singlesession.ErrSessionNotFound)
	assert.Equal(t, "bob", bob.whoami())
	res, _ = alice.do("POST", "/end-session", url.Values{"id": {alice2.id()}})
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Equal(t, "", alice2.whoami())
	assert.Equal(t, "alice", alice.whoami())
	res, _ = alice.do("POST", "/end-session", url.Values{"id": {alice.id()}})
	assert.Equal(t, http.StatusNoContent, res.StatusCode, "its own session")
	assert.Equal(t, "", alice.whoami())
	assert.Equal(t, "", alice.ended())
	assert.Equal(t, 0, count(t, b.Store, "alice"))
	assert.Equal(t, 1, count(t, b.Store, "bob"))
}

// 6.1.5: EndOtherSessions ends every other session of the user.
func testEndOtherSessions(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	bs := []*browser{a.browser("one"), a.browser("two"), a.browser("three")}
	for _, br := range bs {
		br.mustLogin("alice")
	}
	bob := a.browser("bob")
	bob.mustLogin("bob")
	_, n := bs[0].do("POST", "/end-others", url.Values{})
	assert.Equal(t, "2", n)
	assert.Equal(t, "alice", bs[0].whoami())
	assert.Equal(t, "", bs[1].whoami())
	assert.Equal(t, "", bs[2].whoami())
	assert.Equal(t, "bob", bob.whoami())
	_, n = a.browser("anon").do("POST", "/end-others", url.Values{})
	assert.Equal(t, "0", n)
}

// 6.1.5: the user's sessions, oldest login first, by ID (never a token), the
// request's own marked, with IP and User-Agent.
func testSessions(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never), withSessions(func(s *scs.SessionManager) { s.HashTokenInStore = true }))
	one, two := a.browser("one"), a.browser("two")
	one.mustLogin("alice")
	time.Sleep(2 * time.Millisecond)
	two.mustLogin("alice")
	list := two.sessions()
	require.Len(t, list, 2)
	assert.Equal(t, []string{one.id(), two.id()}, []string{list[0].id, list[1].id}, "oldest login first")
	assert.False(t, list[0].current)
	assert.True(t, list[1].current)
	for i, s := range list {
		br := []*browser{one, two}[i]
		assert.NotEqual(t, br.cookie(), s.id)
		assert.NotEqual(t, a.storeToken(br.cookie()), s.id)
		assert.NotContains(t, br.cookie(), s.id)
		assert.Equal(t, "127.0.0.1", s.ip)
		assert.Equal(t, "storetest/"+br.name, s.userAgent)
	}
	infos, err := b.Store.Sessions(context.Background(), "alice")
	require.NoError(t, err)
	require.Len(t, infos, 2)
	for _, s := range infos {
		assert.False(t, s.Current)
		assert.True(t, s.Expiry.After(time.Now()))
		assert.False(t, s.Created.After(s.LastSeen))
		assert.WithinDuration(t, time.Now(), s.Created, time.Minute)
	}
	assert.Empty(t, a.browser("anon").sessions())
	none, err := b.Store.Sessions(context.Background(), "nobody")
	require.NoError(t, err)
	assert.Empty(t, none)
}

// CountSessions counts each user's live sessions; users with none are absent.
func testCountSessions(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	a.browser("a1").mustLogin("alice")
	a.browser("a2").mustLogin("alice")
	a.browser("b1").mustLogin("bob")
	a.browser("anon").put("k", "v")
	counts, err := b.Store.CountSessions(context.Background(), []string{"alice", "bob", "carol", "alice"})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"alice": 2, "bob": 1}, counts)
	counts, err = b.Store.CountSessions(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, counts)
}

// End signs many users out at once, and records ReasonAdmin.
func testEndManyUsers(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	var users []string
	var browsers []*browser
	for i := range 12 {
		u := fmt.Sprint("user", i)
		users = append(users, u)
		for j := range 2 {
			br := a.browser(fmt.Sprint(u, "-", j))
			br.mustLogin(u)
			browsers = append(browsers, br)
		}
	}
	keep := a.browser("kept")
	keep.mustLogin("kept")
	counts, err := a.m.LogoutUsers(context.Background(), append(slices.Clone(users), "unknown", users[0]))
	require.NoError(t, err)
	want := map[string]int{}
	for _, u := range users {
		want[u] = 2
	}
	assert.Equal(t, want, counts)
	for _, br := range browsers {
		assert.Equal(t, "", br.whoami(), br.name)
		assert.Equal(t, "admin", br.ended(), br.name)
	}
	assert.Equal(t, "kept", keep.whoami())
}

// Rule 9 and 6.1.6: once sessions expire, DeleteExpired leaves no link,
// index entry or recorded ending behind.
func testDeleteExpired(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never), withSessions(func(s *scs.SessionManager) { s.Lifetime = time.Second }))
	for i := range 4 {
		a.browser(fmt.Sprint("a", i)).mustLogin("alice")
		a.browser(fmt.Sprint("b", i)).mustLogin("bob")
	}
	a.browser("anon").put("k", "v")
	_, err := a.m.LogoutUser(context.Background(), "bob") // endings to expire
	require.NoError(t, err)
	if b.Residue != nil {
		assert.Positive(t, b.Residue(t))
	}
	time.Sleep(1100 * time.Millisecond)
	assert.Equal(t, 0, count(t, b.Store, "alice"))
	_, err = b.Store.DeleteExpired(context.Background())
	require.NoError(t, err)
	if b.Residue != nil {
		assert.Zero(t, b.Residue(t), "links and endings left after DeleteExpired")
	}
	all, err := b.Store.All(context.Background())
	require.NoError(t, err)
	assert.Empty(t, all)
	n, err := b.Store.DeleteExpired(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "a second run finds nothing")
}

// Rule 8: sessions linked to no user are never touched by logins, logouts or
// operators.
func testUntracked(t *testing.T, b *Backend) {
	a := newApp(t, b.Store)
	anon := a.browser("anon")
	anon.put("cart", "pears")
	one, two := a.browser("one"), a.browser("two")
	one.mustLogin("alice")
	two.mustLogin("alice")
	two.mustLogout()
	_, err := a.m.LogoutUsers(context.Background(), []string{"alice", "bob"})
	require.NoError(t, err)
	_, err = b.Store.End(context.Background(), singlesession.End{UserIDs: []string{"alice"}, Reason: singlesession.ReasonAdmin})
	require.NoError(t, err)
	assert.Equal(t, "pears", anon.get("cart"))
	assert.True(t, anon.exists())
	assert.Equal(t, "", anon.whoami())
}

// scs's Iterate (and the Store's All) see every live session, and commit
// updates inside a handler without creating or signing in one.
func testIterateAndAll(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	anon, alice := a.browser("anon"), a.browser("alice")
	anon.put("k", "v")
	alice.mustLogin("alice")
	all, err := b.Store.All(context.Background())
	require.NoError(t, err)
	assert.Len(t, all, 2)
	assert.Contains(t, all, a.storeToken(anon.cookie()))
	assert.Contains(t, all, a.storeToken(alice.cookie()))
	res, body := anon.do("POST", "/iterate", url.Values{})
	require.Equal(t, http.StatusNoContent, res.StatusCode, body)
	assert.Equal(t, "yes", alice.get("seen"))
	assert.Equal(t, "alice", alice.whoami())
	assert.Equal(t, "", anon.whoami())
	assert.Equal(t, 1, count(t, b.Store, "alice"))
	all, err = b.Store.All(context.Background())
	require.NoError(t, err)
	assert.Len(t, all, 2, "Iterate created no session")
	// A session ended meanwhile is not revived by an update.
	found, err := b.Store.Update(context.Background(), singlesession.Update{Token: "never-stored-" + strconv.Itoa(len(all)), Data: []byte("x"), Expiry: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	assert.False(t, found)
	all, err = b.Store.All(context.Background())
	require.NoError(t, err)
	assert.Len(t, all, 2)
}
