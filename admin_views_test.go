package singlesession_test

// What the admin page shows, in HTML and JSON: users, counts, searches,
// pages, a user's sessions, its stylesheet and its words.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
				assert.Equal(t, want[0], regexp.MustCompile(`value="logout"[^>]*>Sign out everywhere</button>`).MatchString(page), actor)
				assert.Equal(t, want[1], regexp.MustCompile(`value="logout_all"[^>]*>Sign out everywhere, admin users included</button>`).MatchString(page), actor)
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
				assert.Equal(t, 1, strings.Count(page, "<script"), "one script")
				assert.Regexp(t, `<script src="/admin/sessions/admin.js\?v=[0-9a-f]{12}" defer></script>`, page, "its own, no inline script")

				res, _ = b.Send("HEAD", "/admin/sessions/", "")
				assert.Equal(t, http.StatusOK, res.StatusCode)
			})
		}
	})
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
		assert.Equal(t, "Sign out everywhere", p.Actions[0].Label)
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

// WatchURL makes the page listen for the end of the operator's own
// session there, and its policy allow that connection; without it the page
// neither listens nor may connect anywhere. A WatchURL off the page's
// origin is refused.
func TestAdminHTTPWatchURL(t *testing.T) {
	for watch, want := range map[string]string{"/session/events": `<body data-watch="/session/events" data-login="/signin">`, "": "<body>"} {
		t.Run(cmp.Or(watch, "none"), func(t *testing.T) {
			a := newAdminApp(t, singlesession.NewMemoryStore(), singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{WatchURL: watch, LoginURL: "/signin"})
			root := a.Browser("root")
			root.MustLogin("root")
			res, page := root.Send("GET", "/admin/sessions", "")
			assert.Contains(t, page, want)
			csp := res.Header.Get("Content-Security-Policy")
			assert.Contains(t, csp, "default-src 'none'")
			if watch != "" {
				assert.Contains(t, csp, "connect-src 'self'")
			} else {
				assert.NotContains(t, csp, "connect-src")
			}
		})
	}
	for _, bad := range []string{"https://elsewhere.example/events", "//elsewhere.example/events", "/\\elsewhere.example/events",
		"/\\/elsewhere.example/events", "events", "http://[::1", "/%zz"} {
		_, err := singlesession.NewAdmin(newApp(t, singlesession.NewMemoryStore()).M, singlesession.NewStaticDirectory(adminUsers...),
			singlesession.AdminConfig{WatchURL: bad})
		assert.ErrorContains(t, err, "cfg.WatchURL", bad)
	}
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

// The page lists a chosen user's sessions: device and browser from the
// User-Agent, IP, times, never a token; and "End session" buttons only for
// an actor who may end them.
func TestAdminHTTPUserSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
		bobIDs := seedDevices(t, e.Store, "bob", firefoxLinux, safariIPhone)
		seedDevices(t, e.Store, "ruth", edgeWindows)
		root, sam := a.Browser("root"), a.Browser("sam")
		root.MustLogin("root")
		sam.MustLogin("sam")

		res, page := root.Send("GET", "/admin/sessions?user=bob", "")
		require.Equal(t, http.StatusOK, res.StatusCode, page)
		assert.Contains(t, page, `<h2 id="sessions-of">Sessions of bob</h2>`)
		assert.Contains(t, page, `<td data-label="Device" class="device" title="`+html.EscapeString(firefoxLinux)+`"><span>Firefox on Linux</span></td>`)
		assert.Contains(t, page, `><span>Safari on iOS</span></td>`)
		assert.Contains(t, page, `<td data-label="IP"><span>192.0.2.10</span></td>`)
		assert.Contains(t, page, `<td data-label="IP"><span>192.0.2.11</span></td>`)
		// One format for times, with the year and the zone, and RFC 3339
		// for machines; last seen also as "just now".
		assert.Regexp(t, `<td data-label="Signed in" class="time"><span><time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC</time></span></td>`, page)
		assert.Regexp(t, `<time datetime="[^"]+" title="[^"]+ UTC">just now</time>`, page)
		assert.Contains(t, page, `<th scope="col">Last seen</th>`)
		assert.Equal(t, 2, strings.Count(page, `<form method="post" action="/admin/sessions/sessions/end">`))
		for _, id := range bobIDs {
			assert.Contains(t, page, `<input type="hidden" name="id" value="`+id+`">`)
		}
		assert.Contains(t, page, `<tr class="chosen">`, "the chosen user's row is marked")
		assert.NotContains(t, page, "dev-bob", "no token")
		assert.Contains(t, page, `<a href="/admin/sessions?user=bob">sessions</a>`, "each row links its sessions")

		// sam holds logout only: ruth is an admin user, so no button.
		res, page = sam.Send("GET", "/admin/sessions?user=ruth", "")
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, page, `><span>Edge on Windows</span></td>`)
		assert.NotContains(t, page, `/sessions/end"`)
		assert.Contains(t, html.UnescapeString(page), "Ending an admin user’s sessions needs single_session.logout_all.")
		_, page = sam.Send("GET", "/admin/sessions?user=bob", "")
		assert.Contains(t, page, `/sessions/end"`)

		// The actor's own session is marked, and its button signs this
		// browser out; another of the actor's sessions is ended as anyone's.
		seedDevices(t, e.Store, "root", firefoxLinux)
		_, page = root.Send("GET", "/admin/sessions?user=root", "")
		assert.Contains(t, page, `<span class="tag you">this browser</span>`)
		assert.Equal(t, 1, strings.Count(page, `>Sign out</button>`), "this browser's row")
		assert.Equal(t, 1, strings.Count(page, `>End session</button>`), "the other row")

		// A user with none, and one the directory does not know.
		_, page = root.Send("GET", "/admin/sessions?user=alice", "")
		assert.Contains(t, page, "No active session.")
		res, page = root.Send("GET", "/admin/sessions?user=ghost", "")
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
		assert.Contains(t, html.UnescapeString(page), "No user “ghost”")

		// JSON.
		res, body := root.Send("GET", "/admin/sessions?user=bob", "", "Accept", "application/json")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		var p struct {
			User struct {
				ID       string `json:"id"`
				Admin    bool   `json:"admin"`
				CanEnd   bool   `json:"can_end"`
				Sessions []struct {
					ID        string    `json:"id"`
					Created   time.Time `json:"created"`
					LastSeen  time.Time `json:"last_seen"`
					Expiry    time.Time `json:"expiry"`
					IP        string    `json:"ip"`
					UserAgent string    `json:"user_agent"`
					Device    string    `json:"device"`
					Current   bool      `json:"current"`
				} `json:"sessions"`
			} `json:"user"`
			Users []json.RawMessage `json:"users"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &p))
		assert.Equal(t, "bob", p.User.ID)
		assert.True(t, p.User.CanEnd)
		require.Len(t, p.User.Sessions, 2)
		assert.Equal(t, bobIDs[1], p.User.Sessions[0].ID, "most recently used first")
		assert.Equal(t, bobIDs[0], p.User.Sessions[1].ID)
		assert.Equal(t, "Firefox on Linux", p.User.Sessions[1].Device)
		assert.Equal(t, firefoxLinux, p.User.Sessions[1].UserAgent)
		assert.Equal(t, "192.0.2.10", p.User.Sessions[1].IP)
		assert.False(t, p.User.Sessions[1].Created.IsZero())
		assert.Len(t, p.Users, 7, "the list of users is still there")
		_, body = sam.Send("GET", "/admin/sessions?user=ruth", "", "Accept", "application/json")
		assert.Contains(t, body, `"can_end":false`)
		res, body = root.Send("GET", "/admin/sessions?user=ghost", "", "Accept", "application/json")
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
		assert.JSONEq(t, `{"error":"unknown user"}`, body)
		_, body = root.Send("GET", "/admin/sessions", "", "Accept", "application/json")
		assert.NotContains(t, body, `"user":`, "no user chosen, no user field")
	})
}

// The page has a stylesheet and a script of its own, served by the handler
// to anyone and allowed by its Content-Security-Policy, which allows no
// inline style or script and nothing from elsewhere.
func TestAdminHTTPAssets(t *testing.T) {
	a := newAdminApp(t, singlesession.NewMemoryStore(), singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
	root := a.Browser("root")
	root.MustLogin("root")
	for _, prefix := range adminPrefixes {
		res, page := root.Send("GET", prefix, "")
		require.Equal(t, http.StatusOK, res.StatusCode)
		csp := res.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "default-src 'none'")
		assert.Contains(t, csp, "style-src 'self'")
		assert.Contains(t, csp, "script-src 'self'")
		assert.NotContains(t, csp, "unsafe-inline")
		assert.NotContains(t, page, "<style")
		assert.NotContains(t, page, "style=")
		assert.NotRegexp(t, `\son[a-z]+=`, page, "no inline event handler")
		for _, tc := range []struct{ re, contentType, want string }{
			{`<link rel="stylesheet" href="(` + prefix + `/admin.css\?v=[0-9a-f]{12})">`, "text/css; charset=utf-8", "--accent:"},
			{`<script src="(` + prefix + `/admin.js\?v=[0-9a-f]{12})" defer></script>`, "text/javascript; charset=utf-8", "window.confirm("},
		} {
			m := regexp.MustCompile(tc.re).FindStringSubmatch(page)
			require.NotNil(t, m, tc.re)
			href := m[1]
			for _, b := range []*browser{root, a.Browser("anonymous")} {
				res, body := b.Send("GET", href, "")
				require.Equal(t, http.StatusOK, res.StatusCode)
				assert.Equal(t, tc.contentType, res.Header.Get("Content-Type"))
				assert.Equal(t, "public, max-age=31536000, immutable", res.Header.Get("Cache-Control"))
				assert.Contains(t, body, tc.want)
			}
			plain, _, _ := strings.Cut(href, "?")
			res, _ = root.Send("GET", plain, "")
			assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"), "without the version, check each time")
			etag := res.Header.Get("ETag")
			require.NotEmpty(t, etag)
			res, _ = root.Send("GET", plain, "", "If-None-Match", etag)
			assert.Equal(t, http.StatusNotModified, res.StatusCode)
			res, _ = root.Send("POST", plain, "")
			assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
		}
	}
}

// Every button that ends sessions asks first (the page's script reads
// data-confirm): the actions, naming the ticked users in place of {users},
// and each session's button, naming this browser or the user and device.
func TestAdminHTTPConfirm(t *testing.T) {
	a := newAdminApp(t, singlesession.NewMemoryStore(), singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
	root := a.Browser("root")
	root.MustLogin("root")
	seedDevices(t, a.Store, "root", firefoxLinux)
	_, page := root.Send("GET", "/admin/sessions?user=root", "")
	page = html.UnescapeString(page)
	assert.Contains(t, page, `value="logout" data-confirm="Sign {users} out everywhere? Every session of theirs ends; admin users are skipped.">`)
	assert.Contains(t, page, `value="logout_all" data-confirm="Sign {users} out everywhere, admin users included? Every session of theirs ends.">`)
	assert.Contains(t, page, `data-confirm="Sign this browser out?">Sign out</button>`)
	assert.Contains(t, page, `data-confirm="End this session of root (Firefox on Linux)? That browser is signed out.">End session</button>`)
	assert.Equal(t, 4, strings.Count(page, "data-confirm="))
}

// Under each action's button, one line says what it does to admin users.
func TestAdminHTTPActionNotes(t *testing.T) {
	a := newAdminApp(t, singlesession.NewMemoryStore(), singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
	root := a.Browser("root")
	root.MustLogin("root")
	_, page := root.Send("GET", "/admin/sessions", "")
	assert.Regexp(t, `value="logout"[^>]*>Sign out everywhere</button>\s*<small class="note">Ends every session of the ticked users; skips admin users.</small>`, page)
	assert.Regexp(t, `value="logout_all"[^>]*>Sign out everywhere, admin users included</button>\s*<small class="note">Ends every session of the ticked users, admin users too.</small>`, page)
}

// sessionsPage is the part of the admin page's JSON that lists a user's
// sessions.
type sessionsPage struct {
	User struct {
		ID       string `json:"id"`
		Total    int    `json:"total"`
		Cursor   string `json:"cursor"`
		Next     string `json:"next"`
		Sessions []struct {
			ID     string `json:"id"`
			Device string `json:"device"`
		} `json:"sessions"`
	} `json:"user"`
}

func sessionsJSON(b *browser, path string) sessionsPage {
	b.T.Helper()
	res, body := b.Send("GET", path, "", "Accept", "application/json")
	require.Equal(b.T, http.StatusOK, res.StatusCode, body)
	var p sessionsPage
	require.NoError(b.T, json.Unmarshal([]byte(body), &p), body)
	return p
}

var sessionsNextRE = regexp.MustCompile(`<a href="([^"]*)" rel="next" id="sessions-next">`)

// A user's sessions come one page at a time (Config.PageSize), most
// recently used first, with the user's total and a link to the next page
// (?cursor=), in HTML and JSON; a cursor no page gave is 400. Ending a
// session from a later page returns to that page.
func TestAdminHTTPSessionsPaged(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{},
			withConfig(func(c *singlesession.Config) { c.PageSize = 2 }))
		root := a.Browser("root")
		root.MustLogin("root")
		ids := seedDevices(t, e.Store, "bob", firefoxLinux, safariIPhone, edgeWindows, chromeAndroid, firefoxLinux)

		// HTML: three pages of 2, 2 and 1.
		var seen []string
		path := "/ops/v1/people?user=bob"
		for n, want := range []int{2, 2, 1} {
			res, page := root.Send("GET", path, "")
			require.Equal(t, http.StatusOK, res.StatusCode, page)
			assert.Contains(t, page, fmt.Sprintf(`<p class="summary">5 sessions, most recently used first: %d on this page.</p>`, want))
			assert.Equal(t, want, strings.Count(page, `name="id" value="`), "page %d", n+1)
			for _, id := range ids {
				if strings.Contains(page, `name="id" value="`+id+`"`) {
					seen = append(seen, id)
				}
			}
			assert.Equal(t, n > 0, strings.Contains(page, `<a href="/ops/v1/people?user=bob" id="sessions-first">`), "page %d links the first", n+1)
			m := sessionsNextRE.FindStringSubmatch(page)
			if n == 2 {
				assert.Nil(t, m, "the last page links no next one")
				break
			}
			require.NotNil(t, m, "page %d links the next", n+1)
			path = html.UnescapeString(m[1])
			assert.True(t, strings.HasPrefix(path, "/ops/v1/people?cursor="), path)
			if n == 1 {
				// An end form on a later page carries its cursor back.
				cursor := strings.TrimSuffix(strings.TrimPrefix(path, "/ops/v1/people?cursor="), "&user=bob")
				_, page = root.Send("GET", path, "")
				assert.Contains(t, page, `<input type="hidden" name="cursor" value="`+cursor+`">`)
			}
		}
		assert.ElementsMatch(t, ids, seen, "every session once")

		// JSON: the same pages.
		p := sessionsJSON(root, "/admin/sessions?user=bob")
		assert.Equal(t, 5, p.User.Total)
		assert.Empty(t, p.User.Cursor)
		require.Len(t, p.User.Sessions, 2)
		require.NotEmpty(t, p.User.Next)
		p2 := sessionsJSON(root, "/admin/sessions?user=bob&cursor="+p.User.Next)
		assert.Equal(t, 5, p2.User.Total)
		assert.Equal(t, p.User.Next, p2.User.Cursor)
		require.Len(t, p2.User.Sessions, 2)
		assert.NotEqual(t, p.User.Sessions[0].ID, p2.User.Sessions[0].ID)

		// Ending one of page 2's sessions returns to page 2.
		res, body := root.Send("POST", "/admin/sessions/sessions/end", endForm("bob", p2.User.Sessions[0].ID)+"&cursor="+p.User.Next)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
		assert.Equal(t, "/admin/sessions?cursor="+p.User.Next+"&user=bob", res.Header.Get("Location"))
		assert.Equal(t, 4, sessionsJSON(root, "/admin/sessions?user=bob").User.Total)
		res, _ = root.Send("POST", "/admin/sessions/sessions/end", endForm("bob", p2.User.Sessions[1].ID)+"&cursor=%21%21")
		assert.Equal(t, "/admin/sessions?user=bob", res.Header.Get("Location"), "a bad cursor is dropped")

		// A cursor no page gave.
		for _, c := range []string{"nope", "%21%21", "MTIz", strings.Repeat("A", 300)} {
			res, body = root.Send("GET", "/admin/sessions?user=bob&cursor="+c, "")
			assert.Equal(t, http.StatusBadRequest, res.StatusCode, c)
			assert.Contains(t, body, "bad cursor", c)
			res, body = root.Send("GET", "/admin/sessions?user=bob&cursor="+c, "", "Accept", "application/json")
			assert.Equal(t, http.StatusBadRequest, res.StatusCode, c)
			assert.Contains(t, body, `{"error":"bad cursor`, c)
		}
		res, _ = root.Send("GET", "/admin/sessions?cursor=nope", "")
		assert.Equal(t, http.StatusOK, res.StatusCode, "no user: no sessions listed, no cursor read")
	})
}

// crowdUA is the User-Agent of the crowd's sessions.
const crowdUA = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"

// seedCrowd gives the user "crowd" n live sessions, the fastest way each
// store allows: MemoryStore through Store.Login, PostgreSQL with one INSERT
// of generate_series. Their LastSeen are a second apart.
func seedCrowd(t testing.TB, store singlesession.Store, pool *pgxpool.Pool, n int) {
	t.Helper()
	ctx := context.Background()
	if pool != nil {
		_, err := pool.Exec(ctx, `
WITH s AS (
	INSERT INTO sessions (token, data, expiry)
	SELECT format('crowd-%s', i), '\x00', now() + interval '1 hour'
	FROM generate_series(1, $1::int) i
	RETURNING token
)
INSERT INTO singlesession_links (token, user_id, ip, user_agent, created, last_seen)
SELECT token, 'crowd', format('192.0.2.%s', split_part(token, '-', 2)::int % 250), $2,
	now() - interval '1 day', now() - split_part(token, '-', 2)::int * interval '1 second'
FROM s`, n, crowdUA)
		require.NoError(t, err)
		return
	}
	expiry := time.Now().Add(time.Hour)
	for i := range n {
		_, err := store.Login(ctx, singlesession.Login{UserID: "crowd", Token: fmt.Sprintf("crowd-%d", i), Data: []byte{0},
			Expiry: expiry, IP: fmt.Sprintf("192.0.2.%d", i%250), UserAgent: crowdUA})
		require.NoError(t, err)
	}
}

// The admin page of a user with 100,000 sessions (SPEC 8.5) answers within
// 1 s and under 1 MB, in HTML and in JSON, with the total and a link to the
// next page, which works. The bounds are bounds, not a measure of speed:
// BenchmarkAdminPage100000Sessions measures. The test runs alone (no
// t.Parallel), so that other tests do not take its time.
func TestAdminHTTP100000Sessions(t *testing.T) {
	const n = 100_000
	dir := singlesession.NewStaticDirectory(append(slices.Clone(adminUsers), singlesession.User{ID: "crowd"})...)
	for _, name := range []string{"memory", "postgres"} {
		t.Run(name, func(t *testing.T) {
			var store singlesession.Store = singlesession.NewMemoryStore()
			var pool *pgxpool.Pool
			if name == "postgres" {
				pool = migratedPool(t)
				store = pgxstore.New(pool)
			}
			start := time.Now()
			seedCrowd(t, store, pool, n)
			t.Logf("%s: %d sessions seeded in %v", name, n, time.Since(start).Round(time.Millisecond))
			a := newAdminApp(t, store, dir, singlesession.AdminConfig{})
			root := a.Browser("root")
			root.MustLogin("root")

			// get asks up to three times and keeps the fastest answer: the
			// bound is the page's, not that of a machine that is busy with
			// other work at that moment.
			get := func(path string, header ...string) string {
				t.Helper()
				var body string
				fastest := time.Duration(math.MaxInt64)
				for try := 0; try < 3 && fastest >= time.Second; try++ {
					start := time.Now()
					res, b := root.Send("GET", path, "", header...)
					elapsed := time.Since(start)
					require.Equal(t, http.StatusOK, res.StatusCode, b[:min(len(b), 300)])
					t.Logf("%s: GET %s %s: %v, %d bytes", name, path[:min(len(path), 60)], header, elapsed.Round(time.Millisecond), len(b))
					body, fastest = b, min(fastest, elapsed)
				}
				assert.Less(t, fastest, time.Second, "within 1 s")
				assert.Less(t, len(body), 1<<20, "under 1 MB")
				return body
			}

			page := get("/admin/sessions?user=crowd")
			assert.Contains(t, page, `<p class="summary">100,000 sessions, most recently used first: 50 on this page.</p>`)
			assert.Equal(t, 50, strings.Count(page, `name="id" value="`))
			m := sessionsNextRE.FindStringSubmatch(page)
			require.NotNil(t, m, "a link to the next page")
			next := get(html.UnescapeString(m[1]))
			assert.Contains(t, next, `<p class="summary">100,000 sessions, most recently used first: 50 on this page.</p>`)
			assert.Contains(t, next, `id="sessions-first"`)
			first := regexp.MustCompile(`name="id" value="([^"]+)"`)
			assert.NotEqual(t, first.FindStringSubmatch(page)[1], first.FindStringSubmatch(next)[1], "the next page lists other sessions")

			body := get("/admin/sessions?user=crowd", "Accept", "application/json")
			var p sessionsPage
			require.NoError(t, json.Unmarshal([]byte(body), &p))
			assert.Equal(t, n, p.User.Total)
			assert.Len(t, p.User.Sessions, 50)
			require.NotEmpty(t, p.User.Next)
			body = get("/admin/sessions?user=crowd&cursor="+p.User.Next, "Accept", "application/json")
			var p2 sessionsPage
			require.NoError(t, json.Unmarshal([]byte(body), &p2))
			assert.Len(t, p2.User.Sessions, 50)
			assert.NotEqual(t, p.User.Sessions[49].ID, p2.User.Sessions[0].ID)
		})
	}
}

// BenchmarkAdminPage100000Sessions times the admin page (HTML) of a user
// with 100,000 sessions, on each store, and reports its size. Run it with
//
//	go test -run '^$' -bench AdminPage100000 -benchtime 20x
func BenchmarkAdminPage100000Sessions(b *testing.B) {
	const n = 100_000
	dir := singlesession.NewStaticDirectory(append(slices.Clone(adminUsers), singlesession.User{ID: "crowd"})...)
	for _, name := range []string{"memory", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var store singlesession.Store = singlesession.NewMemoryStore()
			var pool *pgxpool.Pool
			if name == "postgres" {
				pool = migratedPool(b)
				store = pgxstore.New(pool)
			}
			seedCrowd(b, store, pool, n)
			a := newAdminApp(b, store, dir, singlesession.AdminConfig{})
			root := a.Browser("root")
			root.MustLogin("root")
			for _, accept := range []string{"text/html", "application/json"} {
				b.Run(accept, func(b *testing.B) {
					size := 0
					for b.Loop() {
						res, body := root.Send("GET", "/admin/sessions?user=crowd", "", "Accept", accept)
						if res.StatusCode != http.StatusOK {
							b.Fatal(res.StatusCode)
						}
						size = len(body)
					}
					b.ReportMetric(float64(size), "bytes/page")
				})
			}
		})
	}
}

// AdminConfig.Device names the devices of the page and its JSON, so that
// an application's parser and the page agree; nil is the built-in summary.
func TestAdminHTTPDevice(t *testing.T) {
	for name, tc := range map[string]struct {
		device func(string) string
		want   string
	}{
		"built-in":    {nil, "Firefox on Linux"},
		"application": {func(ua string) string { return "Firefox 140 on Linux (" + strings.Fields(ua)[0] + ")" }, "Firefox 140 on Linux (Mozilla/5.0)"},
	} {
		t.Run(name, func(t *testing.T) {
			a := newAdminApp(t, singlesession.NewMemoryStore(), singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{Device: tc.device})
			root := a.Browser("root")
			root.MustLogin("root")
			seedDevices(t, a.Store, "bob", firefoxLinux)
			_, page := root.Send("GET", "/admin/sessions?user=bob", "")
			assert.Contains(t, page, "<span>"+tc.want+"</span></td>")
			p := sessionsJSON(root, "/admin/sessions?user=bob")
			require.Len(t, p.User.Sessions, 1)
			assert.Equal(t, tc.want, p.User.Sessions[0].Device)
		})
	}
}

// The page writes times one way, with the year and the zone, and says how
// long ago a session was last seen as people do.
func TestAdminTimes(t *testing.T) {
	at := time.Date(2026, 12, 5, 18, 47, 31, 0, time.FixedZone("CET", 3600))
	assert.Equal(t, "5 Dec 2026, 17:47 UTC", singlesession.When(at))
	assert.Equal(t, "-", singlesession.When(time.Time{}))
	for d, want := range map[time.Duration]string{
		-time.Minute:          "just now",
		59 * time.Second:      "just now",
		time.Minute:           "1 minute ago",
		3*time.Minute + 5:     "3 minutes ago",
		5 * time.Hour:         "5 hours ago",
		30 * time.Hour:        "yesterday",
		4*24*time.Hour + 1000: "4 days ago",
		1000 * 24 * time.Hour: "1,000 days ago",
	} {
		assert.Equal(t, want, singlesession.Ago(at.Add(-d), at), "%v", d)
	}
}
