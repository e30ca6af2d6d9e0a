package compat_test

// The comparison of singlesession's redisstore with plain scs over its own
// goredisstore, on the same Redis. It lives here, not in redisstore, so that
// redisstore's module graph has no scs Redis store (SPEC 9).

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// redisClient returns a client of the Redis at REDIS_URL (default
// redis://127.0.0.1:6379/0), closed when b ends. Under CI=true an
// unreachable Redis fails the benchmark; otherwise it is skipped.
func redisClient(b *testing.B) *redis.Client {
	b.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(url)
	require.NoError(b, err)
	c := redis.NewClient(opts)
	b.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("Redis at %s is unreachable (CI=true: a failure, not a skip): %v", url, err)
		}
		b.Skipf("Redis at %s is unreachable: %v", url, err)
	}
	return c
}

// redisPrefix returns a key prefix of its own, whose keys are deleted when b
// ends.
func redisPrefix(b *testing.B, c *redis.Client) string {
	prefix := fmt.Sprintf("ssbench:%d:%d:", time.Now().UnixNano(), benchSeq.Add(1))
	b.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Unlink(ctx, iter.Val())
		}
	})
	return prefix
}

// roundTrips is a go-redis hook that counts the exchanges with the server: a
// command, or a pipeline.
type roundTrips struct{ n atomic.Int64 }

func (c *roundTrips) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// newRedisBenchApp is newBenchApp over Redis: plain scs on goredisstore
// when plain is set, otherwise Manager.Middleware over redisstore.
func newRedisBenchApp(b *testing.B, c *redis.Client, plain bool) *benchApp {
	b.Helper()
	a := &benchApp{sessions: scs.New()}
	prefix := redisPrefix(b, c)
	if plain {
		a.sessions.Store = goredisstore.NewWithPrefix(c, prefix)
	} else {
		m, err := singlesession.New(a.sessions, redisstore.NewWithPrefix(c, prefix), singlesession.Config{})
		require.NoError(b, err)
		a.m = m
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.FormValue("user")
		var err error
		if a.m != nil {
			err = a.m.LoginHook(r.Context(), user)
		} else {
			err = a.sessions.RenewToken(r.Context())
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		a.sessions.Put(r.Context(), "user", user)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /read", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, a.user(r.Context()))
	})
	mux.HandleFunc("POST /write", func(w http.ResponseWriter, r *http.Request) {
		a.sessions.Put(r.Context(), "n", a.sessions.GetInt(r.Context(), "n")+1)
		fmt.Fprint(w, a.user(r.Context()))
	})
	if a.m != nil {
		a.handler = a.m.Middleware(mux)
	} else {
		a.handler = a.sessions.LoadAndSave(mux)
	}
	return a
}

// BenchmarkRequestRedis compares plain scs over its goredisstore with
// singlesession over redisstore, on the same Redis (REDIS_URL): a signed-in
// read, a signed-in write, and a login from a new browser (which, under the
// default policy, ends the user's previous session). It reports the round
// trips to Redis of each request (roundtrips/op). Both sides run in one
// process, alternating case by case, so that their ratio comes from the
// same run; compare them with benchstat -col /impl.
func BenchmarkRequestRedis(b *testing.B) {
	c := redisClient(b)
	impls := []string{"scs", "singlesession"}
	if *benchSwap {
		impls[0], impls[1] = impls[1], impls[0]
	}
	for _, op := range []string{"read", "write", "login"} {
		for _, impl := range impls {
			b.Run(fmt.Sprintf("case=%s/impl=%s", op, impl), func(b *testing.B) {
				counter := &roundTrips{}
				client := redis.NewClient(c.Options())
				b.Cleanup(func() { client.Close() })
				client.AddHook(counter)
				a := newRedisBenchApp(b, client, impl == "scs")
				user := fmt.Sprintf("%s-%s", op, impl)
				cookie := a.login(b, user)
				counter.n.Store(0)
				for b.Loop() {
					var rec *httptest.ResponseRecorder
					switch op {
					case "read":
						rec = a.serve("GET", "/read", cookie)
					case "write":
						rec = a.serve("POST", "/write", cookie)
					default:
						rec = a.serve("POST", "/login?user="+user, nil)
					}
					if rec.Code >= 300 {
						b.Fatalf("%s: %d %s", op, rec.Code, rec.Body)
					}
				}
				b.ReportMetric(float64(counter.n.Load())/float64(b.N), "roundtrips/op")
			})
		}
	}
}
