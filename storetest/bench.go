package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

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
