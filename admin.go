package singlesession

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Action is one of the operators' actions; its value is what the admin page's
// form sends in its field "action".
type Action string

const (
	// ActionLogout ends every session of the chosen users, except admin
	// users, who are skipped ([SkipAdminUser]). It needs [PermLogout].
	ActionLogout Action = "logout"

	// ActionLogoutAll ends every session of every chosen user, admin users
	// included. It needs [PermLogoutAll].
	ActionLogoutAll Action = "logout_all"
)

// actions lists every Action in the order the admin page offers them.
var actions = []Action{ActionLogout, ActionLogoutAll}

// Permission returns the permission the action needs, or "" for an unknown
// action.
func (a Action) Permission() string {
	switch a {
	case ActionLogout:
		return PermLogout
	case ActionLogoutAll:
		return PermLogoutAll
	}
	return ""
}

// SkipReason says why an action left a chosen user alone.
type SkipReason string

const (
	// SkipUnknownUser: the [Directory] does not know the user ID.
	SkipUnknownUser SkipReason = "unknown_user"

	// SkipAdminUser: the user is an admin user and the action is
	// [ActionLogout], which leaves admin users to [ActionLogoutAll].
	SkipAdminUser SkipReason = "admin_user"
)

// Result reports what an action did. Every chosen user appears once, in the
// order first given: in SignedOut or in Skipped.
type Result struct {
	// Action is the action that ran.
	Action Action `json:"action"`

	// Actor is the user who ran it.
	Actor string `json:"actor"`

	// SignedOut lists the users whose sessions ended, with how many each; a
	// user who had none is listed with 0 and has no session now either.
	SignedOut []SignedOut `json:"signed_out"`

	// Sessions is the number of sessions that ended, over all users.
	Sessions int `json:"sessions"`

	// Skipped lists the users left alone, and why.
	Skipped []Skipped `json:"skipped"`
}

// SignedOut is one user signed out by an action.
type SignedOut struct {
	UserID   string `json:"user_id"`  // the user
	Sessions int    `json:"sessions"` // how many of the user's sessions ended
}

// Skipped is one user an action left alone.
type Skipped struct {
	UserID string     `json:"user_id"` // the user
	Reason SkipReason `json:"reason"`  // why
}

// AdminConfig holds the options of an [Admin]. A zero AdminConfig uses the
// defaults.
type AdminConfig struct {
	// LoginURL is where the admin page sends anonymous visitors, with 303 See
	// Other. "" means "/login".
	LoginURL string

	// PageSize is the number of users the admin page lists at a time, from 1
	// to 1000. 0 means 50.
	PageSize int

	// MaxBodyBytes limits the body of an action's POST; a longer body gets
	// 413 Request Entity Too Large and ends nothing. 0 means 1 MiB, enough for
	// 10,000 user IDs of up to 90 bytes each.
	MaxBodyBytes int64

	// Prefix is the path the admin page is mounted at, such as
	// "/admin/sessions", used in its links, forms and redirects. "" means
	// that each request tells: its path as received (r.RequestURI) minus the
	// path left after http.StripPrefix (r.URL.Path). Set it when a proxy
	// rewrites paths before they reach the application.
	Prefix string

	// TrustedOrigins are origins ("https://ops.example.com") allowed to post
	// actions cross-origin; see http.CrossOriginProtection.AddTrustedOrigin.
	// nil trusts none: only same-origin posts are accepted.
	TrustedOrigins []string

	// HomeURL, when set, is linked from the admin page as the way back to
	// the application. "" shows no link.
	HomeURL string

	// WatchURL, when set, is where the admin page listens for the end of
	// the operator's own session: the path, on the page's own origin, of
	// [Manager.WatchHandler] (such as "/session/events"). When that session
	// ends (a login elsewhere, an operator, its expiry), the page goes to
	// LoginURL at once, whose page can say why ([Manager.Ended]); setting
	// it adds connect-src 'self' to the page's Content-Security-Policy. ""
	// means the page does not listen, and the operator learns of the end at
	// the next click.
	WatchURL string

	// Device names the browser and system of a session's User-Agent where
	// the admin page lists a user's sessions ("Firefox 128 on macOS"), in
	// HTML and JSON. Pass the function the application names devices with,
	// so that its pages and the admin page agree. nil means a built-in
	// summary that recognises the common browsers and systems by substring,
	// without versions ("Firefox on macOS"), so that the package needs no
	// User-Agent parser.
	Device func(userAgent string) string

	// Logger receives a record of every action run and of refused ones. nil
	// means slog.Default().
	Logger *slog.Logger
}

// Admin runs the operators' actions: [Admin.Run] from Go, and, as an
// http.Handler, an admin page that lists users with their active sessions and
// runs actions on the chosen ones (see [Admin.ServeHTTP]). Create it with
// [NewAdmin]; it is safe for concurrent use.
//
// The actions run no login or logout hooks and never consult the Policy; they
// end only sessions linked to a user.
type Admin struct {
	m        *Manager
	dir      Directory
	loginURL string
	pageSize int
	maxBody  int64
	prefix   string
	homeURL  string
	watchURL string
	logger   *slog.Logger
	cop      *http.CrossOriginProtection
	page     *template.Template
	device   func(userAgent string) string
	mux      *http.ServeMux // the routes, built once by NewAdmin
}

// NewAdmin returns the operators' actions over m's sessions, with
// permissions from dir. It returns an error when m or dir is nil, when dir is
// a [StaticDirectory] made from a bad list, or when a field of cfg is out of
// range (a negative or too large PageSize, a negative MaxBodyBytes, a Prefix
// that does not start with "/", a LoginURL or trusted origin that does not
// parse).
func NewAdmin(m *Manager, dir Directory, cfg AdminConfig) (*Admin, error) {
	a, err := newAdmin(m, dir, cfg)
	if err != nil {
		return nil, fmt.Errorf("singlesession: new admin: %w", err)
	}
	return a, nil
}

func newAdmin(m *Manager, dir Directory, cfg AdminConfig) (*Admin, error) {
	switch {
	case m == nil:
		return nil, errors.New("manager is nil: pass the Manager from New")
	case dir == nil || isNilPointer(dir):
		return nil, errors.New("directory is nil: pass your own Directory, NewStaticDirectory(...) or pgxstore.NewDirectory(pool)")
	case cfg.PageSize < 0 || cfg.PageSize > 1000:
		return nil, fmt.Errorf("cfg.PageSize %d is not between 1 and 1000 (0 means 50)", cfg.PageSize)
	case cfg.MaxBodyBytes < 0:
		return nil, fmt.Errorf("cfg.MaxBodyBytes %d is negative", cfg.MaxBodyBytes)
	case cfg.Prefix != "" && !strings.HasPrefix(cfg.Prefix, "/"):
		return nil, fmt.Errorf("cfg.Prefix %q does not start with /", cfg.Prefix)
	}
	if v, ok := dir.(interface{ validate() error }); ok {
		if err := v.validate(); err != nil {
			return nil, err
		}
	}
	a := &Admin{
		m:        m,
		dir:      dir,
		loginURL: cfg.LoginURL,
		pageSize: cfg.PageSize,
		maxBody:  cfg.MaxBodyBytes,
		homeURL:  cfg.HomeURL,
		watchURL: cfg.WatchURL,
		device:   cfg.Device,
		logger:   cfg.Logger,
		cop:      http.NewCrossOriginProtection(),
		page:     pageTemplate,
	}
	if a.loginURL == "" {
		a.loginURL = "/login"
	}
	if _, err := url.Parse(a.loginURL); err != nil {
		return nil, fmt.Errorf("cfg.LoginURL: %w", err)
	}
	if _, err := url.Parse(a.homeURL); err != nil {
		return nil, fmt.Errorf("cfg.HomeURL: %w", err)
	}
	if err := checkWatchURL(a.watchURL); err != nil {
		return nil, err
	}
	if a.pageSize == 0 {
		a.pageSize = 50
	}
	if a.maxBody == 0 {
		a.maxBody = 1 << 20
	}
	if cfg.Prefix != "" {
		a.prefix = cleanPrefix(cfg.Prefix)
	}
	if a.logger == nil {
		a.logger = slog.Default()
	}
	if a.device == nil {
		a.device = device
	}
	for _, o := range cfg.TrustedOrigins {
		if err := a.cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("cfg.TrustedOrigins: %w", err)
		}
	}
	a.mux = a.routes()
	return a, nil
}

// Run runs action for actor on the users userIDs and reports what it did. It
// checks that actor holds the action's permission, looks everyone up in the
// [Directory] with one call, and ends the sessions of everyone it does not
// skip with one store operation, so its cost does not grow in round trips
// with the number of users (two queries with pgxstore's Store and
// Directory).
//
// [ActionLogout] skips admin users; [ActionLogoutAll] skips no one known.
// Users the directory does not know are skipped ([SkipUnknownUser]); that is
// not an error. Repeated IDs count once. The actor may be among the users;
// its own sessions then end too.
//
// Run returns, and ends nothing: an error wrapping [ErrUnknownAction] for an
// unknown action; [ErrNoUsers] when userIDs is empty; [ErrInvalidUserID] when
// one of userIDs is empty, not valid UTF-8 or longer than [MaxUserIDLen];
// [ErrPermissionDenied] when actor is unknown to the directory or lacks the
// action's permission; the directory's error if it fails. If the store fails,
// some sessions may have ended.
func (a *Admin) Run(ctx context.Context, actor string, action Action, userIDs []string) (*Result, error) {
	targets, err := prepare(action, userIDs)
	if err != nil {
		return nil, err
	}
	lookup := targets
	if !slices.Contains(targets, actor) && ValidateUserID(actor) == nil {
		lookup = append(targets[:len(targets):len(targets)], actor)
	}
	known, err := a.dir.Users(ctx, lookup)
	if err != nil {
		return nil, wrap(string(action), err)
	}
	actorUser, ok := known[actor]
	actorUser.ID = actor // the map's key is authoritative
	if err := a.authorize(ctx, actor, actorUser, ok, action); err != nil {
		return nil, err
	}
	return a.execute(ctx, actorUser, action, targets, known)
}

// Actions returns the actions actor may run, in the order the admin page
// offers them: none for a user the [Directory] does not know.
func (a *Admin) Actions(ctx context.Context, actor string) ([]Action, error) {
	u, ok, err := a.lookupActor(ctx, actor)
	if err != nil || !ok {
		return nil, err
	}
	return allowed(u), nil
}

func (a *Admin) lookupActor(ctx context.Context, actor string) (User, bool, error) {
	if ValidateUserID(actor) != nil {
		return User{}, false, nil
	}
	known, err := a.dir.Users(ctx, []string{actor})
	if err != nil {
		return User{}, false, wrap(fmt.Sprintf("look up actor %q", actor), err)
	}
	u, ok := known[actor]
	u.ID = actor
	return u, ok, nil
}

// allowed returns the actions u may run.
func allowed(u User) []Action {
	var list []Action
	for _, act := range actions {
		if u.HasPermission(act.Permission()) {
			list = append(list, act)
		}
	}
	return list
}

// prepare checks action and userIDs and returns the distinct IDs, first
// occurrences first.
func prepare(action Action, userIDs []string) ([]string, error) {
	if action.Permission() == "" {
		return nil, fmt.Errorf("singlesession: run action %.40q: %w (want %q or %q)", action, ErrUnknownAction, ActionLogout, ActionLogoutAll)
	}
	if len(userIDs) == 0 {
		return nil, fmt.Errorf("singlesession: %s: %w", action, ErrNoUsers)
	}
	seen := make(map[string]struct{}, len(userIDs))
	targets := make([]string, 0, len(userIDs))
	for _, id := range userIDs {
		if _, dup := seen[id]; dup {
			continue
		}
		if err := ValidateUserID(id); err != nil {
			return nil, fmt.Errorf("singlesession: %s: user %.40q: %w", action, id, err)
		}
		seen[id] = struct{}{}
		targets = append(targets, id)
	}
	return targets, nil
}

// authorize returns a *PermissionError, wrapped with the package's prefix,
// unless the actor (found: known to the directory) holds action's
// permission.
func (a *Admin) authorize(ctx context.Context, actor string, u User, found bool, action Action) error {
	if found && u.HasPermission(action.Permission()) {
		return nil
	}
	a.logger.WarnContext(ctx, "singlesession: operators' action refused", "actor", actor, "action", string(action), "needs", action.Permission())
	return fmt.Errorf("%s%w", errPrefix, &PermissionError{Actor: actor, Action: action, Needs: action.Permission(), UnknownActor: !found})
}

// execute ends the sessions of targets (distinct, valid IDs) as actor, who
// may run action; known holds what the directory knows of them.
func (a *Admin) execute(ctx context.Context, actor User, action Action, targets []string, known map[string]User) (*Result, error) {
	res := &Result{Action: action, Actor: actor.ID, SignedOut: []SignedOut{}, Skipped: []Skipped{}}
	end := make([]string, 0, len(targets))
	for _, id := range targets {
		u, ok := known[id]
		switch {
		case !ok:
			res.Skipped = append(res.Skipped, Skipped{UserID: id, Reason: SkipUnknownUser})
		case u.Admin && action == ActionLogout:
			res.Skipped = append(res.Skipped, Skipped{UserID: id, Reason: SkipAdminUser})
		default:
			end = append(end, id)
		}
	}
	if len(end) > 0 {
		counts, err := a.m.endUsers(ctx, end, actor.ID)
		if err != nil {
			return nil, wrap(fmt.Sprintf("%s by %q", action, actor.ID), err)
		}
		for _, id := range end {
			res.SignedOut = append(res.SignedOut, SignedOut{UserID: id, Sessions: counts[id]})
			res.Sessions += counts[id]
		}
	}
	a.logger.InfoContext(ctx, "singlesession: operators' action", "actor", actor.ID, "action", string(action),
		"users", len(res.SignedOut), "sessions", res.Sessions, "skipped", len(res.Skipped))
	return res, nil
}

// EndSession ends one session of userID, by the ID that
// [Manager.UserSessions] lists, for actor, under the permissions of the
// actions: [PermLogoutAll] may end anyone's session; [PermLogout] may end
// the session of a user who is not an admin user. The ended browser's next
// request is anonymous and [Manager.Ended] tells it [ReasonAdmin];
// [Config.OnEvent] gets an [EventEnded] with Actor set. It looks actor and
// userID up in the [Directory] with one call. The actor may end their own
// session, the one they are using included.
//
// EndSession returns, and ends nothing: an error wrapping
// [ErrInvalidUserID] for an unacceptable userID; [ErrPermissionDenied]
// when actor is unknown to the directory, holds neither permission, or holds
// only [PermLogout] and userID is an admin user; [ErrSessionNotFound] when
// sessionID is not a live session of userID, or userID is a user the
// directory does not know (whose sessions the actions leave alone too); the
// directory's error if it fails.
func (a *Admin) EndSession(ctx context.Context, actor, userID, sessionID string) error {
	if err := ValidateUserID(userID); err != nil {
		return fmt.Errorf("singlesession: end session of %.40q: %w", userID, err)
	}
	lookup := []string{userID}
	if actor != userID && ValidateUserID(actor) == nil {
		lookup = append(lookup, actor)
	}
	known, err := a.dir.Users(ctx, lookup)
	if err != nil {
		return wrap(fmt.Sprintf("end session of %q", userID), err)
	}
	actorUser, found := known[actor]
	actorUser.ID = actor
	if !found {
		a.logger.WarnContext(ctx, "singlesession: operators' action refused", "actor", actor, "action", "end_session", "user", userID)
		return fmt.Errorf("%s%w", errPrefix, &PermissionError{Actor: actor, Target: userID, Needs: PermLogout, UnknownActor: true})
	}
	target, found := known[userID]
	target.ID = userID
	return a.endSession(ctx, actorUser, target, found, sessionID)
}

// canEnd returns nil if actor may end the sessions of target, or a
// *PermissionError that says which permission is missing.
func canEnd(actor, target User) *PermissionError {
	switch {
	case actor.HasPermission(PermLogoutAll):
		return nil
	case !actor.HasPermission(PermLogout):
		return &PermissionError{Actor: actor.ID, Target: target.ID, Needs: PermLogout}
	case target.Admin:
		return &PermissionError{Actor: actor.ID, Target: target.ID, Needs: PermLogoutAll, TargetAdmin: true}
	}
	return nil
}

// endSession ends the session id of target (found: known to the directory)
// for actor, a user the directory knows.
func (a *Admin) endSession(ctx context.Context, actor, target User, found bool, id string) error {
	if err := canEnd(actor, target); err != nil {
		a.logger.WarnContext(ctx, "singlesession: operators' action refused", "actor", actor.ID, "action", "end_session", "user", target.ID)
		return fmt.Errorf("%s%w", errPrefix, err)
	}
	if !found {
		return fmt.Errorf("singlesession: end session of %q, a user the directory does not know: %w", target.ID, ErrSessionNotFound)
	}
	if err := a.m.endUserSession(ctx, target.ID, id, actor.ID); err != nil {
		return err
	}
	a.logger.InfoContext(ctx, "singlesession: operators' action", "actor", actor.ID, "action", "end_session", "user", target.ID, "session", id)
	return nil
}

// checkWatchURL returns an error unless u is "" or a path on the page's own
// origin. A browser reads a backslash as a slash, so "/\host" is refused
// as "//host" is: both name another origin.
func checkWatchURL(u string) error {
	if u == "" {
		return nil
	}
	parsed, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("cfg.WatchURL: %w", err)
	}
	if parsed.Scheme != "" || parsed.Host != "" || !strings.HasPrefix(u, "/") ||
		strings.HasPrefix(u, "//") || strings.Contains(u, "\\") {
		return fmt.Errorf("cfg.WatchURL %q is not a path on the page's origin, such as /session/events", u)
	}
	return nil
}
