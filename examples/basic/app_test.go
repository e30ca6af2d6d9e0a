package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHome(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	a := newClient(t, "A", app.URL)

	res, body := a.do("GET", "/", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Contains(t, body, "Not signed in")
	assert.Contains(t, body, `href="/login"`)
	assert.NotContains(t, body, `href="/admin/sessions"`, "no link to the operators' page for the anonymous")
	assert.Contains(t, body, `<section id="operators-note"`, "but a note that explains it")
	assert.Contains(t, body, `href="/whoami"`)
	assert.Empty(t, a.cookie(), "an anonymous visit needs no session")

	a.login("alice")
	res, body = a.do("GET", "/", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Signed in as <strong>alice</strong>")
	assert.Contains(t, body, `data-user="alice"`)
	assert.Contains(t, body, `action="/logout"`)
	assert.NotContains(t, body, `id="admin-link"`, "alice holds no permission")
	assert.NotContains(t, body, `id="operator"`)
	assert.NotContains(t, body, `href="/admin/sessions"`, "no link anywhere for alice")
	assert.Contains(t, body, "alice is not one of them")
	assert.Contains(t, body, `<a id="sessions-link" href="/sessions">Your sessions</a>`)

	for _, user := range []string{"sam", "tess", "root"} {
		t.Run(user, func(t *testing.T) {
			a.login(user)
			_, body = a.do("GET", "/", nil)
			assert.Contains(t, body, `<a id="admin-link" href="/admin/sessions">`, "the header links %s to the operators' page", user)
			assert.Regexp(t, `<p id="operator">[^\n]*<a href="/admin/sessions">`, body, "so does the home page")
		})
	}
}

func TestStaticCSS(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	res, body := newClient(t, "A", app.URL).do("GET", "/static/style.css", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/css")
	assert.Contains(t, body, "font-family")
}

// The pages' one script, which asks before a button that ends sessions,
// is the site's own (the CSP allows no other) and linked from every page.
func TestStaticScript(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	c := newClient(t, "A", app.URL)
	res, body := c.do("GET", "/static/app.js", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "javascript")
	assert.Contains(t, body, "window.confirm(question)")
	res, body = c.do("GET", "/login", nil)
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'self'")
	assert.Contains(t, body, `<script src="/static/app.js" defer></script>`)
	assert.Equal(t, 1, strings.Count(body, "<script"), "no inline script")
}

func TestLoginForm(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	res, body := newClient(t, "A", app.URL).do("GET", "/login", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `<form id="login" method="post" action="/login"`)
	assert.Contains(t, body, `name="username"`)
	assert.Contains(t, body, `name="password"`)
	for _, user := range []string{"alice", "bob", "sam", "tess", "root", "ruth"} {
		assert.Contains(t, body, "<td><code>"+user+"</code></td>", "the form lists the demo account %s", user)
	}
	assert.Contains(t, body, "single_session.logout_all")
}

func TestLogin(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	a := newClient(t, "A", app.URL)

	res, _ := a.do("POST", "/login", url.Values{"username": {"alice"}, "password": {"alice"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/", res.Header.Get("Location"))
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "basic_session" {
			session = c
		}
	}
	require.NotNil(t, session, "login sets the session cookie")
	assert.True(t, session.HttpOnly)

	res, body := a.do("GET", "/whoami", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, "alice", body)

	// Signing in again on a signed-in browser works, as another user too.
	a.login("alice")
	assert.Equal(t, "alice", a.whoami())
	a.login("bob")
	assert.Equal(t, "bob", a.whoami())
}

func TestLoginBadCredentials(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	for _, tc := range []struct{ name, username, password string }{
		{"wrong password", "alice", "bob"},
		{"unknown user", "mallory", "mallory"},
		{"empty username", "", "alice"},
		{"empty password", "alice", ""},
		{"other case", "Alice", "Alice"},
		{"markup", `<b>x</b>`, "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newClient(t, "A", app.URL)
			res, body := a.do("POST", "/login", url.Values{"username": {tc.username}, "password": {tc.password}})
			require.Equal(t, http.StatusUnauthorized, res.StatusCode)
			assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
			assert.Contains(t, body, "Wrong username or password.")
			assert.Contains(t, body, `<form id="login"`, "the form comes back")
			assert.NotContains(t, body, "<b>x</b>", "the username is escaped")
			assert.Contains(t, body, `<input id="password" name="password" type="password" autocomplete="current-password" required>`,
				"the password is not sent back")
			assert.Empty(t, a.whoami())
		})
	}
}

func TestLoginMalformed(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	for _, tc := range []struct {
		name        string
		body        string
		contentType string
		status      int
	}{
		{"no fields", "", "application/x-www-form-urlencoded", http.StatusBadRequest},
		{"no password", "username=alice", "application/x-www-form-urlencoded", http.StatusBadRequest},
		{"no username", "password=alice", "application/x-www-form-urlencoded", http.StatusBadRequest},
		{"bad escape", "username=%zz&password=alice", "application/x-www-form-urlencoded", http.StatusBadRequest},
		{"two usernames", "username=alice&username=bob&password=alice", "application/x-www-form-urlencoded", http.StatusBadRequest},
		{"invalid UTF-8", "username=%ff&password=alice", "application/x-www-form-urlencoded", http.StatusBadRequest},
		{"not a form", `{"username":"alice","password":"alice"}`, "application/json", http.StatusBadRequest},
		{"too large", "username=alice&password=" + strings.Repeat("a", 64<<10), "application/x-www-form-urlencoded", http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newClient(t, "A", app.URL)
			res, body := a.raw("POST", "/login", strings.NewReader(tc.body), tc.contentType)
			assert.Equal(t, tc.status, res.StatusCode, body)
			assert.Empty(t, a.whoami())
		})
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	a := newClient(t, "A", app.URL)
	a.login("alice")
	a.logout()
	assert.Empty(t, a.whoami())

	// Signing out an anonymous browser is not an error.
	newClient(t, "B", app.URL).logout()
}

func TestWhoamiAnonymous(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	res, _ := newClient(t, "A", app.URL).do("GET", "/whoami", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Equal(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
}

func TestUnknownPathsAndMethods(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	a := newClient(t, "A", app.URL)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/nope", http.StatusNotFound, ""},
		{"GET", "/login/more", http.StatusNotFound, ""},
		{"GET", "/static/nope.css", http.StatusNotFound, ""},
		{"POST", "/", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"GET", "/logout", http.StatusMethodNotAllowed, "POST"},
		{"PUT", "/login", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"DELETE", "/whoami", http.StatusMethodNotAllowed, "GET, HEAD"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			res, _ := a.do(tc.method, tc.path, nil)
			assert.Equal(t, tc.status, res.StatusCode, "%s %s", tc.method, tc.path)
			if tc.allow != "" {
				assert.Equal(t, tc.allow, res.Header.Get("Allow"), "%s %s", tc.method, tc.path)
			}
		})
	}
}

func TestCrossOriginPostsRefused(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	creds := url.Values{"username": {"alice"}, "password": {"alice"}}

	t.Run("login", func(t *testing.T) {
		for _, h := range [][]string{
			{"Origin", "http://evil.example"},
			{"Sec-Fetch-Site", "cross-site"},
			{"Sec-Fetch-Site", "same-site"},
		} {
			t.Run(strings.Join(h, ": "), func(t *testing.T) {
				a := newClient(t, "A", app.URL)
				res, _ := a.do("POST", "/login", creds, h...)
				assert.Equal(t, http.StatusForbidden, res.StatusCode, "%v", h)
				assert.Empty(t, a.whoami(), "%v", h)
			})
		}
	})
	t.Run("same origin allowed", func(t *testing.T) {
		a := newClient(t, "A", app.URL)
		res, _ := a.do("POST", "/login", creds, "Origin", app.URL, "Sec-Fetch-Site", "same-origin")
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "alice", a.whoami())
	})
	t.Run("logout", func(t *testing.T) {
		a := newClient(t, "A", app.URL)
		a.login("bob")
		res, _ := a.do("POST", "/logout", url.Values{}, "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site")
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.Equal(t, "bob", a.whoami(), "a refused logout signs nobody out")
	})
	t.Run("admin action", func(t *testing.T) {
		victim := newClient(t, "victim", app.URL)
		victim.login("ruth")
		op := newClient(t, "root", app.URL)
		op.login("root")
		res, _ := op.do("POST", "/admin/sessions/logout", url.Values{"action": {"logout_all"}, "user": {"ruth"}},
			"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site")
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.Equal(t, "ruth", victim.whoami())

		// The same post from the page's own origin runs.
		res, _ = op.do("POST", "/admin/sessions/logout", url.Values{"action": {"logout_all"}, "user": {"ruth"}},
			"Origin", app.URL, "Sec-Fetch-Site", "same-origin")
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Empty(t, victim.whoami())
	})
}

// TestAdminRoutes checks the status codes of SPEC section 3 for the
// operators' page; admin_test.go checks what the actions do and what the page
// reports.
func TestAdminRoutes(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	alice := newClient(t, "alice", app.URL)
	alice.login("alice")
	root := newClient(t, "root", app.URL)
	root.login("root")
	signedIn := func(t *testing.T) {
		t.Helper()
		assert.Equal(t, "alice", alice.whoami(), "nothing ended")
		assert.Equal(t, "root", root.whoami(), "nothing ended")
	}
	as := func(user string) *client {
		c := newClient(t, user, app.URL)
		if user != "" {
			c.login(user)
		}
		return c
	}

	t.Run("anonymous", func(t *testing.T) {
		anon := as("")
		for _, path := range []string{"/admin/sessions", "/admin/sessions/"} {
			t.Run(path, func(t *testing.T) {
				res, _ := anon.do("GET", path, nil)
				assert.Equal(t, http.StatusSeeOther, res.StatusCode, path)
				assert.Equal(t, "/login", strings.SplitN(res.Header.Get("Location"), "?", 2)[0], path)
			})
		}
		res, _ := anon.do("POST", "/admin/sessions/logout", url.Values{"action": {"logout_all"}, "user": {"alice", "root"}})
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/login", res.Header.Get("Location"))
		signedIn(t)

		// A browser whose operator session ended is anonymous too.
		ended := as("ruth")
		ended.logout()
		res, _ = ended.do("POST", "/admin/sessions/logout", url.Values{"action": {"logout_all"}, "user": {"alice", "root"}})
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/login", res.Header.Get("Location"))
		signedIn(t)
	})
	t.Run("without permission", func(t *testing.T) {
		bob := as("bob")
		res, _ := bob.do("GET", "/admin/sessions", nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		for _, action := range []string{"logout", "logout_all"} {
			t.Run(action, func(t *testing.T) {
				res, _ = bob.do("POST", "/admin/sessions/logout", url.Values{"action": {action}, "user": {"alice"}})
				assert.Equal(t, http.StatusForbidden, res.StatusCode, action)
			})
		}
		signedIn(t)
	})
	t.Run("operators see the page", func(t *testing.T) {
		for _, user := range []string{"sam", "tess", "ruth"} {
			t.Run(user, func(t *testing.T) {
				res, _ := as(user).do("GET", "/admin/sessions", nil)
				assert.Equal(t, http.StatusOK, res.StatusCode, user)
			})
		}
	})
	t.Run("action without its permission", func(t *testing.T) {
		res, _ := as("sam").do("POST", "/admin/sessions/logout", url.Values{"action": {"logout_all"}, "user": {"alice", "root"}})
		assert.Equal(t, http.StatusForbidden, res.StatusCode, "sam holds logout only")
		res, _ = as("tess").do("POST", "/admin/sessions/logout", url.Values{"action": {"logout"}, "user": {"alice"}})
		assert.Equal(t, http.StatusForbidden, res.StatusCode, "tess holds logout_all only")
		signedIn(t)
	})
	t.Run("bad requests", func(t *testing.T) {
		sam := as("sam")
		for name, form := range map[string]url.Values{
			"no action":      {"user": {"alice"}},
			"unknown action": {"action": {"delete"}, "user": {"alice"}},
			"no user":        {"action": {"logout"}},
		} {
			t.Run(name, func(t *testing.T) {
				res, _ := sam.do("POST", "/admin/sessions/logout", form)
				assert.Equal(t, http.StatusBadRequest, res.StatusCode, name)
			})
		}
		signedIn(t)
	})
	t.Run("methods", func(t *testing.T) {
		res, _ := root.do("GET", "/admin/sessions/logout", nil)
		assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
		res, _ = root.do("DELETE", "/admin/sessions", nil)
		assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	})
}

// singleSessionRules runs the rules of one session per user against two
// browsers on the instances at urlA and urlB.
func singleSessionRules(t *testing.T, urlA, urlB string) {
	a := newClient(t, "A", urlA)
	b := newClient(t, "B", urlB)
	bob := newClient(t, "bob", urlA)
	bob.login("bob")

	a.login("alice")
	assert.Equal(t, "alice", a.whoami())
	b.login("alice")
	assert.Equal(t, "alice", b.whoami())
	assert.Empty(t, a.whoami(), "B's login ended A's session")

	a.login("alice")
	assert.Empty(t, b.whoami(), "and back")
	b.login("alice")
	b.logout()
	assert.Empty(t, a.whoami())
	assert.Empty(t, b.whoami())
	assert.Equal(t, "bob", bob.whoami(), "other users keep their sessions")
}

func TestOneSessionPerUser(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		app := startApp(t)
		singleSessionRules(t, app.URL, app.URL)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		app := startApp(t, "-dsn", schemaDSN(t))
		singleSessionRules(t, app.URL, app.URL)
	})
}

func TestFlagSingleSessionOff(t *testing.T) {
	t.Parallel()
	app := startApp(t, "-single-session=false")
	a := newClient(t, "A", app.URL)
	b := newClient(t, "B", app.URL)
	a.login("alice")
	b.login("alice")
	assert.Equal(t, "alice", a.whoami(), "both sessions live")
	assert.Equal(t, "alice", b.whoami(), "both sessions live")

	b.logout()
	assert.Empty(t, b.whoami())
	assert.Empty(t, a.whoami(), "logout still ends every session of the user")
}

func TestFlagLogoutAllSessionsOff(t *testing.T) {
	t.Parallel()
	app := startApp(t, "-single-session=false", "-logout-all-sessions=false")
	a := newClient(t, "A", app.URL)
	b := newClient(t, "B", app.URL)
	a.login("alice")
	b.login("alice")

	b.logout()
	assert.Empty(t, b.whoami())
	assert.Equal(t, "alice", a.whoami(), "logout ended only B's session")
}

func TestTwoInstancesOneDatabase(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	one := startApp(t, "-dsn", dsn)
	two := startApp(t, "-dsn", dsn)

	t.Run("a session works on both", func(t *testing.T) {
		a := newClient(t, "A", one.URL)
		a.login("bob")
		assert.Equal(t, "bob", a.at(two.URL).whoami())
		a.at(two.URL).logout()
		assert.Empty(t, a.whoami())
	})
	t.Run("one session per user across instances", func(t *testing.T) {
		singleSessionRules(t, one.URL, two.URL)
	})
}

func TestPostgresMigratesItself(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	app := startApp(t, "-dsn", dsn)
	newClient(t, "A", app.URL).login("alice")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var links int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM singlesession_links WHERE user_id = 'alice'`).Scan(&links))
	assert.Equal(t, 1, links)
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	a := newClient(t, "A", app.URL)
	a.login("alice")
	token := a.cookie()
	require.NotEmpty(t, token)
	a.whoami()
	res, _ := a.do("GET", "/nope?token=x", nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)

	logs := app.logs.String()
	assert.Contains(t, logs, "msg=request method=POST path=/login status=303 duration=")
	assert.Contains(t, logs, "msg=request method=GET path=/whoami status=200 duration=")
	assert.Contains(t, logs, "msg=request method=GET path=/nope status=404 duration=")
	assert.NotContains(t, logs, token, "the session token never reaches the log")
	assert.NotContains(t, logs, "token=x", "nor the query")
	assert.NotContains(t, logs, "password")
}

func TestPasswordsHashed(t *testing.T) {
	t.Parallel()
	u, err := newUsers(4)
	require.NoError(t, err)
	for _, acc := range demoAccounts {
		h := string(u.hashes[acc.ID])
		assert.True(t, strings.HasPrefix(h, "$2a$04$"), "%s: bcrypt hash", acc.ID)
		got, ok := u.authenticate(acc.ID, acc.ID)
		assert.True(t, ok, acc.ID)
		assert.Equal(t, acc, got)
		_, ok = u.authenticate(acc.ID, acc.ID+" ")
		assert.False(t, ok, acc.ID)
	}
	_, ok := u.authenticate("nobody", "nobody")
	assert.False(t, ok)
	_, ok = u.authenticate("", "")
	assert.False(t, ok)
}

func TestCleanupRuns(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	app := startApp(t, "-dsn", dsn, "-cleanup-interval", "50ms")
	a := newClient(t, "A", app.URL)
	a.login("alice")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `UPDATE sessions SET expiry = now() - interval '1 second'`)
	require.NoError(t, err)
	assert.Eventually(t, func() bool {
		var n int
		require.NoError(t, conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM singlesession_links)`).Scan(&n))
		return n == 0
	}, 20*time.Second, 50*time.Millisecond, "the cleanup deleted the expired session and its link")
	assert.Empty(t, a.whoami())
}
