package singlesession

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
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
// user it is linked to.
func (a *scsStore) FindCtx(ctx context.Context, token string) (_ []byte, _ bool, err error) {
	defer wrapTo(&err, "load session")
	st := a.m.state(ctx)
	if st == nil {
		return nil, false, ErrNoMiddleware
	}
	if !plausibleToken(token) {
		return nil, false, nil
	}
	data, userID, found, err := a.m.store.Find(ctx, token)
	if err != nil {
		return nil, false, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.handling && found {
		// scs's load, not a MergeSession in a handler.
		st.loaded, st.userID = token, userID
	}
	return data, found, nil
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
		found, err := a.m.store.Update(ctx, token, data, expiry)
		if err == nil && !found {
			err = fmt.Errorf("%w: commit outside a request updates existing sessions only, and session %s has ended or was never stored (create sessions inside Manager.Middleware, or load them with Manager.Load)", ErrSessionNotFound, SessionID(token))
		}
		return err
	}
	st.mu.Lock()
	login, retired, loaded := st.login, st.retired, st.loaded
	_, iterated := st.iterated[token]
	st.mu.Unlock()

	switch {
	case login != nil && token == login.token:
		return a.commitLogin(ctx, st, login, retired, token, data, expiry)

	case iterated && token != loaded:
		// Another session, committed by a handler through scs's Iterate:
		// an update, and nothing about this request's session.
		_, err := a.m.store.Update(ctx, token, data, expiry)
		return err

	case token == loaded:
		found, err := a.m.store.Update(ctx, token, data, expiry)
		if err != nil {
			return err
		}
		if !found {
			// Ended while this request was in flight: drop the write, and
			// (see cookieGuard) the cookie with it, so the browser keeps
			// whatever newer token it may have been given meanwhile.
			st.mu.Lock()
			st.userID, st.dropped = "", true
			st.mu.Unlock()
			a.m.logger.DebugContext(ctx, "singlesession: session ended during the request; its changes were dropped", "session", SessionID(token))
		}
		return nil

	default:
		if err := a.m.store.Insert(ctx, token, data, expiry); err != nil {
			return err
		}
		st.mu.Lock()
		st.loaded = token
		st.mu.Unlock()
		return nil
	}
}

func (a *scsStore) commitLogin(ctx context.Context, st *requestState, login *pendingLogin, retired []string, token string, data []byte, expiry time.Time) error {
	err := ctx.Err()
	ended := 0
	if err == nil {
		ended, err = a.m.store.Login(ctx, Login{
			UserID: login.userID, Token: token, Data: data, Expiry: expiry,
			Replaces: retired, EndOthers: login.endOthers,
		})
	}
	st.mu.Lock()
	st.login = nil
	if err != nil {
		st.userID = login.previousUserID // the browser keeps its previous session
	} else {
		st.loaded, st.retired = token, nil
	}
	st.mu.Unlock()
	if err != nil {
		return err
	}
	a.m.logger.DebugContext(ctx, "singlesession: signed in", "user", login.userID, "session", SessionID(token), "ended", ended)
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
		_, err := a.m.store.Logout(ctx, "", nonEmpty(token))
		return err
	}
	st.mu.Lock()
	if st.renewing {
		if token != "" {
			st.retired = append(st.retired, token)
		}
		st.mu.Unlock()
		return nil
	}
	own := token == "" || token == st.loaded || (st.login != nil && token == st.login.token)
	if st.logout == nil && !own {
		st.mu.Unlock()
		_, err := a.m.store.Logout(ctx, "", []string{token})
		return err
	}
	userID, signedInHere := "", false
	if st.logout != nil {
		userID, signedInHere = st.logout.userID, st.logout.signedInHere
	}
	cancelled := st.logout == nil && st.login != nil
	tokens := append(nonEmpty(token), st.retired...)
	st.mu.Unlock()

	if cancelled {
		a.m.logger.WarnContext(ctx, "singlesession: the session was destroyed or its token renewed after LoginHook in the same request; the login is cancelled (use LogoutHook to sign out, and do not call RenewToken after LoginHook)")
	}
	if signedInHere && userID != "" {
		// None of tokens is linked to userID yet (the login was never
		// saved), so Logout would take the browser for anonymous: end the
		// browser's sessions, then every session of the user.
		if _, err := a.m.store.Logout(ctx, "", tokens); err != nil {
			return err
		}
		if _, err := a.m.store.End(ctx, []string{userID}); err != nil {
			return err
		}
	} else if _, err := a.m.store.Logout(ctx, userID, tokens); err != nil {
		return err
	}
	st.mu.Lock()
	st.retired, st.login, st.userID = nil, nil, ""
	st.mu.Unlock()
	return nil
}

// AllCtx returns every unexpired session, for scs's SessionManager.Iterate.
// Inside a request it notes their tokens, so that CommitCtx knows a commit of
// one of them for an update of that session, never for a new session or the
// pending login.
func (a *scsStore) AllCtx(ctx context.Context) (map[string][]byte, error) {
	all, err := a.m.store.All(ctx)
	if err != nil {
		return nil, wrap("all sessions", err)
	}
	if st := a.m.state(ctx); st != nil {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.iterated == nil {
			st.iterated = make(map[string]struct{}, len(all))
		}
		for token := range all {
			st.iterated[token] = struct{}{}
			if a.m.sessions.HashTokenInStore {
				// scs's Iterate hands the store key to fn as the token,
				// and its Commit hashes it again.
				st.iterated[hashToken(token)] = struct{}{}
			}
		}
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
