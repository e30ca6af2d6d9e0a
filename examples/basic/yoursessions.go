package main

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/go-singlesession/singlesession"
)

// flashKey is the session key of a one-time message for the next page.
const flashKey = "flash"

// signedOutHere is what the login page says to a browser that ended its own
// session, on "Your sessions" or on the operators' page.
const signedOutHere = "You signed this browser out."

// sessionRow is one session as the "Your sessions" page shows it.
type sessionRow struct {
	ID       string
	Device   device
	IP       string
	Created  time.Time
	LastSeen time.Time
	Seen     string // LastSeen, relative: "2 minutes ago"
	Current  bool
}

// when writes a time as every page does, the library's admin page included:
// to the minute, with the year and the zone, UTC ("5 Dec 2026, 18:47 UTC").
func when(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 MST") }

// rfc3339 writes a time for a <time datetime>.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// CreatedText is when the session signed in, as "5 Dec 2026, 18:47 UTC".
func (s sessionRow) CreatedText() string { return when(s.Created) }

// SeenText is when the session was last seen, as "5 Dec 2026, 18:47 UTC".
func (s sessionRow) SeenText() string { return when(s.LastSeen) }

// Icon is the CSS class of the session's device icon.
func (s sessionRow) Icon() string {
	switch s.Device.Kind {
	case "Phone":
		return "phone"
	case "Tablet":
		return "tablet"
	default:
		return "computer"
	}
}

// signedIn reports whether the request's browser is signed in; when it is
// not, it sends the browser to /login and the handler must return.
func (a *app) signedIn(w http.ResponseWriter, r *http.Request) bool {
	if a.m.UserID(r.Context()) != "" {
		return true
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return false
}

// yourSessions lists one page of the sessions of the signed-in user (the
// query parameter cursor names it; none is the first), each with a button
// that ends it, and one that ends all the others. However many sessions the
// user holds, it costs one query and shows one page: the total, and a link
// to the next page. A cursor no page gave is 400.
func (a *app) yourSessions(w http.ResponseWriter, r *http.Request) {
	if !a.signedIn(w, r) {
		return
	}
	ctx := r.Context()
	cursor := r.URL.Query().Get("cursor")
	sp, err := a.m.SessionsPage(ctx, cursor)
	if errors.Is(err, singlesession.ErrInvalidCursor) {
		a.renderProblem(w, r, http.StatusBadRequest, problem{
			Heading: "No such page",
			Message: "This link to a page of your sessions is not one this site gave. The list starts again from your most recently used session.",
			Back:    "/sessions", BackLabel: "Back to your sessions",
		})
		return
	}
	if err != nil {
		a.serverError(w, r, "sessions", err)
		return
	}
	p := a.page(r, "sessions", "Your sessions")
	p.Total = sp.Total
	if cursor != "" {
		p.FirstURL = "/sessions"
	}
	if sp.Next != "" {
		p.NextURL = "/sessions?" + url.Values{"cursor": {sp.Next}}.Encode()
	}
	now := time.Now()
	for _, s := range sp.Sessions {
		p.Sessions = append(p.Sessions, sessionRow{
			ID: s.ID, Device: parseDevice(s.UserAgent), IP: s.IP,
			Created: s.Created, LastSeen: s.LastSeen, Seen: ago(s.LastSeen, now), Current: s.Current,
		})
	}
	if r.Header.Get(liveReloadHeader) == "" {
		// A live reload of the list (static/app.js) leaves the one-time
		// message to the page it is meant for.
		p.Flash = a.sessions.PopString(ctx, flashKey)
	}
	a.render(w, r, http.StatusOK, p)
}

// endSession ends the session whose ID the form names, if it is one of the
// user's: 303 back to the list, or to /login when it was this browser's own.
func (a *app) endSession(w http.ResponseWriter, r *http.Request) {
	if !a.readForm(w, r) {
		return
	}
	if !a.signedIn(w, r) {
		return
	}
	ctx := r.Context()
	ids := r.PostForm["id"]
	if len(ids) != 1 {
		http.Error(w, "The form needs one session id.", http.StatusBadRequest)
		return
	}
	err := a.m.EndSession(ctx, ids[0])
	switch {
	case errors.Is(err, singlesession.ErrSessionNotFound):
		a.renderProblem(w, r, http.StatusNotFound, problem{
			Heading: "No such session",
			Message: "None of your sessions has this ID. It may have ended already, or it was never yours.",
			Back:    "/sessions", BackLabel: "Back to your sessions",
		})
		return
	case err != nil:
		a.serverError(w, r, "end session", err)
		return
	}
	if a.m.UserID(ctx) == "" {
		// It was this browser's own session: this browser is signed out,
		// and its login page says so (in a new, anonymous session).
		a.sessions.Put(ctx, flashKey, signedOutHere)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	a.sessions.Put(ctx, flashKey, "The session ended: that browser is signed out.")
	http.Redirect(w, r, "/sessions", http.StatusSeeOther)
}

// endOtherSessions ends every session of the user but this browser's.
func (a *app) endOtherSessions(w http.ResponseWriter, r *http.Request) {
	if !a.readForm(w, r) {
		return
	}
	if !a.signedIn(w, r) {
		return
	}
	ctx := r.Context()
	n, err := a.m.EndOtherSessions(ctx)
	if err != nil {
		a.serverError(w, r, "end other sessions", err)
		return
	}
	msg := "There was no other session to end."
	if n > 0 {
		msg = "Signed out " + plural(n, "other session") + "."
	}
	a.sessions.Put(ctx, flashKey, msg)
	http.Redirect(w, r, "/sessions", http.StatusSeeOther)
}
