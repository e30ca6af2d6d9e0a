package main

// Who sees the operators' page, the 403 page of those who may not, and the
// label of the sign-out control.

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOperatorsOnly(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	for _, user := range []string{"alice", "bob"} {
		t.Run(user, func(t *testing.T) {
			c := newClient(t, user, app.URL)
			c.login(user)
			for _, path := range []string{"/admin/sessions", "/admin/sessions/", "/admin/sessions?user=alice"} {
				res, body := c.do("GET", path, nil)
				assert.Equal(t, http.StatusForbidden, res.StatusCode, path)
				assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"), path)
				assert.Contains(t, body, `<section id="problem" class="problem">`, "the application's styled page")
				assert.Contains(t, body, "<h1>Operators only</h1>")
				assert.Contains(t, body, user+" holds neither permission")
				assert.Contains(t, body, `<a id="back" class="button" href="/">Back to the home page</a>`, "a way back")
				assert.Contains(t, body, `href="/static/style.css"`)
			}

			// Clients of the JSON form and posts get the library's answers.
			res, body := c.do("GET", "/admin/sessions", nil, "Accept", "application/json")
			assert.Equal(t, http.StatusForbidden, res.StatusCode)
			assert.Equal(t, "application/json", res.Header.Get("Content-Type"), body)
			res, _ = c.do("POST", "/admin/sessions/logout", url.Values{"action": {"logout"}, "user": {"bob"}})
			assert.Equal(t, http.StatusForbidden, res.StatusCode)
		})
	}
	t.Run("operators pass", func(t *testing.T) {
		for _, user := range []string{"sam", "tess", "root"} {
			c := newClient(t, user, app.URL)
			c.login(user)
			res, body := c.do("GET", "/admin/sessions", nil)
			assert.Equal(t, http.StatusOK, res.StatusCode, user)
			assert.NotContains(t, body, "Operators only")
		}
	})
	t.Run("anonymous", func(t *testing.T) {
		res, _ := newClient(t, "anonymous", app.URL).do("GET", "/admin/sessions", nil)
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/login", strings.SplitN(res.Header.Get("Location"), "?", 2)[0])
	})
}

func TestSignOutLabel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args    []string
		label   string
		confirm string // the question before it signs out; "" for none
	}{
		{nil, "Sign out everywhere", "Sign out everywhere? Every browser signed in as alice is signed out."},
		{[]string{"-logout-all-sessions=false"}, "Sign out", ""},
	} {
		t.Run(tc.label, func(t *testing.T) {
			app := startApp(t, tc.args...)
			c := newClient(t, "A", app.URL)
			c.login("alice")
			for _, path := range []string{"/", "/sessions", "/login"} {
				res, body := c.do("GET", path, nil)
				require.Equal(t, http.StatusOK, res.StatusCode)
				confirm := ""
				if tc.confirm != "" {
					confirm = ` data-confirm="` + regexp.QuoteMeta(tc.confirm) + `"`
				}
				assert.Regexp(t, `<button id="logout" type="submit" class="link" title="[^"]*"`+confirm+`>`+tc.label+`</button>`, body, path)
				assert.Equal(t, 1, strings.Count(body, `action="/logout"`), "%s: one sign-out control", path)
			}
		})
	}
}
