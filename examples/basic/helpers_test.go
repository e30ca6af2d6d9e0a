package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession/internal/pgtest"
)

// schemaDSN creates a schema of its own for t, dropped when t ends, and
// returns a database URL whose connections work in it.
func schemaDSN(t testing.TB) string { return pgtest.DSN(t, pgtest.Schema(t, "ss_example")) }

// noEnv is a getenv that finds nothing.
func noEnv(string) string { return "" }

// flagsConfig returns the config the command line args give, with the
// memory store unless args say otherwise, logging to logs.
func flagsConfig(t testing.TB, logs io.Writer, args ...string) config {
	t.Helper()
	// The real bcrypt cost makes -race runs slow.
	cfg, err := parseFlags(append([]string{"-bcrypt-cost=4"}, args...), noEnv, io.Discard)
	require.NoError(t, err)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	return cfg
}

// testApp is one instance of the application on an httptest server.
type testApp struct {
	URL  string
	logs *syncBuffer
}

// startApp serves the application that the command line args describe; it
// stops when t ends.
func startApp(t testing.TB, args ...string) *testApp {
	t.Helper()
	logs := &syncBuffer{}
	return serveApp(t, flagsConfig(t, logs, args...), logs)
}

// serveApp serves the application cfg describes, logging to logs; it stops
// when t ends.
func serveApp(t testing.TB, cfg config, logs *syncBuffer) *testApp {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, release, err := newApp(ctx, cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		release()
		if t.Failed() {
			t.Logf("logs of %s:\n%s", srv.URL, logs.String())
		}
	})
	return &testApp{URL: srv.URL, logs: logs}
}

// client is one browser: a cookie jar, no automatic redirects.
type client struct {
	t    testing.TB
	name string
	base string
	ua   string // the User-Agent it sends; "" leaves Go's
	c    *http.Client
}

func newClient(t testing.TB, name, base string) *client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &client{t: t, name: name, base: base, c: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// at returns the same browser talking to another instance.
func (c *client) at(base string) *client {
	c2 := *c
	c2.base = base
	return &c2
}

// do sends a request; a non-nil form is the body, url-encoded, and header
// pairs are added as they are.
func (c *client) do(method, path string, form url.Values, header ...string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	return c.raw(method, path, body, "application/x-www-form-urlencoded", header...)
}

// raw sends a request with the given body and content type.
func (c *client) raw(method, path string, body io.Reader, contentType string, header ...string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.c.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	return res, string(text)
}

// login signs in as user with the demo password and requires success.
func (c *client) login(user string) {
	c.t.Helper()
	res, body := c.do("POST", "/login", url.Values{"username": {user}, "password": {user}})
	require.Equal(c.t, http.StatusSeeOther, res.StatusCode, "%s: login as %s: %s", c.name, user, body)
	require.Equal(c.t, "/", res.Header.Get("Location"))
}

// logout signs out and requires the redirect to /login.
func (c *client) logout() {
	c.t.Helper()
	res, body := c.do("POST", "/logout", url.Values{})
	require.Equal(c.t, http.StatusSeeOther, res.StatusCode, "%s: logout: %s", c.name, body)
	require.Equal(c.t, "/login", res.Header.Get("Location"))
}

// whoami returns the signed-in user, "" when anonymous.
func (c *client) whoami() string {
	c.t.Helper()
	res, body := c.do("GET", "/whoami", nil)
	switch res.StatusCode {
	case http.StatusOK:
		return body
	case http.StatusUnauthorized:
		return ""
	}
	c.t.Fatalf("%s: whoami: %d %s", c.name, res.StatusCode, body)
	return ""
}

// cookie returns the value of the browser's session cookie ("" when none).
func (c *client) cookie() string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == "basic_session" {
			return ck.Value
		}
	}
	return ""
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// waitListening waits until the logs say where the application listens, and
// returns its base URL.
func waitListening(t testing.TB, logs interface{ String() string }, exited <-chan struct{}) string {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(logs.String()); m != nil {
			return "http://" + m[1]
		}
		select {
		case <-exited:
			t.Fatalf("the application exited before it listened:\n%s", logs.String())
		case <-deadline:
			t.Fatalf("the application did not listen within 60s:\n%s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
