package singlesession

// The admin page's HTTP routes: the mux, ServeHTTP, where the page is
// mounted, who asks, and how errors are answered.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// contentSecurityPolicy allows the page its own stylesheet and script and
// nothing else: no inline style or script, no other origin, no frames
// around it.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'"

// watchingPolicy is contentSecurityPolicy for a page that listens at
// AdminConfig.WatchURL, on its own origin.
const watchingPolicy = contentSecurityPolicy + "; connect-src 'self'"

// ServeHTTP serves the admin page. Mount it with http.StripPrefix inside
// [Manager.Middleware]:
//
//	mux.Handle("/admin/sessions/", http.StripPrefix("/admin/sessions", admin))
//	mux.Handle("/admin/sessions", http.StripPrefix("/admin/sessions", admin))
//	http.ListenAndServe(addr, m.Middleware(mux))
//
// Its routes, relative to where it is mounted:
//
//   - GET "" or "/": the page. It lists the users ([Directory.Search], with
//     the query parameters q, a search string, and page, from 1) with their
//     active sessions (one [Store.CountSessions] call), a checkbox each, and
//     a button for each action the actor may run. With the query parameter
//     user it also lists that user's sessions, one page at a time
//     ([Manager.UserSessionsPage]: Config.PageSize of them, most recently
//     used first, from the query parameter cursor), with the user's total
//     and a link to the next page, whatever the number of sessions: device
//     and browser (AdminConfig.Device), IP, signed in, last seen,
//     each with a button that ends it if the actor may. It shows the result
//     of the action that redirected to it.
//   - POST "/logout": runs the action named by the form field action on the
//     users named by the repeated field user, as [Admin.Run] does, then
//     answers 303 See Other back to the page (with the search q, page, and
//     the sessions of the user named by sessions_of from cursor, as the form
//     sends them), which shows the result. If the actor signed themself out, it
//     answers 303 to the login URL instead.
//   - POST "/sessions/end": ends the session named by the form fields user
//     and id, as [Admin.EndSession] does, then answers 303 back to the
//     page, listing that user's sessions from the form's cursor (to the
//     login URL if it was the actor's own session of this request).
//   - GET "/admin.css" and "/admin.js": the page's stylesheet and script,
//     embedded in the package. The script asks for a confirmation before a
//     button that ends sessions posts its form; nothing else needs it.
//
// An actor whose action ended the session of the very request (their own
// user signed out, or their own session ended) is signed out as by their
// own sign-out: the request's session is dropped and its cookie goes, so
// that [Manager.Ended] does not tell that browser an operator signed it
// out.
//
// The actor is [Manager.UserID]. An anonymous visitor gets 303 to
// AdminConfig.LoginURL and nothing ends. An actor with neither permission
// gets 403 Forbidden; so does a POST of an action the actor lacks, the end
// of a session the actor may not end (an admin user's, for an actor who
// holds only [PermLogout]), a cross-origin POST
// (http.CrossOriginProtection), and nothing ends. An unknown or missing
// action, no user, a bad user ID, a search q that no user ID could match
// (a NUL byte, invalid UTF-8, more than [MaxUserIDLen] bytes), or a cursor
// that no page gave gets 400 Bad Request (in a POST's form such a q or
// cursor is dropped instead); a session ID that
// is not a live session of the user, or a user the [Directory] does not
// know, 404 Not Found; a body that is not a form 415; a body longer than
// AdminConfig.MaxBodyBytes 413; another method 405 Method Not Allowed with
// an Allow header. The handler answers 500 if it is not served inside the
// middleware.
//
// A form's mistake that a person can make on the page (no user ticked, no
// or an unknown action, no session named, a session that ended meanwhile)
// keeps its status code, and answers with a short page that says what went
// wrong, and a Refresh header that sends the browser back to the page at
// once, which then shows the message: the form is not posted again when the
// page is reloaded.
//
// With "Accept: application/json" the page is a JSON object (actor, actions,
// query, page, page_size, pages, total, users with id, admin and sessions;
// with the parameter user, also user: id, admin, can_end, total, cursor,
// next (the cursor of the next page; absent on the last) and sessions with
// id, created, last_seen, expiry, ip, user_agent, device and current), a
// POST to "/logout" answers 200 with the [Result] itself, a POST to
// "/sessions/end" 200 with {"user_id", "session_id"}, and errors are
// objects {"error": "..."} with the same status codes. A JSON GET leaves the
// result of a form's action waiting for the HTML page.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// The mount's path, read before the path is made the mux's.
	r = r.WithContext(context.WithValue(r.Context(), baseKey{}, a.mountPath(r)))
	switch p := r.URL.Path; {
	case p == "":
		// The mount itself ("/admin/sessions" stripped of its prefix): the
		// page, as "/".
		r.URL = cloneURL(r.URL)
		r.URL.Path, r.URL.RawPath = "/", ""
	case p != path.Clean(p):
		// ServeMux would redirect to the clean path, which it takes for the
		// root of the site: outside the mount.
		a.pageHeaders(w)
		a.fail(w, r, http.StatusNotFound, "not found")
		return
	}
	h, pattern := a.mux.Handler(r)
	if pattern == "" {
		// No route: ServeMux's 404, or its 405 with the Allow header it
		// sets, said as the page says errors (JSON to JSON clients).
		a.pageHeaders(w)
		out := w
		w = &muxError{ResponseWriter: w, fail: func(status int) {
			msg := "not found"
			if status == http.StatusMethodNotAllowed {
				msg = "method not allowed: use " + strings.ReplaceAll(out.Header().Get("Allow"), ", ", " or ")
			}
			a.fail(out, r, status, msg)
		}}
	}
	h.ServeHTTP(w, r)
}

// routes returns the handler's routes, relative to where it is mounted. The
// posts pass http.CrossOriginProtection first (a refusal is 403); the page
// and the posts carry the page's headers; the stylesheet and the script are
// the same for everyone.
func (a *Admin) routes() *http.ServeMux {
	a.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.logger.WarnContext(r.Context(), "singlesession: cross-origin action refused", "origin", r.Header.Get("Origin"), "path", r.URL.Path)
		a.fail(w, r, http.StatusForbidden, "forbidden: cross-origin request")
	}))
	post := func(h http.HandlerFunc) http.Handler { return a.pageRoute(a.cop.Handler(h)) }
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", a.pageRoute(http.HandlerFunc(a.servePage)))
	mux.Handle("POST /logout", post(a.serveAction))
	mux.Handle("POST /sessions/end", post(a.serveEndSession))
	mux.Handle("GET /admin.css", adminCSS)
	mux.Handle("GET /admin.js", adminJS)
	return mux
}

// pageRoute sets the headers of the page and of its posts' answers: no
// caching, no framing, nothing but the page's own stylesheet and script.
func (a *Admin) pageRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.pageHeaders(w)
		next.ServeHTTP(w, r)
	})
}

func (a *Admin) pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "same-origin")
	if a.watchURL != "" {
		h.Set("Content-Security-Policy", watchingPolicy)
	} else {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	h.Add("Vary", "Accept")
}

// muxError turns the response ServeMux writes for a request that no route
// takes into the page's own error response: its status goes to fail, and
// its plain-text body is dropped.
type muxError struct {
	http.ResponseWriter
	fail  func(status int)
	wrote bool
}

func (e *muxError) WriteHeader(status int) {
	if !e.wrote {
		e.wrote = true
		e.fail(status)
	}
}

func (e *muxError) Write(b []byte) (int, error) {
	e.WriteHeader(http.StatusOK)
	return len(b), nil
}

func cloneURL(u *url.URL) *url.URL {
	c := *u
	return &c
}

// signedIn returns the ID of the request's user, or writes the response (a
// redirect to the login page, 500) and returns ok false. It does no I/O.
func (a *Admin) signedIn(w http.ResponseWriter, r *http.Request) (string, bool) {
	ctx := r.Context()
	if a.m.state(ctx) == nil {
		a.logger.ErrorContext(ctx, "singlesession: the admin page is not inside Manager.Middleware; wrap it", "path", r.URL.Path)
		a.fail(w, r, http.StatusInternalServerError, "internal error")
		return "", false
	}
	id := a.m.UserID(ctx)
	if id == "" {
		http.Redirect(w, r, a.loginURL, http.StatusSeeOther)
		return "", false
	}
	return id, true
}

// actor returns the signed-in actor and, when other is not "", what the
// directory knows of other (found false for a user it does not know), with
// one directory call; or it writes the response (a redirect to the login
// page, 403, 500) and returns ok false.
func (a *Admin) actor(w http.ResponseWriter, r *http.Request, other string) (actor, otherUser User, found, ok bool) {
	id, ok := a.signedIn(w, r)
	if !ok {
		return User{}, User{}, false, false
	}
	ctx := r.Context()
	lookup := []string{id}
	if other != "" && other != id {
		lookup = append(lookup, other)
	}
	known, err := a.dir.Users(ctx, lookup)
	if err != nil {
		a.logger.ErrorContext(ctx, "singlesession: admin page", "err", wrap(fmt.Sprintf("look up actor %q", id), err))
		a.fail(w, r, http.StatusInternalServerError, "internal error")
		return User{}, User{}, false, false
	}
	actor, isKnown := known[id]
	actor.ID = id
	if !isKnown || len(allowed(actor)) == 0 {
		a.fail(w, r, http.StatusForbidden, "forbidden: you hold neither "+PermLogout+" nor "+PermLogoutAll)
		return User{}, User{}, false, false
	}
	otherUser, found = known[other]
	otherUser.ID = other
	return actor, otherUser, found, true
}

// baseKey is the context key of the path the handler is mounted at, as
// ServeHTTP found it.
type baseKey struct{}

// base returns the path the handler is mounted at, without a trailing
// slash ("" for the root).
func (a *Admin) base(r *http.Request) string {
	b, _ := r.Context().Value(baseKey{}).(string)
	return b
}

// mountPath returns the path the handler is mounted at, without a trailing
// slash: AdminConfig.Prefix, or the request's path as received minus the
// part the handler sees.
func (a *Admin) mountPath(r *http.Request) string {
	if a.prefix != "" {
		return a.prefix
	}
	full := r.URL.Path
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		full = u.Path
	}
	if !strings.HasSuffix(full, r.URL.Path) {
		return ""
	}
	return cleanPrefix(full[:len(full)-len(r.URL.Path)])
}

// pageURL returns the URL of the page mounted at base, for a search and page
// (0 and 1 both mean the first), listing the sessions of user unless it is
// "", from cursor unless it is "".
func pageURL(base, query string, page int, user, cursor string) string {
	u := url.URL{Path: base}
	if base == "" {
		u.Path = "/"
	}
	q := url.Values{}
	if query != "" {
		q.Set("q", query)
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if user != "" {
		q.Set("user", user)
		if cursor != "" {
			q.Set("cursor", cursor)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// wantsJSON reports whether the request's Accept header names
// application/json (with a quality above 0).
func wantsJSON(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != "application/json" {
				continue
			}
			if q, err := strconv.ParseFloat(params["q"], 64); err == nil && (q <= 0 || math.IsNaN(q)) {
				continue
			}
			return true
		}
	}
	return false
}

// fail writes an error response, as JSON when the client asked for it.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	http.Error(w, msg, status)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// refuseBadUser answers a malformed user ID: 400 for an operator; for anyone
// else the actor check's own answer (403, or the redirect to the login
// page), so that the page tells nothing to those who may not use it.
func (a *Admin) refuseBadUser(w http.ResponseWriter, r *http.Request, userID string) {
	if _, _, _, ok := a.actor(w, r, ""); ok {
		a.fail(w, r, http.StatusBadRequest, "bad user: "+userIDProblem(userID))
	}
}

// cleanPrefix returns p as a mount path without a trailing slash: "" for the
// root. Cleaning also folds a leading "//", which a redirect would take for
// another host.
func cleanPrefix(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return ""
	}
	return p
}
