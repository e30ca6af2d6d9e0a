package loadtest_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/loadtest"
)

// A short load of the real library: every invariant holds. -load.duration,
// -load.clients and -load.users make it longer or wider.
func TestRun(t *testing.T) {
	t.Parallel()
	requireDatabase(t)
	report, err := loadtest.Run(context.Background(), loadtest.Config{
		DSN:      pgtest.DatabaseURL(),
		Clients:  *loadClients,
		Users:    *loadUsers,
		Duration: *loadDuration,
	})
	require.NoError(t, err)
	t.Log("\n" + report.String())
	assert.True(t, report.OK(), "violations: %v", report.Violations())
	assert.Positive(t, report.Throughput)
	assert.Positive(t, report.P50)
}

// MaxRequests bounds a run by count as well as by time.
func TestRunMaxRequests(t *testing.T) {
	t.Parallel()
	requireDatabase(t)
	report, err := loadtest.Run(context.Background(), loadtest.Config{
		DSN: pgtest.DatabaseURL(), Clients: 8, Users: 3, Duration: time.Minute, MaxRequests: 300,
	})
	require.NoError(t, err)
	assert.Equal(t, 300, report.Requests)
	assert.True(t, report.OK(), "violations: %v", report.Violations())
}

// Run refuses a config it cannot use, before touching the database.
func TestRunBadConfig(t *testing.T) {
	_, err := loadtest.Run(context.Background(), loadtest.Config{})
	assert.ErrorContains(t, err, "no DSN")
	_, err = loadtest.Run(context.Background(), loadtest.Config{DSN: "postgres://x", Clients: -1})
	assert.ErrorContains(t, err, "invalid config")
}

// Each invariant of the load test fails when the store breaks it: the checks
// are not vacuous.
func TestRunDetectsBrokenStores(t *testing.T) {
	requireDatabase(t)
	cases := map[string]struct {
		wrap    func(singlesession.Store) singlesession.Store
		timeout time.Duration
		broken  []string // invariants that must fail
	}{
		"login keeps the other sessions": {
			wrap: func(s singlesession.Store) singlesession.Store { return &keepOthers{Store: s} },
			// Logouts end all of a user's sessions, so at the end the
			// duplicates may be gone; the samples during the load see them.
			broken: []string{"no user had more than one live session during the load"},
		},
		"save re-creates an ended session": {
			wrap: func(s singlesession.Store) singlesession.Store { return &resurrect{Store: s} },
			// The browsers usually end a resurrected session again (a login
			// or logout) before the end, so it shows in requests rather than
			// in the tables; TestCheckTablesFindsCorruption covers those.
			broken: []string{"session data and link agree on every request"},
		},
		"loads fail": {
			wrap:   func(s singlesession.Store) singlesession.Store { return &flaky{Store: s} },
			broken: []string{"no unexpected 5xx"},
		},
		"a save hangs past its context": {
			wrap:    func(s singlesession.Store) singlesession.Store { return &hang{Store: s} },
			timeout: 200 * time.Millisecond,
			broken:  []string{"no request outlived its context"},
		},
		"a save panics": {
			wrap:   func(s singlesession.Store) singlesession.Store { return &panicky{Store: s} },
			broken: []string{"no handler panicked"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			report, err := loadtest.Run(context.Background(), loadtest.Config{
				DSN: pgtest.DatabaseURL(), Clients: 16, Users: 4, Duration: 1500 * time.Millisecond,
				RequestTimeout: c.timeout, RecoveryTimeout: 5 * time.Second, WrapStore: c.wrap,
			})
			require.NoError(t, err)
			t.Log("\n" + report.String())
			assert.False(t, report.OK())
			failed := map[string]bool{}
			for _, inv := range report.Invariants {
				if !inv.OK {
					failed[inv.Name] = true
				}
			}
			for _, name := range c.broken {
				assert.True(t, failed[name], "invariant %q should fail", name)
			}
		})
	}
}

// keepOthers never ends the other sessions of a user who signs in.
type keepOthers struct{ singlesession.Store }

func (k *keepOthers) Login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	l.Limit = singlesession.Limit{}
	return k.Store.Login(ctx, l)
}

// resurrect saves an ended session by inserting it again, as an UPSERT would.
// Its saves are slow, so that other browsers end sessions while they are in
// flight.
type resurrect struct{ singlesession.Store }

func (r *resurrect) Update(ctx context.Context, u singlesession.Update) (bool, error) {
	time.Sleep(30 * time.Millisecond)
	found, err := r.Store.Update(ctx, u)
	if err == nil && !found {
		return true, r.Store.Insert(ctx, u.Token, u.Data, u.Expiry)
	}
	return found, err
}

// flaky fails one load in fifty.
type flaky struct {
	singlesession.Store
	n atomic.Int64
}

func (f *flaky) Find(ctx context.Context, token string, staleAfter time.Duration) (singlesession.FindResult, error) {
	if f.n.Add(1)%50 == 0 {
		return singlesession.FindResult{}, errors.New("flaky store")
	}
	return f.Store.Find(ctx, token, staleAfter)
}

// hang makes one save ignore its context for two seconds.
type hang struct {
	singlesession.Store
	once atomic.Bool
}

func (h *hang) Update(ctx context.Context, u singlesession.Update) (bool, error) {
	if h.once.CompareAndSwap(false, true) {
		time.Sleep(2 * time.Second)
	}
	return h.Store.Update(ctx, u)
}

// panicky panics on one save.
type panicky struct {
	singlesession.Store
	once atomic.Bool
}

func (p *panicky) Update(ctx context.Context, u singlesession.Update) (bool, error) {
	if p.once.CompareAndSwap(false, true) {
		panic(fmt.Sprintf("store bug saving %d bytes", len(u.Data)))
	}
	return p.Store.Update(ctx, u)
}
