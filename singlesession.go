package singlesession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Permissions of the operators' actions, spelled as in django-single-session.
const (
	// PermLogout allows ending every session of chosen users, admin users
	// excepted.
	PermLogout = "single_session.logout"
	// PermLogoutAll allows ending every session of chosen users, admin users
	// included.
	PermLogoutAll = "single_session.logout_all"
)

// Config holds the options of a [Manager]. A zero Config uses the defaults:
// one session per user, and logout ends all of the user's sessions.
type Config struct {
	// Policy decides at each login whether the user's other sessions end.
	// nil means [Always]. Set Policy or Limit, not both.
	Policy Policy

	// Limit, when set, decides at each login how many sessions the user may
	// hold at once, and what happens to a login past that number; it is
	// called once per login instead of Policy, with the same guarantees
	// (see [Policy]). nil lets Policy decide. New fails when both are set.
	Limit func(ctx context.Context, userID string) Limit

	// KeepOtherSessionsOnLogout, when true, makes [Manager.LogoutHook] end only
	// the current session. The default, false, ends every session of the user,
	// whatever the Policy.
	KeepOtherSessionsOnLogout bool

	// ClientIP returns the address that a login records with its session
	// ([SessionInfo.IP]) and that events carry. nil means the host of
	// r.RemoteAddr; behind a proxy, return what your proxy vouches for
	// (X-Forwarded-For is the client's to forge otherwise).
	ClientIP func(r *http.Request) string

	// LastSeenInterval is how stale a session's LastSeen may get: a request
	// refreshes it when it is at least that old, riding on the session's save
	// when there is one, or else with one more query. 0 means one minute.
	LastSeenInterval time.Duration

	// OnEvent, when set, receives every change of sessions ([Event]): once
	// per event, synchronously, after the change is committed and before
	// the response is sent (or the method returns), with no lock held;
	// never for a change that failed. It runs on the request's goroutine, so
	// hand events to a channel or a queue of your own if it may be slow.
	// nil means none.
	OnEvent func(ctx context.Context, e Event)

	// ErrorFunc handles the errors of loading and saving sessions, store
	// errors included; it replaces the SessionManager's own ErrorFunc. nil
	// logs the error with Logger and replies 500 Internal Server Error. A
	// login refused in its save by a RejectNew limit reaches it with an
	// error wrapping [ErrTooManySessions].
	ErrorFunc func(http.ResponseWriter, *http.Request, error)

	// PageSize is how many sessions a page of [Manager.SessionsPage] and
	// [Manager.UserSessionsPage] holds, from 1 to 1000. 0 means 50.
	PageSize int

	// Logger receives the library's logs. nil means slog.Default().
	Logger *slog.Logger
}

// Manager enforces one active session per user on an scs SessionManager.
// Create it with [New]; it is safe for concurrent use.
type Manager struct {
	sessions   *scs.SessionManager
	store      Store
	policy     Policy                                         // nil: Always, without the goroutine
	limit      func(ctx context.Context, userID string) Limit // nil: the policy decides
	keepOthers bool
	clientIP   func(r *http.Request) string
	staleAfter time.Duration
	pageSize   int
	onEvent    func(ctx context.Context, e Event)
	logger     *slog.Logger
	hub        *hub // the watches of SessionContext
}

// New returns a Manager that keeps the sessions of sessions in store. It sets
// sessions.Store to an adapter over store and sessions.ErrorFunc to
// cfg.ErrorFunc (or the default), so callers do not set them; every other
// option of sessions (Lifetime, IdleTimeout, Cookie, Codec, HashTokenInStore)
// is honoured as it is.
//
// New returns an error, and changes nothing, when sessions or store is nil,
// when sessions already belongs to another Manager, or when an option of
// sessions cannot work (no Codec, no cookie name, a negative Lifetime or
// IdleTimeout), or when cfg cannot work (both Policy and Limit, a negative
// LastSeenInterval).
func New(sessions *scs.SessionManager, store Store, cfg Config) (*Manager, error) {
	if err := check(sessions, store, cfg); err != nil {
		return nil, fmt.Errorf("singlesession: new: %w", err)
	}
	m := &Manager{
		sessions:   sessions,
		store:      store,
		policy:     cfg.Policy,
		limit:      cfg.Limit,
		keepOthers: cfg.KeepOtherSessionsOnLogout,
		clientIP:   cfg.ClientIP,
		staleAfter: cfg.LastSeenInterval,
		pageSize:   cfg.PageSize,
		onEvent:    cfg.OnEvent,
		logger:     cfg.Logger,
	}
	if m.logger == nil {
		m.logger = slog.Default()
	}
	m.hub = &hub{m: m}
	if m.clientIP == nil {
		m.clientIP = defaultClientIP
	}
	if m.staleAfter == 0 {
		m.staleAfter = time.Minute
	}
	if m.pageSize == 0 {
		m.pageSize = 50
	}
	errorFunc := cfg.ErrorFunc
	if errorFunc == nil {
		errorFunc = m.defaultErrorFunc
	}
	sessions.Store = &scsStore{m: m}
	sessions.ErrorFunc = answerWith(errorFunc)
	return m, nil
}

func check(sessions *scs.SessionManager, store Store, cfg Config) error {
	switch {
	case cfg.Policy != nil && cfg.Limit != nil:
		return errors.New("Config.Policy and Config.Limit are both set: set one (Limit{Max: 1} is Always, Limit{} is Never)")
	case cfg.LastSeenInterval < 0:
		return fmt.Errorf("Config.LastSeenInterval is negative (%v)", cfg.LastSeenInterval)
	case cfg.PageSize < 0 || cfg.PageSize > 1000:
		return fmt.Errorf("Config.PageSize %d is not between 1 and 1000 (0 means 50)", cfg.PageSize)
	case sessions == nil:
		return errors.New("sessions is nil: pass scs.New()")
	case isAdapter(sessions.Store):
		return errors.New("sessions already belongs to a Manager: create one scs.SessionManager per Manager")
	case store == nil || isNilPointer(store):
		return errors.New("store is nil: pass pgxstore.New(pool), redisstore.New(client) or NewMemoryStore()")
	case sessions.Codec == nil:
		return errors.New("sessions.Codec is nil: leave scs's default (scs.GobCodec{}) or set one")
	case sessions.Cookie.Name == "":
		return errors.New("sessions.Cookie.Name is empty")
	case sessions.Lifetime < 0:
		return fmt.Errorf("sessions.Lifetime is negative (%v)", sessions.Lifetime)
	case sessions.IdleTimeout < 0:
		return fmt.Errorf("sessions.IdleTimeout is negative (%v)", sessions.IdleTimeout)
	}
	if v, ok := store.(interface{ validate() error }); ok {
		return v.validate()
	}
	return nil
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// LoginHook signs userID in on the session of ctx. Call it from a handler
// inside [Manager.Middleware], with r.Context(), once the user has proved who
// they are, and before the handler writes its response.
//
// It calls the Policy once, renews the session token (against session
// fixation), and links the session to userID. Values already in the session
// (a cart) are kept. The change is saved when scs saves the session, in one
// transaction that also ends the session's previous token and, when the policy
// says so, every other session of userID, expired ones included. If the save
// fails, or the request's context ends before it is committed, the error goes
// to Config.ErrorFunc and nothing changes: the browser keeps its previous
// session, and [Manager.UserID] reports its previous user.
//
// Calling LoginHook on a session that is already signed in, as the same or as
// another user, is fine: the previous token ends, and a previous user's other
// sessions are left alone. [Manager.UserID] returns userID as soon as
// LoginHook returns. Calling sessions.Destroy or sessions.RenewToken after
// LoginHook in the same request cancels the login and signs the browser out
// (a warning is logged): use [Manager.LogoutHook] to sign out, and renew
// nothing after LoginHook, which renews the token itself.
//
// LoginHook returns an error wrapping [ErrInvalidUserID] for an unacceptable
// userID, [ErrNoMiddleware] outside the middleware, ctx's error when ctx ends
// while the policy runs, and an error wrapping [ErrPolicyPanic] when the policy
// panics; in every case the session is unchanged.
func (m *Manager) LoginHook(ctx context.Context, userID string) error {
	if err := ValidateUserID(userID); err != nil {
		return wrap("login", err)
	}
	st := m.state(ctx)
	if st == nil {
		return wrap("login", ErrNoMiddleware)
	}
	limit, err := m.decide(ctx, userID)
	if err != nil {
		return fmt.Errorf("singlesession: login of %q: %w", userID, err)
	}
	previous, token, _ := st.current()
	if limit.RejectNew && limit.Max > 0 {
		if err := m.checkRoom(ctx, st, userID, limit, previous, token); err != nil {
			return err
		}
	}
	if previous != "" && previous != userID {
		// Another user signs in on this browser: like Django's login(), start
		// from an empty session, so nothing of the previous user's carries
		// over. An anonymous visitor's values (a cart) and a same-user
		// re-login keep theirs.
		if err := m.sessions.Clear(ctx); err != nil {
			return fmt.Errorf("singlesession: login of %q: %w", userID, err)
		}
	}
	// scs's RenewToken deletes the old token through the store at once; the
	// adapter holds that delete back (st.renewing) so the login transaction
	// does it, and a failed save leaves the old session whole.
	st.setRenewing(true)
	err = m.sessions.RenewToken(ctx)
	st.setRenewing(false)
	if err != nil {
		return fmt.Errorf("singlesession: login of %q: %w", userID, err)
	}
	st.setLogin(userID, limit, m.storeToken(m.sessions.Token(ctx)))
	return nil
}

// checkRoom refuses, under a RejectNew limit, a login of a user who already
// holds limit.Max sessions besides this browser's own. It costs one query;
// the login's save checks again under the user's lock.
func (m *Manager) checkRoom(ctx context.Context, st *requestState, userID string, limit Limit, previous, token string) error {
	counts, err := m.store.CountSessions(ctx, []string{userID})
	if err != nil {
		return wrap(fmt.Sprintf("login of %q", userID), err)
	}
	n := counts[userID]
	if previous == userID && token != "" {
		n-- // the browser's own session never counts
	}
	if n < limit.Max {
		return nil
	}
	ip, userAgent := st.client()
	m.emit(ctx, Event{Kind: EventLoginRejected, UserID: userID, IP: ip, UserAgent: userAgent, At: time.Now()})
	return fmt.Errorf("singlesession: login of %q: %w (%d of %d)", userID, ErrTooManySessions, n, limit.Max)
}

// LogoutHook ends the session of ctx and, unless
// Config.KeepOtherSessionsOnLogout is set, every other session of its user, in
// one operation, whatever the Policy. Call it from a handler inside
// [Manager.Middleware] with r.Context(). [Manager.UserID] returns "" once it
// returns, and scs tells the browser to drop its cookie.
//
// On an anonymous session LogoutHook only destroys that session and returns
// nil. A session that ended while the request was in flight (the user signed
// in elsewhere, an operator signed them out) counts as anonymous: its logout
// ends nothing else, so it cannot end a newer login. It returns
// [ErrNoMiddleware] outside the middleware, and the store's error if the
// sessions could not be ended.
func (m *Manager) LogoutHook(ctx context.Context) error {
	st := m.state(ctx)
	if st == nil {
		return wrap("logout", ErrNoMiddleware)
	}
	st.beginLogout(m.keepOthers, false)
	err := m.sessions.Destroy(ctx)
	st.endLogout()
	m.dispatch(ctx, st)
	if err != nil {
		return wrap("logout", err)
	}
	return nil
}

// SessionManager returns the scs SessionManager whose sessions m keeps, for
// code that has the Manager at hand and needs scs's own methods (Put, Get,
// PopString...).
func (m *Manager) SessionManager() *scs.SessionManager {
	return m.sessions
}

// UserID returns the user the session of ctx is signed in as, or "" when it is
// anonymous, when ctx is nil, or when ctx does not come from
// [Manager.Middleware]. It reads only what the session load already fetched.
func (m *Manager) UserID(ctx context.Context) string {
	st := m.state(ctx)
	if st == nil {
		return ""
	}
	return st.user()
}

// LogoutUser ends every session of userID, on every browser, and returns how
// many live ones it ended; the browsers learn [ReasonAdmin] from
// [Manager.Ended]. It checks no permission, calls no hook and never consults
// the Policy; sessions linked to no user are never touched. An unknown user
// is not an error (0 sessions). It returns an error wrapping
// [ErrInvalidUserID], and ends nothing, for an unacceptable userID such as "".
func (m *Manager) LogoutUser(ctx context.Context, userID string) (int, error) {
	if err := ValidateUserID(userID); err != nil {
		return 0, wrap("logout user", err)
	}
	counts, err := m.endUsers(ctx, []string{userID}, "")
	if err != nil {
		return 0, wrap("logout user", err)
	}
	return counts[userID], nil
}

// LogoutUsers is [Manager.LogoutUser] for many users at once: one store
// operation (one statement in PostgreSQL) however many users there are. It
// returns how many live sessions of each user ended; users who had none are
// absent. Repeated IDs are fine. If any ID is unacceptable it returns an
// error wrapping [ErrInvalidUserID] that names it, and ends nothing.
func (m *Manager) LogoutUsers(ctx context.Context, userIDs []string) (map[string]int, error) {
	if err := validUserIDs(userIDs); err != nil {
		return nil, wrap("logout users", err)
	}
	counts, err := m.endUsers(ctx, userIDs, "")
	if err != nil {
		return nil, wrap("logout users", err)
	}
	return counts, nil
}

// endUsers ends every session of userIDs for an operator (actor, "" when
// unknown), records ReasonAdmin and reports one event per user.
func (m *Manager) endUsers(ctx context.Context, userIDs []string, actor string) (map[string]int, error) {
	ended, err := m.store.EndUsers(ctx, EndUsers{UserIDs: userIDs, Reason: ReasonAdmin})
	if err != nil {
		return nil, err
	}
	for _, id := range sortedKeys(ended.Ended) {
		m.emit(ctx, Event{Kind: EventEnded, UserID: id, Ended: ended.Ended[id], Reason: ReasonAdmin, Actor: actor, At: ended.At})
	}
	return ended.Ended, nil
}

// storeToken is the key under which scs hands token to the store.
func (m *Manager) storeToken(token string) string {
	if token == "" || !m.sessions.HashTokenInStore {
		return token
	}
	return hashToken(token)
}

func (m *Manager) defaultErrorFunc(w http.ResponseWriter, r *http.Request, err error) {
	m.logger.ErrorContext(r.Context(), "singlesession: session error", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// sortedKeys returns the keys of m in order, so that events come in a stable order.
func sortedKeys(m map[string]int) []string {
	return slices.Sorted(maps.Keys(m))
}
