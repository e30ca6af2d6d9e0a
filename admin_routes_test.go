package singlesession_test

// The admin page's routes: methods, paths, mounting, who may ask, and what
// each route costs in round trips.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Anonymous visitors are sent to the login URL and end nothing.
func TestAdminHTTPAnonymous(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{LoginURL: "/signin?next=/admin/sessions"})
		seedSessions(t, e.Store, "bob", 2)
		b := a.Browser("anonymous")
		for _, path := range []string{"/admin/sessions", "/admin/sessions/", "/ops/v1/people"} {
			t.Run(path, func(t *testing.T) {
				res, _ := b.Send("GET", path, "")
				assert.Equal(t, http.StatusSeeOther, res.StatusCode, path)
				assert.Equal(t, "/signin?next=/admin/sessions", res.Header.Get("Location"))
			})
		}
		res, _ := b.Send("POST", "/admin/sessions/logout", actionForm("logout_all", "bob"))
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/signin?next=/admin/sessions", res.Header.Get("Location"))
		assert.Equal(t, 2, e.SessionsOf(t, "bob"), "nothing ends")
	})
}

// The routes are ServeMux method patterns: a method a route does not take
// is 405 with Allow, in JSON for JSON clients; a path no route takes is 404,
// even one a mux would clean and redirect (outside the mount) when the
// handler sits behind a router that does not clean paths.
func TestAdminHTTPRoutes(t *testing.T) {
	store := singlesession.NewMemoryStore()
	a := newApp(t, store)
	admin, err := singlesession.NewAdmin(a.M, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{Logger: quietLogger})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/", a.Routes())
	a.Srv.Close()
	// No ServeMux in front of the admin page: it sees paths as sent.
	a.Srv = newServer(t, a.M.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := strings.CutPrefix(r.URL.Path, "/admin/sessions"); ok && (p == "" || p[0] == '/') {
			http.StripPrefix("/admin/sessions", admin).ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})))
	root := a.Browser("root")
	root.MustLogin("root")
	seedSessions(t, store, "bob", 1)

	for _, tc := range []struct {
		method, path string
		accept       string
		status       int
		allow, body  string
	}{
		{"GET", "/admin/sessions", "", 200, "", "<!doctype html>"},
		{"HEAD", "/admin/sessions/", "", 200, "", ""},
		{"GET", "/admin/sessions/logout", "application/json", 405, "POST", `{"error":"method not allowed: use POST"}`},
		{"PUT", "/admin/sessions/", "application/json", 405, "GET, HEAD", `{"error":"method not allowed: use GET or HEAD"}`},
		{"POST", "/admin/sessions/admin.css", "", 405, "GET, HEAD", "method not allowed: use GET or HEAD"},
		{"GET", "/admin/sessions/nope", "application/json", 404, "", `{"error":"not found"}`},
		{"POST", "/admin/sessions//logout", "", 404, "", "not found"},
		{"POST", "/admin/sessions/./logout", "", 404, "", "not found"},
		{"POST", "/admin/sessions/logout/", "", 404, "", "not found"},
		{"GET", "/admin/sessions//", "", 404, "", "not found"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			res, body := root.Send(tc.method, tc.path, actionForm("logout_all", "bob"), "Accept", tc.accept)
			assert.Equal(t, tc.status, res.StatusCode, body)
			assert.Equal(t, tc.allow, res.Header.Get("Allow"))
			assert.Contains(t, body, tc.body)
			assert.Empty(t, res.Header.Get("Location"), "no redirect out of the mount")
			assert.Equal(t, 1, (&env{Store: store}).SessionsOf(t, "bob"), "nothing ended")
		})
	}
}

// An origin listed in AdminConfig.TrustedOrigins may post actions.
func TestAdminHTTPTrustedOrigin(t *testing.T) {
	store := singlesession.NewMemoryStore()
	a := newAdminApp(t, store, singlesession.NewStaticDirectory(adminUsers...),
		singlesession.AdminConfig{TrustedOrigins: []string{"https://ops.example"}})
	e := &env{Store: store}
	root := a.Browser("root")
	root.MustLogin("root")
	seedSessions(t, store, "bob", 1)
	res, _ := root.Send("POST", "/admin/sessions/logout", actionForm("logout_all", "bob"),
		"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Equal(t, 1, e.SessionsOf(t, "bob"))
	res, _ = root.Send("POST", "/admin/sessions/logout", actionForm("logout_all", "bob"),
		"Sec-Fetch-Site", "cross-site", "Origin", "https://ops.example")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Zero(t, e.SessionsOf(t, "bob"))
}

// The page needs Manager.Middleware; without it, it says so rather than
// sending everyone to log in.
func TestAdminHTTPOutsideMiddleware(t *testing.T) {
	m := newManager(t, singlesession.NewMemoryStore(), singlesession.Config{})
	admin := newAdmin(t, m, singlesession.NewStaticDirectory(adminUsers...))
	srv := newServer(t, admin)
	res, err := http.Get(srv.URL)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
}

// AdminConfig.Prefix replaces the prefix a request shows, for proxies that
// rewrite paths.
func TestAdminHTTPConfiguredPrefix(t *testing.T) {
	store := singlesession.NewMemoryStore()
	a := newAdminApp(t, store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{Prefix: "/outside/sessions/"})
	root := a.Browser("root")
	root.MustLogin("root")
	_, page := root.Send("GET", "/admin/sessions", "")
	assert.Contains(t, page, `action="/outside/sessions/logout"`)
	res, _ := root.Send("POST", "/admin/sessions/logout", actionForm("logout", "bob"))
	assert.Equal(t, "/outside/sessions", res.Header.Get("Location"))
}

// The page and the action cost a fixed number of round trips, whatever the
// number of users on the page or in the action: the session load, the actor's
// lookup, one search and one count for the page; the load, the actor, one
// lookup of the targets and one delete for the action; one more to write or
// consume the flash.
func TestAdminHTTPRoundTrips(t *testing.T) {
	t.Parallel()
	pool, counter := tracedPool(t)
	store := pgxstore.New(pool)
	dir := pgxstore.NewDirectory(pool)
	require.NoError(t, grantErr(dir.Grant(context.Background(), "root", pgxstore.GrantAdmin)))
	a := newAdminApp(t, store, dir, singlesession.AdminConfig{})
	root := a.Browser("root")
	root.MustLogin("root")

	cost := func(what string, f func()) int {
		t.Helper()
		counter.Take()
		f()
		q := counter.Take()
		t.Logf("%-40s %d round trip(s): %s", what, len(q), strings.Join(q, " | "))
		return len(q)
	}
	page := func() {
		res, _ := root.Send("GET", "/admin/sessions", "")
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	post := func(n int, accept string) {
		res, body := root.Send("POST", "/admin/sessions/logout", actionForm("logout_all", manyIDs(n)...), "Accept", accept)
		require.Less(t, res.StatusCode, 400, body)
	}
	// Warm the statements up.
	seedManyPostgres(t, pool, 1, 1)
	page()
	post(1, "text/html")
	page()

	for _, n := range []int{1, 60} {
		t.Run(fmt.Sprint(n, " users"), func(t *testing.T) {
			seedManyPostgres(t, pool, n, 3)
			assert.Equal(t, 4, cost(fmt.Sprintf("page with %d users", n+1), page))
			assert.Equal(t, 5, cost(fmt.Sprintf("action on %d users, then redirect", n), func() { post(n, "text/html") }))
			assert.Equal(t, 5, cost("page showing the result", page))
			seedManyPostgres(t, pool, n, 3)
			assert.Equal(t, 4, cost(fmt.Sprintf("action on %d users, JSON", n), func() { post(n, "application/json") }))
		})
	}

	// A user's sessions: one more query for the list (the directory finds
	// the actor and the user in one call); ending one: the load, the
	// directory, the delete, and the message into the session.
	seedManyPostgres(t, pool, 1, 3)
	var id string
	assert.Equal(t, 5, cost("page with a user's sessions", func() {
		res, body := root.Send("GET", "/admin/sessions?user=user-00000", "", "Accept", "application/json")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		var p struct {
			User struct{ Sessions []struct{ ID string } } `json:"user"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &p))
		require.Len(t, p.User.Sessions, 3)
		id = p.User.Sessions[0].ID
	}))
	assert.Equal(t, 4, cost("end one session, then redirect", func() {
		res, body := root.Send("POST", "/admin/sessions/sessions/end", url.Values{"user": {"user-00000"}, "id": {id}}.Encode())
		require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	}))
}
