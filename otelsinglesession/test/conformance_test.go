package test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/otelsinglesession"
	"github.com/go-singlesession/singlesession/otelsinglesession/test/internal/oteltest"
	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/go-singlesession/singlesession/storetest"
)

// The wrapper changes no behaviour: the whole conformance suite of
// singlesession passes through NewStore, recording with the SDK, on the
// memory store and on PostgreSQL (two instances, each with its own
// wrapper).
func TestConformance(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) singlesession.Store {
			return otelsinglesession.NewStore(singlesession.NewMemoryStore(), oteltest.NewTelemetry(t).Options()...)
		})
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.RunBackend(t, func(t *testing.T) storetest.Backend {
			schema := pgtest.Schema(t, "ss_otel")
			first := pgtest.Pool(t, schema, nil)
			require.NoError(t, pgxstore.Migrate(context.Background(), first))
			second := pgtest.Pool(t, schema, nil)
			tel := oteltest.NewTelemetry(t)
			return storetest.Backend{
				Store:  otelsinglesession.NewStore(pgxstore.New(first), tel.Options()...),
				Second: otelsinglesession.NewStore(pgxstore.New(second), tel.Options()...),
			}
		})
	})
}
