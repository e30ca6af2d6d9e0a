package singlesession_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// iterateRoute signs in as the form's user when it has one (before or after
// the iteration, as the form's "when" says), and marks every session with
// scs's Iterate, committing each one inside fn as scs's README shows.
func iterateRoute(a *app) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		user, when := r.FormValue("user"), r.FormValue("when")
		if user != "" && when == "before" {
			if err := a.M.LoginHook(ctx, user); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		err := a.Sessions.Iterate(ctx, func(ctx context.Context) error {
			a.Sessions.Put(ctx, "seen", "yes")
			_, _, err := a.Sessions.Commit(ctx)
			return err
		})
		if err != nil {
			http.Error(w, "iterate: "+err.Error(), http.StatusInternalServerError)
			return
		}
		if user != "" && when == "after" {
			if err := a.M.LoginHook(ctx, user); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// Rule 13: scs's Iterate, with Commit inside, in a handler with r.Context(),
// before or after LoginHook, updates the sessions it iterates and nothing
// else: it creates none, and the login is saved as the login. On the code
// before, each Commit was taken for a new session (duplicate key), and after
// LoginHook for the login itself, which was lost.
func TestIterateInHandlerOnlyUpdates(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for variant, opt := range scsVariants {
			for _, when := range []string{"", "before", "after"} {
				t.Run(variant+"/login "+when, func(t *testing.T) {
					a := newApp(t, e.Store, withSessions(opt), withPolicy(singlesession.Never),
						withRoute("POST /iterate", iterateRoute))
					B, C := a.Browser("B"), a.Browser("C")
					B.MustLogin("bob")
					C.Put("cart", "apples")
					A := a.Browser("A")
					A.Put("cart", "pears")
					sessionsBefore, linksBefore := rows(t, e)

					alice := "alice " + variant + " " + when // the store is shared by the subtests
					form := url.Values{}
					if when != "" {
						form = url.Values{"user": {alice}, "when": {when}}
					}
					res, body := A.Do("POST", "/iterate", form)
					require.Equal(t, http.StatusNoContent, res.StatusCode, body)

					sessionsAfter, linksAfter := rows(t, e)
					assert.Equal(t, sessionsBefore, sessionsAfter, "Iterate created or ended no session (a login replaces A's)")
					if when != "" {
						assert.Equal(t, linksBefore+1, linksAfter, "the login linked A")
						assert.Equal(t, alice, A.WhoAmI(), "the login was saved")
						assert.Equal(t, 1, e.SessionsOf(t, alice))
					} else {
						assert.Equal(t, linksBefore, linksAfter)
						assert.Equal(t, "", A.WhoAmI())
					}
					assert.Equal(t, "pears", A.Get("cart"), "A kept its own data")
					assert.Equal(t, "bob", B.WhoAmI(), "Iterate signed nobody out")
					assert.Equal(t, "apples", C.Get("cart"))
					if !a.Sessions.HashTokenInStore {
						// With HashTokenInStore, scs's Iterate commits under a
						// hash of the store key, which finds no session: scs's
						// own limit, and still nothing is created.
						assert.Equal(t, "yes", B.Get("seen"), "Iterate's commit updated B")
						assert.Equal(t, "yes", C.Get("seen"), "Iterate's commit updated C")
					}
					assert.Zero(t, a.Errors.Load())
				})
			}
		}
	})
}

// Rule 13: scs's MergeSession in a handler, before or after LoginHook, merges
// another session's values into this one and deletes the other: it creates
// no session and signs nobody in or out but the merged session.
func TestMergeSessionInHandler(t *testing.T) {
	merge := func(a *app) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if r.FormValue("when") == "before" {
				require.NoError(t, a.M.LoginHook(ctx, "alice"))
			}
			if err := a.Sessions.MergeSession(ctx, r.FormValue("token")); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			if r.FormValue("when") == "after" {
				require.NoError(t, a.M.LoginHook(ctx, "alice"))
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}
	forEachStore(t, func(t *testing.T, e *env) {
		for _, when := range []string{"", "before", "after"} {
			t.Run("login "+when, func(t *testing.T) {
				a := newApp(t, e.Store, withPolicy(singlesession.Never), withRoute("POST /merge", merge))
				A, old, bob := a.Browser("A"), a.Browser("old"), a.Browser("bob")
				A.Put("cart", "pears")
				old.Put("wishlist", "figs")
				bob.MustLogin("bob")
				sessionsBefore, _ := rows(t, e)

				res, body := A.Do("POST", "/merge", url.Values{"token": {old.Cookie()}, "when": {when}})
				require.Equal(t, http.StatusNoContent, res.StatusCode, body)

				sessionsAfter, _ := rows(t, e)
				assert.Equal(t, sessionsBefore-1, sessionsAfter, "the merged session is gone, nothing was created")
				assert.Equal(t, "pears", A.Get("cart"))
				assert.Equal(t, "figs", A.Get("wishlist"))
				if when != "" {
					assert.Equal(t, "alice", A.WhoAmI())
				} else {
					assert.Equal(t, "", A.WhoAmI())
				}
				assert.Equal(t, "bob", bob.WhoAmI())
				assert.Zero(t, a.Errors.Load())
			})
		}
	})
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

// Rule 13: sessions.Commit outside a request never reports success for a
// write that did not happen: a new session is refused with an error (the
// Manager cannot tell it from an ended one), while scs's Iterate outside a
// request keeps updating live sessions.
func TestCommitOutsideRequest(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		ctx, err := a.Sessions.Load(context.Background(), "")
		require.NoError(t, err)
		a.Sessions.Put(ctx, "job", "done")
		sessionsBefore, _ := rows(t, e)
		token, _, err := a.Sessions.Commit(ctx)
		assert.ErrorIs(t, err, singlesession.ErrSessionNotFound, "no success for a write that did not happen (token %q)", token)
		sessionsAfter, _ := rows(t, e)
		assert.Equal(t, sessionsBefore, sessionsAfter)

		A := a.Browser("A")
		A.MustLogin("alice")
		err = a.Sessions.Iterate(context.Background(), func(ctx context.Context) error {
			a.Sessions.Put(ctx, "seen", "yes")
			_, _, err := a.Sessions.Commit(ctx)
			return err
		})
		require.NoError(t, err)
		assert.Equal(t, "yes", A.Get("seen"))
		assert.Equal(t, "alice", A.WhoAmI())
	})
}

// MergeSession (an OAuth callback merging the session from before the
// redirect) deletes another session; it leaves this request's user and a
// pending login alone.
func TestMergeSession(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store,
			withRoute("POST /merge", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if u := r.FormValue("login"); u != "" {
						require.NoError(t, a.M.LoginHook(r.Context(), u))
					}
					err := a.Sessions.MergeSession(r.Context(), r.FormValue("token"))
					fmt.Fprintf(w, "%v|%s", err, a.M.UserID(r.Context()))
				}
			}))
		cartOf := func() string {
			other := a.Browser("other")
			other.Put("cart", "figs")
			_, token := other.Do("GET", "/token", nil)
			return token
		}

		signedIn := a.Browser("signed in")
		signedIn.MustLogin("alice")
		_, body := signedIn.Do("POST", "/merge", url.Values{"token": {cartOf()}})
		assert.Equal(t, "<nil>|alice", body)
		assert.Equal(t, "alice", signedIn.WhoAmI())
		assert.Equal(t, "figs", signedIn.Get("cart"))

		callback := a.Browser("callback")
		_, body = callback.Do("POST", "/merge", url.Values{"token": {cartOf()}, "login": {"bob"}})
		assert.Equal(t, "<nil>|bob", body)
		assert.Equal(t, "bob", callback.WhoAmI())
		assert.Equal(t, "figs", callback.Get("cart"))

		// A browser with no cookie: the merged session's user is not this
		// browser's, even if the merge then fails.
		bob := a.Browser("bob")
		bob.MustLogin("bob2")
		_, bobToken := bob.Do("GET", "/token", nil)
		_, body = a.Browser("fresh").Do("POST", "/merge", url.Values{"token": {bobToken}})
		assert.True(t, strings.HasSuffix(body, "|"), "anonymous, got %q", body)
	})
}

// scs's Iterate works: it reads every live session, and a Commit inside it
// updates (never re-creates) and a Destroy deletes with the link.
func TestIterate(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		one, two := a.Browser("one"), a.Browser("two")
		one.MustLogin("alice")
		two.Put("cart", "nuts")

		var mu sync.Mutex
		seen := 0
		err := a.Sessions.Iterate(context.Background(), func(ctx context.Context) error {
			mu.Lock()
			seen++
			mu.Unlock()
			a.Sessions.Put(ctx, "touched", "yes")
			_, _, err := a.Sessions.Commit(ctx)
			return err
		})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, seen, 2)
		assert.Equal(t, "yes", one.Get("touched"))
		assert.Equal(t, "alice", one.WhoAmI())

		err = a.Sessions.Iterate(context.Background(), func(ctx context.Context) error {
			return a.Sessions.Destroy(ctx)
		})
		require.NoError(t, err)
		assert.Equal(t, "", one.WhoAmI())
		assert.Equal(t, "", two.Get("cart"))
		_, links := rows(t, e)
		assert.Zero(t, links)
	})
}
