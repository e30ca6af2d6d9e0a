package singlesession

// The admin page's views: what it shows (view models, templates, the
// stylesheet) and how it says things (labels, notes, skips).

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"
)

//go:embed templates/admin.html templates/error.html templates/admin.css templates/admin.js
var templateFS embed.FS

var pageTemplate = template.Must(template.New("admin.html").
	Funcs(template.FuncMap{
		"plus":       func(a, b int) int { return a + b },
		"count":      count,
		"number":     number,
		"actionDone": actionDone,
		"skipText":   skipText,
		"when":       when,
		"ago":        ago,
		"rfc3339":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}).
	ParseFS(templateFS, "templates/admin.html", "templates/error.html"))

// asset is a file of the page's own, embedded in the package and the same
// in every copy of it: its stylesheet and its script.
type asset struct {
	name        string // "admin.css", served at "/admin.css" under the mount
	contentType string
	body        []byte
	version     string // a hash of body, which the page's links carry (?v=)
}

var (
	adminCSS = newAsset("admin.css", "text/css; charset=utf-8")
	adminJS  = newAsset("admin.js", "text/javascript; charset=utf-8")
)

func newAsset(name, contentType string) *asset {
	b, err := templateFS.ReadFile("templates/" + name)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return &asset{name: name, contentType: contentType, body: b, version: hex.EncodeToString(sum[:6])}
}

// url returns the asset's URL under the mount base, with its version.
func (f *asset) url(base string) string { return base + "/" + f.name + "?v=" + f.version }

// ServeHTTP serves the asset to anyone. Fetched by the URL the page links
// (with ?v= its hash), it may be kept for a year; otherwise it is checked
// each time.
func (f *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", `"`+f.version+`"`)
	if r.URL.Query().Get("v") == f.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

// maxPage bounds the page number, so offsets cannot overflow.
const maxPage = 1_000_000

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

	First, Last        int       `json:"-"` // positions of the users shown, from 1
	PageURL, ActionURL string    `json:"-"`
	EndURL, CSSURL     string    `json:"-"`
	JSURL              string    `json:"-"`
	PrevURL, NextURL   string    `json:"-"`
	HomeURL            string    `json:"-"`
	WatchURL, LoginURL string    `json:"-"` // the page listens at WatchURL, and goes to LoginURL when its session ends
	Now                time.Time `json:"-"` // for "3 minutes ago"
	Result             *flash    `json:"-"` // the result of the last action
	Notice             string    `json:"-"` // what the last post did, when not an action
	Error              string    `json:"-"` // why the last post did nothing
}

type actionView struct {
	Name    Action `json:"name"`
	Label   string `json:"label"`
	Note    string `json:"-"`
	Confirm string `json:"-"`
}

type userView struct {
	ID          string `json:"id"`
	Admin       bool   `json:"admin"`
	Sessions    int    `json:"sessions"`
	SessionsURL string `json:"-"`
	Chosen      bool   `json:"-"`
}

// chosenView is one page of one user's sessions.
type chosenView struct {
	ID        string        `json:"id"`
	Admin     bool          `json:"admin"`
	CanEnd    bool          `json:"can_end"`          // the actor may end these sessions
	Total     int           `json:"total"`            // the user's live sessions, in all
	Cursor    string        `json:"cursor,omitempty"` // where this page starts; "" for the first
	Next      string        `json:"next,omitempty"`   // the cursor of the next page; "" on the last
	Sessions  []sessionView `json:"sessions"`         // most recently used first
	CannotEnd string        `json:"-"`                // why the actor may not
	CloseURL  string        `json:"-"`
	FirstURL  string        `json:"-"` // the first page, when this is another
	NextURL   string        `json:"-"`
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

func (a *Admin) servePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	chosen, cursor := q.Get("user"), q.Get("cursor")
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
		err = a.addSessions(r, v, actor, chosenUser, cursor)
	}
	if errors.Is(err, ErrInvalidCursor) {
		a.fail(w, r, http.StatusBadRequest, fmt.Sprintf("bad cursor %.40q: use the next page's link", cursor))
		return
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

// addSessions lists one page of the sessions of chosen (a user the
// directory knows) on v, from cursor ("" for the first page), for actor: one
// store query, however many sessions the user holds.
func (a *Admin) addSessions(r *http.Request, v *pageView, actor, chosen User, cursor string) error {
	sp, err := a.m.UserSessionsPage(r.Context(), chosen.ID, cursor)
	if err != nil {
		return err
	}
	list, base := sp.Sessions, a.base(r)
	c := &chosenView{ID: chosen.ID, Admin: chosen.Admin, Total: sp.Total, Cursor: cursor, Next: sp.Next,
		Sessions: make([]sessionView, len(list)), CloseURL: pageURL(base, v.Query, v.Page, "", "")}
	if cursor != "" {
		c.FirstURL = pageURL(base, v.Query, v.Page, chosen.ID, "")
	}
	if sp.Next != "" {
		c.NextURL = pageURL(base, v.Query, v.Page, chosen.ID, sp.Next)
	}
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
			IP: s.IP, UserAgent: s.UserAgent, Device: a.device(s.UserAgent), Current: current != "" && s.ID == current}
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
		PageURL:   pageURL(base, "", 0, "", ""),
		ActionURL: base + "/logout",
		EndURL:    base + "/sessions/end",
		CSSURL:    adminCSS.url(base),
		JSURL:     adminJS.url(base),
		HomeURL:   a.homeURL,
		WatchURL:  a.watchURL,
		LoginURL:  a.loginURL,
		Now:       time.Now(),
	}
	for _, act := range allowed(actor) {
		v.Actions = append(v.Actions, actionView{Name: act, Label: actionLabel(act), Note: actionNote(act), Confirm: actionConfirm(act)})
	}
	for i, u := range users {
		v.Users[i] = userView{ID: u.ID, Admin: u.Admin, Sessions: counts[u.ID], SessionsURL: pageURL(base, query, page, u.ID, "")}
	}
	if len(users) > 0 {
		v.First = (page-1)*a.pageSize + 1
		v.Last = v.First + len(users) - 1
	}
	if page > 1 {
		v.PrevURL = pageURL(base, query, min(page-1, v.Pages), "", "")
	}
	if page < v.Pages {
		v.NextURL = pageURL(base, query, page+1, "", "")
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

// The page's words. The actions read as the sign-out of an application
// does ("Sign out everywhere"), and each says what it does to admin users.

// actionLabel is the label of an action's button on the page.
func actionLabel(a Action) string {
	switch a {
	case ActionLogout:
		return "Sign out everywhere"
	case ActionLogoutAll:
		return "Sign out everywhere, admin users included"
	}
	return string(a)
}

// actionNote is the line under an action's button: what it does, and to
// whom.
func actionNote(a Action) string {
	switch a {
	case ActionLogout:
		return "Ends every session of the ticked users; skips admin users."
	case ActionLogoutAll:
		return "Ends every session of the ticked users, admin users too."
	}
	return ""
}

// actionConfirm is the question the page asks before it runs an action;
// the page's script puts the ticked users in place of {users}.
func actionConfirm(a Action) string {
	switch a {
	case ActionLogout:
		return "Sign {users} out everywhere? Every session of theirs ends; admin users are skipped."
	case ActionLogoutAll:
		return "Sign {users} out everywhere, admin users included? Every session of theirs ends."
	}
	return ""
}

// actionDone is the heading of an action's result.
func actionDone(a Action) string {
	switch a {
	case ActionLogout:
		return "Signed out everywhere"
	case ActionLogoutAll:
		return "Signed out everywhere, admin users included"
	}
	return string(a)
}

// skipText says in a sentence why an action left a user alone.
func skipText(s Skipped) string {
	switch s.Reason {
	case SkipUnknownUser:
		return s.UserID + " was skipped: the directory does not know this user."
	case SkipAdminUser:
		return s.UserID + " was skipped: an admin user; only \u201c" + actionLabel(ActionLogoutAll) +
			"\u201d (" + PermLogoutAll + ") signs admin users out."
	}
	return s.UserID + " was skipped: " + string(s.Reason) + "."
}

// timeLayout is how the page writes a time: to the minute, with the year
// and the zone, which is UTC ("5 Dec 2026, 18:47 UTC"). The example
// application writes its times the same way.
const timeLayout = "2 Jan 2006, 15:04 MST"

// when writes t in timeLayout, or "-" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(timeLayout)
}

// ago says how long before now t was, as people say it: "just now", "3
// minutes ago", "5 hours ago", "yesterday", "4 days ago". A t after now
// (another machine's clock) is "just now".
func ago(t, now time.Time) string {
	switch d := now.Sub(t); {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return count(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return count(int(d/time.Hour), "hour") + " ago"
	case d < 48*time.Hour:
		return "yesterday"
	default:
		return count(int(d/(24*time.Hour)), "day") + " ago"
	}
}

// count writes n and the noun, singular or plural: "1 user", "100,000
// sessions".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return number(n) + " " + noun + "s"
}

// number writes n with its thousands grouped: "100,000".
func number(n int) string {
	s := strconv.Itoa(n)
	start := 0
	if n < 0 {
		start = 1
	}
	for i := len(s) - 3; i > start; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
