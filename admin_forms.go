package singlesession

// The admin page's forms: reading and checking the posts, running them, and
// the messages ("flashes") they leave for the page.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// flashKey is the key under which the result of an action waits, in the
// actor's session, for the page the action redirects to.
const flashKey = "singlesession.admin.result"

// flashLimit bounds the users a flash names in each list, so that an action
// on 10,000 users does not write 10,000 names into the actor's session.
const flashLimit = 100

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

	self := slices.ContainsFunc(res.SignedOut, func(s SignedOut) bool { return s.UserID == actor.ID })
	if self {
		a.forgetSession(ctx)
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, res)
		return
	}
	if self {
		// The page would only send the actor to log in.
		http.Redirect(w, r, a.loginURL, http.StatusSeeOther)
		return
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
	self := userID == actor.ID && id == current
	if self {
		a.forgetSession(ctx)
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"user_id": userID, "session_id": id})
		return
	}
	if self {
		http.Redirect(w, r, a.loginURL, http.StatusSeeOther)
		return
	}
	a.putFlash(r, &flash{Notice: "Ended one session of \u201c" + userID + "\u201d."})
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// backURL returns the page a post returns to: the search and page the form
// came from (dropped when not valid), listing the sessions of user unless
// it is "" (or not valid), from the form's cursor (dropped when not valid).
func (a *Admin) backURL(r *http.Request, form url.Values, user string) string {
	page, _ := strconv.Atoi(first(form["page"]))
	query := first(form["q"])
	if validQuery(query) != nil || page < 1 || page > maxPage {
		query, page = "", 0
	}
	if user != "" && ValidateUserID(user) != nil {
		user = ""
	}
	cursor := first(form["cursor"])
	if _, err := parseCursor(cursor); err != nil || user == "" {
		cursor = ""
	}
	return pageURL(a.base(r), query, page, user, cursor)
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
		strconv.Itoa(status) + " " + http.StatusText(status), text, back, adminCSS.url(a.base(r))}
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
		var tooLong *http.MaxBytesError
		if errors.As(err, &tooLong) {
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

func first(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
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
	var e *PermissionError
	if errors.As(err, &e) {
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

// forgetSession drops the request's session, which the actor's own action
// has just ended, as the browser's own sign-out would: the cookie goes, so
// the browser is not told at its next request that an operator signed it
// out ([Manager.Ended] reports nothing), and the application may start a
// new session in the same request.
func (a *Admin) forgetSession(ctx context.Context) {
	if err := a.m.SessionManager().Destroy(ctx); err != nil {
		a.logger.WarnContext(ctx, "singlesession: admin page: drop the actor's ended session", "err", err)
	}
}
