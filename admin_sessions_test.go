package singlesession_test

// Operators and one session of a user (issue 11): Admin.EndSession from Go,
// and the admin page's list of a chosen user's sessions with a button to end
// each, under the permissions of the two actions: single_session.logout
// ends the sessions of users who are not admin users, single_session.logout_all
// anyone's.

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
)

const (
	firefoxLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
	safariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
	edgeWindows   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 Edg/138.0.0.0"
	chromeAndroid = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Mobile Safari/537.36"
)

// seedDevices signs userID in once per user agent, straight into the store,
// and returns the sessions' IDs in the same order.
func seedDevices(t testing.TB, store singlesession.Store, userID string, userAgents ...string) []string {
	t.Helper()
	ids := make([]string, len(userAgents))
	for i, ua := range userAgents {
		token := fmt.Sprintf("dev-%s-%d-%d", userID, i, time.Now().UnixNano())
		_, err := store.Login(context.Background(), singlesession.Login{
			UserID: userID, Token: token, Data: []byte{0}, Expiry: time.Now().Add(time.Hour),
			IP: fmt.Sprintf("192.0.2.%d", 10+i), UserAgent: ua,
		})
		require.NoError(t, err)
		ids[i] = singlesession.SessionID(token)
	}
	return ids
}

// endForm encodes the form of an "End session" button.
func endForm(user, id string) string {
	return url.Values{"user": {user}, "id": {id}}.Encode()
}

// The permission matrix of Admin.EndSession: actors holding nothing,
// logout, logout_all or admin; targets ordinary, admin, or the actor.
func TestAdminEndSessionPermissionMatrix(t *testing.T) {
	actors := map[string]string{"none": "alice", "logout": "sam", "logout_all": "tess", "admin": "root"}
	forEachStore(t, func(t *testing.T, e *env) {
		events := &evLog{}
		a := newApp(t, e.Store, withEvLog(events))
		admin := newAdmin(t, a.M, singlesession.NewStaticDirectory(adminUsers...))
		for holds, actor := range actors {
			for _, target := range []string{"bob", "ruth", actor} {
				t.Run(holds+"/"+target, func(t *testing.T) {
					ctx := context.Background()
					endAll(t, e.Store, allUserIDs()...)
					ids := seedDevices(t, e.Store, target, firefoxLinux, safariIPhone)
					seedDevices(t, e.Store, "carol", firefoxLinux)
					events.Take()

					err := admin.EndSession(ctx, actor, target, ids[0])

					permitted := holds == "admin" || holds == "logout_all" || (holds == "logout" && target != "ruth")
					if !permitted {
						require.ErrorIs(t, err, singlesession.ErrPermissionDenied)
						assert.ErrorContains(t, err, "singlesession: end session of")
						assert.Equal(t, 2, e.SessionsOf(t, target), "nothing ends")
						assert.Empty(t, events.Take())
						return
					}
					require.NoError(t, err)
					list, err := a.M.UserSessions(ctx, target)
					require.NoError(t, err)
					require.Len(t, list, 1, "exactly the one session ends")
					assert.Equal(t, ids[1], list[0].ID)
					assert.Equal(t, 1, e.SessionsOf(t, "carol"), "a bystander is untouched")
					ev := testapp.OneEvent(t, events.Take(), singlesession.EventEnded)
					assert.Equal(t, target, ev.UserID)
					assert.Equal(t, actor, ev.Actor, "the event names the operator")
					assert.Equal(t, singlesession.ReasonAdmin, ev.Reason)
					assert.Equal(t, 1, ev.Ended)
				})
			}
		}
	})
}

// Admin.EndSession ends nothing, with the sentinel that says why, for an ID
// that is not a live session of the user (another user's included), a user
// the directory does not know, an unknown actor and bad input.
func TestAdminEndSessionErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := newApp(t, e.Store)
		admin := newAdmin(t, a.M, singlesession.NewStaticDirectory(adminUsers...))
		bob := seedDevices(t, e.Store, "bob", firefoxLinux)
		carol := seedDevices(t, e.Store, "carol", firefoxLinux)
		seedDevices(t, e.Store, "ghost", firefoxLinux) // linked, but unknown to the directory
		expired := seedSessions(t, e.Store, "bob", 1)
		expire(t, e, expired[0])

		for name, tc := range map[string]struct {
			actor, user, id string
			want            error
		}{
			"another user's ID":   {"root", "bob", carol[0], singlesession.ErrSessionNotFound},
			"unknown ID":          {"root", "bob", "nope", singlesession.ErrSessionNotFound},
			"empty ID":            {"root", "bob", "", singlesession.ErrSessionNotFound},
			"expired session":     {"root", "bob", singlesession.SessionID(expired[0]), singlesession.ErrSessionNotFound},
			"user unknown to dir": {"root", "ghost", "x", singlesession.ErrSessionNotFound},
			"unknown actor":       {"mallory", "bob", bob[0], singlesession.ErrPermissionDenied},
			"empty actor":         {"", "bob", bob[0], singlesession.ErrPermissionDenied},
			"empty user":          {"root", "", bob[0], singlesession.ErrInvalidUserID},
			"invalid user":        {"root", "b\xffb", bob[0], singlesession.ErrInvalidUserID},
		} {
			t.Run(name, func(t *testing.T) {
				err := admin.EndSession(ctx, tc.actor, tc.user, tc.id)
				require.ErrorIs(t, err, tc.want)
				assert.True(t, strings.HasPrefix(err.Error(), "singlesession: "), err.Error())
				assert.Equal(t, 1, e.SessionsOf(t, "bob"))
				assert.Equal(t, 1, e.SessionsOf(t, "carol"))
				assert.Equal(t, 1, e.SessionsOf(t, "ghost"))
			})
		}
	})
}

// The browser whose session an operator ended is anonymous at its next
// request, and Manager.Ended tells it ReasonAdmin.
func TestAdminEndSessionBrowserLearnsWhy(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		admin := newAdmin(t, a.M, singlesession.NewStaticDirectory(adminUsers...))
		laptop := a.Browser("laptop")
		laptop.MustLogin("bob")
		list, err := a.M.UserSessions(context.Background(), "bob")
		require.NoError(t, err)
		require.Len(t, list, 1)

		require.NoError(t, admin.EndSession(context.Background(), "sam", "bob", list[0].ID))
		assert.Equal(t, "", laptop.WhoAmI())
		ending, ok := laptop.Ending()
		require.True(t, ok)
		assert.Equal(t, singlesession.ReasonAdmin, ending.Reason)
		assert.Equal(t, "", ending.UserAgent, "operators leave no user agent")
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
		assert.Contains(t, page, `<td title="`+html.EscapeString(firefoxLinux)+`">Firefox on Linux</td>`)
		assert.Contains(t, page, `>Safari on iOS</td>`)
		assert.Contains(t, page, `<td>192.0.2.10</td>`)
		assert.Contains(t, page, `<td>192.0.2.11</td>`)
		assert.Regexp(t, `<td class="time">\d{4}-\d\d-\d\d \d\d:\d\d</td>`, page)
		assert.Contains(t, page, `<th scope="col">Last seen (UTC)</th>`)
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
		assert.Contains(t, page, `>Edge on Windows</td>`)
		assert.NotContains(t, page, `/sessions/end"`)
		assert.Contains(t, html.UnescapeString(page), "Ending an admin user’s sessions needs single_session.logout_all.")
		_, page = sam.Send("GET", "/admin/sessions?user=bob", "")
		assert.Contains(t, page, `/sessions/end"`)

		// The actor's own session is marked.
		_, page = root.Send("GET", "/admin/sessions?user=root", "")
		assert.Contains(t, page, `<span class="tag you">this browser</span>`)

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
					assert.Contains(t, page, ">Chrome on Android</td>")
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
		assert.Equal(t, "", root.WhoAmI())
		assert.Zero(t, e.SessionsOf(t, "root"))
	})
}

// The page has a stylesheet of its own, served by the handler to anyone and
// allowed by its Content-Security-Policy, which allows no inline style and
// no script.
func TestAdminHTTPStylesheet(t *testing.T) {
	a := newAdminApp(t, singlesession.NewMemoryStore(), singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
	root := a.Browser("root")
	root.MustLogin("root")
	for _, prefix := range adminPrefixes {
		res, page := root.Send("GET", prefix, "")
		require.Equal(t, http.StatusOK, res.StatusCode)
		csp := res.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "style-src 'self'")
		assert.Contains(t, csp, "default-src 'none'")
		assert.NotContains(t, csp, "unsafe-inline")
		assert.NotContains(t, page, "<style")
		assert.NotContains(t, page, "style=")
		assert.NotContains(t, page, "<script")
		assert.Regexp(t, `<link rel="stylesheet" href="`+prefix+`/admin.css\?v=[0-9a-f]{12}">`, page)
		href := page[strings.Index(page, prefix+"/admin.css?v="):]
		href = href[:strings.Index(href, `"`)]

		for _, b := range []*browser{root, a.Browser("anonymous")} {
			res, css := b.Send("GET", href, "")
			require.Equal(t, http.StatusOK, res.StatusCode)
			assert.Equal(t, "text/css; charset=utf-8", res.Header.Get("Content-Type"))
			assert.Equal(t, "public, max-age=31536000, immutable", res.Header.Get("Cache-Control"))
			assert.Contains(t, css, "--accent:")
			assert.Contains(t, css, "button")
		}
		res, _ = root.Send("GET", prefix+"/admin.css", "")
		assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"), "without the version, check each time")
		etag := res.Header.Get("ETag")
		require.NotEmpty(t, etag)
		res, _ = root.Send("GET", prefix+"/admin.css", "", "If-None-Match", etag)
		assert.Equal(t, http.StatusNotModified, res.StatusCode)
		res, _ = root.Send("POST", prefix+"/admin.css", "")
		assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	}
}

// Under each action's button, one line says what it does to admin users.
func TestAdminHTTPActionNotes(t *testing.T) {
	a := newAdminApp(t, singlesession.NewMemoryStore(), singlesession.NewStaticDirectory(adminUsers...), singlesession.AdminConfig{})
	root := a.Browser("root")
	root.MustLogin("root")
	_, page := root.Send("GET", "/admin/sessions", "")
	assert.Regexp(t, `value="logout">Log out the user on all sessions</button>\s*<small class="note">skips admin users</small>`, page)
	assert.Regexp(t, `value="logout_all">Log out the \(admin\) user on all sessions</button>\s*<small class="note">signs admin users out too</small>`, page)
}

// The page's summary of a User-Agent: browser and system by substring.
func TestDevice(t *testing.T) {
	for ua, want := range map[string]string{
		firefoxLinux:  "Firefox on Linux",
		safariIPhone:  "Safari on iOS",
		edgeWindows:   "Edge on Windows",
		chromeAndroid: "Chrome on Android",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15":   "Safari on macOS",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36":   "Chrome on macOS",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 OPR/120": "Opera on Windows",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/138.0.0.0 Safari/537.36":           "Chrome on Linux",
		"curl/8.14.1":              "curl",
		"Go-http-client/1.1":       "Go",
		"":                         "unknown",
		"SomeBot/2.0":              "SomeBot/2.0",
		strings.Repeat("x", 100):   strings.Repeat("x", 59) + "…",
		"Mozilla/5.0 (X11; Linux)": "a browser on Linux",
	} {
		assert.Equal(t, want, singlesession.Device(ua), ua)
	}
}
