package singlesession

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/admin.html templates/error.html templates/admin.css
var templateFS embed.FS

var pageTemplate = template.Must(template.New("admin.html").
	Funcs(template.FuncMap{
		"plus": func(a, b int) int { return a + b },
		// count writes n and the noun, singular or plural: "1 user", "2 users".
		"count": func(n int, noun string) string {
			if n == 1 {
				return "1 " + noun
			}
			return strconv.Itoa(n) + " " + noun + "s"
		},
		"actionLabel": actionLabel,
		"skipText":    skipText,
		// when writes a time to the minute, in UTC (the table's headings
		// say so), or "-" for none.
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.UTC().Format("2006-01-02 15:04")
		},
	}).
	ParseFS(templateFS, "templates/admin.html", "templates/error.html"))

// adminCSS is the page's stylesheet, served at "/admin.css" under the
// mount, and cssVersion a hash of it, which the page's link carries so that
// browsers may keep the file until it changes.
var adminCSS, cssVersion = func() ([]byte, string) {
	b, err := templateFS.ReadFile("templates/admin.css")
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:6])
}()

// flashKey is the key under which the result of an action waits, in the
// actor's session, for the page the action redirects to.
const flashKey = "singlesession.admin.result"

// flashLimit bounds the users a flash names in each list, so that an action
// on 10,000 users does not write 10,000 names into the actor's session.
const flashLimit = 100

// maxPage bounds the page number, so offsets cannot overflow.
const maxPage = 1_000_000

// contentSecurityPolicy allows the page its own stylesheet and nothing else:
// no script, no inline style, no frames around it.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'"

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
//     user it also lists that user's sessions ([Manager.UserSessions]: device
//     and browser as read from the User-Agent, IP, signed in, last seen),
//     each with a button that ends it if the actor may. It shows the result
//     of the action that redirected to it.
//   - POST "/logout": runs the action named by the form field action on the
//     users named by the repeated field user, as [Admin.Run] does, then
//     answers 303 See Other back to the page (with the search q, page, and
//     the sessions of the user named by sessions_of, as the form sends
//     them), which shows the result. If the actor signed themself out, it
//     answers 303 to the login URL instead.
//   - POST "/sessions/end": ends the session named by the form fields user
//     and id, as [Admin.EndSession] does, then answers 303 back to the
//     page, listing that user's sessions (to the login URL if it was the
//     actor's own session of this request).
//   - GET "/admin.css": the page's stylesheet, embedded in the package.
//
// The actor is [Manager.UserID]. An anonymous visitor gets 303 to
// AdminConfig.LoginURL and nothing ends. An actor with neither permission
// gets 403 Forbidden; so does a POST of an action the actor lacks, the end
// of a session the actor may not end (an admin user's, for an actor who
// holds only [PermLogout]), a cross-origin POST
// (http.CrossOriginProtection), and nothing ends. An unknown or missing
// action, no user, a bad user ID, or a search q that no user ID could match
// (a NUL byte, invalid UTF-8, more than [MaxUserIDLen] bytes) gets 400 Bad
// Request (in a POST's form such a q is dropped instead); a session ID that
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
// with the parameter user, also user: id, admin, can_end and sessions with
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
// and the posts carry the page's headers; the stylesheet is the same for
// everyone.
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
	mux.HandleFunc("GET /admin.css", serveCSS)
	return mux
}

// pageRoute sets the headers of the page and of its posts' answers: no
// caching, no framing, nothing but the page's own stylesheet.
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
	h.Set("Content-Security-Policy", contentSecurityPolicy)
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

// serveCSS serves the stylesheet to anyone: it is the same in every copy of
// the package. Fetched by the URL the page links (with ?v= its hash), it
// may be kept for a year; otherwise it is checked each time.
func serveCSS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("ETag", `"`+cssVersion+`"`)
	if r.URL.Query().Get("v") == cssVersion {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "admin.css", time.Time{}, bytes.NewReader(adminCSS))
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

// pageView is the page, for the template and, through its JSON tags, for
// automation.
type pageView struct {
	Actor    string       `json:"actor"`
	Actions  []actionView `json:"actions"`
	Query    string       `json:"query"`
	Page     int          `json:"page"`
	PageSize int          `json:"page_size"`
	Pages    int          `json:"pages"`
	Total    int          `json:"total"`
	Users    []userView   `json:"users"`
	Chosen   *chosenView  `json:"user,omitempty"` // the user whose sessions are listed

	First, Last        int    `json:"-"` // positions of the users shown, from 1
	PageURL, ActionURL string `json:"-"`
	EndURL, CSSURL     string `json:"-"`
	PrevURL, NextURL   string `json:"-"`
	HomeURL            string `json:"-"`
	Result             *flash `json:"-"` // the result of the last action
	Notice             string `json:"-"` // what the last post did, when not an action
	Error              string `json:"-"` // why the last post did nothing
}

type actionView struct {
	Name  Action `json:"name"`
	Label string `json:"label"`
	Note  string `json:"-"`
}

type userView struct {
	ID          string `json:"id"`
	Admin       bool   `json:"admin"`
	Sessions    int    `json:"sessions"`
	SessionsURL string `json:"-"`
	Chosen      bool   `json:"-"`
}

// chosenView is one user's sessions.
type chosenView struct {
	ID        string        `json:"id"`
	Admin     bool          `json:"admin"`
	CanEnd    bool          `json:"can_end"` // the actor may end these sessions
	Sessions  []sessionView `json:"sessions"`
	CannotEnd string        `json:"-"` // why the actor may not
	CloseURL  string        `json:"-"`
}

// sessionView is one session of the chosen user, known by its opaque ID.
type sessionView struct {
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
	Expiry    time.Time `json:"expiry"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	Device    string    `json:"device"`  // browser and system read from UserAgent
	Current   bool      `json:"current"` // the session of the request that asked
}

// flash is what a post leaves, in the actor's session, for the page it
// redirects to: the result of an action, trimmed to flashLimit users per
// list, or a message.
type flash struct {
	Result        *Result `json:"result,omitempty"`
	MoreSignedOut int     `json:"more_signed_out,omitempty"`
	MoreSkipped   int     `json:"more_skipped,omitempty"`
	Notice        string  `json:"notice,omitempty"`
	Error         string  `json:"error,omitempty"`
}

func (a *Admin) servePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	chosen := q.Get("user")
	if q.Has("user") {
		if ValidateUserID(chosen) != nil {
			a.refuseBadUser(w, r, chosen)
			return
		}
	}
	actor, chosenUser, found, ok := a.actor(w, r, chosen)
	if !ok {
		return
	}
	query := q.Get("q")
	if err := validQuery(query); err != nil {
		a.fail(w, r, http.StatusBadRequest, "bad search: "+err.Error())
		return
	}
	page := 1
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPage {
			a.fail(w, r, http.StatusBadRequest, "bad page number "+strconv.Quote(s))
			return
		}
		page = n
	}
	v, err := a.view(r, actor, query, page)
	if err == nil && chosen != "" && found {
		err = a.addSessions(r, v, actor, chosenUser)
	}
	if err != nil {
		a.logger.ErrorContext(ctx, "singlesession: admin page", "err", err)
		a.fail(w, r, http.StatusInternalServerError, "internal error")
		return
	}
	status := http.StatusOK
	if chosen != "" && !found {
		status = http.StatusNotFound
		if wantsJSON(r) {
			a.fail(w, r, status, "unknown user")
			return
		}
		v.Error = "No user \u201c" + chosen + "\u201d: the directory does not know it."
	}
	if wantsJSON(r) {
		writeJSON(w, status, v)
		return
	}
	if r.Method == http.MethodGet {
		if f := a.popFlash(r); f != nil {
			if f.Result != nil {
				v.Result = f
			}
			v.Notice = f.Notice
			v.Error = cmp.Or(f.Error, v.Error)
		}
	}
	a.render(w, r, status, v)
}

// addSessions lists the sessions of chosen (a user the directory knows) on
// v, for actor: one store query.
func (a *Admin) addSessions(r *http.Request, v *pageView, actor, chosen User) error {
	list, err := a.m.UserSessions(r.Context(), chosen.ID)
	if err != nil {
		return err
	}
	c := &chosenView{ID: chosen.ID, Admin: chosen.Admin, Sessions: make([]sessionView, len(list)),
		CloseURL: pageURL(a.base(r), v.Query, v.Page, "")}
	if err := canEnd(actor, chosen); err == nil {
		c.CanEnd = true
	} else {
		c.CannotEnd = "Ending an admin user\u2019s sessions needs " + PermLogoutAll + "."
	}
	var current string
	if chosen.ID == actor.ID {
		_, _, current = a.m.state(r.Context()).current()
	}
	for i, s := range list {
		c.Sessions[i] = sessionView{ID: s.ID, Created: s.Created, LastSeen: s.LastSeen, Expiry: s.Expiry,
			IP: s.IP, UserAgent: s.UserAgent, Device: device(s.UserAgent), Current: current != "" && s.ID == current}
	}
	v.Chosen = c
	for i := range v.Users {
		v.Users[i].Chosen = v.Users[i].ID == chosen.ID
	}
	return nil
}

// view builds the page for actor: one directory search and one count of
// sessions, whatever the number of users shown.
func (a *Admin) view(r *http.Request, actor User, query string, page int) (*pageView, error) {
	ctx := r.Context()
	users, total, err := a.dir.Search(ctx, query, (page-1)*a.pageSize, a.pageSize)
	if err == nil && len(users) > a.pageSize {
		users = users[:a.pageSize] // a Directory that ignores limit
	}
	var counts map[string]int
	if err == nil && len(users) > 0 {
		ids := make([]string, len(users))
		for i, u := range users {
			ids[i] = u.ID
		}
		counts, err = a.m.CountSessions(ctx, ids)
	}
	if err != nil {
		return nil, err
	}

	base := a.base(r)
	v := &pageView{
		Actor:     actor.ID,
		Actions:   []actionView{},
		Query:     query,
		Page:      page,
		PageSize:  a.pageSize,
		Pages:     max(1, (total+a.pageSize-1)/a.pageSize),
		Total:     total,
		Users:     make([]userView, len(users)),
		PageURL:   pageURL(base, "", 0, ""),
		ActionURL: base + "/logout",
		EndURL:    base + "/sessions/end",
		CSSURL:    base + "/admin.css?v=" + cssVersion,
		HomeURL:   a.homeURL,
	}
	for _, act := range allowed(actor) {
		v.Actions = append(v.Actions, actionView{Name: act, Label: actionLabel(act), Note: actionNote(act)})
	}
	for i, u := range users {
		v.Users[i] = userView{ID: u.ID, Admin: u.Admin, Sessions: counts[u.ID], SessionsURL: pageURL(base, query, page, u.ID)}
	}
	if len(users) > 0 {
		v.First = (page-1)*a.pageSize + 1
		v.Last = v.First + len(users) - 1
	}
	if page > 1 {
		v.PrevURL = pageURL(base, query, min(page-1, v.Pages), "")
	}
	if page < v.Pages {
		v.NextURL = pageURL(base, query, page+1, "")
	}
	return v, nil
}

// render writes the page as HTML with status.
func (a *Admin) render(w http.ResponseWriter, r *http.Request, status int, v *pageView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := a.page.Execute(w, v); err != nil {
		a.logger.ErrorContext(r.Context(), "singlesession: admin page: render", "err", err)
	}
}

func (a *Admin) serveAction(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	actor, _, _, ok := a.actor(w, r, "")
	if !ok {
		return
	}
	form, status, msg := a.readForm(w, r)
	if status != 0 {
		a.fail(w, r, status, msg)
		return
	}
	// The page the form came from, with the user's sessions it showed.
	back := a.backURL(r, form, first(form["sessions_of"]))
	action := Action(first(form["action"]))
	if action == "" {
		a.formError(w, r, http.StatusBadRequest, "no action chosen", "No action chosen: press one of the buttons under the list.", back)
		return
	}
	targets, err := prepare(action, form["user"])
	switch {
	case errors.Is(err, ErrUnknownAction):
		msg := fmt.Sprintf("unknown action %.40q: choose %s or %s", action, ActionLogout, ActionLogoutAll)
		a.formError(w, r, http.StatusBadRequest, msg, "Unknown action: "+msg+".", back)
		return
	case errors.Is(err, ErrNoUsers):
		a.formError(w, r, http.StatusBadRequest, "no users chosen", "Choose at least one user, then an action.", back)
		return
	case err != nil: // an invalid user ID
		a.fail(w, r, http.StatusBadRequest, badUser(form["user"]))
		return
	}
	if err := a.authorize(ctx, actor.ID, actor, true, action); err != nil {
		a.refuse(w, r, err)
		return
	}
	known, err := a.dir.Users(ctx, targets)
	var res *Result
	if err == nil {
		res, err = a.execute(ctx, actor, action, targets, known)
	}
	if err != nil {
		a.logger.ErrorContext(ctx, "singlesession: admin action", "err", err)
		a.fail(w, r, http.StatusInternalServerError, "internal error")
		return
	}

	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, res)
		return
	}
	for _, s := range res.SignedOut {
		if s.UserID == actor.ID {
			// The actor's own session is gone: the page would only send them
			// to log in.
			http.Redirect(w, r, a.loginURL, http.StatusSeeOther)
			return
		}
	}
	a.putFlash(r, trim(res))
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func (a *Admin) serveEndSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if _, ok := a.signedIn(w, r); !ok {
		return
	}
	// The form comes first, so that one directory call finds the actor and
	// the user.
	form, status, msg := a.readForm(w, r)
	if status != 0 {
		a.fail(w, r, status, msg)
		return
	}
	userID, id := first(form["user"]), first(form["id"])
	if userID != "" {
		if ValidateUserID(userID) != nil {
			a.refuseBadUser(w, r, userID)
			return
		}
	}
	actor, target, found, ok := a.actor(w, r, userID)
	if !ok {
		return
	}
	back := a.backURL(r, form, userID)
	if userID == "" || id == "" {
		a.formError(w, r, http.StatusBadRequest, "no session chosen: send user and id", "Choose a session to end.", back)
		return
	}
	_, _, current := a.m.state(ctx).current()
	err := a.endSession(ctx, actor, target, found, id)
	switch {
	case errors.Is(err, ErrPermissionDenied):
		a.refuse(w, r, err)
		return
	case errors.Is(err, ErrSessionNotFound):
		a.formError(w, r, http.StatusNotFound, "session not found",
			"No such session of \u201c"+userID+"\u201d: it has ended already, or it is not that user\u2019s.", back)
		return
	case err != nil:
		a.logger.ErrorContext(ctx, "singlesession: admin end session", "err", err)
		a.fail(w, r, http.StatusInternalServerError, "internal error")
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"user_id": userID, "session_id": id})
		return
	}
	if userID == actor.ID && id == current {
		http.Redirect(w, r, a.loginURL, http.StatusSeeOther)
		return
	}
	a.putFlash(r, &flash{Notice: "Ended one session of \u201c" + userID + "\u201d."})
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// backURL returns the page a post returns to: the search and page the form
// came from (dropped when not valid), listing the sessions of user unless
// it is "" (or not valid).
func (a *Admin) backURL(r *http.Request, form url.Values, user string) string {
	page, _ := strconv.Atoi(first(form["page"]))
	query := first(form["q"])
	if validQuery(query) != nil || page < 1 || page > maxPage {
		query, page = "", 0
	}
	if user != "" && ValidateUserID(user) != nil {
		user = ""
	}
	return pageURL(a.base(r), query, page, user)
}

// formError answers a mistake a person can make on the page's forms with
// status, as the status table of ServeHTTP says, but without leaving the
// browser on the POST, whose reload would post the form again: the message
// waits in the session, and the short page that says it sends the browser
// (Refresh: 0) straight back to the page, which shows it. msg is for JSON
// clients, text for people.
func (a *Admin) formError(w http.ResponseWriter, r *http.Request, status int, msg, text, back string) {
	if wantsJSON(r) {
		a.fail(w, r, status, msg)
		return
	}
	a.putFlash(r, &flash{Error: text})
	h := w.Header()
	h.Set("Refresh", "0; url="+back)
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	data := struct{ Status, Message, Back, CSSURL string }{
		strconv.Itoa(status) + " " + http.StatusText(status), text, back, a.base(r) + "/admin.css?v=" + cssVersion}
	if err := a.page.ExecuteTemplate(w, "error.html", data); err != nil {
		a.logger.ErrorContext(r.Context(), "singlesession: admin page: render", "err", err)
	}
}

// putFlash leaves f in the actor's session for the next GET of the page.
func (a *Admin) putFlash(r *http.Request, f *flash) {
	if b, err := json.Marshal(f); err == nil {
		a.m.SessionManager().Put(r.Context(), flashKey, string(b))
	}
}

// popFlash takes what a post left for the page, or returns nil.
func (a *Admin) popFlash(r *http.Request) *flash {
	s := a.m.SessionManager().PopString(r.Context(), flashKey)
	if s == "" {
		return nil
	}
	var f flash
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return nil
	}
	return &f
}

// validQuery reports why query cannot be a search, or nil. A search holds
// what a user ID may hold (see ValidateUserID): PostgreSQL's text takes no NUL
// byte and no invalid UTF-8, so pgxstore's Directory would fail on them, and
// the input is at fault, not the directory. Unlike a user ID it may be empty.
func validQuery(query string) error {
	if query == "" {
		return nil
	}
	if problem := userIDProblem(query); problem != "" {
		return errors.New(problem)
	}
	return nil
}

// readForm reads the POST body as a form, or returns the status and message
// of the error response.
func (a *Admin) readForm(w http.ResponseWriter, r *http.Request) (url.Values, int, string) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, http.StatusUnsupportedMediaType, "unsupported content type: send application/x-www-form-urlencoded"
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
	if err != nil {
		if _, tooLong := errors.AsType[*http.MaxBytesError](err); tooLong {
			return nil, http.StatusRequestEntityTooLarge, "request body too large: at most " + strconv.FormatInt(a.maxBody, 10) + " bytes"
		}
		return nil, http.StatusBadRequest, "cannot read the request body"
	}
	form, err := parseForm(string(body))
	if err != nil {
		return nil, http.StatusBadRequest, "bad form: " + err.Error()
	}
	return form, 0, ""
}

// parseForm decodes an application/x-www-form-urlencoded body as
// url.ParseQuery does, without its limit of 10,000 fields, which an action on
// 10,000 users exceeds (the body's size is the limit here).
func parseForm(body string) (url.Values, error) {
	form := url.Values{}
	for body != "" {
		var field string
		field, body, _ = strings.Cut(body, "&")
		if field == "" {
			continue
		}
		if strings.Contains(field, ";") {
			return nil, errors.New("invalid semicolon separator")
		}
		key, value, _ := strings.Cut(field, "=")
		key, err := url.QueryUnescape(key)
		if err != nil {
			return nil, err
		}
		value, err = url.QueryUnescape(value)
		if err != nil {
			return nil, err
		}
		form[key] = append(form[key], value)
	}
	return form, nil
}

// trim returns the flash of res: at most flashLimit users in each list.
func trim(res *Result) *flash {
	f := &flash{Result: &Result{Action: res.Action, Actor: res.Actor, Sessions: res.Sessions}}
	f.Result.SignedOut = res.SignedOut[:min(len(res.SignedOut), flashLimit)]
	f.MoreSignedOut = len(res.SignedOut) - len(f.Result.SignedOut)
	f.Result.Skipped = res.Skipped[:min(len(res.Skipped), flashLimit)]
	f.MoreSkipped = len(res.Skipped) - len(f.Result.Skipped)
	return f
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
// "".
func pageURL(base, query string, page int, user string) string {
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

func first(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

// refuseBadUser answers a malformed user ID: 400 for an operator; for anyone
// else the actor check's own answer (403, or the redirect to the login
// page), so that the page tells nothing to those who may not use it.
func (a *Admin) refuseBadUser(w http.ResponseWriter, r *http.Request, userID string) {
	if _, _, _, ok := a.actor(w, r, ""); ok {
		a.fail(w, r, http.StatusBadRequest, "bad user: "+userIDProblem(userID))
	}
}

// badUser is the message of a form whose users include one that cannot be
// a user ID: the first such one, and why.
func badUser(users []string) string {
	for _, id := range users {
		if problem := userIDProblem(id); problem != "" {
			return fmt.Sprintf("bad user %.40q: %s", id, problem)
		}
	}
	return "bad user"
}

// refuse answers 403 to an action or end of a session that err, wrapping a
// *PermissionError, refused, saying which permission was missing.
func (a *Admin) refuse(w http.ResponseWriter, r *http.Request, err error) {
	msg := "forbidden"
	if e, ok := errors.AsType[*PermissionError](err); ok {
		switch {
		case e.TargetAdmin:
			msg = fmt.Sprintf("forbidden: %q is an admin user: ending its sessions needs %s", e.Target, e.Needs)
		case e.Action != "":
			msg = "forbidden: " + string(e.Action) + " needs " + e.Needs
		default:
			msg = "forbidden: ending a session needs " + PermLogout + " or " + PermLogoutAll
		}
	}
	a.fail(w, r, http.StatusForbidden, msg)
}

// actionLabel is the label of an action's button on the page.
func actionLabel(a Action) string {
	switch a {
	case ActionLogout:
		return "Log out the user on all sessions"
	case ActionLogoutAll:
		return "Log out the (admin) user on all sessions"
	}
	return string(a)
}

// actionNote is the line under an action's button: what it does to admin
// users.
func actionNote(a Action) string {
	switch a {
	case ActionLogout:
		return "skips admin users"
	case ActionLogoutAll:
		return "signs admin users out too"
	}
	return ""
}

// skipText says in words why an action left a user alone.
func skipText(r SkipReason) string {
	switch r {
	case SkipUnknownUser:
		return "unknown user"
	case SkipAdminUser:
		return "admin user: only \u201c" + actionLabel(ActionLogoutAll) + "\u201d (" + PermLogoutAll + ") signs admin users out"
	}
	return string(r)
}
