package singlesession

import (
	"context"
	"time"
)

// A Store keeps sessions and the links between sessions and users. The
// [Manager] is its only caller: it hands the Store to scs through an adapter and
// decides which method each save needs. Every method but DeleteExpired is one
// atomic operation. [PostgresStore] and
// [MemoryStore] implement it; implement it yourself for another database by
// honouring each method's contract.
//
// Tokens are the values scs hands its stores: the cookie value, or its SHA-256
// when scs's HashTokenInStore is set. A session is linked to at most one user.
// A session is expired when its expiry is not after the current time.
type Store interface {
	// Find returns the data of the unexpired session with the given token and
	// the user it is linked to ("" when it is linked to none). found is false,
	// with a nil error, when there is no such session or it has expired.
	Find(ctx context.Context, token string) (data []byte, userID string, found bool, err error)

	// Insert adds a new session that is linked to no user.
	Insert(ctx context.Context, token string, data []byte, expiry time.Time) error

	// Update replaces the data and expiry of an existing session. It reports
	// false, with a nil error, when the session does not exist: Update never
	// creates a session, which is what keeps an ended session from coming back.
	Update(ctx context.Context, token string, data []byte, expiry time.Time) (found bool, err error)

	// Login applies l as one transaction: it deletes the sessions l.Replaces
	// names, deletes every session linked to l.UserID when l.EndOthers is set,
	// adds the session l.Token and links it to l.UserID. Logins of the same user
	// must be serialised, so that of concurrent logins the last to finish sees
	// and ends all the others. An error must mean that nothing changed, even
	// when ctx ends during the call. It returns how many sessions of
	// l.UserID it ended besides those in l.Replaces.
	Login(ctx context.Context, l Login) (ended int, err error)

	// Logout deletes the sessions with the given tokens (one browser's
	// session) and, when userID is not "" and one of those sessions still
	// existed and was linked to userID, every other session linked to userID,
	// as one operation. A browser whose session had already ended is
	// anonymous, so its logout ends nothing else. Unknown tokens are ignored.
	// It returns how many sessions it deleted.
	Logout(ctx context.Context, userID string, tokens []string) (int, error)

	// End deletes every session linked to one of userIDs, expired ones
	// included, as one operation, and returns how many ended for each user;
	// users with none are absent. Unknown users are ignored.
	End(ctx context.Context, userIDs []string) (map[string]int, error)

	// Sessions returns the unexpired sessions linked to userID, oldest login
	// first (ties in token order); none for an unknown user.
	Sessions(ctx context.Context, userID string) ([]SessionInfo, error)

	// All returns the data of every unexpired session by token, for scs's
	// SessionManager.Iterate.
	All(ctx context.Context) (map[string][]byte, error)

	// CountSessions returns, as one operation, how many unexpired sessions
	// are linked to each of userIDs. Users with none, and unknown users, are
	// absent from the map; repeated IDs are fine.
	CountSessions(ctx context.Context, userIDs []string) (map[string]int, error)

	// DeleteExpired deletes every expired session, with its link, and returns
	// how many it deleted. It may work in several steps.
	DeleteExpired(ctx context.Context) (int, error)
}

// SessionInfo describes one signed-in session without revealing its token.
type SessionInfo struct {
	ID      string    // opaque identifier: [SessionID] of the token
	Created time.Time // when the user signed in on it
	Expiry  time.Time // when it expires, unless it ends sooner
}

// Login is one sign-in, as [Store.Login] applies it.
type Login struct {
	UserID    string    // the user who signs in
	Token     string    // the session's new token
	Data      []byte    // the session's data, encoded by scs's codec
	Expiry    time.Time // when the session expires
	Replaces  []string  // tokens the browser held before this login; they end
	EndOthers bool      // whether every other session of UserID ends
}
