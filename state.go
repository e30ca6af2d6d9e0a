package singlesession

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// stateKey is the context key of a request's state; each Manager has its own.
type stateKey struct{ m *Manager }

// state returns the request state in ctx, or nil.
func (m *Manager) state(ctx context.Context) *requestState {
	if ctx == nil {
		return nil
	}
	st, _ := ctx.Value(stateKey{m}).(*requestState)
	return st
}

// requestState travels in the request context from before scs's load to after
// its save, so the store adapter sees what the handlers did. It is a pointer
// because scs saves with the context it had before the handlers ran. Each
// method takes the lock once; none calls out (to scs, the store or the
// application) with the lock held.
type requestState struct {
	mu        sync.Mutex
	handling  bool                // the handler runs: scs's load is over
	loaded    string              // the token this request found or saved in the store ("" for none)
	linked    bool                // the session of loaded is linked to userID
	sessionID string              // its ID, once id() has computed it
	userID    string              // the user the session is signed in as
	stale     bool                // the loaded session's LastSeen is old: refresh it once
	expiry    time.Time           // the loaded session's expiry in the store
	loadedAt  time.Time           // when the load began (the process's clock), for watchers
	readOnly  bool                // a watch: the request writes nothing (no save, no refresh, no cookie)
	ending    *Ending             // why the cookie's session ended, when the load found a reason
	dropped   bool                // the save found the session ended and dropped the write
	login     *pendingLogin       // set by LoginHook until the save applies it
	retired   []string            // tokens LoginHook's renewals held back from deletion
	renewing  bool                // LoginHook's RenewToken is running
	logout    *pendingLogout      // LogoutHook's (or EndSession's) Destroy is running
	leftBy    string              // the user whose live session the application's own Destroy or RenewToken deleted
	leftID    string              // that session's ID
	iterated  map[string]struct{} // tokens scs's Iterate handed this request's handlers
	req       *http.Request       // the request, read by client() when a login or an event needs it
	clientIP  func(*http.Request) string
	ip        string // the client's address (Config.ClientIP), once client() has read it
	userAgent string // the client's User-Agent, likewise
	clientSet bool
	events    []Event         // committed changes, dispatched once no lock is held
	eventCtx  context.Context // the handler's context (with scs's session), for OnEvent
}

type pendingLogin struct {
	userID         string
	limit          Limit
	token          string // the renewed token, as the store sees it
	previousUserID string // who the browser was before, restored if the save fails
}

type pendingLogout struct {
	userID       string       // whose other sessions end too; "" for none
	always       bool         // end userID's other sessions even though no saved session links them (LoginHook ran in this request)
	quiet        bool         // EndSession of the current session: its caller reports the event
	result       LogoutResult // what the store's logout did
	sessionID    string       // the ID of the session that signs out
	previousUser string       // the user the session was signed in as
}

// startHandling marks the end of scs's load: finds from now on are a
// handler's (MergeSession), not the request's own load. ctx is the context
// the handler gets, which OnEvent then gets too.
func (st *requestState) startHandling(ctx context.Context) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.handling, st.eventCtx = true, ctx
}

// handlerCtx returns the handler's context, or ctx when none is known yet.
func (st *requestState) handlerCtx(ctx context.Context) context.Context {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.eventCtx != nil {
		return st.eventCtx
	}
	return ctx
}

// noteLoad records what scs's load found, unless a handler already runs.
func (st *requestState) noteLoad(token string, f FindResult) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.handling {
		return
	}
	if !f.Found {
		st.ending = f.Ending
		return
	}
	st.loaded, st.userID, st.stale, st.linked, st.expiry = token, f.UserID, f.Stale, f.UserID != "", f.Expiry
}

// watched returns what a watch of the request's session needs, and marks
// the request read-only: it saves nothing, refreshes nothing and sets no
// cookie. ok is false when no signed-in session was loaded; ending is why
// the cookie's session ended, when the load found a reason.
func (st *requestState) watched() (w watchedSession, ending *Ending, ok bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.readOnly = true
	if st.login != nil || !st.linked || st.loaded == "" {
		if st.login == nil && st.loaded == "" {
			ending = st.ending
		}
		return watchedSession{}, ending, false
	}
	return watchedSession{userID: st.userID, token: st.loaded, id: st.id(), expiry: st.expiry, loadedAt: st.loadedAt}, nil, true
}

// isReadOnly reports whether the request is a watch, which writes nothing.
func (st *requestState) isReadOnly() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.readOnly
}

// user returns the user the session is signed in as.
func (st *requestState) user() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.userID
}

// whoAndWhere returns the signed-in user, the loaded token and whether that
// token's session is this user's.
func (st *requestState) current() (userID, token, sessionID string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.login != nil {
		return st.userID, "", ""
	}
	return st.userID, st.loaded, st.id()
}

// id returns the ID of the request's linked session ("" when none),
// computed on first need: an ordinary request never pays for the hash.
// st.mu is held.
func (st *requestState) id() string {
	if st.sessionID == "" && st.linked && st.loaded != "" {
		st.sessionID = SessionID(st.loaded)
	}
	return st.sessionID
}

// endedWhy returns why the browser's previous session ended, as the load
// found it; nil once the browser signed in again in this request.
func (st *requestState) endedWhy() *Ending {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.login != nil || st.loaded != "" {
		return nil
	}
	return st.ending
}

// setRenewing marks LoginHook's RenewToken as running, or over.
func (st *requestState) setRenewing(on bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.renewing = on
}

// setLogin records a login for the save to apply. A second LoginHook in one
// request keeps the first one's previous user: if the save fails, the browser
// is still who it was before both.
func (st *requestState) setLogin(userID string, limit Limit, token string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	previous := st.userID
	if st.login != nil {
		previous = st.login.previousUserID
	}
	st.login = &pendingLogin{userID: userID, limit: limit, token: token, previousUserID: previous}
	st.userID = userID
}

// client returns the request's address and User-Agent ("" without a
// request), read once and only when a login, an ending or an event needs
// them, so that an ordinary request does not pay for Config.ClientIP.
func (st *requestState) client() (ip, userAgent string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.readClient()
	return st.ip, st.userAgent
}

// readClient fills ip and userAgent from the request once; st.mu is held.
func (st *requestState) readClient() {
	if st.clientSet || st.req == nil {
		return
	}
	st.clientSet = true
	st.ip, st.userAgent = clean(st.clientIP(st.req)), clean(st.req.UserAgent())
}

// beginLogout records a logout for the adapter's delete to apply.
func (st *requestState) beginLogout(keepOthers, quiet bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.logout = &pendingLogout{quiet: quiet, sessionID: st.id(), previousUser: st.userID}
	if !keepOthers {
		st.logout.userID = st.userID
		// After LoginHook in this request the user proved who they are
		// here and now, though their session is not saved yet: end all of
		// theirs.
		st.logout.always = st.login != nil
		if st.userID == "" && st.leftBy != "" {
			// The usual scs logout renews the token first, which deleted
			// the live session this request began with: who signs out is
			// who was signed in.
			st.logout.userID, st.logout.always = st.leftBy, true
			st.logout.previousUser, st.logout.sessionID = st.leftBy, st.leftID
		}
	}
}

// endLogout forgets the logout and returns it.
func (st *requestState) endLogout() *pendingLogout {
	st.mu.Lock()
	defer st.mu.Unlock()
	l := st.logout
	st.logout = nil
	return l
}

// commitKind is what one scs commit means.
type commitKind int

const (
	commitNew      commitKind = iota // a session new this request: insert
	commitLogin                      // the pending login
	commitLoaded                     // this request's session: update
	commitIterated                   // another session, through scs's Iterate: update
)

// forCommit says what a commit of token means, with what it needs.
func (st *requestState) forCommit(token string) (kind commitKind, login *pendingLogin, retired []string, touch bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	_, iterated := st.iterated[token]
	switch {
	case st.login != nil && token == st.login.token:
		return commitLogin, st.login, st.retired, false
	case token != "" && token == st.loaded:
		return commitLoaded, nil, nil, st.stale
	case iterated:
		return commitIterated, nil, nil, false
	}
	return commitNew, nil, nil, false
}

// saved records the outcome of an update of the loaded session: touched,
// or (not found) ended while the request was in flight.
func (st *requestState) saved(found, touched bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !found {
		st.userID, st.sessionID, st.linked, st.dropped = "", "", false, true
		return
	}
	if touched {
		st.stale = false
	}
}

// inserted records a session new this request as the request's own.
func (st *requestState) inserted(token string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.loaded = token
}

// loginDone records the outcome of the login's save.
func (st *requestState) loginDone(login *pendingLogin, token string, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.login = nil
	if err != nil {
		st.userID = login.previousUserID // the browser keeps its previous session
		return
	}
	st.loaded, st.retired, st.sessionID, st.linked, st.stale, st.ending = token, nil, "", true, false, nil
}

// deleteKind is what one scs delete means.
type deleteKind int

const (
	deleteRetired deleteKind = iota // LoginHook's renewal: the login transaction deletes it
	deleteOther                     // another session (MergeSession): just delete it
	deleteOwn                       // this request's session: a logout, or the app's own Destroy/RenewToken
)

// forDelete says what a delete of token means. For deleteOwn it returns the
// logout to apply (userID "" for none) and whether a pending login is
// cancelled by it.
func (st *requestState) forDelete(token string) (kind deleteKind, l Logout, cancelled bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.renewing {
		if token != "" {
			st.retired = append(st.retired, token)
		}
		return deleteRetired, Logout{}, false
	}
	own := token == "" || token == st.loaded || (st.login != nil && token == st.login.token)
	if st.logout == nil && !own {
		return deleteOther, Logout{Tokens: []string{token}}, false
	}
	st.readClient()
	l = Logout{Tokens: append(nonEmpty(token), st.retired...), UserAgent: st.userAgent}
	if st.logout != nil {
		l.UserID, l.Always = st.logout.userID, st.logout.always
	}
	return deleteOwn, l, st.logout == nil && st.login != nil
}

// deletedOwn records that the request's session is gone, and returns the
// event of the logout it was, if any.
func (st *requestState) deletedOwn(r LogoutResult) *Event {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.logout == nil && st.login == nil && st.linked && r.Deleted > 0 {
		// The application's own Destroy or RenewToken deleted the live,
		// signed-in session the request began with (Deleted counts it: a
		// session that had ended already counts 0, and ends nothing more).
		st.leftBy, st.leftID = st.userID, st.id()
	}
	st.retired, st.login, st.userID, st.loaded, st.sessionID, st.linked, st.stale = nil, nil, "", "", "", false, false
	l := st.logout
	if l == nil {
		return nil
	}
	l.result = r
	if l.quiet || l.previousUser == "" {
		return nil
	}
	st.readClient()
	e := &Event{Kind: EventLogout, UserID: l.previousUser, SessionID: l.sessionID, Ended: r.Deleted,
		IP: st.ip, UserAgent: st.userAgent, At: r.At}
	if r.Ended > 0 {
		e.Reason = ReasonLogout
	}
	return e
}

// noteIterated records the tokens scs's Iterate hands this request's
// handlers; hashed adds their hashes, under which scs's Commit then names
// them with HashTokenInStore.
func (st *requestState) noteIterated(all map[string][]byte, hashed bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.iterated == nil {
		st.iterated = make(map[string]struct{}, len(all))
	}
	for token := range all {
		st.iterated[token] = struct{}{}
		if hashed {
			st.iterated[hashToken(token)] = struct{}{}
		}
	}
}

// wasDropped reports whether the save dropped the write of an ended session.
func (st *requestState) wasDropped() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.dropped
}

// loginPending reports whether a login was never saved.
func (st *requestState) loginPending() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.login != nil
}

// toTouch returns the token whose LastSeen is due for a refresh, and marks it
// refreshed; "" when none is due.
func (st *requestState) toTouch() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.stale || st.loaded == "" || st.dropped || st.readOnly || st.login != nil || st.logout != nil {
		return ""
	}
	st.stale = false
	return st.loaded
}

// queue holds an event until no lock is held.
func (st *requestState) queue(e Event) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.events = append(st.events, e)
}

// takeEvents returns the queued events and forgets them.
func (st *requestState) takeEvents() []Event {
	st.mu.Lock()
	defer st.mu.Unlock()
	e := st.events
	st.events = nil
	return e
}
