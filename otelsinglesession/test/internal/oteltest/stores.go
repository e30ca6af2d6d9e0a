package oteltest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-singlesession/singlesession"
)

// Full is a Store with every optional interface, as MemoryStore and
// pgxstore are.
type Full interface {
	singlesession.Store
	singlesession.IterableStore
	singlesession.CleanupStore
	singlesession.NotifyingStore
}

// The optional interfaces, as bits for Subset.
const (
	Iterable  = 1 << iota // singlesession.IterableStore
	Cleanup               // singlesession.CleanupStore
	Notifying             // singlesession.NotifyingStore
)

// Bits returns which optional interfaces s has.
func Bits(s singlesession.Store) int {
	bits := 0
	if _, ok := s.(singlesession.IterableStore); ok {
		bits |= Iterable
	}
	if _, ok := s.(singlesession.CleanupStore); ok {
		bits |= Cleanup
	}
	if _, ok := s.(singlesession.NotifyingStore); ok {
		bits |= Notifying
	}
	return bits
}

// Subset returns s as a Store that has exactly the optional interfaces of
// bits. (The tests build their stores this way, independently of
// otelsinglesession's own types.)
func Subset(s Full, bits int) singlesession.Store {
	type (
		S = singlesession.Store
		I = singlesession.IterableStore
		C = singlesession.CleanupStore
		N = singlesession.NotifyingStore
	)
	switch bits {
	case 0:
		return struct{ S }{s}
	case Iterable:
		return struct {
			S
			I
		}{s, s}
	case Cleanup:
		return struct {
			S
			C
		}{s, s}
	case Notifying:
		return struct {
			S
			N
		}{s, s}
	case Iterable | Cleanup:
		return struct {
			S
			I
			C
		}{s, s, s}
	case Iterable | Notifying:
		return struct {
			S
			I
			N
		}{s, s, s}
	case Cleanup | Notifying:
		return struct {
			S
			C
			N
		}{s, s, s}
	case Iterable | Cleanup | Notifying:
		return s
	}
	panic(fmt.Sprint("oteltest: no such subset ", bits))
}

// Delegate is a Full store over any store: each optional method calls
// Next's, which the caller makes sure it has (wrap Delegate's users with
// Subset(d, Bits(d.Next))).
type Delegate struct{ singlesession.Store }

// All implements singlesession.IterableStore.
func (d Delegate) All(ctx context.Context) (map[string][]byte, error) {
	return d.Store.(singlesession.IterableStore).All(ctx)
}

// DeleteExpired implements singlesession.CleanupStore.
func (d Delegate) DeleteExpired(ctx context.Context) (int, error) {
	return d.Store.(singlesession.CleanupStore).DeleteExpired(ctx)
}

// Listen implements singlesession.NotifyingStore.
func (d Delegate) Listen(ctx context.Context, ready func(), notify func(singlesession.Notice)) error {
	return d.Store.(singlesession.NotifyingStore).Listen(ctx, ready, notify)
}

// DownError is the failure of a Failing store.
type DownError struct{}

func (*DownError) Error() string { return "store down" }

// Failing is a store whose Find and Login fail with a *DownError while
// Down is set, with the user ID of the call quoted in the message, as real
// stores quote it.
type Failing struct {
	singlesession.Store
	Down atomic.Bool
}

// NewFailing returns a Failing store over s, and s with the optional
// interfaces of s.
func NewFailing(s singlesession.Store) (*Failing, singlesession.Store) {
	f := &Failing{Store: s}
	return f, Subset(failingFull{f}, Bits(s))
}

type failingFull struct{ *Failing }

func (f failingFull) All(ctx context.Context) (map[string][]byte, error) {
	return Delegate{f.Failing.Store}.All(ctx)
}

func (f failingFull) DeleteExpired(ctx context.Context) (int, error) {
	return Delegate{f.Failing.Store}.DeleteExpired(ctx)
}

func (f failingFull) Listen(ctx context.Context, ready func(), notify func(singlesession.Notice)) error {
	return Delegate{f.Failing.Store}.Listen(ctx, ready, notify)
}

func (f *Failing) fail(what, user string) error {
	if !f.Down.Load() {
		return nil
	}
	return fmt.Errorf("failing: %s of %q: %w", what, user, &DownError{})
}

// Find implements singlesession.Store.
func (f *Failing) Find(ctx context.Context, token string, staleAfter time.Duration) (singlesession.FindResult, error) {
	if err := f.fail("find", ""); err != nil {
		return singlesession.FindResult{}, err
	}
	return f.Store.Find(ctx, token, staleAfter)
}

// Login implements singlesession.Store.
func (f *Failing) Login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	if err := f.fail("login", l.UserID); err != nil {
		return singlesession.LoginResult{}, err
	}
	return f.Store.Login(ctx, l)
}

// Gate is a store whose first Login of User waits, once it began, until
// Release is closed; Entered is closed when it begins. The other calls go
// straight through.
type Gate struct {
	singlesession.Store
	User    string
	Entered chan struct{}
	Release chan struct{}
	once    sync.Once
}

// NewGate returns a Gate over s for user.
func NewGate(s singlesession.Store, user string) *Gate {
	return &Gate{Store: s, User: user, Entered: make(chan struct{}), Release: make(chan struct{})}
}

// Login implements singlesession.Store.
func (g *Gate) Login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	if l.UserID == g.User {
		first := false
		g.once.Do(func() { first = true })
		if first {
			close(g.Entered)
			<-g.Release
		}
	}
	return g.Store.Login(ctx, l)
}

// WithReady returns s, with the optional interfaces of s, and a channel
// that is closed once a subscription of its Listen is in place: a test
// that waits for it knows that an ending is heard as a notice, not found
// by the check that follows a subscription's start.
func WithReady(s singlesession.Store) (singlesession.Store, <-chan struct{}) {
	r := readyStore{Delegate{s}, make(chan struct{}), &sync.Once{}}
	return Subset(r, Bits(s)), r.ready
}

type readyStore struct {
	Delegate
	ready chan struct{}
	once  *sync.Once
}

func (r readyStore) Listen(ctx context.Context, ready func(), notify func(singlesession.Notice)) error {
	return r.Delegate.Listen(ctx, func() {
		ready()
		r.once.Do(func() { close(r.ready) })
	}, notify)
}
