package singlesession

import (
	"context"
	"fmt"
	"time"
)

// DeleteExpired deletes every expired session from the store, with its link,
// and returns how many it deleted. Run it from your own scheduler, or let
// [Manager.RunCleanup] run it on a ticker. Over a store that is not a
// [CleanupStore] (one that expires what it holds by itself) it does nothing
// and returns 0.
func (m *Manager) DeleteExpired(ctx context.Context) (int, error) {
	c, ok := m.store.(CleanupStore)
	if !ok {
		return 0, nil
	}
	n, err := c.DeleteExpired(ctx)
	if err != nil {
		return n, wrap("delete expired", err)
	}
	return n, nil
}

// RunCleanup calls [Manager.DeleteExpired] every interval until ctx is done,
// then returns ctx's cause. It logs failures and keeps going. Start it on a
// goroutine of your own and stop it by cancelling ctx:
//
//	ctx, stop := context.WithCancel(context.Background())
//	defer stop()
//	go m.RunCleanup(ctx, 5*time.Minute)
//
// It returns an error at once if interval is not positive.
func (m *Manager) RunCleanup(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("singlesession: run cleanup: interval %v is not positive", interval)
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-ticker.C:
			n, err := m.DeleteExpired(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				m.logger.ErrorContext(ctx, "singlesession: cleanup failed", "err", err)
			case n > 0:
				m.logger.DebugContext(ctx, "singlesession: deleted expired sessions", "count", n)
			}
		}
	}
}
