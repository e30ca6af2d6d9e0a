package singlesession_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/go-singlesession/singlesession/storetest"
)

// The conformance suite that every store passes (storetest), on the memory
// store and on PostgreSQL with two pools over one schema.
func TestStoreConformance(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		storetest.RunBackend(t, func(t *testing.T) storetest.Backend {
			s := singlesession.NewMemoryStore()
			return storetest.Backend{Store: s, Residue: func(testing.TB) int {
				_, links := s.Rows()
				return links + s.Endings()
			}}
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		storetest.RunBackend(t, func(t *testing.T) storetest.Backend {
			schema := testSchema(t)
			first := pgtest.Pool(t, schema, nil)
			require.NoError(t, pgxstore.Migrate(context.Background(), first))
			second := pgtest.Pool(t, schema, nil)
			return storetest.Backend{
				Store:  pgxstore.New(first),
				Second: pgxstore.New(second),
				Residue: func(t testing.TB) int {
					var n int
					require.NoError(t, first.QueryRow(context.Background(),
						`SELECT (SELECT count(*) FROM singlesession_links) + (SELECT count(*) FROM singlesession_endings)`).Scan(&n))
					return n
				},
			}
		})
	})
}
