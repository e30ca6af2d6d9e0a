package singlesession

import (
	"context"
	"errors"
	"time"
)

// SessionInfo describes one signed-in session without revealing its token.
type SessionInfo struct {
	ID        string    // opaque and stable: [SessionID] of the token; never the token
	Created   time.Time // when the user signed in on it
	Expiry    time.Time // when it expires, unless it ends sooner
	LastSeen  time.Time // its latest request, to within Config.LastSeenInterval
	IP        string    // the client's address at login (Config.ClientIP)
	UserAgent string    // the client's User-Agent at login, at most 512 bytes
	Current   bool      // it is the session of the request that asked ([Manager.Sessions])
}

// Sessions lists the live sessions of the request's user, oldest login
// first, with Current set on the request's own; none when the request is
// anonymous. Show it on an "your sessions" page, with [Manager.EndSession]
// and [Manager.EndOtherSessions] as its buttons. It costs one query.
func (m *Manager) Sessions(ctx context.Context) ([]SessionInfo, error) {
	st := m.state(ctx)
	if st == nil {
		return nil, wrap("sessions", ErrNoMiddleware)
	}
	userID, _, current := st.current()
	if userID == "" {
		return nil, nil
	}
	list, err := m.store.Sessions(ctx, userID)
	if err != nil {
		return nil, wrap("sessions", err)
	}
	for i := range list {
		list[i].Current = current != "" && list[i].ID == current
	}
	return list, nil
}

// UserSessions lists the live sessions of any user, oldest login first, for
// operators' tools; Current is false in each. It checks no permission. It
// returns an error wrapping [ErrInvalidUserID] for an unacceptable userID.
func (m *Manager) UserSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	if ctx == nil {
		return nil, errors.New("singlesession: user sessions: nil context")
	}
	if err := ValidateUserID(userID); err != nil {
		return nil, wrap("user sessions", err)
	}
	list, err := m.store.Sessions(ctx, userID)
	if err != nil {
		return nil, wrap("user sessions", err)
	}
	return list, nil
}

// CountSessions returns how many live sessions each of userIDs holds, in one
// store operation; users with none are absent. It checks no permission. It
// returns an error wrapping [ErrInvalidUserID] that names the first
// unacceptable ID.
func (m *Manager) CountSessions(ctx context.Context, userIDs []string) (map[string]int, error) {
	if ctx == nil {
		return nil, errors.New("singlesession: count sessions: nil context")
	}
	if err := validUserIDs(userIDs); err != nil {
		return nil, wrap("count sessions", err)
	}
	counts, err := m.store.CountSessions(ctx, userIDs)
	if err != nil {
		return nil, wrap("count sessions", err)
	}
	return counts, nil
}

// EndSession ends one session of the request's user, by the ID that
// [Manager.Sessions] lists. The ended browser's next request is anonymous,
// and [Manager.Ended] tells it [ReasonRevoked]. Ending the request's own
// session signs this browser out as its own logout would, but leaves the
// user's other sessions alone.
//
// An ID that is not a live session of the request's user (another user's
// included), or a request that is anonymous, gets an error wrapping
// [ErrSessionNotFound], and nothing ends.
func (m *Manager) EndSession(ctx context.Context, id string) error {
	st := m.state(ctx)
	if st == nil {
		return wrap("end session", ErrNoMiddleware)
	}
	userID, _, current := st.current()
	if userID == "" || !plausibleID(id) {
		return wrap("end session", ErrSessionNotFound)
	}
	ip, userAgent := st.client()
	if id == current {
		st.beginLogout(true, true)
		err := m.sessions.Destroy(ctx)
		l := st.endLogout()
		if err != nil {
			return wrap("end session", err)
		}
		if l.result.Deleted == 0 {
			return wrap("end session", ErrSessionNotFound) // it had ended meanwhile
		}
		m.emit(ctx, Event{Kind: EventEnded, UserID: userID, SessionID: id, Ended: l.result.Deleted, IP: ip, UserAgent: userAgent, At: l.result.At})
		return nil
	}
	ended, err := m.store.Revoke(ctx, Revoke{UserID: userID, IDs: []string{id}, Reason: ReasonRevoked, UserAgent: userAgent})
	if err != nil {
		return wrap("end session", err)
	}
	if ended.Count == 0 {
		return wrap("end session", ErrSessionNotFound)
	}
	m.emit(ctx, Event{Kind: EventEnded, UserID: userID, SessionID: current, Ended: ended.Count, Reason: ReasonRevoked, IP: ip, UserAgent: userAgent, At: ended.At})
	return nil
}

// EndOtherSessions ends every session of the request's user but the
// request's own, and returns how many live ones ended: call it after a
// password change. The ended browsers learn [ReasonRevoked] from
// [Manager.Ended]. An anonymous request ends nothing.
func (m *Manager) EndOtherSessions(ctx context.Context) (int, error) {
	st := m.state(ctx)
	if st == nil {
		return 0, wrap("end other sessions", ErrNoMiddleware)
	}
	userID, token, current := st.current()
	if userID == "" {
		return 0, nil
	}
	ip, userAgent := st.client()
	ended, err := m.store.Revoke(ctx, Revoke{UserID: userID, Keep: token, Reason: ReasonRevoked, UserAgent: userAgent})
	if err != nil {
		return 0, wrap("end other sessions", err)
	}
	if ended.Count > 0 {
		m.emit(ctx, Event{Kind: EventEnded, UserID: userID, SessionID: current, Ended: ended.Count, Reason: ReasonRevoked, IP: ip, UserAgent: userAgent, At: ended.At})
	}
	return ended.Count, nil
}

// plausibleID reports whether id could be a [SessionID]; anything else is
// not looked up.
func plausibleID(id string) bool {
	return len(id) <= 64 && plausibleToken(id)
}

// EndUserSession ends one session of userID, by the ID that
// [Manager.UserSessions] lists, for operators' tools: it checks no
// permission (see [Admin] for that), and the ended browser learns
// [ReasonAdmin] from [Manager.Ended]. An ID that is not a live session of
// userID gets an error wrapping [ErrSessionNotFound], and nothing ends; an
// unacceptable userID an error wrapping [ErrInvalidUserID].
func (m *Manager) EndUserSession(ctx context.Context, userID, id string) error {
	return m.endUserSession(ctx, userID, id, "")
}

// endUserSession is EndUserSession for an operator (actor, "" when unknown).
func (m *Manager) endUserSession(ctx context.Context, userID, id, actor string) error {
	if ctx == nil {
		return errors.New("singlesession: end user session: nil context")
	}
	if err := ValidateUserID(userID); err != nil {
		return wrap("end user session", err)
	}
	if !plausibleID(id) {
		return wrap("end user session", ErrSessionNotFound)
	}
	ended, err := m.store.Revoke(ctx, Revoke{UserID: userID, IDs: []string{id}, Reason: ReasonAdmin})
	if err != nil {
		return wrap("end user session", err)
	}
	if ended.Count == 0 {
		return wrap("end user session", ErrSessionNotFound)
	}
	m.emit(ctx, Event{Kind: EventEnded, UserID: userID, Ended: ended.Count, Reason: ReasonAdmin, Actor: actor, At: ended.At})
	return nil
}
