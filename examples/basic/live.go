package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-singlesession/singlesession"
)

// Live endings. Every signed-in page holds one stream that says when its
// session ends: the home page its clock, GET /clock (Manager.SessionContext),
// whose last event "ended" says why; every other page GET /session/events
// (Manager.WatchHandler, which lifts the server's WriteTimeout for its
// stream itself). One a tab, since a browser opens at most 6 HTTP/1.1
// connections to a host. When "ended" comes, static/app.js fetches GET
// /session/ended, the page below, and puts its header and content in place
// of the open page's: the tab shows why it was signed out, in the login
// page's words, without a reload. "Your sessions" reloads its list on the
// event "sessions".

// liveReloadHeader marks the request of static/app.js that loads "Your
// sessions" again to update its list: it takes no one-time message.
const liveReloadHeader = "X-Live-Reload"

// sessionEnded renders the page a tab whose session ended turns into: the
// login page's notice of why (who, why, which device) and a way to sign in
// again. When the library recorded no reason (this browser signed itself
// out in another tab, or the session expired: ?reason=expired, from the
// event) it says so in general words. A browser signed in again meanwhile
// is told whom it is signed in as.
func (a *app) sessionEnded(w http.ResponseWriter, r *http.Request) {
	p := a.page(r, "ended", "Signed out")
	if p.User == "" && p.Ended == nil {
		p.Ended = &endedNotice{Title: "This browser was signed out.", Text: "It signed out in another tab or window."}
		if r.URL.Query().Get("reason") == string(singlesession.ReasonExpired) {
			p.Ended = &endedNotice{Reason: singlesession.ReasonExpired, Title: "Your session expired.", Text: "It was not used for too long."}
		}
	}
	a.render(w, r, http.StatusOK, p)
}

// clockTick is how often GET /clock says the time.
const clockTick = time.Second

// clockWriteTimeout bounds each write of GET /clock.
const clockWriteTimeout = 30 * time.Second

// clock streams the server's time as Server-Sent Events, one event a
// second (data: "15:04:05 UTC"), for as long as the request's session
// lives: SessionContext ends the stream the moment the session ends, on any
// instance, and its last event, "ended", says why
// ({"reason":"login","text":"..."}). It answers 401 to a browser that is not
// signed in, which EventSource does not retry.
//
// The stream writes nothing to the session and does not keep it alive: its
// load is a request like any other, but SessionContext, called before the
// response headers go out, makes it read-only, so the Middleware neither
// saves it nor refreshes a stale LastSeen (TestLiveStreamsKeepNothingAlive).
//
// Each write must finish within clockWriteTimeout: a client that stops
// reading ends the stream then, rather than holding the handler for as
// long as the session lives.
func (a *app) clock(w http.ResponseWriter, r *http.Request) {
	if a.m.UserID(r.Context()) == "" {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "not signed in", http.StatusUnauthorized)
		return
	}
	ctx, cancel := a.m.SessionContext(r.Context())
	defer cancel()
	var ended *singlesession.EndedError
	if ctx.Err() != nil && !errors.As(context.Cause(ctx), &ended) {
		// Not a session to watch after all: EventSource would retry a
		// stream that ends at once, but not a 401.
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "not signed in", http.StatusUnauthorized)
		return
	}
	rc := http.NewResponseController(w)
	// The stream outlives the server's WriteTimeout (30 s): each write
	// pushes the deadline ahead.
	deadlines := true
	write := func(b []byte) error {
		if deadlines {
			if err := rc.SetWriteDeadline(time.Now().Add(clockWriteTimeout)); err != nil {
				deadlines = false
				a.logger.WarnContext(r.Context(), "clock: the server's write timeout stands", "err", err)
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		_ = rc.Flush()
		return nil
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	tick := time.NewTicker(clockTick)
	defer tick.Stop()
	for now := time.Now(); ; {
		if err := write([]byte("data: " + now.UTC().Format("15:04:05") + " UTC\n\n")); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			if !errors.As(context.Cause(ctx), &ended) {
				return // the browser went away
			}
			data, _ := json.Marshal(clockEnded{Reason: ended.Ending.Reason, Text: clockStopped(ended.Ending.Reason)})
			_ = write(append(append([]byte("event: ended\ndata: "), data...), "\n\n"...))
			return
		case now = <-tick.C:
		}
	}
}

// clockEnded is the data of the clock's last event.
type clockEnded struct {
	Reason singlesession.Reason `json:"reason"`
	Text   string               `json:"text"`
}

// clockStopped says why the clock stopped.
func clockStopped(reason singlesession.Reason) string {
	why := map[singlesession.Reason]string{
		singlesession.ReasonLogin:   "you signed in on another browser",
		singlesession.ReasonLogout:  "you signed out on another browser",
		singlesession.ReasonRevoked: "it was ended from another of your sessions",
		singlesession.ReasonAdmin:   "an operator signed you out",
		singlesession.ReasonExpired: "it expired",
	}[reason]
	if why == "" {
		why = "this browser signed out"
	}
	return "Stopped: the session ended, as " + why + "."
}
