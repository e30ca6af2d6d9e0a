package singlesession

import (
	"context"
	"time"
)

// Reason says why the library ended a session; see [Manager.Ended].
type Reason string

// The reasons why a session ended.
const (
	// ReasonLogin: the user signed in on another browser, and that login
	// ended this session (under the policy, or as the least recently used
	// one under Config.Limit).
	ReasonLogin Reason = "login"

	// ReasonLogout: the user signed out on another browser, which signs out
	// every session of the user.
	ReasonLogout Reason = "logout"

	// ReasonRevoked: the user ended this session from another of their
	// sessions ([Manager.EndSession], [Manager.EndOtherSessions]).
	ReasonRevoked Reason = "revoked"

	// ReasonAdmin: an operator signed the user out ([Admin.Run],
	// [Manager.LogoutUser], [Manager.LogoutUsers], the command line).
	ReasonAdmin Reason = "admin"

	// ReasonExpired: the session expired. Only [Manager.SessionContext] and
	// [Manager.WatchHandler] report it; [Manager.Ended] says nothing for an
	// expired session.
	ReasonExpired Reason = "expired"
)

// Ending says why and when a browser's session ended.
type Ending struct {
	Reason    Reason
	At        time.Time // when it ended, by the store's clock
	UserAgent string    // the User-Agent of the request that ended it; "" for operators
}

// Ended reports why the session that the request's cookie names was ended by
// the library, so that a login page can tell a signed-out browser "you
// signed in on another device" or "an administrator signed you out". It
// returns the [Ending] and true on the first requests of such a browser, until
// the ended session would have expired or the browser signs in again.
//
// It returns false for a live session, a request without a cookie, an unknown
// token, a session that simply expired, and a session the browser ended
// itself ([Manager.LogoutHook], or [Manager.EndSession] of its own
// session), even when its old cookie is sent again. It costs no query of
// its own: the session load reads it (one more query, with
// pgxstore, only for a cookie whose session is not live).
func (m *Manager) Ended(ctx context.Context) (Ending, bool) {
	st := m.state(ctx)
	if st == nil {
		return Ending{}, false
	}
	if e := st.endedWhy(); e != nil {
		return *e, true
	}
	return Ending{}, false
}
