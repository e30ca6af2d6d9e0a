package singlesession_test

// The admin page's forms: the actions and the end of one session, their
// refusals, and what they leave for the page.

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
							assert.Contains(t, page, target+" was skipped: an admin user")
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
				assert.Contains(t, page, "<h2>Signed out everywhere</h2>")
				assert.Contains(t, page, "1 user signed out, 2 sessions ended, 2 users skipped.")
				assert.Contains(t, page, "<li>bob: 2 sessions ended</li>")
				assert.Contains(t, page, "<li>ruth was skipped: an admin user; only “Sign out everywhere, admin users included” (single_session.logout_all) signs admin users out.</li>")
				assert.Contains(t, page, "<li>ghost was skipped: the directory does not know this user.</li>")
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
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{}, withPolicy(singlesession.Never))
		root, laptop := a.Browser("root"), a.Browser("root's laptop")
		root.MustLogin("root")
		laptop.MustLogin("root")
		seedSessions(t, e.Store, "bob", 1)

		res, _ := root.Send("POST", "/admin/sessions/logout", actionForm("logout_all", "bob", "root"))
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/login", res.Header.Get("Location"))
		assert.Zero(t, e.SessionsOf(t, "root"))
		assert.Zero(t, e.SessionsOf(t, "bob"))
		// The actor's browser signed itself out: its cookie is gone, and it
		// is not told that an operator did it; the laptop is.
		assert.Empty(t, root.Cookie())
		_, ended := root.Ending()
		assert.False(t, ended, "the actor's own browser")
		assert.Equal(t, "admin", laptop.Ended())
		res, _ = root.Send("GET", "/admin/sessions", "")
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/login", res.Header.Get("Location"))

		// In JSON the result comes back whole, the actor's own line included.
		root.MustLogin("root")
		res, body := root.Send("POST", "/admin/sessions/logout", actionForm("logout_all", "root"), "Accept", "application/json")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		assert.JSONEq(t, `{"action":"logout_all","actor":"root","signed_out":[{"user_id":"root","sessions":1}],"sessions":1,"skipped":[]}`, body)
		assert.Equal(t, "", root.WhoAmI())
		assert.Empty(t, root.Cookie())
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
		assert.Contains(t, page, "10,000 users signed out, 10,000 sessions ended.")
		assert.Contains(t, page, "<li>user-00099: 1 session ended</li>")
		assert.NotContains(t, page, "<li>user-00100:")
		assert.Contains(t, page, "<li>and 9,900 more</li>")
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

// Ending one session from the page: 303 back to the user's sessions, which
// says so once; the permission matrix; 403 and 404 end nothing.
func TestAdminHTTPEndSession(t *testing.T) {
	actors := map[string]string{"none": "alice", "logout": "sam", "logout_all": "tess", "admin": "root"}
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
		for holds, actor := range actors {
			for _, target := range []string{"bob", "ruth"} {
				t.Run(holds+"/"+target, func(t *testing.T) {
					endAll(t, e.Store, allUserIDs()...)
					b := a.Browser(actor)
					b.MustLogin(actor)
					ids := seedDevices(t, e.Store, target, firefoxLinux, chromeAndroid)

					res, body := b.Send("POST", "/admin/sessions/sessions/end", endForm(target, ids[0])+"&q=r&page=1")

					permitted := holds == "admin" || holds == "logout_all" || (holds == "logout" && target == "bob")
					if !permitted {
						assert.Equal(t, http.StatusForbidden, res.StatusCode, body)
						assert.Equal(t, 2, e.SessionsOf(t, target), "nothing ends")
						assert.Equal(t, actor, b.WhoAmI())
						return
					}
					require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
					assert.Equal(t, "/admin/sessions?q=r&user="+target, res.Header.Get("Location"))
					list, err := a.M.UserSessions(context.Background(), target)
					require.NoError(t, err)
					require.Len(t, list, 1)
					assert.Equal(t, ids[1], list[0].ID)

					_, page := b.Send("GET", res.Header.Get("Location"), "")
					assert.Contains(t, html.UnescapeString(page), `<p class="notice" role="status">Ended one session of “`+target+`”.</p>`)
					assert.Contains(t, page, "<span>Chrome on Android</span></td>")
					assert.NotContains(t, page, "Firefox on Linux")
					_, page = b.Send("GET", res.Header.Get("Location"), "")
					assert.NotContains(t, page, `class="notice"`, "the message shows once")
				})
			}
		}
	})
}

// An action run while a user's sessions are shown returns to them.
func TestAdminHTTPActionKeepsTheSessionsShown(t *testing.T) {
	a := newAdminApp(t, singlesession.NewMemoryStore(), singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
	root := a.Browser("root")
	root.MustLogin("root")
	seedDevices(t, a.Store, "bob", firefoxLinux)
	_, page := root.Send("GET", "/admin/sessions?user=bob&q=b", "")
	assert.Contains(t, page, `<input type="hidden" name="sessions_of" value="bob">`)

	res, _ := root.Send("POST", "/admin/sessions/logout", actionForm("logout", "bob")+"&q=b&page=1&sessions_of=bob")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/admin/sessions?q=b&user=bob", res.Header.Get("Location"))
	_, page = root.Send("GET", res.Header.Get("Location"), "")
	assert.Contains(t, page, "1 user signed out, 1 session ended.")
	assert.Contains(t, page, "No active session.")

	res, _ = root.Send("POST", "/admin/sessions/logout", actionForm("logout", "bob")+"&sessions_of=%FF")
	assert.Equal(t, "/admin/sessions", res.Header.Get("Location"), "a bad value is dropped")
}

// Ending a session that is not the user's, or that does not exist, is 404
// and ends nothing; a cross-origin post is 403; an anonymous one goes to
// log in. JSON clients get objects.
func TestAdminHTTPEndSessionRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
		root := a.Browser("root")
		root.MustLogin("root")
		bob := seedDevices(t, e.Store, "bob", firefoxLinux)
		carol := seedDevices(t, e.Store, "carol", firefoxLinux)
		seedDevices(t, e.Store, "ghost", firefoxLinux)
		untouched := func() {
			t.Helper()
			assert.Equal(t, 1, e.SessionsOf(t, "bob"))
			assert.Equal(t, 1, e.SessionsOf(t, "carol"))
			assert.Equal(t, 1, e.SessionsOf(t, "ghost"))
		}

		for name, form := range map[string]string{
			"another user's ID": endForm("bob", carol[0]),
			"unknown ID":        endForm("bob", "AAAAAAAAAAAA"),
			"unknown user":      endForm("ghost", bob[0]),
		} {
			t.Run(name, func(t *testing.T) {
				res, body := root.Send("POST", "/admin/sessions/sessions/end", form)
				assert.Equal(t, http.StatusNotFound, res.StatusCode, body)
				assert.Contains(t, res.Header.Get("Refresh"), "0; url=/admin/sessions?user=", "back to the list at once")
				assert.Contains(t, html.UnescapeString(body), "No such session of")
				untouched()
				res, body = root.Send("POST", "/admin/sessions/sessions/end", form, "Accept", "application/json")
				assert.Equal(t, http.StatusNotFound, res.StatusCode)
				assert.JSONEq(t, `{"error":"session not found"}`, body)
				untouched()
			})
		}

		t.Run("cross-origin", func(t *testing.T) {
			for _, h := range [][]string{{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}} {
				res, _ := root.Send("POST", "/admin/sessions/sessions/end", endForm("bob", bob[0]), h...)
				assert.Equal(t, http.StatusForbidden, res.StatusCode)
			}
			untouched()
		})
		t.Run("anonymous", func(t *testing.T) {
			res, _ := a.Browser("anon").Send("POST", "/admin/sessions/sessions/end", endForm("bob", bob[0]))
			assert.Equal(t, http.StatusSeeOther, res.StatusCode)
			assert.Equal(t, "/login", res.Header.Get("Location"))
			untouched()
		})
		t.Run("no permission comes before bad input", func(t *testing.T) {
			alice := a.Browser("alice")
			alice.MustLogin("alice")
			res, _ := alice.Send("POST", "/admin/sessions/sessions/end", "user=%FF&id=x")
			assert.Equal(t, http.StatusForbidden, res.StatusCode)
			res, _ = alice.Send("GET", "/admin/sessions?user=%FF", "")
			assert.Equal(t, http.StatusForbidden, res.StatusCode)
		})
		t.Run("forbidden JSON", func(t *testing.T) {
			ruth := seedDevices(t, e.Store, "ruth", firefoxLinux)
			sam := a.Browser("sam")
			sam.MustLogin("sam")
			res, body := sam.Send("POST", "/admin/sessions/sessions/end", endForm("ruth", ruth[0]), "Accept", "application/json")
			assert.Equal(t, http.StatusForbidden, res.StatusCode)
			assert.Contains(t, body, `is an admin user: ending its sessions needs single_session.logout_all`)
			assert.Equal(t, 1, e.SessionsOf(t, "ruth"))
		})
		t.Run("JSON", func(t *testing.T) {
			res, body := root.Send("POST", "/admin/sessions/sessions/end", endForm("bob", bob[0]), "Accept", "application/json")
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			assert.JSONEq(t, fmt.Sprintf(`{"user_id":"bob","session_id":%q}`, bob[0]), body)
			assert.Zero(t, e.SessionsOf(t, "bob"))
		})
	})
}

// An operator who ends the very session they use is signed out and sent to
// log in; another session of their own ends like anyone's.
func TestAdminHTTPEndOwnSession(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newAdminApp(t, e.Store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{}, withPolicy(singlesession.Never))
		root := a.Browser("root")
		root.MustLogin("root")
		other := seedDevices(t, e.Store, "root", firefoxLinux)
		var mine string
		list, err := a.M.UserSessions(context.Background(), "root")
		require.NoError(t, err)
		for _, s := range list {
			if s.ID != other[0] {
				mine = s.ID
			}
		}
		require.NotEmpty(t, mine)

		res, _ := root.Send("POST", "/admin/sessions/sessions/end", endForm("root", other[0]))
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/admin/sessions?user=root", res.Header.Get("Location"))
		assert.Equal(t, "root", root.WhoAmI())

		res, _ = root.Send("POST", "/admin/sessions/sessions/end", endForm("root", mine))
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/login", res.Header.Get("Location"))
		assert.Empty(t, root.Cookie(), "the browser signed itself out")
		_, ended := root.Ending()
		assert.False(t, ended, "and is not told that an operator did")
		assert.Equal(t, "", root.WhoAmI())
		assert.Zero(t, e.SessionsOf(t, "root"))
	})
}

// FuzzAdminForm posts arbitrary bodies to the admin page's action as each kind
// of actor. Whatever the body: no 5xx; a refusal (4xx) ends nothing; a run
// (303) ends only sessions of users the form names and the actor may sign
// out: never an admin user's with "logout", never anything without the
// action's permission. Its seeds run as an ordinary test.
func FuzzAdminForm(f *testing.F) {
	for _, seed := range []string{
		"action=logout&user=alice&user=ruth",
		"action=logout_all&user=alice&user=ruth",
		"action=logout&user=alice&user=alice&user=ghost",
		"action=logout_all",
		"user=alice",
		"",
		"action=logout;user=alice",
		"action=logout&user=%zz",
		"action=logout&user=%FF",
		"action=logout&user=" + strings.Repeat("x", 600),
		"action=delete&user=alice",
		"action=logout&action=logout_all&user=ruth",
		"&&&action=logout_all&&user=ruth&",
		"action=logout_all&user=ruth%00",
		"action=logout_all&user=+alice",
		"action=logout_all&q=%FF&page=-1&user=alice",
	} {
		for actor := range 4 {
			f.Add(seed, uint8(actor))
		}
	}
	actors := []string{"root", "sam", "tess", "bob"}
	victims := []string{"alice", "ruth"}
	store := singlesession.NewMemoryStore()
	a := newAdminApp(f, store, singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{Logger: quietLogger})
	browsers := map[string]*browser{}
	for _, u := range append(slices.Clone(actors), victims...) {
		browsers[u] = a.Browser(u)
	}

	f.Fuzz(func(t *testing.T, body string, which uint8) {
		actor := actors[int(which)%len(actors)]
		for u, b := range browsers {
			b.T = t // the browsers outlive each run; report to this one
			if !b.Exists() {
				b.MustLogin(u)
			}
		}
		before := map[string]int{}
		for _, u := range victims {
			before[u] = (&env{Store: store}).SessionsOf(t, u)
		}
		b := browsers[actor]
		res, _ := b.Send("POST", "/admin/sessions/logout", body)
		if res.StatusCode >= 500 {
			t.Fatalf("%s posted %q: %d", actor, body, res.StatusCode)
		}
		after := map[string]int{}
		for _, u := range victims {
			after[u] = (&env{Store: store}).SessionsOf(t, u)
		}
		if res.StatusCode != http.StatusSeeOther {
			for _, u := range victims {
				if after[u] != before[u] {
					t.Fatalf("%s posted %q, got %d, yet %s's sessions went %d → %d", actor, body, res.StatusCode, u, before[u], after[u])
				}
			}
			return
		}
		form, err := url.ParseQuery(body)
		if err != nil && strings.Count(body, "&") >= 10000 {
			return // url.ParseQuery refuses so many fields; the admin page does not
		}
		if err != nil {
			t.Fatalf("%s posted %q, which does not parse (%v), and got 303", actor, body, err)
		}
		action := form.Get("action")
		for _, u := range victims {
			if after[u] == before[u] {
				continue
			}
			switch {
			case !slices.Contains(form["user"], u):
				t.Fatalf("%q ended %s, whom it does not name", body, u)
			case u == "ruth" && action == "logout":
				t.Fatalf("%q (logout) ended admin user ruth", body)
			case actor == "bob" || (actor == "sam" && action != "logout") || (actor == "tess" && action != "logout_all"):
				t.Fatalf("%s ran %q without its permission", actor, body)
			}
		}
	})
}
