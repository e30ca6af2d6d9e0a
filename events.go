package singlesession

import (
	"context"
	"fmt"
	"time"
)

// EventKind names what an [Event] reports.
type EventKind string

// The kinds of events that Config.OnEvent receives.
const (
	// EventLogin: a user signed in. Ended is how many of the user's other
	// sessions the login ended (its Reason is then ReasonLogin).
	EventLogin EventKind = "login"

	// EventLoginRejected: a login was refused because the user already
	// holds Limit.Max sessions and the limit says RejectNew. Nothing changed.
	EventLoginRejected EventKind = "login_rejected"

	// EventLogout: a signed-in session signed out ([Manager.LogoutHook]).
	// Ended counts every session that ended, the browser's own included;
	// Reason is ReasonLogout when other sessions ended too.
	EventLogout EventKind = "logout"

	// EventEnded: sessions of a user were ended from elsewhere: by an
	// operator ([Admin.Run], [Manager.LogoutUser], [Manager.LogoutUsers];
	// Reason ReasonAdmin, Actor the operator for Admin.Run) or by one of the
	// user's own sessions ([Manager.EndSession], [Manager.EndOtherSessions];
	// Reason ReasonRevoked). One event per user whose sessions ended.
	EventEnded EventKind = "ended"
)

// Event is one change of sessions, as Config.OnEvent receives it: after the
// change is committed, never for a change that failed.
type Event struct {
	Kind      EventKind
	UserID    string // whose sessions changed
	SessionID string // the ID of the acting session (a login: the new one); "" for operators
	Ended     int    // how many sessions ended
	Reason    Reason // the reason recorded for the sessions that ended, if any
	Actor     string // the operator, for Admin.Run; "" otherwise
	IP        string // the acting request's address; "" outside a request
	UserAgent string // the acting request's User-Agent; "" outside a request
	At        time.Time
}

// dispatch hands the request's queued events to Config.OnEvent, now that
// no lock is held.
func (m *Manager) dispatch(ctx context.Context, st *requestState) {
	events := st.takeEvents()
	if len(events) == 0 {
		return
	}
	ctx = st.handlerCtx(ctx) // with scs's session, as the handler had it
	for _, e := range events {
		m.emit(ctx, e)
	}
}

// emit calls Config.OnEvent, if any. The caller holds no lock. The change
// is committed already, so nothing OnEvent does may undo the request's
// answer: a panic, or a runtime.Goexit (t.FailNow), is logged with the
// event's kind and the request goes on as if OnEvent had returned. OnEvent
// runs on a goroutine of its own for that, and emit waits for it.
func (m *Manager) emit(ctx context.Context, e Event) {
	if m.onEvent == nil {
		return
	}
	done := make(chan any, 1)
	go func() {
		returned := false
		defer func() {
			if returned {
				done <- nil
				return
			}
			p := recover()
			if p == nil {
				p = "runtime.Goexit"
			}
			done <- p
		}()
		m.onEvent(ctx, e)
		returned = true
	}()
	if p := <-done; p != nil {
		m.logger.ErrorContext(ctx, "singlesession: Config.OnEvent panicked; the change it reported stays committed",
			"kind", string(e.Kind), "user", e.UserID, "panic", fmt.Sprint(p))
	}
}
