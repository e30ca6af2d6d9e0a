// Package testapp is the test harness of singlesession, shared by the tests
// of every package of the module and by the conformance suite storetest: an
// application over a [singlesession.Manager], served by httptest, with
// routes that drive every hook, and browsers that are HTTP clients with
// cookie jars of their own.
package testapp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// App is an HTTP application over a Manager, with routes that drive each
// hook:
//
//	POST /login        user, timeout: LoginHook (204; 409 when refused; 400 for other errors)
//	POST /logout       LogoutHook (204)
//	GET  /whoami       UserID
//	GET  /token        scs's token of the request
//	GET  /ended        Manager.Ended, as the JSON of an EndedReply
//	POST /put          key, val: sessions.Put (204)
//	GET  /get          key: sessions.GetString
//	GET  /slow         signals Entered, waits for Release
//	POST /slow-put     key, val: as /slow, then Put
//	GET  /sessions     Manager.Sessions, as JSON
//	POST /end-session  id: Manager.EndSession (204; 404 for ErrSessionNotFound)
//	POST /end-others   Manager.EndOtherSessions (200 with the count; 404 for ErrSessionNotFound)
//	POST /iterate      scs's Iterate putting seen=yes in every session (204)
//	POST /merge        token: scs's MergeSession (204)
//	POST /slow-then    op, id: as /slow, then op: "logout", "renew-logout", "end-others" or "end-session" (of id)
//	POST /renew-logout scs's RenewToken, then LogoutHook, as scs's README signs out (204)
//	GET  /watch        Manager.SessionContext: "watching" at once, then, when the context
//	                   ends, "ended <reason> <user agent>" or "cause <error>"
//	GET  /events       Manager.WatchHandler
//
// POST /login and the responses say what went wrong in their body.
type App struct {
	T        testing.TB
	Sessions *scs.SessionManager
	Store    singlesession.Store
	M        *singlesession.Manager
	Srv      *httptest.Server

	// GET /slow and POST /slow-put send on Entered, then wait for Release.
	Entered chan struct{}
	Release chan struct{}

	Errors atomic.Int32 // calls of ErrorFunc, refused logins excepted
	Logs   *SyncBuffer  // the Manager's logs, Debug and up
}

// Setup is what the options of [New] change.
type Setup struct {
	Sessions *scs.SessionManager
	Config   singlesession.Config
	routes   map[string]func(a *App) http.HandlerFunc
}

// Option changes the Setup of an App.
type Option func(*Setup)

// WithPolicy sets Config.Policy.
func WithPolicy(p singlesession.Policy) Option {
	return func(s *Setup) { s.Config.Policy = p }
}

// WithLimit sets Config.Limit to l for every user.
func WithLimit(l singlesession.Limit) Option {
	return func(s *Setup) {
		s.Config.Limit = func(context.Context, string) singlesession.Limit { return l }
	}
}

// KeepOthersOnLogout sets Config.KeepOtherSessionsOnLogout.
func KeepOthersOnLogout() Option {
	return func(s *Setup) { s.Config.KeepOtherSessionsOnLogout = true }
}

// WithLastSeenInterval sets Config.LastSeenInterval.
func WithLastSeenInterval(d time.Duration) Option {
	return func(s *Setup) { s.Config.LastSeenInterval = d }
}

// WithConfig changes the Config as f does.
func WithConfig(f func(*singlesession.Config)) Option {
	return func(s *Setup) { f(&s.Config) }
}

// WithSessions changes scs's SessionManager as f does.
func WithSessions(f func(*scs.SessionManager)) Option {
	return func(s *Setup) { f(s.Sessions) }
}

// WithRoute adds a route whose handler is made once the App exists.
func WithRoute(pattern string, h func(a *App) http.HandlerFunc) Option {
	return func(s *Setup) { s.routes[pattern] = h }
}

// New serves a Manager over store on an httptest server, closed when t ends.
func New(t testing.TB, store singlesession.Store, opts ...Option) *App {
	t.Helper()
	a := &App{T: t, Store: store, Entered: make(chan struct{}, 64), Release: make(chan struct{}), Logs: &SyncBuffer{}}
	s := &Setup{Sessions: scs.New(), routes: map[string]func(*App) http.HandlerFunc{}}
	s.Config = singlesession.Config{
		Logger: slog.New(slog.NewTextHandler(a.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ErrorFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, singlesession.ErrTooManySessions) {
				http.Error(w, err.Error(), http.StatusConflict)
				return
			}
			a.Errors.Add(1)
			t.Logf("ErrorFunc: %v", err)
			http.Error(w, "store error: "+err.Error(), http.StatusInternalServerError)
		},
	}
	for _, o := range opts {
		o(s)
	}
	a.Sessions = s.Sessions
	m, err := singlesession.New(a.Sessions, store, s.Config)
	require.NoError(t, err)
	a.M = m
	mux := a.routes(s.routes)
	for pattern, h := range s.routes {
		mux.HandleFunc(pattern, h(a))
	}
	a.Srv = httptest.NewServer(m.Middleware(mux))
	t.Cleanup(a.Srv.Close)
	return a
}

// Routes returns a new mux with the App's routes (those that options add
// excepted), for tests that serve it with more.
func (a *App) Routes() *http.ServeMux { return a.routes(nil) }

// routes returns a new mux with the App's routes but those of except, which
// options replace.
func (a *App) routes(except map[string]func(*App) http.HandlerFunc) *http.ServeMux {
	mux := http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) {
		if _, ok := except[pattern]; !ok {
			mux.HandleFunc(pattern, h)
		}
	}
	handle("POST /login", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if d, err := time.ParseDuration(r.FormValue("timeout")); err == nil {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		if err := a.M.LoginHook(ctx, r.FormValue("user")); err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, singlesession.ErrTooManySessions) {
				code = http.StatusConflict
			}
			http.Error(w, err.Error(), code)
			return
		}
		w.Header().Set("X-User-After", a.M.UserID(r.Context()))
		w.WriteHeader(http.StatusNoContent)
	})
	handle("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := a.M.LogoutHook(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("X-User-After", a.M.UserID(r.Context()))
		w.WriteHeader(http.StatusNoContent)
	})
	handle("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, a.M.UserID(r.Context()))
	})
	handle("GET /token", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, a.Sessions.Token(r.Context()))
	})
	handle("GET /ended", func(w http.ResponseWriter, r *http.Request) {
		e, ok := a.M.Ended(r.Context())
		json.NewEncoder(w).Encode(EndedReply{Ended: ok, Ending: e})
	})
	handle("POST /put", func(w http.ResponseWriter, r *http.Request) {
		a.Sessions.Put(r.Context(), r.FormValue("key"), r.FormValue("val"))
		w.WriteHeader(http.StatusNoContent)
	})
	handle("GET /get", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, a.Sessions.GetString(r.Context(), r.FormValue("key")))
	})
	handle("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		a.Entered <- struct{}{}
		<-a.Release
		io.WriteString(w, "done")
	})
	handle("POST /slow-put", func(w http.ResponseWriter, r *http.Request) {
		a.Entered <- struct{}{}
		<-a.Release
		a.Sessions.Put(r.Context(), r.FormValue("key"), r.FormValue("val"))
		io.WriteString(w, "done")
	})
	handle("GET /sessions", func(w http.ResponseWriter, r *http.Request) {
		list, err := a.M.Sessions(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(list)
	})
	handle("POST /end-session", func(w http.ResponseWriter, r *http.Request) {
		notFoundOr(w, a.M.EndSession(r.Context(), r.FormValue("id")), http.StatusNoContent, "")
	})
	handle("POST /end-others", func(w http.ResponseWriter, r *http.Request) {
		n, err := a.M.EndOtherSessions(r.Context())
		notFoundOr(w, err, http.StatusOK, fmt.Sprint(n))
	})
	handle("POST /slow-then", func(w http.ResponseWriter, r *http.Request) {
		a.Entered <- struct{}{}
		<-a.Release
		switch r.FormValue("op") {
		case "logout":
			if err := a.M.LogoutHook(r.Context()); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case "renew-logout":
			a.renewLogout(w, r)
		case "end-others":
			n, err := a.M.EndOtherSessions(r.Context())
			notFoundOr(w, err, http.StatusOK, fmt.Sprint(n))
		case "end-session":
			notFoundOr(w, a.M.EndSession(r.Context(), r.FormValue("id")), http.StatusNoContent, "")
		default:
			http.Error(w, "unknown op", http.StatusBadRequest)
		}
	})
	handle("POST /renew-logout", a.renewLogout)
	handle("GET /watch", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := a.M.SessionContext(r.Context())
		defer cancel()
		io.WriteString(w, "watching\n")
		http.NewResponseController(w).Flush()
		<-ctx.Done()
		var ended *singlesession.EndedError
		if errors.As(context.Cause(ctx), &ended) {
			fmt.Fprintf(w, "ended %s %s\n", ended.Ending.Reason, ended.Ending.UserAgent)
			return
		}
		fmt.Fprintf(w, "cause %v\n", context.Cause(ctx))
	})
	handle("GET /events", a.M.WatchHandler().ServeHTTP)
	handle("POST /iterate", func(w http.ResponseWriter, r *http.Request) {
		err := a.Sessions.Iterate(r.Context(), func(ctx context.Context) error {
			a.Sessions.Put(ctx, "seen", "yes")
			_, _, err := a.Sessions.Commit(ctx)
			return err
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	handle("POST /merge", func(w http.ResponseWriter, r *http.Request) {
		if err := a.Sessions.MergeSession(r.Context(), r.FormValue("token")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// renewLogout signs out as scs's README does, RenewToken first, then with
// LogoutHook.
func (a *App) renewLogout(w http.ResponseWriter, r *http.Request) {
	if err := a.Sessions.RenewToken(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if err := a.M.LogoutHook(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// notFoundOr answers err: 404 for ErrSessionNotFound, 500 for another
// error, or else status with body.
func notFoundOr(w http.ResponseWriter, err error, status int, body string) {
	switch {
	case errors.Is(err, singlesession.ErrSessionNotFound):
		http.Error(w, err.Error(), http.StatusNotFound)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// HashToken is scs's HashTokenInStore: what the store sees of token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// StoreToken is what the store sees of a cookie value.
func (a *App) StoreToken(cookie string) string {
	if !a.Sessions.HashTokenInStore {
		return cookie
	}
	return HashToken(cookie)
}

// Browser is one browser: its own cookie jar. Its requests carry the
// User-Agent "testapp/" and its name.
type Browser struct {
	T      testing.TB
	App    *App
	Client *http.Client
	Name   string
	Header http.Header // sent with every request; a User-Agent here replaces the default
}

// Browser returns a new browser of the App.
func (a *App) Browser(name string) *Browser {
	jar, err := cookiejar.New(nil)
	require.NoError(a.T, err)
	return &Browser{T: a.T, App: a, Client: &http.Client{Jar: jar, Timeout: 30 * time.Second}, Name: name}
}

// Do sends a request, with form as its body when not nil, and returns the
// response and its body.
func (b *Browser) Do(method, path string, form url.Values) (*http.Response, string) {
	b.T.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.App.Srv.URL+path, body)
	require.NoError(b.T, err)
	req.Header.Set("User-Agent", "testapp/"+b.Name)
	for k, v := range b.Header {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.Client.Do(req)
	require.NoError(b.T, err)
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	require.NoError(b.T, err)
	return res, string(text)
}

// Login signs in as user.
func (b *Browser) Login(user string) *http.Response {
	b.T.Helper()
	res, _ := b.Do("POST", "/login", url.Values{"user": {user}})
	return res
}

// MustLogin signs in as user, or fails the test.
func (b *Browser) MustLogin(user string) {
	b.T.Helper()
	res, body := b.Do("POST", "/login", url.Values{"user": {user}})
	require.Equal(b.T, http.StatusNoContent, res.StatusCode, "%s: login as %q: %s", b.Name, user, body)
}

// Logout signs out.
func (b *Browser) Logout() *http.Response {
	b.T.Helper()
	res, _ := b.Do("POST", "/logout", url.Values{})
	return res
}

// MustLogout signs out, or fails the test.
func (b *Browser) MustLogout() {
	b.T.Helper()
	res, body := b.Do("POST", "/logout", url.Values{})
	require.Equal(b.T, http.StatusNoContent, res.StatusCode, "%s: logout: %s", b.Name, body)
}

// WhoAmI returns the user the browser is signed in as, "" when anonymous.
func (b *Browser) WhoAmI() string {
	b.T.Helper()
	res, body := b.Do("GET", "/whoami", nil)
	require.Equal(b.T, http.StatusOK, res.StatusCode, "%s: whoami: %s", b.Name, body)
	return body
}

// EndedReply is what GET /ended answers: Manager.Ended of the request.
type EndedReply struct {
	Ended  bool
	Ending singlesession.Ending
}

// Ending asks the app why the browser's session ended.
func (b *Browser) Ending() (singlesession.Ending, bool) {
	b.T.Helper()
	res, body := b.Do("GET", "/ended", nil)
	require.Equal(b.T, http.StatusOK, res.StatusCode, body)
	var r EndedReply
	require.NoError(b.T, json.Unmarshal([]byte(body), &r))
	return r.Ending, r.Ended
}

// Ended returns the reason Manager.Ended reports, "" when none.
func (b *Browser) Ended() string {
	b.T.Helper()
	e, _ := b.Ending()
	return string(e.Reason)
}

// Send makes one request without following redirects. header holds name,
// value pairs; a POST is a form unless header says otherwise.
func (b *Browser) Send(method, path, body string, header ...string) (*http.Response, string) {
	b.T.Helper()
	req, err := http.NewRequest(method, b.App.Srv.URL+path, strings.NewReader(body))
	require.NoError(b.T, err)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.Header {
		req.Header[k] = v
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := *b.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Do(req)
	require.NoError(b.T, err)
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	require.NoError(b.T, err)
	return res, string(text)
}

// Put puts key=val in the session.
func (b *Browser) Put(key, val string) {
	b.T.Helper()
	res, body := b.Do("POST", "/put", url.Values{"key": {key}, "val": {val}})
	require.Equal(b.T, http.StatusNoContent, res.StatusCode, "%s: put: %s", b.Name, body)
}

// Get returns the value of key in the session.
func (b *Browser) Get(key string) string {
	b.T.Helper()
	_, body := b.Do("GET", "/get?key="+url.QueryEscape(key), nil)
	return body
}

// Cookie returns the browser's session cookie value ("" when none).
func (b *Browser) Cookie() string {
	u, _ := url.Parse(b.App.Srv.URL)
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == b.App.Sessions.Cookie.Name {
			return c.Value
		}
	}
	return ""
}

// SetCookie replaces the browser's session cookie, as a replayed or forged
// one.
func (b *Browser) SetCookie(value string) {
	u, _ := url.Parse(b.App.Srv.URL)
	b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: b.App.Sessions.Cookie.Name, Value: value, Path: "/"}})
}

// Token is what the store sees of the browser's cookie.
func (b *Browser) Token() string { return b.App.StoreToken(b.Cookie()) }

// ID is the SessionID of the browser's session.
func (b *Browser) ID() string { return singlesession.SessionID(b.Token()) }

// Exists reports whether the store holds the browser's session, live.
func (b *Browser) Exists() bool {
	b.T.Helper()
	f, err := b.App.Store.Find(context.Background(), b.Token(), time.Minute)
	require.NoError(b.T, err)
	return f.Found
}

// Sessions returns what GET /sessions lists: the browser's own sessions.
func (b *Browser) Sessions() []singlesession.SessionInfo {
	b.T.Helper()
	res, body := b.Do("GET", "/sessions", nil)
	require.Equal(b.T, http.StatusOK, res.StatusCode, body)
	var list []singlesession.SessionInfo
	require.NoError(b.T, json.Unmarshal([]byte(body), &list))
	return list
}

// CurrentID returns the ID of the browser's own session, as GET /sessions
// marks it.
func (b *Browser) CurrentID() string {
	b.T.Helper()
	for _, s := range b.Sessions() {
		if s.Current {
			return s.ID
		}
	}
	b.T.Fatalf("%s: no current session", b.Name)
	return ""
}

// Count returns how many live sessions s holds for user.
func Count(t testing.TB, s singlesession.Store, user string) int {
	t.Helper()
	res, err := s.Sessions(context.Background(), singlesession.SessionsQuery{UserID: user, Limit: 1})
	require.NoError(t, err)
	return res.Total
}

// SeedSessions signs userID in on n new sessions, directly in the store, and
// returns their tokens.
func SeedSessions(t testing.TB, store singlesession.Store, userID string, n int) []string {
	t.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("tok-%s-%d-%d", userID, i, time.Now().UnixNano())
		_, err := store.Login(context.Background(), singlesession.Login{
			UserID: userID, Token: tokens[i], Data: []byte{0}, Expiry: time.Now().Add(time.Hour),
		})
		require.NoError(t, err)
	}
	return tokens
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ScsVariants are the scs options under which sessions are saved
// differently: IdleTimeout saves on every request, HashTokenInStore changes
// the store key.
var ScsVariants = map[string]func(*scs.SessionManager){
	"plain":           func(*scs.SessionManager) {},
	"idle timeout":    func(s *scs.SessionManager) { s.IdleTimeout = time.Hour },
	"hashed token":    func(s *scs.SessionManager) { s.HashTokenInStore = true },
	"idle and hashed": func(s *scs.SessionManager) { s.IdleTimeout = time.Hour; s.HashTokenInStore = true },
}

// EventLog records the events a Manager dispatches. When Inside is set, it
// runs in OnEvent before the event is recorded.
type EventLog struct {
	mu     sync.Mutex
	events []singlesession.Event
	Inside func(ctx context.Context, e singlesession.Event)
}

// OnEvent is a Config.OnEvent that records e.
func (l *EventLog) OnEvent(ctx context.Context, e singlesession.Event) {
	if l.Inside != nil {
		l.Inside(ctx, e)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// Take returns the events recorded since the last Take and forgets them.
func (l *EventLog) Take() []singlesession.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.events
	l.events = nil
	return e
}

// Count returns how many events are recorded now.
func (l *EventLog) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// WithEventLog sends the App's events to l.
func WithEventLog(l *EventLog) Option {
	return WithConfig(func(c *singlesession.Config) { c.OnEvent = l.OnEvent })
}

// OneEvent requires exactly one event in events, of kind, and returns it.
func OneEvent(t testing.TB, events []singlesession.Event, kind singlesession.EventKind) singlesession.Event {
	t.Helper()
	require.Len(t, events, 1, "exactly one event: %+v", events)
	require.Equal(t, kind, events[0].Kind, "%+v", events[0])
	return events[0]
}

// Stream is a streaming response, read line by line as it comes.
type Stream struct {
	Response *http.Response
	lines    chan Line
	cancel   context.CancelFunc
}

// Line is one line of a Stream and when it arrived.
type Line struct {
	Text string
	At   time.Time
}

// Open sends GET path and returns the response as a Stream once its
// headers arrived; the test closes it when it ends.
func (b *Browser) Open(path string) *Stream {
	b.T.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", b.App.Srv.URL+path, nil)
	require.NoError(b.T, err)
	req.Header.Set("User-Agent", "testapp/"+b.Name)
	for k, v := range b.Header {
		req.Header[k] = v
	}
	c := *b.Client
	c.Timeout = 0 // a stream may stay open for long
	res, err := c.Do(req)
	require.NoError(b.T, err)
	s := &Stream{Response: res, lines: make(chan Line, 64), cancel: cancel}
	go func() {
		defer close(s.lines)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			s.lines <- Line{Text: sc.Text(), At: time.Now()}
		}
	}()
	b.T.Cleanup(s.Close)
	return s
}

// Next returns the next line, or ok false when the stream ended or timeout
// passed first.
func (s *Stream) Next(timeout time.Duration) (l Line, ok bool) {
	select {
	case l, ok = <-s.lines:
		return l, ok
	case <-time.After(timeout):
		return Line{}, false
	}
}

// Close ends the request.
func (s *Stream) Close() { s.cancel() }

// Watch opens GET /watch (Manager.SessionContext) and waits for its first
// line, "watching".
func (b *Browser) Watch() *Stream {
	b.T.Helper()
	s := b.Open("/watch")
	require.Equal(b.T, http.StatusOK, s.Response.StatusCode)
	l, ok := s.Next(5 * time.Second)
	require.True(b.T, ok, "the watch starts")
	require.Equal(b.T, "watching", l.Text)
	return s
}
