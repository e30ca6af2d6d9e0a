package singlesession_test

import (
	"testing"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/storetest"
)

// The conformance suite that every store passes (storetest), on the memory
// store (pgxstore and redisstore run it in their own tests).
func TestStoreConformance(t *testing.T) {
	storetest.RunBackend(t, func(t *testing.T) storetest.Backend {
		s := singlesession.NewMemoryStore()
		return storetest.Backend{Store: s, Residue: func(testing.TB) int {
			_, links := s.Rows()
			return links + s.Endings()
		}}
	})
}

// A login with no limit on the memory store costs the same for a user with
// 10 sessions and one with 100,000 (SPEC 8.4).
func BenchmarkMemoryStoreLogin(b *testing.B) {
	storetest.BenchmarkLogin(b, func(*testing.B) storetest.Backend {
		return storetest.Backend{Store: singlesession.NewMemoryStore()}
	})
}

// How soon a watch learns that its session ended, on the memory store.
func BenchmarkMemoryStoreEndingDelay(b *testing.B) {
	storetest.BenchmarkEndingDelay(b, func(*testing.B) storetest.Backend {
		return storetest.Backend{Store: singlesession.NewMemoryStore()}
	})
}
