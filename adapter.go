package singlesession

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
)

// scsStore is the scs.CtxStore that [New] installs in the SessionManager. It
// turns scs's find, commit and delete calls into the [Store] operation each
// one means, using the request state that [Manager.Middleware] put in the
// context. scs holds the session's mutex while it calls these methods, so they
// never call back into the SessionManager.
type scsStore struct{ m *Manager }

var (
	_ scs.CtxStore         = (*scsStore)(nil)
	_ scs.IterableCtxStore = (*scsStore)(nil)
)

func isAdapter(s scs.Store) bool {
	_, ok := s.(*scsStore)
	return ok
}

// hashToken is scs's HashTokenInStore scheme: what the store sees of token.
func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// emptyTokenHash is what scs hands the store for a session that never had a
// token when HashTokenInStore is set: Destroy deletes sha256("").
var emptyTokenHash = hashToken("")

// plausibleToken reports whether token could have come from scs, which makes
// tokens (and their hashes) of 43 base64url characters. Anything else, a
// forged or garbage cookie, is not looked up at all.
func plausibleToken(token string) bool {
	if token == "" || len(token) > 128 {
		return false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// FindCtx loads a session and, for the request's own load, records which
// user it is linked to, whether its LastSeen is due for a refresh, and, for a
// session that ended, why.
func (a *scsStore) FindCtx(ctx context.Context, token string) (_ []byte, _ bool, err error) {
	defer wrapTo(&err, "load session")
	st := a.m.state(ctx)
	if st == nil {
		return nil, false, ErrNoMiddleware
	}
	if !plausibleToken(token) {
		return nil, false, nil
	}
	f, err := a.m.store.Find(ctx, token, a.m.staleAfter)
	if err != nil {
		return nil, false, err
	}
	st.noteLoad(token, f)
	return f.Data, f.Found, nil
}

// CommitCtx saves a session: a pending login as one transaction; a session
// this request loaded, or one that scs's Iterate handed a handler, with an
// update that never re-creates it; any other session, new this request, with
// an insert. Outside a request (scs's Iterate in a background job) it only
// updates, and reports a session it cannot find as an error.
func (a *scsStore) CommitCtx(ctx context.Context, token string, data []byte, expiry time.Time) (err error) {
	defer wrapTo(&err, "save session")
	st := a.m.state(ctx)
	if st == nil {
		found, err := a.m.store.Update(ctx, Update{Token: token, Data: data, Expiry: expiry})
		if err == nil && !found {
			err = fmt.Errorf("%w: commit outside a request updates existing sessions only, and session %s has ended or was never stored (create sessions inside Manager.Middleware, or load them with Manager.Load)", ErrSessionNotFound, SessionID(token))
		}
		return err
	}
	kind, login, retired, touch := st.forCommit(token)
	if kind == commitLoaded && st.isReadOnly() {
		return nil // a watch writes nothing: not even scs's IdleTimeout save
	}
	switch kind {
	case commitLogin:
		return a.commitLogin(ctx, st, login, retired, token, data, expiry)

	case commitIterated:
		// Another session, committed by a handler through scs's Iterate:
		// an update, and nothing about this request's session.
		_, err := a.m.store.Update(ctx, Update{Token: token, Data: data, Expiry: expiry})
		return err

	case commitLoaded:
		found, err := a.m.store.Update(ctx, Update{Token: token, Data: data, Expiry: expiry, Touch: touch})
		if err != nil {
			return err
		}
		st.saved(found, touch)
		if !found {
			// Ended while this request was in flight: the write is dropped,
			// and (see responseGuard) the cookie with it, so the browser
			// keeps whatever newer token it may have been given meanwhile.
			a.m.logger.DebugContext(ctx, "singlesession: session ended during the request; its changes were dropped", "session", SessionID(token))
		}
		return nil

	default:
		if err := a.m.store.Insert(ctx, token, data, expiry); err != nil {
			return err
		}
		st.inserted(token)
		return nil
	}
}

func (a *scsStore) commitLogin(ctx context.Context, st *requestState, login *pendingLogin, retired []string, token string, data []byte, expiry time.Time) error {
	ip, userAgent := st.client()
	err := ctx.Err()
	var res LoginResult
	if err == nil {
		res, err = a.m.store.Login(ctx, Login{
			UserID: login.userID, Token: token, Data: data, Expiry: expiry,
			Replaces: retired, Limit: login.limit, IP: ip, UserAgent: userAgent,
		})
	}
	st.loginDone(login, token, err)
	if errors.Is(err, ErrTooManySessions) {
		st.queue(Event{Kind: EventLoginRejected, UserID: login.userID, IP: ip, UserAgent: userAgent, At: time.Now()})
	}
	if err != nil {
		return err
	}
	e := Event{Kind: EventLogin, UserID: login.userID, SessionID: SessionID(token), Ended: res.Ended, IP: ip, UserAgent: userAgent, At: res.At}
	if res.Ended > 0 {
		e.Reason = ReasonLogin
	}
	st.queue(e)
	a.m.logger.DebugContext(ctx, "singlesession: signed in", "user", login.userID, "session", e.SessionID, "ended", res.Ended)
	return nil
}

// DeleteCtx deletes a session. Inside LoginHook's token renewal it only notes
// the old token, which the login transaction deletes; inside LogoutHook it is
// the logout. Otherwise it is the application's own Destroy or RenewToken of
// this request's session, which signs the browser out (and cancels a pending
// login), or the delete of another session (MergeSession), which leaves this
// request's state alone.
func (a *scsStore) DeleteCtx(ctx context.Context, token string) (err error) {
	defer wrapTo(&err, "delete session")
	if token == emptyTokenHash {
		token = ""
	}
	st := a.m.state(ctx)
	if st == nil {
		// Outside a request (a background job): deleting is always safe.
		_, err := a.m.store.Logout(ctx, Logout{Tokens: nonEmpty(token)})
		return err
	}
	kind, l, cancelled := st.forDelete(token)
	switch kind {
	case deleteRetired:
		return nil
	case deleteOther:
		_, err := a.m.store.Logout(ctx, l)
		return err
	}
	if cancelled {
		a.m.logger.WarnContext(ctx, "singlesession: the session was destroyed or its token renewed after LoginHook in the same request; the login is cancelled (use LogoutHook to sign out, and do not call RenewToken after LoginHook)")
	}
	res, err := a.m.store.Logout(ctx, l)
	if err != nil {
		return err
	}
	if e := st.deletedOwn(res); e != nil {
		st.queue(*e)
	}
	return nil
}

// AllCtx returns every unexpired session, for scs's SessionManager.Iterate,
// from a store that is an [IterableStore]. Inside a request it notes their
// tokens, so that CommitCtx knows a commit of one of them for an update of
// that session, never for a new session or the pending login.
func (a *scsStore) AllCtx(ctx context.Context) (map[string][]byte, error) {
	it, ok := a.m.store.(IterableStore)
	if !ok {
		return nil, fmt.Errorf("singlesession: all sessions: the store (%T) is not an IterableStore, so scs's Iterate cannot list its sessions", a.m.store)
	}
	all, err := it.All(ctx)
	if err != nil {
		return nil, wrap("all sessions", err)
	}
	if st := a.m.state(ctx); st != nil {
		st.noteIterated(all, a.m.sessions.HashTokenInStore)
	}
	return all, nil
}

// All is scs.IterableStore's context-free method; scs calls AllCtx instead.
func (a *scsStore) All() (map[string][]byte, error) {
	return a.AllCtx(context.Background())
}

func nonEmpty(token string) []string {
	if token == "" {
		return nil
	}
	return []string{token}
}

// Find is scs.Store's context-free method; scs calls FindCtx instead.
func (a *scsStore) Find(token string) ([]byte, bool, error) {
	return a.FindCtx(context.Background(), token)
}

// Commit is scs.Store's context-free method; scs calls CommitCtx instead.
func (a *scsStore) Commit(token string, b []byte, expiry time.Time) error {
	return a.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is scs.Store's context-free method; scs calls DeleteCtx instead.
func (a *scsStore) Delete(token string) error {
	return a.DeleteCtx(context.Background(), token)
}
