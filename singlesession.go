package singlesession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"unicode/utf8"

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

// MaxUserIDLen is the longest user ID, in bytes, that the Manager accepts.
const MaxUserIDLen = 512

// Config holds the options of a [Manager]. A zero Config uses the defaults:
// one session per user, and logout ends all of the user's sessions.
type Config struct {
	// Policy decides at each login whether the user's other sessions end.
	// nil means [Always].
	Policy Policy

	// KeepOtherSessionsOnLogout, when true, makes [Manager.LogoutHook] end only
	// the current session. The default, false, ends every session of the user,
	// whatever the Policy.
	KeepOtherSessionsOnLogout bool

	// ErrorFunc handles the errors of loading and saving sessions, store
	// errors included; it replaces the SessionManager's own ErrorFunc. nil
	// logs the error with Logger and replies 500 Internal Server Error.
	ErrorFunc func(http.ResponseWriter, *http.Request, error)

	// Logger receives the library's logs. nil means slog.Default().
	Logger *slog.Logger
}

// Manager enforces one active session per user on an scs SessionManager.
// Create it with [New]; it is safe for concurrent use.
type Manager struct {
	sessions   *scs.SessionManager
	store      Store
	policy     Policy // nil: Always, without the goroutine
	keepOthers bool
	logger     *slog.Logger
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
// IdleTimeout).
func New(sessions *scs.SessionManager, store Store, cfg Config) (*Manager, error) {
	if err := check(sessions, store); err != nil {
		return nil, fmt.Errorf("singlesession: new: %w", err)
	}
	m := &Manager{
		sessions:   sessions,
		store:      store,
		policy:     cfg.Policy,
		keepOthers: cfg.KeepOtherSessionsOnLogout,
		logger:     cfg.Logger,
	}
	if m.logger == nil {
		m.logger = slog.Default()
	}
	errorFunc := cfg.ErrorFunc
	if errorFunc == nil {
		errorFunc = m.defaultErrorFunc
	}
	sessions.Store = &scsStore{m: m}
	sessions.ErrorFunc = errorFunc
	return m, nil
}

func check(sessions *scs.SessionManager, store Store) error {
	switch {
	case sessions == nil:
		return errors.New("sessions is nil: pass scs.New()")
	case isAdapter(sessions.Store):
		return errors.New("sessions already belongs to a Manager: create one scs.SessionManager per Manager")
	case store == nil || isNilPointer(store):
		return errors.New("store is nil: pass NewPostgresStore(pool) or NewMemoryStore()")
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
	if err := validUserID(userID); err != nil {
		return fmt.Errorf("singlesession: login: %w", err)
	}
	st := m.state(ctx)
	if st == nil {
		return fmt.Errorf("singlesession: login: %w", ErrNoMiddleware)
	}
	endOthers, err := m.decide(ctx, userID)
	if err != nil {
		return fmt.Errorf("singlesession: login of %q: %w", userID, err)
	}
	st.mu.Lock()
	previous := st.userID
	st.mu.Unlock()
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
	st.mu.Lock()
	st.renewing = true
	st.mu.Unlock()
	err = m.sessions.RenewToken(ctx)
	token := m.sessions.Token(ctx) // never with st.mu held: scs calls the store under its own lock
	st.mu.Lock()
	defer st.mu.Unlock()
	st.renewing = false
	if err != nil {
		return fmt.Errorf("singlesession: login of %q: %w", userID, err)
	}
	previousUserID := st.userID
	if st.login != nil {
		// A second LoginHook in one request: if the save fails, the browser
		// is still who it was before the first.
		previousUserID = st.login.previousUserID
	}
	st.login = &pendingLogin{
		userID: userID, endOthers: endOthers,
		token: m.storeToken(token), previousUserID: previousUserID,
	}
	st.userID = userID
	return nil
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
		return fmt.Errorf("singlesession: logout: %w", ErrNoMiddleware)
	}
	st.mu.Lock()
	st.logout = &pendingLogout{}
	if !m.keepOthers {
		st.logout.userID = st.userID
		// After LoginHook in this request, the user proved who they are here
		// and now, though their session is not saved yet: end all of theirs.
		st.logout.signedInHere = st.login != nil
	}
	st.mu.Unlock()
	err := m.sessions.Destroy(ctx)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.logout = nil
	if err != nil {
		return wrap("logout", err)
	}
	return nil
}

// UserID returns the user the session of ctx is signed in as, or "" when it is
// anonymous, when ctx is nil, or when ctx does not come from
// [Manager.Middleware]. It reads only what the session load already fetched.
func (m *Manager) UserID(ctx context.Context) string {
	st := m.state(ctx)
	if st == nil {
		return ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.userID
}

// LogoutUser ends every session of userID, on every browser, and returns how
// many it ended. It checks no permission, calls no hook and never consults the
// Policy; sessions linked to no user are never touched. An unknown user is not
// an error (0 sessions). It returns an error wrapping [ErrInvalidUserID], and
// ends nothing, for an unacceptable userID such as "".
func (m *Manager) LogoutUser(ctx context.Context, userID string) (int, error) {
	if ctx == nil {
		return 0, errors.New("singlesession: logout user: nil context")
	}
	if err := validUserID(userID); err != nil {
		return 0, fmt.Errorf("singlesession: logout user: %w", err)
	}
	counts, err := m.store.End(ctx, []string{userID})
	if err != nil {
		return 0, wrap("logout user", err)
	}
	return counts[userID], nil
}

// LogoutUsers is [Manager.LogoutUser] for many users at once: one store
// operation (one statement in PostgreSQL) however many users there are. It
// returns how many sessions of each user ended; users who had none are absent.
// Repeated IDs are fine. If any ID is unacceptable it returns an error wrapping
// [ErrInvalidUserID] that names it, and ends nothing.
func (m *Manager) LogoutUsers(ctx context.Context, userIDs []string) (map[string]int, error) {
	if ctx == nil {
		return nil, errors.New("singlesession: logout users: nil context")
	}
	for _, id := range userIDs {
		if err := validUserID(id); err != nil {
			return nil, fmt.Errorf("singlesession: logout users: %.40q: %w", id, err)
		}
	}
	counts, err := m.store.End(ctx, userIDs)
	if err != nil {
		return nil, wrap("logout users", err)
	}
	return counts, nil
}

// storeToken is the key under which scs hands token to the store.
func (m *Manager) storeToken(token string) string {
	if token == "" || !m.sessions.HashTokenInStore {
		return token
	}
	return hashToken(token)
}

// validUserID reports why userID cannot be stored, or nil.
func validUserID(userID string) error {
	switch {
	case userID == "":
		return fmt.Errorf("%w: empty", ErrInvalidUserID)
	case len(userID) > MaxUserIDLen:
		return fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidUserID, len(userID), MaxUserIDLen)
	case !utf8.ValidString(userID):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidUserID)
	}
	for i := 0; i < len(userID); i++ {
		if userID[i] == 0 {
			return fmt.Errorf("%w: contains a NUL byte", ErrInvalidUserID)
		}
	}
	return nil
}

func (m *Manager) defaultErrorFunc(w http.ResponseWriter, r *http.Request, err error) {
	m.logger.ErrorContext(r.Context(), "singlesession: session error", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}
