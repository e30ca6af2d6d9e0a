package compat_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-singlesession/singlesession"
)

// BenchmarkRequestPaired is BenchmarkRequest, BenchmarkRequestMemory and
// BenchmarkRequestRedis with the two sides interleaved request by request:
// each iteration serves one request with plain scs and one with
// singlesession, in an order that alternates, and times each. A load that
// comes and goes on the machine then hits both sides alike, and the
// metric ratio (singlesession's time over scs's, over the same iterations)
// is steadier than the ratio of two benchmarks run one after the
// other. It reports scs-ns/op, singlesession-ns/op and ratio; ns/op is the
// pair's.
func BenchmarkRequestPaired(b *testing.B) {
	// side serves one request of one side.
	type side func() *httptest.ResponseRecorder
	run := func(b *testing.B, plain, ss side) {
		var spent [2]time.Duration
		sides := [2]side{plain, ss}
		i := 0
		for b.Loop() {
			for k := range 2 {
				s := (i + k) % 2 // scs first on even iterations
				start := time.Now()
				rec := sides[s]()
				spent[s] += time.Since(start)
				if rec.Code >= 300 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			i++
		}
		b.ReportMetric(float64(spent[0].Nanoseconds())/float64(b.N), "scs-ns/op")
		b.ReportMetric(float64(spent[1].Nanoseconds())/float64(b.N), "singlesession-ns/op")
		b.ReportMetric(float64(spent[1])/float64(spent[0]), "ratio")
	}

	for _, store := range []string{"postgres", "memory"} {
		b.Run("store="+store, func(b *testing.B) {
			var pool *pgxpool.Pool
			if store == "postgres" {
				pool = migratedPool(b)
			}
			for _, c := range requestCases {
				b.Run("case="+c.name, func(b *testing.B) {
					var sides [2]side
					for k, impl := range []string{"scs", "singlesession"} {
						a := newBenchApp(b, pool, impl == "scs", c.idle, singlesession.Config{})
						user := fmt.Sprintf("paired-%s-%s", c.name, impl)
						cookie := a.login(b, user)
						sides[k] = func() *httptest.ResponseRecorder { return a.serve(c.method, c.path, cookie) }
					}
					run(b, sides[0], sides[1])
				})
			}
		})
	}

	for _, topology := range []string{"single", "cluster"} {
		b.Run("store=redis-"+topology, func(b *testing.B) {
			newClient := redisClients(b, topology)
			for _, op := range []string{"read", "write", "login"} {
				b.Run("case="+op, func(b *testing.B) {
					var sides [2]side
					for k, impl := range []string{"scs", "singlesession"} {
						client := newClient()
						b.Cleanup(func() { client.Close() })
						a := newRedisBenchApp(b, client, impl == "scs")
						user := fmt.Sprintf("paired-%s-%s", op, impl)
						cookie := a.login(b, user)
						sides[k] = func() *httptest.ResponseRecorder {
							switch op {
							case "read":
								return a.serve(http.MethodGet, "/read", cookie)
							case "write":
								return a.serve(http.MethodPost, "/write", cookie)
							}
							return a.serve(http.MethodPost, "/login?user="+user, nil)
						}
					}
					run(b, sides[0], sides[1])
				})
			}
		})
	}
}
