package singlesession

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// pingInterval is how often WatchHandler writes a comment line, so that
// proxies and browsers keep an idle stream open.
var pingInterval = 25 * time.Second

// writeWait bounds each write of WatchHandler: the server's WriteTimeout
// would end a long stream, and no deadline at all would let a client that
// stops reading hold the handler (and its watch) forever.
const writeWait = 30 * time.Second

// readyWait bounds how long WatchHandler waits for the Manager's
// subscription to be ready before it answers; past it the stream opens
// anyway (the check when it is ready still covers the request's session).
const readyWait = 5 * time.Second

// WatchHandler serves Server-Sent Events to a signed-in browser, so that an
// open page learns the moment its session ends, on any instance. Mount it
// inside [Manager.Middleware]:
//
//	mux.Handle("GET /session/events", m.WatchHandler())
//
// and listen in the page:
//
//	new EventSource("/session/events").addEventListener("ended", e => {
//		const why = JSON.parse(e.data) // {"reason":"login","at":"2026-12-05T18:47:03Z","user_agent":"..."}
//		// show why, link to the login page
//	})
//
// It answers 200 text/event-stream, writes a comment line every 25 seconds,
// and, when the session ends ([Manager.SessionContext]), one event "ended"
// whose data is {"reason", "at" (RFC 3339), "user_agent"} ("reason" is ""
// when this browser signed itself out, "expired" when it expired), then
// closes the stream. When another session of the same user ends, it sends
// an event "sessions" (data {}), so that a page that lists the user's
// sessions can load the list again. A request whose cookie names a session that already
// ended with a recorded reason gets that event at once; an anonymous one
// gets 204 No Content, which tells EventSource not to reconnect. The
// request writes nothing: it neither saves the session nor refreshes its
// LastSeen, and sets no cookie. It lifts the server's WriteTimeout for its
// own response, which may stay open for hours.
func (m *Manager) WatchHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.state(r.Context()) == nil {
			m.logger.ErrorContext(r.Context(), "singlesession: WatchHandler is not inside Manager.Middleware; wrap it", "path", r.URL.Path)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		ctx, cancel, others := m.watch(r.Context(), true)
		defer cancel()
		if ctx.Err() == nil {
			// Answer once the Manager hears every ending: a page that sees
			// the stream open learns of any session of its user that ends
			// after that. (An end before then is caught for its own
			// session by the check at ready.)
			wait := time.NewTimer(readyWait)
			select {
			case <-m.hub.listening():
			case <-ctx.Done():
			case <-wait.C:
			}
			wait.Stop()
		}
		var ended *EndedError
		if ctx.Err() != nil && !errors.As(context.Cause(ctx), &ended) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		rc := http.NewResponseController(w)
		// send writes b and flushes it, within writeWait (not every writer
		// supports deadlines; then the server's timeout stands).
		send := func(b string) error {
			_ = rc.SetWriteDeadline(time.Now().Add(writeWait))
			if _, err := io.WriteString(w, b); err != nil {
				return err
			}
			_ = rc.Flush()
			return nil
		}
		_ = rc.SetWriteDeadline(time.Now().Add(writeWait))
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
		w.WriteHeader(http.StatusOK)
		if ended == nil {
			_ = send(": watching\n\n")
		}
		ping := time.NewTicker(pingInterval)
		defer ping.Stop()
		for ended == nil {
			select {
			case <-ctx.Done():
				if !errors.As(context.Cause(ctx), &ended) {
					return // the client went away, or the request ended
				}
			case <-others:
				if send("event: sessions\ndata: {}\n\n") != nil {
					return
				}
			case <-ping.C:
				if send(": ping\n\n") != nil {
					return
				}
			}
		}
		data, _ := json.Marshal(endedEvent{Reason: ended.Ending.Reason, At: ended.Ending.At.UTC().Format(time.RFC3339), UserAgent: ended.Ending.UserAgent})
		_ = send("event: ended\ndata: " + string(data) + "\n\n")
	})
}

// endedEvent is the data of WatchHandler's event "ended".
type endedEvent struct {
	Reason    Reason `json:"reason"`
	At        string `json:"at"`
	UserAgent string `json:"user_agent"`
}
