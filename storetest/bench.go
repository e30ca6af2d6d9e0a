package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/go-singlesession/singlesession"
)

// BenchmarkLogin measures [singlesession.Store.Login] with no limit (a
// shared account under Never) for a user who holds 10 sessions and for one
// who holds 100,000: a login with no limit looks at no other session, so
// the two cost the same (SPEC 8.4). Another user holds the rest of 100,000
// sessions, so that the store holds as many in both cases. Run it from a
// benchmark of your store:
//
//	func BenchmarkLogin(b *testing.B) {
//		storetest.BenchmarkLogin(b, func(b *testing.B) storetest.Backend { return storetest.Backend{Store: newEmptyStore(b)} })
//	}
//
// Backend.Seed, when set, builds the 100,000 sessions quickly.
func BenchmarkLogin(b *testing.B, newBackend func(b *testing.B) Backend) {
	for _, existing := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("limit=none/existing=%d", existing), func(b *testing.B) {
			be := newBackend(b)
			user := fmt.Sprint("crowd", existing)
			seed := be.Seed
			if seed == nil {
				seed = func(t testing.TB, user string, n int) { fill(t, be.Store, user, n) }
			}
			seed(b, user, existing)
			if existing < 100_000 {
				seed(b, "bystander", 100_000-existing)
			}
			ctx := context.Background()
			expiry := time.Now().Add(time.Hour)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				token := fmt.Sprintf("benchlogin%031d", i)
				if _, err := be.Store.Login(ctx, singlesession.Login{UserID: user, Token: token, Data: []byte("d"), Expiry: expiry}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEndingDelay measures how long after an operator's sign-out on
// one instance returns a SessionContext of the signed-out session on
// another instance is cancelled (SPEC 10: within a second), and reports
// the median and 99th percentile of the delays as p50-ms and p99-ms.
// Backend.Second is the other instance.
func BenchmarkEndingDelay(b *testing.B, newBackend func(b *testing.B) Backend) {
	be := newBackend(b)
	if be.Second == nil {
		be.Second = be.Store
	}
	watching, err := singlesession.New(scs.New(), be.Store, singlesession.Config{})
	if err != nil {
		b.Fatal(err)
	}
	acting, err := singlesession.New(scs.New(), be.Second, singlesession.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// A watch that stays, so that the listener runs throughout, as in an
	// application with open pages.
	_, stop := watchSession(b, watching, "bench-keeper")
	defer stop()
	var delays []time.Duration
	for i := 0; b.Loop(); i++ {
		user := fmt.Sprint("bench-user-", i)
		w, cancel := watchSession(b, watching, user)
		start := time.Now()
		if _, err := acting.LogoutUsers(ctx, []string{user}); err != nil {
			b.Fatal(err)
		}
		select {
		case <-w.Done():
			delays = append(delays, time.Since(start))
		case <-time.After(10 * time.Second):
			b.Fatalf("the watch of %s was not cancelled within 10 s", user)
		}
		cancel()
	}
	slices.Sort(delays)
	b.ReportMetric(float64(delays[len(delays)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds())/1000, "p99-ms")
}

// watchSession signs user in on a new session of m, loads it as a request
// would and returns its SessionContext.
func watchSession(b *testing.B, m *singlesession.Manager, user string) (context.Context, context.CancelFunc) {
	ctx, err := m.Load(context.Background(), "")
	if err != nil {
		b.Fatal(err)
	}
	if err := m.LoginHook(ctx, user); err != nil {
		b.Fatal(err)
	}
	token, _, err := m.Commit(ctx)
	if err != nil {
		b.Fatal(err)
	}
	req, err := m.Load(context.Background(), token)
	if err != nil {
		b.Fatal(err)
	}
	return m.SessionContext(req)
}
