package singlesession

import (
	"errors"
	"fmt"
	"strings"
)

// The sentinel errors of the package. Each is documented with the methods
// that return it; those methods wrap it with context and the "singlesession: "
// prefix, so test for them with errors.Is.
var (
	// ErrNoMiddleware is wrapped by the errors that [Manager.LoginHook],
	// [Manager.LogoutHook] and [Manager.Commit] return when ctx did not come
	// from a request that [Manager.Middleware] handles or from [Manager.Load]
	// (for example context.Background(), or a handler still wrapped in
	// scs's own LoadAndSave), and by the error scs's Load and LoadAndSave
	// return when they are used instead of the Manager's. Its text names the
	// fix.
	ErrNoMiddleware = errors.New("the request did not go through Manager.Middleware: wrap the handler with Manager.Middleware in place of sessions.LoadAndSave (in a middleware of your own, or a handler test, call Manager.Load in place of sessions.Load) and pass r.Context()")

	// ErrInvalidUserID is wrapped by the errors that [Manager.LoginHook],
	// [Manager.LogoutUser], [Manager.LogoutUsers], [ValidateUserID] and the
	// directories return for a user ID that is empty, longer than
	// [MaxUserIDLen] bytes, not valid UTF-8, or contains a NUL byte.
	ErrInvalidUserID = errors.New("invalid user ID")

	// ErrPolicyPanic is wrapped by the error [Manager.LoginHook] returns when
	// the policy panicked or ended its goroutine with runtime.Goexit.
	ErrPolicyPanic = errors.New("policy panicked")

	// ErrSessionNotFound is wrapped by the error that [Manager.EndSession]
	// returns for an ID that is not a live session of the request's user,
	// by the errors of [Manager.EndUserSession] and [Admin.EndSession] for
	// an ID that is not a live session of the user they name, and by the error that scs's Commit returns outside a request (a background job, scs's Iterate outside a handler)
	// for a session that is not in the store: one that ended, or one that
	// was never stored. Outside a request the Manager updates sessions only;
	// it never creates one, since it cannot tell a new session from an
	// ended one.
	ErrSessionNotFound = errors.New("session not found")

	// ErrTooManySessions is wrapped by the error that [Manager.LoginHook]
	// returns, and that Config.ErrorFunc receives from the login's save,
	// when a login is refused because the user already holds Limit.Max
	// sessions and Config.Limit says RejectNew. Nothing changed then: the
	// browser keeps what it had.
	ErrTooManySessions = errors.New("too many sessions")

	// ErrPermissionDenied is wrapped by the error [Admin.Run] returns when
	// the actor is not a user the [Directory] knows or does not hold the
	// action's permission, and by the error [Admin.EndSession] returns when
	// the actor may not end that user's sessions: a [*PermissionError],
	// which says who lacked what. Nothing ends then.
	ErrPermissionDenied = errors.New("permission denied")

	// ErrUnknownAction is wrapped by the error [Admin.Run] returns for an
	// action other than [ActionLogout] and [ActionLogoutAll].
	ErrUnknownAction = errors.New("unknown action")

	// ErrNoUsers is wrapped by the error [Admin.Run] returns when it is given
	// no user IDs.
	ErrNoUsers = errors.New("no users chosen")

	// ErrUnknownPermission is wrapped by the errors that [NewStaticDirectory]
	// (through the directory's methods and [NewAdmin]) and the grants of
	// package pgxstore return for a permission other than [PermLogout] and
	// [PermLogoutAll] (and, for pgxstore's grants, its GrantAdmin).
	ErrUnknownPermission = errors.New("unknown permission")

	// ErrSessionEnded is wrapped by the cause of the context that
	// [Manager.SessionContext] returns when the request's session ends
	// (always through an [*EndedError], which says why).
	ErrSessionEnded = errors.New("session ended")

	// ErrInvalidCursor is wrapped by the errors that [Manager.SessionsPage]
	// and [Manager.UserSessionsPage] return for a cursor that is not the
	// Next of a page they returned.
	ErrInvalidCursor = errors.New("invalid cursor")
)

// PermissionError is the error [Admin.Run] and [Admin.EndSession] return
// when the actor may not do what they asked; nothing ended then. It wraps
// [ErrPermissionDenied], so errors.Is finds that, and errors.As finds the
// PermissionError, whose fields say who lacked what: an application that
// calls Admin.Run from its own handler can tell the actor which permission
// to ask for.
type PermissionError struct {
	// Actor is the user who asked.
	Actor string

	// Action is the action [Admin.Run] was asked to run; "" for
	// [Admin.EndSession].
	Action Action

	// Target is the user whose session [Admin.EndSession] was asked to
	// end; "" for [Admin.Run].
	Target string

	// Needs is the permission that would have allowed it: the action's for
	// [Admin.Run]; for [Admin.EndSession], [PermLogout], or [PermLogoutAll]
	// when Target is an admin user.
	Needs string

	// UnknownActor reports that the [Directory] does not know Actor, who
	// then holds no permission at all.
	UnknownActor bool

	// TargetAdmin reports that Target is an admin user, whose sessions only
	// [PermLogoutAll] ends.
	TargetAdmin bool
}

// Error says who lacked what, as in `logout_all by "sam", who does not hold
// single_session.logout_all: permission denied`.
func (e *PermissionError) Error() string {
	what := string(e.Action)
	if e.Target != "" || e.Action == "" {
		what = fmt.Sprintf("end session of %q", e.Target)
	}
	var why string
	switch {
	case e.UnknownActor:
		why = fmt.Sprintf(" by %.40q, a user the directory does not know", e.Actor)
	case e.TargetAdmin:
		why = fmt.Sprintf(" by %q: %q is an admin user, whose sessions only %s ends", e.Actor, e.Target, e.Needs)
	case e.Action == "":
		why = fmt.Sprintf(" by %q, who holds neither %s nor %s", e.Actor, PermLogout, PermLogoutAll)
	default:
		why = fmt.Sprintf(" by %q, who does not hold %s", e.Actor, e.Needs)
	}
	return what + why + ": " + ErrPermissionDenied.Error()
}

// Unwrap returns [ErrPermissionDenied].
func (e *PermissionError) Unwrap() error { return ErrPermissionDenied }

// errPrefix starts every error that leaves the package.
const errPrefix = "singlesession: "

// wrap returns err prefixed with "singlesession: " and what, or err itself
// when it already carries the prefix: it then comes from another exported
// method of the package (a store's, through scs), or from a Store or
// Directory of the application's that follows the same convention, and the
// prefix appears once.
func wrap(what string, err error) error {
	if strings.HasPrefix(err.Error(), errPrefix) {
		return err
	}
	return fmt.Errorf("%s%s: %w", errPrefix, what, err)
}

// wrapTo applies wrap to *err when it is not nil; defer it in a method whose
// errors all leave the package (the scs adapter's).
func wrapTo(err *error, what string) {
	if *err != nil {
		*err = wrap(what, *err)
	}
}

// EndedError is the cause of the context that [Manager.SessionContext]
// returns, once the request's session has ended: Ending says why (a
// Reason of "" when the browser signed itself out, [ReasonExpired] when it
// expired). It unwraps to [ErrSessionEnded]:
//
//	var ended *singlesession.EndedError
//	if errors.As(context.Cause(ctx), &ended) { ... ended.Ending.Reason ... }
type EndedError struct {
	Ending Ending
}

// Error says that the session ended, and why.
func (e *EndedError) Error() string {
	if e.Ending.Reason == "" {
		return ErrSessionEnded.Error()
	}
	return ErrSessionEnded.Error() + ": " + string(e.Ending.Reason)
}

// Unwrap returns [ErrSessionEnded].
func (e *EndedError) Unwrap() error { return ErrSessionEnded }
