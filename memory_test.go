package singlesession_test

import (
	"testing"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/storetest"
)

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
