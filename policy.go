package singlesession

import (
	"context"
	"fmt"
	"reflect"
)

// A Policy decides, when userID signs in, whether that user's other sessions
// end. It returns true for "one session only".
//
// [Manager.LoginHook] calls the policy exactly once per login, with the user who
// signs in, before it changes anything; it never calls it on logout or on
// ordinary requests. The policy runs on a goroutine of its own: if ctx is done
// before it returns, the login fails with ctx's error and nothing changes; a
// policy that ignores ctx keeps running until it returns, but holds no lock and
// delays no other login. Config.Limit, when set, replaces the policy and is
// called in the same way. A policy that panics, or ends its goroutine without
// returning (runtime.Goexit, which t.FailNow calls), fails the login at once
// with an error wrapping [ErrPolicyPanic]; nothing changes either.
type Policy func(ctx context.Context, userID string) bool

// Always is the [Policy] that ends every other session of the user who
// signs in. It is the default (a nil Config.Policy).
func Always(context.Context, string) bool { return true }

// Never is the [Policy] that keeps every session: a user may be signed in on
// any number of browsers. Logout still ends all of them unless
// Config.KeepOtherSessionsOnLogout is set.
func Never(context.Context, string) bool { return false }

// fixedLimit returns the Limit of a policy that answers the same for every
// user (Always or Never), and whether p is one: those need no goroutine.
func fixedLimit(p Policy) (Limit, bool) {
	switch reflect.ValueOf(p).Pointer() {
	case reflect.ValueOf(Always).Pointer():
		return Limit{Max: 1}, true
	case reflect.ValueOf(Never).Pointer():
		return Limit{}, true
	}
	return Limit{}, false
}

// Limit is how many sessions a user may hold at once, as Config.Limit
// decides it at each login.
//
// Limit{Max: 1} behaves exactly as [Always], and Limit{} (no limit) exactly
// as [Never].
type Limit struct {
	// Max is how many sessions the user may hold at once, the new one
	// included; 0 means no limit. When a login would exceed it, the least
	// recently used of the user's other sessions end (least recent LastSeen
	// first, ties by oldest login), or, with RejectNew, the login is refused.
	// The browser's own previous session never counts (signing in again
	// always works), nor do expired sessions. A negative Max fails the
	// login with an error.
	Max int

	// RejectNew refuses a login that would exceed Max, with an error
	// wrapping [ErrTooManySessions], instead of ending the least recently
	// used session; nothing changes and the browser keeps what it had.
	RejectNew bool
}

// limitOf is the Limit a Policy's answer means.
func limitOf(endOthers bool) Limit {
	if endOthers {
		return Limit{Max: 1}
	}
	return Limit{}
}

// decide runs Config.Limit, or else the Policy, for userID and returns the
// user's Limit. A nil Limit and nil Policy mean Always and cost nothing. The
// function runs on a goroutine of its own, so that a panic, a
// runtime.Goexit or a ctx that ends first fails the login at once.
func (m *Manager) decide(ctx context.Context, userID string) (Limit, error) {
	var decide func(context.Context, string) Limit
	switch {
	case m.limit != nil:
		decide = m.limit
	case m.policy != nil:
		if l, ok := fixedLimit(m.policy); ok {
			return l, nil
		}
		policy := m.policy
		decide = func(ctx context.Context, userID string) Limit { return limitOf(policy(ctx, userID)) }
	default:
		return Limit{Max: 1}, nil
	}
	type verdict struct {
		limit Limit
		err   error
	}
	done := make(chan verdict, 1)
	go func() {
		returned := false
		defer func() {
			if returned {
				return
			}
			// recover is nil when the function called runtime.Goexit (as
			// t.FailNow does): the goroutine ends without an answer, and
			// without this the login would wait for ctx to end.
			if p := recover(); p != nil {
				done <- verdict{err: fmt.Errorf("%w: %v", ErrPolicyPanic, p)}
			} else {
				done <- verdict{err: fmt.Errorf("%w: it exited without returning (runtime.Goexit)", ErrPolicyPanic)}
			}
		}()
		limit := decide(ctx, userID)
		returned = true
		done <- verdict{limit: limit}
	}()
	select {
	case v := <-done:
		if v.err != nil {
			return Limit{}, v.err
		}
		if ctx.Err() != nil {
			// The answer came, but too late to act on: the request is over.
			return Limit{}, fmt.Errorf("policy: %w", context.Cause(ctx))
		}
		if v.limit.Max < 0 {
			return Limit{}, fmt.Errorf("limit: Max is negative (%d)", v.limit.Max)
		}
		return v.limit, nil
	case <-ctx.Done():
		return Limit{}, fmt.Errorf("policy: %w", context.Cause(ctx))
	}
}
