package singlesession

import (
	"context"
	"fmt"
)

// A Policy decides, when userID signs in, whether that user's other sessions
// end. It returns true for "one session only".
//
// [Manager.LoginHook] calls the policy exactly once per login, with the user who
// signs in, before it changes anything; it never calls it on logout or on
// ordinary requests. The policy runs on a goroutine of its own: if ctx is done
// before it returns, the login fails with ctx's error and nothing changes; a
// policy that ignores ctx keeps running until it returns, but holds no lock and
// delays no other login. A policy that panics, or ends its goroutine without
// returning (runtime.Goexit, which t.FailNow calls), fails the login at once
// with an error wrapping [ErrPolicyPanic]; nothing changes either.
type Policy func(ctx context.Context, userID string) bool

var (
	// Always ends every other session of the user who signs in. It is the
	// default (a nil Config.Policy).
	Always Policy = func(context.Context, string) bool { return true }

	// Never keeps every session: a user may be signed in on any number of
	// browsers. Logout still ends all of them unless
	// Config.KeepOtherSessionsOnLogout is set.
	Never Policy = func(context.Context, string) bool { return false }
)

// decide runs the policy for userID and reports whether the user's other
// sessions end. A nil policy means Always and costs nothing.
func (m *Manager) decide(ctx context.Context, userID string) (bool, error) {
	if m.policy == nil {
		return true, nil
	}
	type verdict struct {
		endOthers bool
		err       error
	}
	done := make(chan verdict, 1)
	go func() {
		returned := false
		defer func() {
			if returned {
				return
			}
			// recover is nil when the policy called runtime.Goexit (as
			// t.FailNow does): the goroutine ends without an answer, and
			// without this the login would wait for ctx to end.
			if p := recover(); p != nil {
				done <- verdict{err: fmt.Errorf("%w: %v", ErrPolicyPanic, p)}
			} else {
				done <- verdict{err: fmt.Errorf("%w: it exited without returning (runtime.Goexit)", ErrPolicyPanic)}
			}
		}()
		endOthers := m.policy(ctx, userID)
		returned = true
		done <- verdict{endOthers: endOthers}
	}()
	select {
	case v := <-done:
		if v.err == nil && ctx.Err() != nil {
			// The policy answered, but too late to act on: the request is over.
			return false, fmt.Errorf("policy: %w", context.Cause(ctx))
		}
		return v.endOthers, v.err
	case <-ctx.Done():
		return false, fmt.Errorf("policy: %w", context.Cause(ctx))
	}
}
