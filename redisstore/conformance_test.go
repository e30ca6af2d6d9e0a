package redisstore_test

import (
	"testing"

	"github.com/go-singlesession/singlesession/redisstore"
	"github.com/go-singlesession/singlesession/storetest"
)

// The behaviour tests of every store (storetest), on a single Redis with two
// clients: one per application instance.
func TestConformanceSingle(t *testing.T) {
	storetest.RunBackend(t, func(t *testing.T) storetest.Backend {
		one, two := singleClient(t), singleClient(t)
		first, prefix := newStore(t, one)
		return storetest.Backend{
			Store:   first,
			Second:  redisstore.NewWithPrefix(two, prefix),
			Residue: func(t testing.TB) int { return residue(t, one, prefix) },
		}
	})
}

// The same on Redis Cluster (REDIS_CLUSTER_ADDRS).
func TestConformanceCluster(t *testing.T) {
	clusterClient(t)
	storetest.RunBackend(t, func(t *testing.T) storetest.Backend {
		one, two := clusterClient(t), clusterClient(t)
		first, prefix := newStore(t, one)
		return storetest.Backend{
			Store:   first,
			Second:  redisstore.NewWithPrefix(two, prefix),
			Residue: func(t testing.TB) int { return residue(t, one, prefix) },
		}
	})
}
