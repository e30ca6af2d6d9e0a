package singlesession_test

// The admin tests' harness: the page mounted at two prefixes, forms, and
// sessions signed in straight into the store with a User-Agent each.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-singlesession/singlesession"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
