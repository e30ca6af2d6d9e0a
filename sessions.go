package singlesession

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
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

// SessionPage is one page of a user's sessions, as [Manager.SessionsPage]
// and [Manager.UserSessionsPage] return it.
type SessionPage struct {
	Sessions []SessionInfo // most recently used first; at most Config.PageSize
	Total    int           // how many live sessions the user holds in all
	Next     string        // the cursor of the next page; "" when this is the last
}

// Sessions returns the first page of the live sessions of the request's
// user (see [Manager.SessionsPage]), most recently used first, with Current
// set on the request's own; none when the request is anonymous. Show it on a
// "your sessions" page, with [Manager.EndSession] and
// [Manager.EndOtherSessions] as its buttons. It costs one query.
func (m *Manager) Sessions(ctx context.Context) ([]SessionInfo, error) {
	page, err := m.SessionsPage(ctx, "")
	return page.Sessions, err
}

// SessionsPage returns one page of the live sessions of the request's user:
// at most Config.PageSize of them, most recently used first (LastSeen
// descending), from the cursor that the previous page's Next gave ("" for
// the first page), with Current set on the request's own and the number of
// sessions the user holds in all. An anonymous request gets an empty page.
// It returns an error wrapping [ErrInvalidCursor] for a cursor that no page
// gave. It costs one query, however many sessions the user holds.
func (m *Manager) SessionsPage(ctx context.Context, cursor string) (SessionPage, error) {
	st := m.state(ctx)
	if st == nil {
		return SessionPage{}, wrap("sessions", ErrNoMiddleware)
	}
	userID, _, current := st.current()
	if userID == "" {
		return SessionPage{}, nil
	}
	page, err := m.page(ctx, userID, cursor)
	if err != nil {
		return SessionPage{}, wrap("sessions", err)
	}
	for i := range page.Sessions {
		page.Sessions[i].Current = current != "" && page.Sessions[i].ID == current
	}
	return page, nil
}

// UserSessions returns the first page of the live sessions of any user (see
// [Manager.UserSessionsPage]), for operators' tools; Current is false in
// each. It checks no permission. It returns an error wrapping
// [ErrInvalidUserID] for an unacceptable userID.
func (m *Manager) UserSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	page, err := m.UserSessionsPage(ctx, userID, "")
	return page.Sessions, err
}

// UserSessionsPage is [Manager.SessionsPage] for any user, for operators'
// tools; Current is false in each. It checks no permission. It returns an
// error wrapping [ErrInvalidUserID] for an unacceptable userID, and one
// wrapping [ErrInvalidCursor] for a cursor that no page gave.
func (m *Manager) UserSessionsPage(ctx context.Context, userID, cursor string) (SessionPage, error) {
	if err := ValidateUserID(userID); err != nil {
		return SessionPage{}, wrap("user sessions", err)
	}
	page, err := m.page(ctx, userID, cursor)
	if err != nil {
		return SessionPage{}, wrap(fmt.Sprintf("sessions of %q", userID), err)
	}
	return page, nil
}

// page reads the page of userID's sessions that starts after cursor. It
// asks the store for one session more than a page, to know whether another
// page follows.
func (m *Manager) page(ctx context.Context, userID, cursor string) (SessionPage, error) {
	after, err := parseCursor(cursor)
	if err != nil {
		return SessionPage{}, err
	}
	res, err := m.store.Sessions(ctx, SessionsQuery{UserID: userID, After: after, Limit: m.pageSize + 1})
	if err != nil {
		return SessionPage{}, err
	}
	page := SessionPage{Sessions: res.Sessions, Total: res.Total}
	if len(page.Sessions) > m.pageSize {
		page.Sessions = page.Sessions[:m.pageSize]
		last := page.Sessions[m.pageSize-1]
		page.Next = formatCursor(Position{LastSeen: last.LastSeen, ID: last.ID})
	}
	return page, nil
}

// formatCursor writes a position as an opaque cursor: base64url of its
// LastSeen in microseconds and its ID.
func formatCursor(p Position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.LastSeen.UnixMicro(), 10) + "." + p.ID))
}

// parseCursor reads what formatCursor wrote; "" is the start.
func parseCursor(cursor string) (Position, error) {
	if cursor == "" {
		return Position{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil {
		micros, id, ok := strings.Cut(string(b), ".")
		us, perr := strconv.ParseInt(micros, 10, 64)
		if ok && perr == nil && plausibleID(id) {
			return Position{LastSeen: time.UnixMicro(us), ID: id}, nil
		}
	}
	return Position{}, fmt.Errorf("%w %.40q", ErrInvalidCursor, cursor)
}

// CountSessions returns how many live sessions each of userIDs holds, in one
// store operation; users with none are absent. It checks no permission. It
// returns an error wrapping [ErrInvalidUserID] that names the first
// unacceptable ID.
func (m *Manager) CountSessions(ctx context.Context, userIDs []string) (map[string]int, error) {
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
// included), a request that is anonymous, or a request whose own session
// ended while it was in flight (a login elsewhere, an operator, a limit) gets
// an error wrapping [ErrSessionNotFound], and nothing ends: a stolen cookie
// used at the moment its owner signs in elsewhere cannot sign the owner out.
func (m *Manager) EndSession(ctx context.Context, id string) error {
	st := m.state(ctx)
	if st == nil {
		return wrap("end session", ErrNoMiddleware)
	}
	userID, token, current := st.current()
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
	ended, err := m.store.EndSessions(ctx, EndSessions{UserID: userID, IDs: []string{id}, By: token, Reason: ReasonRevoked, UserAgent: userAgent})
	if err != nil {
		return wrap("end session", err)
	}
	if ended.Ended == 0 {
		return wrap("end session", ErrSessionNotFound)
	}
	m.emit(ctx, Event{Kind: EventEnded, UserID: userID, SessionID: current, Ended: ended.Ended, Reason: ReasonRevoked, IP: ip, UserAgent: userAgent, At: ended.At})
	return nil
}

// EndOtherSessions ends every session of the request's user but the
// request's own, and returns how many live ones ended: call it after a
// password change. The ended browsers learn [ReasonRevoked] from
// [Manager.Ended]. An anonymous request ends nothing. A request whose own
// session ended while it was in flight (a login elsewhere, an operator, a
// limit) ends nothing either and gets an error wrapping
// [ErrSessionNotFound]: the user's newer sessions stay.
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
	ended, err := m.store.EndSessions(ctx, EndSessions{UserID: userID, By: token, Reason: ReasonRevoked, UserAgent: userAgent})
	if err != nil {
		return 0, wrap("end other sessions", err)
	}
	if ended.Ended > 0 {
		m.emit(ctx, Event{Kind: EventEnded, UserID: userID, SessionID: current, Ended: ended.Ended, Reason: ReasonRevoked, IP: ip, UserAgent: userAgent, At: ended.At})
	}
	return ended.Ended, nil
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
	if err := ValidateUserID(userID); err != nil {
		return wrap("end user session", err)
	}
	if !plausibleID(id) {
		return wrap("end user session", ErrSessionNotFound)
	}
	ended, err := m.store.EndSessions(ctx, EndSessions{UserID: userID, IDs: []string{id}, Reason: ReasonAdmin})
	if err != nil {
		return wrap("end user session", err)
	}
	if ended.Ended == 0 {
		return wrap("end user session", ErrSessionNotFound)
	}
	m.emit(ctx, Event{Kind: EventEnded, UserID: userID, Ended: ended.Ended, Reason: ReasonAdmin, Actor: actor, At: ended.At})
	return nil
}
