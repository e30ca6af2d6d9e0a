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
