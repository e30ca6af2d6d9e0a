package singlesession

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed templates/*.html
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
	}).
	ParseFS(templateFS, "templates/admin.html"))

// flashKey is the key under which the result of an action waits, in the
// actor's session, for the page the action redirects to.
const flashKey = "singlesession.admin.result"

// flashLimit bounds the users a flash names in each list, so that an action
// on 10,000 users does not write 10,000 names into the actor's session.
const flashLimit = 100

// maxPage bounds the page number, so offsets cannot overflow.
const maxPage = 1_000_000

// contentSecurityPolicy allows the page its inline style and nothing else: no
// script, no frames around it.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"

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
//     a button for each action the actor may run. It shows the result of the
//     action that redirected to it.
//   - POST "/logout": runs the action named by the form field action on the
//     users named by the repeated field user, as [Admin.Run] does, then
//     answers 303 See Other back to the page, which shows the result. If the
//     actor signed themself out, it answers 303 to the login URL instead.
//
// The actor is [Manager.UserID]. An anonymous visitor gets 303 to
// AdminConfig.LoginURL and nothing ends. An actor with neither permission
// gets 403 Forbidden; so does a POST of an action the actor lacks, a
// cross-origin POST (http.CrossOriginProtection), and nothing ends. An
// unknown or missing action, no user, a bad user ID, or a search q that no
// user ID could match (a NUL byte, invalid UTF-8, more than [MaxUserIDLen]
// bytes) gets 400 Bad Request (in a POST's form such a q is dropped
// instead); a body that is not a form 415; a body longer than AdminConfig.MaxBodyBytes
// 413; another method 405 Method Not Allowed with an Allow header. The
// handler answers 500 if it is not served inside the middleware.
//
// With "Accept: application/json" the page is a JSON object (actor, actions,
// query, page, page_size, pages, total, users with id, admin and sessions),
// a POST answers 200 with the [Result] itself, and errors are objects
// {"error": "..."} with the same status codes. A JSON GET leaves the result
// of a form's action waiting for the HTML page.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Add("Vary", "Accept")
	switch r.URL.Path {
	case "", "/":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			a.fail(w, r, http.StatusMethodNotAllowed, "method not allowed: use GET or HEAD")
			return
		}
		a.servePage(w, r)
	case "/logout":
		if r.Method != http.MethodPost {
			h.Set("Allow", "POST")
			a.fail(w, r, http.StatusMethodNotAllowed, "method not allowed: use POST")
			return
		}
		a.serveAction(w, r)
	default:
		a.fail(w, r, http.StatusNotFound, "not found")
	}
}

// actor returns the signed-in actor, or writes the response (a redirect to
// the login page, 403, 500) and returns ok false.
func (a *Admin) actor(w http.ResponseWriter, r *http.Request) (User, bool) {
	ctx := r.Context()
	if a.m.state(ctx) == nil {
		a.logger.ErrorContext(ctx, "singlesession: the admin page is not inside Manager.Middleware; wrap it", "path", r.URL.Path)
		a.fail(w, r, http.StatusInternalServerError, "internal error")
		return User{}, false
	}
	id := a.m.UserID(ctx)
	if id == "" {
		http.Redirect(w, r, a.loginURL, http.StatusSeeOther)
		return User{}, false
	}
	u, found, err := a.lookupActor(ctx, id)
	if err != nil {
		a.logger.ErrorContext(ctx, "singlesession: admin page", "err", err)
		a.fail(w, r, http.StatusInternalServerError, "internal error")
		return User{}, false
	}
	if !found || len(allowed(u)) == 0 {
		a.fail(w, r, http.StatusForbidden, "forbidden: you hold neither "+PermLogout+" nor "+PermLogoutAll)
		return User{}, false
	}
	return u, true
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

	First, Last        int    `json:"-"` // positions of the users shown, from 1
	PageURL, ActionURL string `json:"-"`
	PrevURL, NextURL   string `json:"-"`
	HomeURL            string `json:"-"`
	Result             *flash `json:"-"`
	Error              string `json:"-"` // why the last post did nothing
}

type actionView struct {
	Name  Action `json:"name"`
	Label string `json:"label"`
}

type userView struct {
	ID       string `json:"id"`
	Admin    bool   `json:"admin"`
	Sessions int    `json:"sessions"`
}

// flash is the result of an action on its way to the page, trimmed to
// flashLimit users per list.
type flash struct {
	Result        *Result `json:"result"`
	MoreSignedOut int     `json:"more_signed_out,omitempty"`
	MoreSkipped   int     `json:"more_skipped,omitempty"`
}

func (a *Admin) servePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	actor, ok := a.actor(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
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
	if err != nil {
		a.logger.ErrorContext(ctx, "singlesession: admin page", "err", err)
		a.fail(w, r, http.StatusInternalServerError, "internal error")
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, v)
		return
	}
	if r.Method == http.MethodGet {
		if s := a.m.SessionManager().PopString(ctx, flashKey); s != "" {
			var f flash
			if err := json.Unmarshal([]byte(s), &f); err == nil && f.Result != nil {
				v.Result = &f
			}
		}
	}
	a.render(w, r, http.StatusOK, v)
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
		PageURL:   pageURL(base, "", 0),
		ActionURL: base + "/logout",
		HomeURL:   a.homeURL,
	}
	for _, act := range allowed(actor) {
		v.Actions = append(v.Actions, actionView{Name: act, Label: act.Label()})
	}
	for i, u := range users {
		v.Users[i] = userView{ID: u.ID, Admin: u.Admin, Sessions: counts[u.ID]}
	}
	if len(users) > 0 {
		v.First = (page-1)*a.pageSize + 1
		v.Last = v.First + len(users) - 1
	}
	if page > 1 {
		v.PrevURL = pageURL(base, query, min(page-1, v.Pages))
	}
	if page < v.Pages {
		v.NextURL = pageURL(base, query, page+1)
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
	if err := a.cop.Check(r); err != nil {
		a.logger.WarnContext(ctx, "singlesession: cross-origin action refused", "err", err, "origin", r.Header.Get("Origin"))
		a.fail(w, r, http.StatusForbidden, "forbidden: cross-origin request")
		return
	}
	actor, ok := a.actor(w, r)
	if !ok {
		return
	}
	form, status, msg := a.readForm(w, r)
	if status != 0 {
		a.fail(w, r, status, msg)
		return
	}
	action := Action(first(form["action"]))
	if action == "" {
		a.fail(w, r, http.StatusBadRequest, "no action chosen")
		return
	}
	targets, err := prepare(action, form["user"])
	switch {
	case errors.Is(err, ErrUnknownAction):
		a.fail(w, r, http.StatusBadRequest, fmt.Sprintf("unknown action %.40q: choose %s or %s", action, ActionLogout, ActionLogoutAll))
		return
	case errors.Is(err, ErrNoUsers):
		a.failOnPage(w, r, actor, form, "Choose at least one user, then an action.")
		return
	case err != nil: // an invalid user ID
		a.fail(w, r, http.StatusBadRequest, strings.ReplaceAll(err.Error(), "singlesession: ", ""))
		return
	}
	if err := a.authorize(ctx, actor.ID, actor, true, action); err != nil {
		a.fail(w, r, http.StatusForbidden, "forbidden: "+string(action)+" needs "+action.Permission())
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
	if b, err := json.Marshal(trim(res)); err == nil {
		a.m.SessionManager().Put(ctx, flashKey, string(b))
	}
	page, _ := strconv.Atoi(first(form["page"]))
	query := first(form["q"])
	if validQuery(query) != nil || page < 1 || page > maxPage {
		query, page = "", 0
	}
	http.Redirect(w, r, pageURL(a.base(r), query, page), http.StatusSeeOther)
}

// failOnPage answers 400 to a post that chose no user: the page again, with
// msg, for a person; a plain error for automation.
func (a *Admin) failOnPage(w http.ResponseWriter, r *http.Request, actor User, form url.Values, msg string) {
	page, _ := strconv.Atoi(first(form["page"]))
	query := first(form["q"])
	if validQuery(query) != nil || page < 1 || page > maxPage {
		query, page = "", 1
	}
	v, err := a.view(r, actor, query, page)
	if wantsJSON(r) || err != nil {
		a.fail(w, r, http.StatusBadRequest, "no users chosen")
		return
	}
	v.Error = msg
	a.render(w, r, http.StatusBadRequest, v)
}

// validQuery reports why query cannot be a search, or nil. A search holds
// what a user ID may hold (see ValidateUserID): PostgreSQL's text takes no NUL
// byte and no invalid UTF-8, so [PostgresDirectory] would fail on them, and
// the input is at fault, not the directory. Unlike a user ID it may be empty.
func validQuery(query string) error {
	if query == "" {
		return nil
	}
	if err := ValidateUserID(query); err != nil {
		// The user ID's reason, without calling the search a user ID.
		return errors.New(strings.TrimPrefix(err.Error(), ErrInvalidUserID.Error()+": "))
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

// base returns the path the handler is mounted at, without a trailing slash:
// AdminConfig.Prefix, or the request's path as received minus the part the
// handler sees.
func (a *Admin) base(r *http.Request) string {
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
// (0 and 1 both mean the first).
func pageURL(base, query string, page int) string {
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
