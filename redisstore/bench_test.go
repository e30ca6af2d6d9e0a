package redisstore_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
	"github.com/go-singlesession/singlesession/storetest"
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

// benchBackend is a store over client with a prefix of its own, and a
// second instance over a second client, whose Seed builds a user's pile
// through the store's own login scripts, 2,000 to a script (BulkLogin).
func benchBackend(b *testing.B, client func() redis.UniversalClient) storetest.Backend {
	c := client()
	s, prefix := newStore(b, c)
	return storetest.Backend{
		Store:  s,
		Second: redisstore.NewWithPrefix(client(), prefix),
		Seed: func(t testing.TB, user string, n int) {
			tokens := make([]string, n)
			for i := range tokens {
				tokens[i] = token("seed")
			}
			require.NoError(t, redisstore.BulkLogin(context.Background(), s, user, tokens, []byte("d"), time.Now().Add(time.Hour), "", ""))
		},
	}
}

// BenchmarkLogin is storetest's: a login with no limit for a user who holds
// 10 sessions and for one who holds 100,000 (the store holding 100,000
// either way), on a single Redis and on Redis Cluster. A login with no
// limit looks at no other session, so the two cost the same.
func BenchmarkLogin(b *testing.B) {
	b.Run("topology=single", func(b *testing.B) {
		storetest.BenchmarkLogin(b, func(b *testing.B) storetest.Backend {
			return benchBackend(b, func() redis.UniversalClient { return singleClient(b) })
		})
	})
	b.Run("topology=cluster", func(b *testing.B) {
		storetest.BenchmarkLogin(b, func(b *testing.B) storetest.Backend {
			return benchBackend(b, func() redis.UniversalClient { return clusterClient(b) })
		})
	})
}

// BenchmarkEndingDelay is storetest's: how long after an operator's
// sign-out on one instance a SessionContext of the signed-out session on
// another instance is cancelled (Listen over PUBLISH), as p50-ms and
// p99-ms.
func BenchmarkEndingDelay(b *testing.B) {
	b.Run("topology=single", func(b *testing.B) {
		storetest.BenchmarkEndingDelay(b, func(b *testing.B) storetest.Backend {
			return benchBackend(b, func() redis.UniversalClient { return singleClient(b) })
		})
	})
	b.Run("topology=cluster", func(b *testing.B) {
		storetest.BenchmarkEndingDelay(b, func(b *testing.B) storetest.Backend {
			return benchBackend(b, func() redis.UniversalClient { return clusterClient(b) })
		})
	})
}

// evalshaTime returns how many EVALSHA calls the node ran and for how many
// microseconds in all, scripts' own commands included (INFO commandstats).
func evalshaTime(b *testing.B, node *redis.Client) (calls, usec int64) {
	info, err := node.Info(context.Background(), "commandstats").Result()
	require.NoError(b, err)
	for _, line := range strings.Split(info, "\r\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_evalsha:"); ok {
			for _, kv := range strings.Split(rest, ",") {
				k, v, _ := strings.Cut(kv, "=")
				n, _ := strconv.ParseInt(v, 10, 64)
				switch k {
				case "calls":
					calls = n
				case "usec":
					usec = n
				}
			}
		}
	}
	return calls, usec
}

// BenchmarkLoginRedisTime is BenchmarkLogin on redis-servers of its own (a
// single one, and a cluster of three masters), which also reports the
// time Redis itself spent in each login's script (redis-µs/op, from INFO
// commandstats of the user's node): a figure that the machine's load
// hardly moves, unlike ns/op.
func BenchmarkLoginRedisTime(b *testing.B) {
	for _, topology := range []string{"single", "cluster"} {
		for _, existing := range []int{10, 100_000} {
			b.Run(fmt.Sprintf("topology=%s/existing=%d", topology, existing), func(b *testing.B) {
				var c redis.UniversalClient
				if topology == "single" {
					c = startPrivateRedis(b).client()
				} else {
					c, _ = startPrivateCluster(b)
				}
				s := redisstore.NewWithPrefix(c, "bench:")
				ctx := context.Background()
				const user = "crowd"
				hour := time.Now().Add(time.Hour)
				seed := func(user string, n int) {
					tokens := make([]string, n)
					for i := range tokens {
						tokens[i] = token("seed")
					}
					require.NoError(b, redisstore.BulkLogin(ctx, s, user, tokens, []byte("d"), hour, "", ""))
				}
				seed(user, existing)
				if existing < 100_000 {
					seed("bystander", 100_000-existing)
				}
				node, ok := c.(*redis.Client)
				if !ok {
					var err error
					node, err = c.(*redis.ClusterClient).MasterForKey(ctx, "bench:u:{"+user+"}:m")
					require.NoError(b, err)
				}
				_, err := s.Login(ctx, singlesession.Login{UserID: user, Token: token("warm"), Data: []byte("d"), Expiry: hour})
				require.NoError(b, err)
				calls0, usec0 := evalshaTime(b, node)
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					if _, err := s.Login(ctx, singlesession.Login{UserID: user, Token: fmt.Sprintf("benchlogin%031d", i), Data: []byte("d"), Expiry: hour}); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				calls, usec := evalshaTime(b, node)
				b.ReportMetric(float64(usec-usec0)/float64(calls-calls0), "redis-µs/op")
			})
		}
	}
}
