package singlesession

import (
	"context"
	"time"
)

// A Store keeps sessions, the links between sessions and users, and the
// reasons why ended sessions ended. The [Manager] is its only caller: it
// hands the Store to scs through an adapter and decides which method each
// save needs. [MemoryStore] implements it, as do the packages
// github.com/go-singlesession/singlesession/pgxstore (PostgreSQL) and
// github.com/go-singlesession/singlesession/redisstore (Redis); implement it
// yourself for another database by honouring each method's contract, and
// run the conformance suite of the package storetest against it.
//
// Methods that not every store needs are optional interfaces, as scs has
// them: [IterableStore] (scs's Iterate), [CleanupStore] (deleting expired
// sessions) and [NotifyingStore] (telling every instance at once that
// sessions ended, for [Manager.SessionContext]).
//
// Words used below:
//   - A token is the value scs hands its stores: the cookie value, or its
//     SHA-256 when scs's HashTokenInStore is set. A store never shows a token
//     outside itself: in lists a session is known by its ID,
//     [SessionID](token).
//   - A session is expired when its expiry is not after the store's current
//     time, and live otherwise. Expired sessions are never returned, counted
//     or listed, but may still be stored until they are deleted.
//   - A session is linked to at most one user, from the login that created
//     it until it is deleted. A session linked to no user is untracked.
//   - To end a session is to delete it (with its link); when the operation
//     names a [Reason], the store also records an [Ending] for the session's
//     token, kept until the session's expiry, which Find returns for that
//     token. Recorded endings are keyed by a hash of the token, never by the
//     token itself.
//   - The user lock: every method that ends sessions of a user (Login,
//     Logout, EndUsers, EndSessions) must be serialised with every other
//     such method for the same user, across every process that shares the
//     store, and must never fail because another one runs at the same time
//     (no deadlock errors). Login must see, under that lock, what the
//     previous holder committed.
//   - Bounded work: no method looks at other sessions of a user than it
//     must (a login with no limit looks at none), and a store whose
//     operations block others (a Redis script holds all of Redis) splits
//     big work into bounded steps that stay correct if interrupted.
//
// Every method is one atomic operation as its callers see it: on error
// nothing changed. Times (LastSeen, Created, the At of results) come from
// the store's clock, so that every instance agrees.
type Store interface {
	// Find returns the live session stored under token with its link. For a
	// token that names no live session it returns Found false, and the
	// Ending recorded for token if there is one (nil for an unknown token, an
	// expired session or a session ended without a reason). Stale reports
	// whether the session's LastSeen is at least staleAfter old.
	Find(ctx context.Context, token string, staleAfter time.Duration) (FindResult, error)

	// Insert adds a new session that is linked to no user. The token is new:
	// scs made it.
	Insert(ctx context.Context, token string, data []byte, expiry time.Time) error

	// Update replaces the data and expiry of an existing session and, when
	// u.Touch is set, sets its LastSeen to now. It reports false, with a nil
	// error, when the session does not exist: Update never creates a
	// session, which is what keeps an ended session from coming back.
	Update(ctx context.Context, u Update) (found bool, err error)

	// Touch sets the LastSeen of the session with token to now. A token with
	// no session, or with no link, is not an error.
	Touch(ctx context.Context, token string) error

	// Login applies l under the user lock of l.UserID, as one atomic
	// operation:
	//   - it deletes the sessions l.Replaces names (the browser's previous
	//     sessions; no ending is recorded for them) and, when l.Limit.Max is
	//     positive, every expired session linked to l.UserID (no ending
	//     either; with no limit, a login looks at no other session);
	//   - when l.Limit.Max is positive, it counts the other live sessions of
	//     l.UserID (those not in l.Replaces). When that count is at least
	//     l.Limit.Max: with l.Limit.RejectNew it changes nothing and
	//     returns an error wrapping [ErrTooManySessions]; otherwise it ends
	//     the least recently used of them (smallest LastSeen first, ties by
	//     oldest Created, then by token) until Max-1 remain, recording
	//     [ReasonLogin] with l.UserAgent for each;
	//   - it adds the session l.Token linked to l.UserID, with l.IP and
	//     l.UserAgent, Created and LastSeen set to now, where now is read
	//     after the lock is held (so that "least recently used" agrees with
	//     the order in which logins commit).
	// It returns how many live sessions of l.UserID it ended (besides
	// l.Replaces) and the time it used. An error must mean that nothing
	// changed, even when ctx ends during the call.
	Login(ctx context.Context, l Login) (LoginResult, error)

	// Logout, under the user locks of l.UserID and of the users the tokens
	// are linked to, deletes the sessions l.Tokens names (one browser's; no
	// ending is recorded), and then, when l.UserID is not "" and either
	// l.Always is set or one of those sessions still existed and was linked
	// to l.UserID, ends every other session of l.UserID with
	// [ReasonLogout] and l.UserAgent. (A browser whose session had already
	// ended is anonymous: its logout ends nothing else.) Unknown tokens are
	// ignored. It returns how many sessions it deleted, expired ones
	// included, and how many other live sessions of l.UserID it ended.
	Logout(ctx context.Context, l Logout) (LogoutResult, error)

	// EndUsers ends every session linked to one of e.UserIDs, expired ones
	// included, under their user locks, recording e.Reason (when not "")
	// with e.UserAgent for the live ones. It returns how many live sessions
	// of each user ended; users with none are absent. Unknown users and
	// repeated IDs are fine.
	EndUsers(ctx context.Context, e EndUsers) (EndUsersResult, error)

	// EndSessions ends chosen sessions of one user under its user lock:
	// those whose IDs are in e.IDs, or, when e.IDs is nil, every one but
	// the session of the token e.By. It records e.Reason (when not "") with
	// e.UserAgent for each live session it ends. IDs of sessions that are
	// not live sessions of e.UserID (another user's included) are ignored.
	//
	// When e.By is not "" (a session asks: a user ends their own sessions),
	// the operation happens only if the session of e.By is a live session
	// linked to e.UserID when it runs; otherwise nothing ends and it returns
	// an error wrapping [ErrSessionNotFound]: a session that has ended (a
	// stolen cookie's request that was in flight) ends nothing. It returns
	// how many live sessions it ended.
	EndSessions(ctx context.Context, e EndSessions) (EndSessionsResult, error)

	// Sessions returns one page of the live sessions linked to q.UserID, most
	// recently used first (LastSeen descending, then ID descending), after
	// the position q.After (the zero value: from the start), at most q.Limit
	// of them, with how many live sessions the user holds in all. An
	// unknown user has none.
	Sessions(ctx context.Context, q SessionsQuery) (SessionsResult, error)

	// CountSessions returns how many live sessions are linked to each of
	// userIDs, as one operation. Users with none, and unknown users, are
	// absent from the map; repeated IDs are fine.
	CountSessions(ctx context.Context, userIDs []string) (map[string]int, error)
}

// An IterableStore is a [Store] that can list the data of every live
// session, which scs's SessionManager.Iterate needs. Without it, Iterate
// returns an error.
type IterableStore interface {
	// All returns the data of every live session by token.
	All(ctx context.Context) (map[string][]byte, error)
}

// A CleanupStore is a [Store] whose expired sessions stay stored until they
// are deleted. [Manager.DeleteExpired] and [Manager.RunCleanup] call it; over
// a store without it (one that expires what it holds by itself) they do
// nothing.
type CleanupStore interface {
	// DeleteExpired deletes every expired session, with its link, and every
	// recorded ending past its expiry, and returns how many sessions it
	// deleted. It may work in several steps, and must never wait for, or
	// fail because of, a concurrent operation.
	DeleteExpired(ctx context.Context) (int, error)
}

// A NotifyingStore is a [Store] that tells every process sharing it, at
// once, that sessions ended, so that [Manager.SessionContext] and
// [Manager.WatchHandler] learn it within a second on every instance. Over a
// store without it, the Manager checks the watched sessions every 2 seconds
// instead.
//
// Every method that ends live sessions (Login, Logout, EndUsers,
// EndSessions) publishes a [Notice] for them as part of the same atomic
// operation, so that it goes out exactly when the change is committed and
// never for a change that failed. Expired sessions need no notice. Notices
// are scoped to the store (its schema, its key prefix): two stores on one
// server do not hear each other's.
type NotifyingStore interface {
	// Listen subscribes to the notices of every process sharing the store
	// and calls notify with each, in the order they were published, from one
	// goroutine, until ctx ends (it then returns ctx's error) or the channel
	// breaks (it returns why; the Manager calls Listen again). It calls
	// ready once the subscription is in place: every ending committed after
	// ready is called reaches notify. Listen holds one connection while it
	// runs and gives it back when it returns; notify must not block for
	// long.
	Listen(ctx context.Context, ready func(), notify func(Notice)) error
}

// Notice says that sessions of one user ended, as a [NotifyingStore]
// publishes it.
type Notice struct {
	UserID string   // whose sessions ended
	IDs    []string // which ones, by SessionInfo.ID; nil: some of the user's sessions, unnamed (check them)
	Ending Ending   // why; a Reason of "" for a browser's own logout
}

// FindResult is what [Store.Find] returns.
type FindResult struct {
	Found  bool      // a live session has the token
	Data   []byte    // its data, encoded by scs's codec
	Expiry time.Time // its expiry
	UserID string    // the user it is linked to; "" when none
	Stale  bool      // it is linked, and its LastSeen is at least staleAfter old
	Ending *Ending   // when not Found: why the session of the token ended, if recorded
}

// Update is one save of an existing session, for [Store.Update].
type Update struct {
	Token  string
	Data   []byte
	Expiry time.Time
	Touch  bool // also set the session's LastSeen to now
}

// Login is one sign-in, as [Store.Login] applies it.
type Login struct {
	UserID    string    // the user who signs in
	Token     string    // the session's new token
	Data      []byte    // the session's data, encoded by scs's codec
	Expiry    time.Time // when the session expires
	Replaces  []string  // tokens the browser held before this login; they end
	Limit     Limit     // how many sessions UserID may hold, this one included
	IP        string    // the client's address, recorded with the session
	UserAgent string    // the client's User-Agent, recorded with the session and with the endings
}

// LoginResult is what [Store.Login] returns.
type LoginResult struct {
	Ended int       // live sessions of the user that the login ended
	At    time.Time // the store's time of the login
}

// Logout is one sign-out, as [Store.Logout] applies it.
type Logout struct {
	Tokens    []string // the browser's sessions; they end without a recorded reason
	UserID    string   // whose other sessions end too; "" for none
	Always    bool     // end UserID's other sessions even if none of Tokens was linked to it
	UserAgent string   // recorded with the endings
}

// LogoutResult is what [Store.Logout] returns.
type LogoutResult struct {
	Deleted int       // sessions deleted, the browser's own and expired ones included
	Ended   int       // other live sessions of the user, ended with ReasonLogout
	At      time.Time // the store's time of the change
}

// EndUsers is an operators' sign-out, as [Store.EndUsers] applies it.
type EndUsers struct {
	UserIDs   []string
	Reason    Reason // recorded for each live session that ends; "" for none
	UserAgent string // recorded with the endings
}

// EndUsersResult is what [Store.EndUsers] returns.
type EndUsersResult struct {
	Ended map[string]int // live sessions ended, by user; users with none are absent
	At    time.Time      // the store's time of the change
}

// EndSessions ends chosen sessions of one user, as [Store.EndSessions]
// applies it.
type EndSessions struct {
	UserID    string
	IDs       []string // the sessions to end, by [SessionInfo.ID]; nil: all but By's
	By        string   // the token of the session that asks; "" for operators
	Reason    Reason   // recorded for each live session that ends; "" for none
	UserAgent string   // recorded with the endings
}

// EndSessionsResult is what [Store.EndSessions] returns.
type EndSessionsResult struct {
	Ended int       // live sessions ended
	At    time.Time // the store's time of the change
}

// SessionsQuery asks [Store.Sessions] for one page of a user's sessions.
type SessionsQuery struct {
	UserID string
	After  Position // the last session of the previous page; zero: from the start
	Limit  int      // at most this many sessions; at least 1
}

// Position is where a session stands in the order of [Store.Sessions]:
// LastSeen descending, then ID descending. A session comes after the
// position when its LastSeen is earlier, or equal with a smaller ID.
type Position struct {
	LastSeen time.Time
	ID       string
}

// IsZero reports whether p is the start of the list.
func (p Position) IsZero() bool { return p.ID == "" && p.LastSeen.IsZero() }

// SessionsResult is what [Store.Sessions] returns.
type SessionsResult struct {
	Sessions []SessionInfo // the page; Current is false in each
	Total    int           // the user's live sessions, on every page
}
