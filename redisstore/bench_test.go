package redisstore_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// benchApp is an http.Handler over singlesession and redisstore with /login,
// /whoami (a signed-in read) and /put (a signed-in write).
type benchApp struct {
	h      http.Handler
	cookie string // the session cookie name
}

func withSingleSession(b *testing.B, c *counter) benchApp {
	client := singleClient(b)
	client.AddHook(c)
	sessions := scs.New()
	m, err := singlesession.New(sessions, redisstore.NewWithPrefix(client, testPrefix(b, client)), singlesession.Config{})
	require.NoError(b, err)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.LoginHook(r.Context(), "alice"); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, m.UserID(r.Context()))
	})
	mux.HandleFunc("POST /put", func(w http.ResponseWriter, r *http.Request) {
		sessions.Put(r.Context(), "k", "v")
	})
	return benchApp{h: m.Middleware(mux), cookie: sessions.Cookie.Name}
}

// serve runs one request with cookie ("" for none) and returns the session
// cookie the response sets, or cookie.
func (a benchApp) serve(b *testing.B, method, path, cookie string) string {
	req := httptest.NewRequest(method, path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: a.cookie, Value: cookie})
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == a.cookie {
			return c.Value
		}
	}
	return cookie
}

// BenchmarkRequest measures requests through singlesession over redisstore:
// a signed-in read, a signed-in write, and a login from a new browser
// (which, under the default policy, ends the previous login). It reports
// the round trips to Redis of each request (roundtrips/op). The comparison
// with plain scs over its goredisstore is BenchmarkRequestRedis in the
// module compat, so that this module requires no scs Redis store.
func BenchmarkRequest(b *testing.B) {
	for _, op := range []string{"read", "write", "login"} {
		b.Run("op="+op, func(b *testing.B) {
			c := &counter{}
			app := withSingleSession(b, c)
			cookie := app.serve(b, "POST", "/login", "")
			c.take()
			for b.Loop() {
				switch op {
				case "read":
					app.serve(b, "GET", "/whoami", cookie)
				case "write":
					app.serve(b, "POST", "/put", cookie)
				case "login":
					app.serve(b, "POST", "/login", "")
				}
			}
			b.ReportMetric(float64(c.take())/float64(b.N), "roundtrips/op")
		})
	}
}
