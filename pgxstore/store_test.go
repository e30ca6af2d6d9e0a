package pgxstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// A nil pool is a mistake that no later call could survive: New and
// NewDirectory say so at once.
func TestNilPoolPanics(t *testing.T) {
	assert.PanicsWithValue(t, "pgxstore: New: pool is nil", func() { pgxstore.New(nil) })
	assert.PanicsWithValue(t, "pgxstore: NewDirectory: pool is nil", func() { pgxstore.NewDirectory(nil) })
}

// The tests that hold a user's lock themselves compute its key as the store
// does.
func TestUserLockMatchesTheStore(t *testing.T) {
	assert.Contains(t, pgxstore.StoreStatements["lock users"], pgtest.UserLock("u"))
}
