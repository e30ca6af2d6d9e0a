package otelsinglesession

import "github.com/go-singlesession/singlesession"

// The instrumented store has every method of the three optional interfaces
// of singlesession.Store, and must show only those of the store it wraps:
// the Manager asks by type assertion, and a wrapper that claimed All over
// a store without it would make scs's Iterate fail where the Manager
// should report that it cannot work. Each type below embeds the
// instrumented store once per interface it shows; withInterfacesOf picks
// the one that matches, out of the 2³ combinations.
type (
	plain   struct{ singlesession.Store }
	withI   struct{ iStore }
	withC   struct{ cStore }
	withN   struct{ nStore }
	withIC  struct{ icStore }
	withIN  struct{ inStore }
	withCN  struct{ cnStore }
	withICN struct{ icnStore }
)

// The combinations, as interfaces, for the embedding above.
type (
	iStore interface {
		singlesession.Store
		singlesession.IterableStore
	}
	cStore interface {
		singlesession.Store
		singlesession.CleanupStore
	}
	nStore interface {
		singlesession.Store
		singlesession.NotifyingStore
	}
	icStore interface {
		iStore
		singlesession.CleanupStore
	}
	inStore interface {
		iStore
		singlesession.NotifyingStore
	}
	cnStore interface {
		cStore
		singlesession.NotifyingStore
	}
	icnStore interface {
		icStore
		singlesession.NotifyingStore
	}
)

// Bits of the optional interfaces a store has.
const (
	iterable  = 1 << iota // singlesession.IterableStore
	cleanup               // singlesession.CleanupStore
	notifying             // singlesession.NotifyingStore
)

// optionalOf returns which optional interfaces s has.
func optionalOf(s singlesession.Store) int {
	bits := 0
	if _, ok := s.(singlesession.IterableStore); ok {
		bits |= iterable
	}
	if _, ok := s.(singlesession.CleanupStore); ok {
		bits |= cleanup
	}
	if _, ok := s.(singlesession.NotifyingStore); ok {
		bits |= notifying
	}
	return bits
}

// withInterfacesOf returns t as a Store that has exactly the optional
// interfaces of next.
func withInterfacesOf(next singlesession.Store, t *store) singlesession.Store {
	switch optionalOf(next) {
	case iterable:
		return withI{t}
	case cleanup:
		return withC{t}
	case notifying:
		return withN{t}
	case iterable | cleanup:
		return withIC{t}
	case iterable | notifying:
		return withIN{t}
	case cleanup | notifying:
		return withCN{t}
	case iterable | cleanup | notifying:
		return withICN{t}
	}
	return plain{t}
}
