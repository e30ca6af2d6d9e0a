package singlesession_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// adminPrefixes are the two paths the tests mount the admin page at.
var adminPrefixes = []string{"/admin/sessions", "/ops/v1/people"}

// newAdminApp serves the test app with the admin page mounted, through
// http.StripPrefix, at each of adminPrefixes.
func newAdminApp(t testing.TB, store singlesession.Store, dir singlesession.Directory, cfg singlesession.AdminConfig, opts ...appOption) *app {
	t.Helper()
	a := newApp(t, store, opts...)
	if cfg.Logger == nil {
		cfg.Logger = quietLogger
	}
	admin, err := singlesession.NewAdmin(a.M, dir, cfg)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/", a.Routes())
	for _, p := range adminPrefixes {
		mux.Handle(p+"/", http.StripPrefix(p, admin))
		mux.Handle(p, http.StripPrefix(p, admin))
	}
	a.Srv.Close()
	a.Srv = newServer(t, a.M.Middleware(mux))
	return a
}

// actionForm encodes an action's form.
func actionForm(action string, users ...string) string {
	return url.Values{"action": {action}, "user": users}.Encode()
}

// adminPage is the admin page's JSON.
type adminPage struct {
	Actor   string `json:"actor"`
	Actions []struct {
		Name  string `json:"name"`
		Label string `json:"label"`
	} `json:"actions"`
	Query    string `json:"query"`
	Page     int    `json:"page"`
	PageSize int    `json:"page_size"`
	Pages    int    `json:"pages"`
	Total    int    `json:"total"`
	Users    []struct {
		ID       string `json:"id"`
		Admin    bool   `json:"admin"`
		Sessions int    `json:"sessions"`
	} `json:"users"`
}

// pageJSON reads the admin page at path as JSON.
func pageJSON(b *browser, path string) adminPage {
	b.T.Helper()
	res, body := b.Send("GET", path, "", "Accept", "application/json")
	require.Equal(b.T, http.StatusOK, res.StatusCode, body)
	assert.Equal(b.T, "application/json", res.Header.Get("Content-Type"))
	var p adminPage
	require.NoError(b.T, json.Unmarshal([]byte(body), &p), body)
	return p
}

// The permission matrix through HTTP: actors holding nothing, logout,
// logout_all or admin; targets ordinary, admin, or the actor; both actions.
func TestAdminHTTPPermissionMatrix(t *testing.T) {
	actors := map[string]string{"none": "alice", "logout": "sam", "logout_all": "tess", "admin": "root"}
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
		for holds, actor := range actors {
			for _, target := range []string{"bob", "ruth", actor} {
				for _, action := range []singlesession.Action{singlesession.ActionLogout, singlesession.ActionLogoutAll} {
					t.Run(fmt.Sprintf("%s/%s/%s", holds, target, action), func(t *testing.T) {
						endAll(t, e.Store, allUserIDs()...)
						b := a.Browser(actor)
						b.MustLogin(actor)
						seedSessions(t, e.Store, target, 2)
						seedSessions(t, e.Store, "carol", 1)
						before := e.SessionsOf(t, target)

						res, body := b.Send("POST", "/admin/sessions/logout", actionForm(string(action), target))

						permitted := holds == "admin" || holds == string(action)
						if !permitted {
							assert.Equal(t, http.StatusForbidden, res.StatusCode, body)
							assert.Equal(t, before, e.SessionsOf(t, target), "nothing ends")
							assert.Equal(t, actor, b.WhoAmI())
							res, _ := b.Send("GET", "/admin/sessions", "")
							if holds == "none" {
								assert.Equal(t, http.StatusForbidden, res.StatusCode, "no page without either permission")
							} else {
								assert.Equal(t, http.StatusOK, res.StatusCode)
							}
							return
						}
						require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
						targetIsAdmin := target == "ruth" || target == "root"
						if action == singlesession.ActionLogout && targetIsAdmin {
							assert.Equal(t, before, e.SessionsOf(t, target), "logout skips admin users")
							assert.Equal(t, "/admin/sessions", res.Header.Get("Location"))
							_, page := b.Send("GET", "/admin/sessions", "")
							assert.Contains(t, page, target+": admin user")
						} else {
							assert.Zero(t, e.SessionsOf(t, target))
							if target == actor {
								assert.Equal(t, "/login", res.Header.Get("Location"), "signed themself out")
								assert.Equal(t, "", b.WhoAmI())
							} else {
								assert.Equal(t, "/admin/sessions", res.Header.Get("Location"))
								_, page := b.Send("GET", "/admin/sessions", "")
								assert.Contains(t, page, target+": 2 sessions ended")
							}
						}
						assert.Equal(t, 1, e.SessionsOf(t, "carol"), "a bystander is untouched")
					})
				}
			}
		}
	})
}

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

// The page lists users with their active sessions, checkboxes and only the
// actions the actor may run, and never a session token.
func TestAdminHTTPPage(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
		bob1, bob2 := a.Browser("bob1"), a.Browser("bob2")
		bob1.MustLogin("bob")
		seedSessions(t, e.Store, "bob", 1)
		seedSessions(t, e.Store, "ruth", 3)
		bob2.MustLogin("carol")
		expired := seedSessions(t, e.Store, "carol", 1)
		expire(t, e, expired[0])

		buttons := map[string][2]bool{"root": {true, true}, "sam": {true, false}, "tess": {false, true}}
		for actor, want := range buttons {
			t.Run(actor, func(t *testing.T) {
				b := a.Browser(actor)
				b.MustLogin(actor)
				res, page := b.Send("GET", "/admin/sessions", "")
				require.Equal(t, http.StatusOK, res.StatusCode, page)
				assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
				assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
				assert.Contains(t, res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
				assert.Contains(t, page, "Signed in as <strong>"+actor+"</strong>")
				assert.Equal(t, want[0], strings.Contains(page, `value="logout">Log out the user on all sessions</button>`), actor)
				assert.Equal(t, want[1], strings.Contains(page, `value="logout_all">Log out the (admin) user on all sessions</button>`), actor)
				assert.Contains(t, page, `<form method="post" action="/admin/sessions/logout">`)
				for _, u := range adminUsers {
					assert.Contains(t, page, `name="user" value="`+u.ID+`"`)
				}
				assert.Regexp(t, `>bob</label></td>\s*<td class="n">2</td>`, page, "bob: two active sessions")
				assert.Regexp(t, `>ruth</label> <span class="tag">admin</span></td>\s*<td class="n">3</td>`, page)
				assert.Regexp(t, `>carol</label></td>\s*<td class="n">1</td>`, page, "the expired session is not counted")
				assert.NotContains(t, page, bob1.Cookie())
				assert.NotContains(t, page, bob2.Cookie())
				assert.NotContains(t, page, b.Cookie())
				assert.NotContains(t, page, "<script")

				res, _ = b.Send("HEAD", "/admin/sessions/", "")
				assert.Equal(t, http.StatusOK, res.StatusCode)
			})
		}
	})
}

// Post/redirect/get: the action redirects back to the page, under the
// prefix the page is mounted at, and the page shows the result once.
func TestAdminHTTPPostRedirectGet(t *testing.T) {
	for _, prefix := range adminPrefixes {
		t.Run(strings.ReplaceAll(prefix, "/", "_"), func(t *testing.T) {
			forEachStore(t, func(t *testing.T, e *env) {
				a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
				root := a.Browser("root")
				root.MustLogin("root")
				seedSessions(t, e.Store, "bob", 2)
				seedSessions(t, e.Store, "ruth", 1)

				res, page := root.Send("GET", prefix+"/", "")
				require.Equal(t, http.StatusOK, res.StatusCode)
				assert.Contains(t, page, `action="`+prefix+`/logout"`)
				assert.Contains(t, page, `<form method="get" action="`+prefix+`" role="search">`)

				form := actionForm("logout", "bob", "ruth", "ghost") + "&q=&page=1"
				res, _ = root.Send("POST", prefix+"/logout", form)
				require.Equal(t, http.StatusSeeOther, res.StatusCode)
				assert.Equal(t, prefix, res.Header.Get("Location"))

				res, page = root.Send("GET", res.Header.Get("Location"), "")
				require.Equal(t, http.StatusOK, res.StatusCode)
				assert.Contains(t, page, "<h2>Log out the user on all sessions</h2>")
				assert.Contains(t, page, "1 user signed out, 2 sessions ended, 2 users skipped.")
				assert.Contains(t, page, "<li>bob: 2 sessions ended</li>")
				assert.Contains(t, page, "<li>ruth: admin user: only “Log out the (admin) user on all sessions” (single_session.logout_all) signs admin users out</li>")
				assert.Contains(t, page, "<li>ghost: unknown user</li>")
				assert.Zero(t, e.SessionsOf(t, "bob"))
				assert.Equal(t, 1, e.SessionsOf(t, "ruth"))

				_, page = root.Send("GET", prefix, "")
				assert.NotContains(t, page, `class="result"`, "the result shows once")

				// The redirect keeps the search and the page.
				res, _ = root.Send("POST", prefix+"/logout", actionForm("logout_all", "ruth")+"&q=r&page=2")
				require.Equal(t, http.StatusSeeOther, res.StatusCode)
				assert.Equal(t, prefix+"?page=2&q=r", res.Header.Get("Location"))
				assert.Zero(t, e.SessionsOf(t, "ruth"))
			})
		})
	}
}

// An actor may sign themself out: the action completes with 303, ends their
// sessions with the others, and the next visit is anonymous.
func TestAdminHTTPSelfLogout(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
		root := a.Browser("root")
		root.MustLogin("root")
		seedSessions(t, e.Store, "root", 1)
		seedSessions(t, e.Store, "bob", 1)

		res, _ := root.Send("POST", "/admin/sessions/logout", actionForm("logout_all", "bob", "root"))
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/login", res.Header.Get("Location"))
		assert.Zero(t, e.SessionsOf(t, "root"))
		assert.Zero(t, e.SessionsOf(t, "bob"))
		res, _ = root.Send("GET", "/admin/sessions", "")
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/login", res.Header.Get("Location"))

		// In JSON the result comes back whole, the actor's own line included.
		root.MustLogin("root")
		res, body := root.Send("POST", "/admin/sessions/logout", actionForm("logout_all", "root"), "Accept", "application/json")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		assert.JSONEq(t, `{"action":"logout_all","actor":"root","signed_out":[{"user_id":"root","sessions":1}],"sessions":1,"skipped":[]}`, body)
		assert.Equal(t, "", root.WhoAmI())
	})
}

// Bad requests get a clear 4xx and end nothing.
func TestAdminHTTPBadRequests(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
		root := a.Browser("root")
		root.MustLogin("root")
		seedSessions(t, e.Store, "bob", 2)
		huge := actionForm("logout_all", "bob") + "&user=" + strings.Repeat("x", 1<<20)
		for name, tc := range map[string]struct {
			method, path, body string
			header             []string
			status             int
			want               string
		}{
			"empty form":        {"POST", "/admin/sessions/logout", "", nil, 400, "No action chosen"},
			"no action":         {"POST", "/admin/sessions/logout", "user=bob", nil, 400, "No action chosen"},
			"unknown action":    {"POST", "/admin/sessions/logout", actionForm("delete", "bob"), nil, 400, `unknown action "delete": choose logout or logout_all`},
			"no users":          {"POST", "/admin/sessions/logout", "action=logout_all", nil, 400, "Choose at least one user"},
			"empty user":        {"POST", "/admin/sessions/logout", "action=logout_all&user=bob&user=", nil, 400, `bad user "": empty`},
			"invalid UTF-8":     {"POST", "/admin/sessions/logout", "action=logout_all&user=bob&user=%FF", nil, 400, `bad user "\xff": not valid UTF-8`},
			"too long ID":       {"POST", "/admin/sessions/logout", actionForm("logout_all", "bob", strings.Repeat("x", 513)), nil, 400, "more than 512"},
			"bad escape":        {"POST", "/admin/sessions/logout", "action=logout_all&user=bob&user=%zz", nil, 400, "bad form"},
			"semicolon":         {"POST", "/admin/sessions/logout", "action=logout_all;user=bob", nil, 400, "bad form"},
			"oversized body":    {"POST", "/admin/sessions/logout", huge, nil, 413, "too large"},
			"JSON body":         {"POST", "/admin/sessions/logout", `{"action":"logout_all","user":["bob"]}`, []string{"Content-Type", "application/json"}, 415, "unsupported content type"},
			"cross-site fetch":  {"POST", "/admin/sessions/logout", actionForm("logout_all", "bob"), []string{"Sec-Fetch-Site", "cross-site"}, 403, "cross-origin"},
			"foreign origin":    {"POST", "/admin/sessions/logout", actionForm("logout_all", "bob"), []string{"Origin", "https://evil.example"}, 403, "cross-origin"},
			"GET the action":    {"GET", "/admin/sessions/logout", "", nil, 405, "use POST"},
			"DELETE the action": {"DELETE", "/admin/sessions/logout", "", nil, 405, "use POST"},
			"PUT the page":      {"PUT", "/admin/sessions", "", nil, 405, "use GET"},
			"POST the page":     {"POST", "/admin/sessions/", actionForm("logout_all", "bob"), nil, 405, "use GET"},
			"no such route":     {"GET", "/admin/sessions/nope", "", nil, 404, "not found"},
			"bad page number":   {"GET", "/admin/sessions?page=0", "", nil, 400, "bad page number"},
			"bad page text":     {"GET", "/admin/sessions?page=two", "", nil, 400, "bad page number"},
			"bad search":        {"GET", "/admin/sessions?q=%FF", "", nil, 400, "bad search"},
			"bad chosen user":   {"GET", "/admin/sessions?user=%FF", "", nil, 400, "bad user: not valid UTF-8"},
			"empty chosen user": {"GET", "/admin/sessions?user=", "", nil, 400, "bad user: empty"},
			"end: no fields":    {"POST", "/admin/sessions/sessions/end", "", nil, 400, "Choose a session to end."},
			"end: no id":        {"POST", "/admin/sessions/sessions/end", "user=bob", nil, 400, "Choose a session to end."},
			"end: bad user":     {"POST", "/admin/sessions/sessions/end", "user=%FF&id=x", nil, 400, "bad user: not valid UTF-8"},
			"end: bad form":     {"POST", "/admin/sessions/sessions/end", "user=bob&id=%zz", nil, 400, "bad form"},
			"end: JSON body":    {"POST", "/admin/sessions/sessions/end", `{}`, []string{"Content-Type", "application/json"}, 415, "unsupported content type"},
			"end: cross-site":   {"POST", "/admin/sessions/sessions/end", "user=bob&id=x", []string{"Sec-Fetch-Site", "cross-site"}, 403, "cross-origin"},
			"end: GET":          {"GET", "/admin/sessions/sessions/end", "", nil, 405, "use POST"},
		} {
			t.Run(name, func(t *testing.T) {
				res, body := root.Send(tc.method, tc.path, tc.body, tc.header...)
				assert.Equal(t, tc.status, res.StatusCode, body)
				assert.Contains(t, html.UnescapeString(body), tc.want)
				switch tc.status {
				case 405:
					if strings.HasSuffix(tc.path, "/logout") || strings.HasSuffix(tc.path, "/end") {
						assert.Equal(t, "POST", res.Header.Get("Allow"))
					} else {
						assert.Equal(t, "GET, HEAD", res.Header.Get("Allow"))
					}
				}
				assert.Equal(t, 2, e.SessionsOf(t, "bob"), "nothing ended")
				assert.Equal(t, "root", root.WhoAmI())
			})
		}

		// The same action from the page's own origin goes through.
		res, _ := root.Send("POST", "/admin/sessions/logout", actionForm("logout_all", "bob"),
			"Sec-Fetch-Site", "same-origin", "Origin", a.Srv.URL)
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Zero(t, e.SessionsOf(t, "bob"))
	})
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

// With Accept: application/json the page and the results are JSON, errors
// included.
func TestAdminHTTPJSON(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{PageSize: 4})
		sam := a.Browser("sam")
		sam.MustLogin("sam")
		seedSessions(t, e.Store, "bob", 2)

		p := pageJSON(sam, "/admin/sessions")
		assert.Equal(t, "sam", p.Actor)
		require.Len(t, p.Actions, 1, "only what sam may run")
		assert.Equal(t, "logout", p.Actions[0].Name)
		assert.Equal(t, "Log out the user on all sessions", p.Actions[0].Label)
		assert.Equal(t, 1, p.Page)
		assert.Equal(t, 4, p.PageSize)
		assert.Equal(t, 2, p.Pages)
		assert.Equal(t, 7, p.Total)
		require.Len(t, p.Users, 4)
		assert.Equal(t, "bob", p.Users[1].ID)
		assert.Equal(t, 2, p.Users[1].Sessions)
		assert.Equal(t, "root", p.Users[3].ID)
		assert.True(t, p.Users[3].Admin)

		res, body := sam.Send("POST", "/admin/sessions/logout", actionForm("logout", "bob", "root", "nobody"), "Accept", "application/json")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		assert.JSONEq(t, `{"action":"logout","actor":"sam","signed_out":[{"user_id":"bob","sessions":2}],"sessions":2,
			"skipped":[{"user_id":"root","reason":"admin_user"},{"user_id":"nobody","reason":"unknown_user"}]}`, body)

		res, body = sam.Send("POST", "/admin/sessions/logout", actionForm("logout_all", "root"), "Accept", "application/json")
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
		assert.JSONEq(t, `{"error":"forbidden: logout_all needs single_session.logout_all"}`, body)

		res, body = sam.Send("POST", "/admin/sessions/logout", "action=logout", "Accept", "application/json")
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assert.JSONEq(t, `{"error":"no users chosen"}`, body)

		res, body = sam.Send("GET", "/admin/sessions", "", "Accept", "application/json;q=0, text/html")
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, body, "<!doctype html>", "q=0 refuses JSON")
		res, _ = sam.Send("GET", "/admin/sessions", "", "Accept", "text/html, application/json;q=0.5")
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	})
}

// The page pages and searches through the directory.
func TestAdminHTTPPaginationAndSearch(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{PageSize: 2})
		root := a.Browser("root")
		root.MustLogin("root")
		names := func(p adminPage) []string {
			var list []string
			for _, u := range p.Users {
				list = append(list, u.ID)
			}
			return list
		}

		// alice bob carol root ruth sam tess
		for page, want := range map[int][]string{1: {"alice", "bob"}, 2: {"carol", "root"}, 4: {"tess"}, 9: nil} {
			t.Run(fmt.Sprint("page ", page), func(t *testing.T) {
				p := pageJSON(root, fmt.Sprintf("/admin/sessions?page=%d", page))
				assert.Equal(t, want, names(p), "page %d", page)
				assert.Equal(t, 7, p.Total)
				assert.Equal(t, 4, p.Pages)
				assert.Equal(t, page, p.Page)
			})
		}
		p := pageJSON(root, "/admin/sessions?q=r")
		assert.Equal(t, []string{"carol", "root"}, names(p))
		assert.Equal(t, 3, p.Total)
		assert.Equal(t, "r", p.Query)
		p = pageJSON(root, "/admin/sessions?q=r&page=2")
		assert.Equal(t, []string{"ruth"}, names(p))
		p = pageJSON(root, "/admin/sessions?q=nobody")
		assert.Empty(t, p.Users)
		assert.Zero(t, p.Total)
		assert.Equal(t, 1, p.Pages)

		_, page := root.Send("GET", "/ops/v1/people?q=r", "")
		assert.Contains(t, page, `Users 1–2 of 3, page 1 of 2.`)
		assert.Contains(t, page, `<a href="/ops/v1/people?page=2&amp;q=r" rel="next">Next page</a>`)
		assert.NotContains(t, page, `rel="prev"`)
		assert.Contains(t, page, `value="r"`, "the search box keeps the query")
		_, page = root.Send("GET", "/ops/v1/people/?q=r&page=2", "")
		assert.Contains(t, page, `<a href="/ops/v1/people?q=r" rel="prev">Previous page</a>`)
		assert.NotContains(t, page, `rel="next"`)
		_, page = root.Send("GET", "/admin/sessions?q=nobody", "")
		assert.Contains(t, page, "No users whose ID contains “nobody”.")
	})
}

// Ten thousand users in one form: one action, a result for each, and a
// flash that names the first hundred.
func TestAdminHTTP10000Users(t *testing.T) {
	const n = 10_000
	users := append(manyIDs(n), "root")
	known := make([]singlesession.User, 0, len(users))
	for _, id := range manyIDs(n) {
		known = append(known, singlesession.User{ID: id})
	}
	known = append(known, singlesession.User{ID: "root", Admin: true})
	form := actionForm("logout_all", manyIDs(n)...)
	require.Less(t, len(form), 1<<20, "within the default MaxBodyBytes")

	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		store := singlesession.NewMemoryStore()
		a := newAdminApp(t, store, singlesession.NewStaticDirectory(known...), singlesession.AdminConfig{})
		root := a.Browser("root")
		root.MustLogin("root")
		for _, id := range users[:n] {
			seedSessions(t, store, id, 1)
		}
		res, body := root.Send("POST", "/admin/sessions/logout", form, "Accept", "application/json")
		require.Equal(t, http.StatusOK, res.StatusCode, body[:min(len(body), 300)])
		var r singlesession.Result
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		assert.Len(t, r.SignedOut, n)
		assert.Equal(t, n, r.Sessions)
		counts, err := store.CountSessions(context.Background(), users)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"root": 1}, counts)

		// The same in HTML: the flash is trimmed, the page says how many.
		for _, id := range users[:n] {
			seedSessions(t, store, id, 1)
		}
		res, _ = root.Send("POST", "/admin/sessions/logout", form)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		_, page := root.Send("GET", "/admin/sessions", "")
		assert.Contains(t, page, "10000 users signed out, 10000 sessions ended.")
		assert.Contains(t, page, "<li>user-00099: 1 session ended</li>")
		assert.NotContains(t, page, "<li>user-00100:")
		assert.Contains(t, page, "<li>and 9900 more</li>")
	})

	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		pool, counter := tracedPool(t)
		store := pgxstore.New(pool)
		a := newAdminApp(t, store, singlesession.NewStaticDirectory(known...), singlesession.AdminConfig{})
		root := a.Browser("root")
		root.MustLogin("root")
		// Warm up the statements.
		seedManyPostgres(t, pool, 1, 1)
		res, _ := root.Send("POST", "/admin/sessions/logout", actionForm("logout_all", "user-00000"), "Accept", "application/json")
		require.Equal(t, http.StatusOK, res.StatusCode)

		seedManyPostgres(t, pool, n, 3)
		counter.Take()
		res, body := root.Send("POST", "/admin/sessions/logout", form, "Accept", "application/json")
		q := counter.Take()
		require.Equal(t, http.StatusOK, res.StatusCode, body[:min(len(body), 300)])
		var r singlesession.Result
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		assert.Len(t, r.SignedOut, n)
		assert.Equal(t, 3*n, r.Sessions)
		t.Logf("POST of logout_all for %d users × 3 sessions: %d round trips", n, len(q))
		assert.Len(t, q, 2, "session load, delete (the directory is in memory): %v", q)
		counts, err := store.CountSessions(context.Background(), users)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"root": 1}, counts)
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

// HomeURL puts a way back to the application on the page; without it there
// is none.
func TestAdminHTTPHomeURL(t *testing.T) {
	for home, want := range map[string]string{"/app/": `<a href="/app/">Back to the application</a>`, "": ""} {
		t.Run(cmp.Or(home, "none"), func(t *testing.T) {
			a := newAdminApp(t, singlesession.NewMemoryStore(), singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{HomeURL: home})
			root := a.Browser("root")
			root.MustLogin("root")
			_, page := root.Send("GET", "/admin/sessions", "")
			if want != "" {
				assert.Contains(t, page, want)
			} else {
				assert.NotContains(t, page, "Back to the application")
			}
		})
	}
	_, err := singlesession.NewAdmin(newApp(t, singlesession.NewMemoryStore()).M, singlesession.NewStaticDirectory(adminUsers...),
		singlesession.AdminConfig{HomeURL: "http://[::1"})
	assert.ErrorContains(t, err, "cfg.HomeURL")
}

// A post that chose no user answers 400, as the status table says, without
// leaving the browser on the POST: the short page it gets sends it back to
// the page at once (Refresh), keeping the search and page it came from, and
// the page shows the message once. Reloading it posts nothing.
func TestAdminHTTPNoUserChosen(t *testing.T) {
	a := newAdminApp(t, singlesession.NewMemoryStore(), singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
	root := a.Browser("root")
	root.MustLogin("root")
	seedSessions(t, a.Store, "bob", 1)
	for name, tc := range map[string]struct{ form, msg string }{
		"no user":        {"action=logout&q=bo&page=1", "Choose at least one user, then an action."},
		"no action":      {"user=bob&q=bo&page=1", "No action chosen: press one of the buttons under the list."},
		"unknown action": {"action=delete&user=bob&q=bo&page=1", `Unknown action: unknown action "delete": choose logout or logout_all.`},
	} {
		t.Run(name, func(t *testing.T) {
			res, page := root.Send("POST", "/admin/sessions/logout", tc.form)
			assert.Equal(t, http.StatusBadRequest, res.StatusCode)
			assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
			assert.Equal(t, "0; url=/admin/sessions?q=bo", res.Header.Get("Refresh"), "back to the page at once")
			assert.Contains(t, html.UnescapeString(page), `<p class="error" role="alert">`+tc.msg+`</p>`)
			assert.Contains(t, page, `<a href="/admin/sessions?q=bo">Back to the sessions page</a>`, "for a client that ignores Refresh")
			assert.NotContains(t, page, "<form", "nothing on it posts")

			res, page = root.Send("GET", "/admin/sessions?q=bo", "")
			require.Equal(t, http.StatusOK, res.StatusCode)
			assert.Contains(t, html.UnescapeString(page), `<p class="error" role="alert">`+tc.msg+`</p>`)
			assert.Contains(t, page, `value="bob"`, "the page lists the users of the search")
			assert.NotContains(t, page, `value="alice"`)
			_, page = root.Send("GET", "/admin/sessions?q=bo", "")
			assert.NotContains(t, page, `class="error"`, "the message shows once")
			assert.Equal(t, 1, (&env{Store: a.Store}).SessionsOf(t, "bob"), "nothing ended")
		})
	}

	// Automation keeps its plain 400.
	res, body := root.Send("POST", "/admin/sessions/logout", "action=logout", "Accept", "application/json")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Empty(t, res.Header.Get("Refresh"))
	assert.JSONEq(t, `{"error":"no users chosen"}`, body)
	_, page := root.Send("GET", "/admin/sessions", "")
	assert.NotContains(t, page, `class="error"`, "a JSON error leaves no message for the page")
}

// A directory that fails gives 500 and ends nothing.
func TestAdminHTTPDirectoryError(t *testing.T) {
	store := singlesession.NewMemoryStore()
	dir := &failingDirectory{Directory: singlesession.NewStaticDirectory(adminUsers...)}
	a := newAdminApp(t, store, dir, singlesession.AdminConfig{})
	root := a.Browser("root")
	root.MustLogin("root")
	seedSessions(t, store, "bob", 1)
	dir.fail.Store(true)
	res, body := root.Send("POST", "/admin/sessions/logout", actionForm("logout_all", "bob"))
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.NotContains(t, body, "directory down", "internal errors stay in the log")
	assert.Equal(t, 1, (&env{Store: store}).SessionsOf(t, "bob"))
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

// A search PostgreSQL's text cannot hold (a NUL byte, invalid UTF-8) is bad
// input, 400, not a directory failure, 500; in a form's q it is dropped, as
// the page's own links would never carry it.
func TestAdminHTTPSearchPostgresRejects(t *testing.T) {
	t.Parallel()
	pool := migratedPool(t)
	store := pgxstore.New(pool)
	dir := pgxstore.NewDirectory(pool)
	require.NoError(t, grantErr(dir.Grant(context.Background(), "root", pgxstore.GrantAdmin)))
	a := newAdminApp(t, store, dir, singlesession.AdminConfig{})
	root := a.Browser("root")
	root.MustLogin("root")
	seedSessions(t, store, "bob", 1)

	for name, tc := range map[string]struct{ path, want string }{
		"NUL":                 {"/admin/sessions?q=%00", "bad search: contains a NUL byte"},
		"NUL inside":          {"/admin/sessions?q=b%00b&page=2", "bad search: contains a NUL byte"},
		"invalid UTF-8":       {"/admin/sessions?q=%FF", "bad search: not valid UTF-8"},
		"invalid UTF-8 + NUL": {"/admin/sessions?q=%C3%00", "bad search: not valid UTF-8"},
		"too long":            {"/admin/sessions?q=" + strings.Repeat("b", 513), "bad search: 513 bytes, more than 512"},
	} {
		t.Run(name, func(t *testing.T) {
			res, body := root.Send("GET", tc.path, "")
			assert.Equal(t, http.StatusBadRequest, res.StatusCode, body)
			assert.Contains(t, body, tc.want)
			res, body = root.Send("GET", tc.path, "", "Accept", "application/json")
			assert.Equal(t, http.StatusBadRequest, res.StatusCode, body)
			assert.JSONEq(t, fmt.Sprintf(`{"error": %q}`, tc.want), body)
		})
	}

	t.Run("form", func(t *testing.T) {
		// No user chosen: back to the page, without the search.
		res, page := root.Send("POST", "/admin/sessions/logout", "action=logout&q=%00&page=1")
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, page)
		assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
		assert.Contains(t, page, `Choose at least one user, then an action.`)
		assert.Equal(t, "0; url=/admin/sessions", res.Header.Get("Refresh"))
		_, page = root.Send("GET", "/admin/sessions", "")
		assert.Contains(t, page, `Choose at least one user, then an action.`)
		assert.Contains(t, page, `value="bob"`)

		// An action: done, and back to the page without the search.
		res, body := root.Send("POST", "/admin/sessions/logout", actionForm("logout_all", "bob")+"&q=b%00&page=1")
		assert.Equal(t, http.StatusSeeOther, res.StatusCode, body)
		assert.Equal(t, "/admin/sessions", res.Header.Get("Location"))
		assert.Zero(t, (&env{Store: store, Pool: pool}).SessionsOf(t, "bob"))
	})

	t.Run("ordinary search", func(t *testing.T) {
		seedSessions(t, store, "bob", 1)
		p := pageJSON(root, "/admin/sessions?q=bo")
		assert.Equal(t, "bo", p.Query)
		require.Len(t, p.Users, 1)
		assert.Equal(t, "bob", p.Users[0].ID)
		assert.Equal(t, 1, p.Users[0].Sessions)
		res, page := root.Send("GET", "/admin/sessions?q=%C3%A9", "")
		assert.Equal(t, http.StatusOK, res.StatusCode, page)
		assert.Contains(t, page, "No users", "a valid search that matches nobody")
	})
}
