package singlesession_test

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
)

// Outside the middleware, or with a nil context, the hooks fail clearly and
// UserID is anonymous.
func TestOutsideMiddleware(t *testing.T) {
	m, err := singlesession.New(scs.New(), singlesession.NewMemoryStore(), singlesession.Config{})
	require.NoError(t, err)

	assert.ErrorIs(t, m.LoginHook(context.Background(), "alice"), singlesession.ErrNoMiddleware)
	assert.ErrorIs(t, m.LogoutHook(context.Background()), singlesession.ErrNoMiddleware)
	assert.Equal(t, "", m.UserID(context.Background()))
	//lint:ignore SA1012 a nil context is exactly what this test hands over
	assert.Equal(t, "", m.UserID(nil)) //nolint:staticcheck
	//lint:ignore SA1012 a nil context is exactly what this test hands over
	assert.ErrorIs(t, m.LoginHook(nil, "alice"), singlesession.ErrNoMiddleware) //nolint:staticcheck
	//lint:ignore SA1012 a nil context is exactly what this test hands over
	assert.ErrorIs(t, m.LogoutHook(nil), singlesession.ErrNoMiddleware) //nolint:staticcheck
}

// Rule 13: store errors reach Config.ErrorFunc; without one, the reply is 500.
func TestStoreErrorsReachErrorFunc(t *testing.T) {
	broken := &failingStore{Store: singlesession.NewMemoryStore()}
	a := newApp(t, broken)
	b := a.Browser("b")
	b.MustLogin("alice")

	broken.fail.Store(true)
	res, body := b.Do("GET", "/whoami", nil)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Contains(t, body, "store error")
	assert.EqualValues(t, 1, a.Errors.Load())

	// The default ErrorFunc: 500.
	s := scs.New()
	m, err := singlesession.New(s, broken, singlesession.Config{})
	require.NoError(t, err)
	srv := newServer(t, m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Put(r.Context(), "k", "v")
	})))
	res, err = http.Get(srv.URL)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
}

// SPEC 8.8: a request whose save fails gets one response, ErrorFunc's: the
// handler's redirect that follows is dropped, and net/http logs no
// "superfluous response.WriteHeader call".
func TestFailedSaveAnswersOnce(t *testing.T) {
	for name, f := range map[string]func(http.ResponseWriter, *http.Request, error){
		"default ErrorFunc": nil,
		"own ErrorFunc": func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "sorry: "+err.Error(), http.StatusServiceUnavailable)
		},
	} {
		t.Run(name, func(t *testing.T) {
			broken := &failingStore{Store: singlesession.NewMemoryStore(), only: "Login"}
			broken.fail.Store(true)
			sessions := scs.New()
			m, err := singlesession.New(sessions, broken, singlesession.Config{ErrorFunc: f, Logger: quietLogger})
			require.NoError(t, err)
			srv := httptest.NewUnstartedServer(m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := m.LoginHook(r.Context(), "alice"); err != nil {
					t.Error(err)
				}
				http.Redirect(w, r, "/", http.StatusSeeOther) // the save runs here, and fails
				io.WriteString(w, "handler's body")
			})))
			var serverLog testapp.SyncBuffer
			srv.Config.ErrorLog = log.New(&serverLog, "", 0)
			srv.Start()
			t.Cleanup(srv.Close)

			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := client.Post(srv.URL+"/login", "text/plain", nil)
			require.NoError(t, err)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			want := http.StatusInternalServerError
			if f != nil {
				want = http.StatusServiceUnavailable
			}
			assert.Equal(t, want, res.StatusCode, "ErrorFunc's answer, not the handler's 303")
			assert.Empty(t, res.Header.Get("Location"))
			assert.NotContains(t, string(body), "handler's body")
			srv.Close() // flush the server's log
			assert.NotContains(t, serverLog.String(), "superfluous", "one response per request")
		})
	}
}

// SPEC 8.12: a handler still wrapped in scs's own LoadAndSave (left over
// from before the library) fails with an error that names the fix, and so
// does a handler test that loads the session with sessions.Load.
func TestLeftoverLoadAndSaveNamesTheFix(t *testing.T) {
	sessions := scs.New()
	m, err := singlesession.New(sessions, singlesession.NewMemoryStore(), singlesession.Config{})
	require.NoError(t, err)
	var loginErr error
	h := sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loginErr = m.LoginHook(r.Context(), "alice")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil))
	require.ErrorIs(t, loginErr, singlesession.ErrNoMiddleware)
	assert.ErrorContains(t, loginErr, "Manager.Middleware in place of sessions.LoadAndSave")

	ctx, err := sessions.Load(context.Background(), "")
	require.NoError(t, err)
	err = m.LoginHook(ctx, "alice")
	require.ErrorIs(t, err, singlesession.ErrNoMiddleware)
	assert.ErrorContains(t, err, "Manager.Load in place of sessions.Load")

	// With a cookie, the leftover LoadAndSave's own load fails the same way.
	var logs testapp.SyncBuffer
	m2, err := singlesession.New(scs.New(), singlesession.NewMemoryStore(), singlesession.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	leftover := m2.SessionManager().LoadAndSave(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: strings.Repeat("a", 43)})
	rec := httptest.NewRecorder()
	leftover.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, logs.String(), "in place of sessions.LoadAndSave")
}

// headerMiddleware is the middleware of scs's README for tokens that travel
// in a header, built on Manager.Load and Manager.Commit.
func headerMiddleware(m *singlesession.Manager, sessions *scs.SessionManager, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, err := m.Load(r.Context(), r.Header.Get("X-Session"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		r = r.WithContext(ctx)
		bw := &bufferedWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(bw, r)
		switch sessions.Status(ctx) {
		case scs.Modified:
			token, _, err := m.Commit(ctx)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			if token != "" {
				w.Header().Set("X-Session", token)
			}
		case scs.Destroyed:
			w.Header().Set("X-Session", "")
		}
		w.WriteHeader(bw.status)
		io.WriteString(w, bw.body.String())
	})
}

// bufferedWriter holds a handler's response until the session is committed,
// so that the header with the token can still be set.
type bufferedWriter struct {
	http.ResponseWriter
	status int
	body   strings.Builder
}

func (b *bufferedWriter) WriteHeader(code int)        { b.status = code }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

// apiClient keeps its token in a header, as an API client does.
type apiClient struct {
	t     *testing.T
	url   string
	token string
}

func (c *apiClient) Do(method, path string, form url.Values) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, strings.NewReader(form.Encode()))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Session", c.token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	if v, ok := res.Header["X-Session"]; ok {
		c.token = v[0]
	}
	return res.StatusCode, string(body)
}

// Rule 13: a client whose token travels in a header, through a middleware
// of its own on Manager.Load and Manager.Commit, gets every rule, and shares
// "one session per user" with cookie clients.
func TestHeaderTokensThroughLoadAndCommit(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		api := newServer(t, headerMiddleware(a.M, a.Sessions, a.Routes()))
		client := &apiClient{t: t, url: api.URL}
		browser := a.Browser("cookie")

		browser.MustLogin("alice")
		status, body := client.Do("POST", "/login", url.Values{"user": {"alice"}})
		require.Equal(t, http.StatusNoContent, status, body)
		require.NotEmpty(t, client.token)
		_, who := client.Do("GET", "/whoami", nil)
		assert.Equal(t, "alice", who)
		assert.Equal(t, "", browser.WhoAmI(), "the header login ended the cookie session")
		assert.Equal(t, 1, e.SessionsOf(t, "alice"))

		status, _ = client.Do("POST", "/put", url.Values{"key": {"k"}, "val": {"v"}})
		require.Equal(t, http.StatusNoContent, status)
		_, v := client.Do("GET", "/get?key=k", nil)
		assert.Equal(t, "v", v)

		headerToken := client.token
		browser.MustLogin("alice")
		_, who = client.Do("GET", "/whoami", nil)
		assert.Equal(t, "", who, "the cookie login ended the header session")
		client.token = headerToken
		status, _ = client.Do("POST", "/put", url.Values{"key": {"k"}, "val": {"again"}})
		assert.Equal(t, http.StatusNoContent, status, "an ended session's request completes")
		assert.False(t, hasRow(t, e, a.StoreToken(headerToken)), "and does not come back")

		client.token = ""
		status, _ = client.Do("POST", "/login", url.Values{"user": {"alice"}})
		require.Equal(t, http.StatusNoContent, status)
		status, _ = client.Do("POST", "/logout", url.Values{})
		require.Equal(t, http.StatusNoContent, status)
		assert.Equal(t, "", client.token, "Destroyed: the client drops its token")
		assert.Equal(t, 0, e.SessionsOf(t, "alice"), "a header logout ends the cookie sessions too")
		assert.Equal(t, "", browser.WhoAmI())
		assert.Zero(t, a.Errors.Load())
	})
}

// Manager.Load is for a middleware of its own, not inside Manager.Middleware,
// and sessions.Load without it fails with an error that names Manager.Load.
func TestLoadMisuse(t *testing.T) {
	a := newApp(t, singlesession.NewMemoryStore(), withRoute("GET /load-inside", func(a *app) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, err := a.M.Load(r.Context(), "")
			io.WriteString(w, err.Error())
		}
	}))
	_, body := a.Browser("A").Do("GET", "/load-inside", nil)
	assert.Contains(t, body, "already loaded")

	B := a.Browser("B")
	B.MustLogin("alice")
	_, err := a.Sessions.Load(context.Background(), B.Cookie())
	require.ErrorIs(t, err, singlesession.ErrNoMiddleware)
	assert.Contains(t, err.Error(), "Manager.Load")

	_, _, err = a.M.Commit(context.Background())
	assert.ErrorIs(t, err, singlesession.ErrNoMiddleware)
}
