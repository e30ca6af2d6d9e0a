package singlesession

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Middleware loads and saves the session of every request, as scs's
// LoadAndSave does (it includes it: do not wrap the handler in
// sessions.LoadAndSave as well), and carries the state that [Manager.LoginHook],
// [Manager.LogoutHook] and [Manager.UserID] need from the handler to the save.
//
// It costs no database query beyond scs's own: none for a request without a
// session cookie, one (the load, which also reads the session's user) for a
// request that does not change its session, and one more when the session is
// saved. Errors of the load or the save go to Config.ErrorFunc.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	loadAndSave := m.sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := m.state(r.Context()); st != nil {
			st.mu.Lock()
			st.handling = true // finds from now on are not the request's load
			st.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.state(r.Context()) != nil {
			// Already inside this Manager's middleware: load and save once.
			next.ServeHTTP(w, r)
			return
		}
		st := &requestState{}
		guard := &cookieGuard{ResponseWriter: w, st: st, name: m.sessions.Cookie.Name}
		loadAndSave.ServeHTTP(guard, r.WithContext(context.WithValue(r.Context(), stateKey{m}, st)))
		guard.beforeHeaders() // scs saved after the handler; net/http sends the headers next
		st.mu.Lock()
		unsaved := st.login
		st.mu.Unlock()
		if unsaved != nil {
			m.logger.WarnContext(r.Context(), "singlesession: login was not saved: call LoginHook before the handler writes its response",
				"method", r.Method, "path", r.URL.Path)
		}
	})
}

// Load is [Manager.Middleware]'s first half, for a middleware of your own
// that carries the session token elsewhere than in scs's cookie (a header,
// as scs's README shows with sessions.Load and sessions.Commit). It loads the
// session of token ("" for a new one) into the returned context, with the
// state that [Manager.LoginHook], [Manager.LogoutHook] and [Manager.UserID]
// need; pass that context to the handler (r.WithContext) and then to
// [Manager.Commit]. Sessions loaded this way and sessions of cookie clients
// follow the same rules: one session per user counts both.
//
// Use it instead of sessions.Load, which fails without the Manager's state,
// and instead of Manager.Middleware, not inside it: Load returns an error if
// ctx already went through either.
func (m *Manager) Load(ctx context.Context, token string) (context.Context, error) {
	if ctx == nil {
		return nil, errors.New("singlesession: load: nil context")
	}
	if m.state(ctx) != nil {
		return nil, errors.New("singlesession: load: the session of this context is already loaded (by Manager.Middleware or Manager.Load)")
	}
	st := &requestState{}
	ctx, err := m.sessions.Load(context.WithValue(ctx, stateKey{m}, st), token)
	if err != nil {
		return nil, wrap("load", err)
	}
	st.mu.Lock()
	st.handling = true // finds from now on are not the load
	st.mu.Unlock()
	return ctx, nil
}

// Commit is [Manager.Middleware]'s second half, for a middleware built on
// [Manager.Load]: it saves the session of ctx as sessions.Commit does, and
// applies a pending login or logout with every rule of the Manager. It
// returns the token to send the client and its expiry. Call it, as scs's
// README shows, when sessions.Status(ctx) is scs.Modified; on scs.Destroyed
// tell the client to forget its token.
//
// When the session ended while the request was in flight (the user signed
// in elsewhere, an operator signed them out), its changes are dropped and
// Commit returns an empty token and a nil error: send the client nothing,
// so that it keeps any newer token another of its requests received.
// Commit returns [ErrNoMiddleware] for a context that did not come from
// [Manager.Load] or [Manager.Middleware].
func (m *Manager) Commit(ctx context.Context) (string, time.Time, error) {
	st := m.state(ctx)
	if st == nil {
		return "", time.Time{}, fmt.Errorf("singlesession: commit: %w", ErrNoMiddleware)
	}
	token, expiry, err := m.sessions.Commit(ctx)
	if err != nil {
		return "", time.Time{}, wrap("commit", err)
	}
	st.mu.Lock()
	dropped := st.dropped
	st.mu.Unlock()
	if dropped {
		return "", time.Time{}, nil
	}
	return token, expiry, nil
}

// cookieGuard removes scs's session cookie from a response whose save was
// dropped because the session had ended. Sending that dead token could
// replace a newer one that another request of the same browser (a login)
// set meanwhile; not sending it leaves the browser's cookie as it is.
type cookieGuard struct {
	http.ResponseWriter
	st      *requestState
	name    string
	checked bool
}

func (g *cookieGuard) beforeHeaders() {
	if g.checked {
		return
	}
	g.checked = true
	g.st.mu.Lock()
	dropped := g.st.dropped
	g.st.mu.Unlock()
	if !dropped {
		return
	}
	h := g.Header()
	var keep []string
	for _, v := range h.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(v); err == nil && c.Name == g.name {
			continue
		}
		keep = append(keep, v)
	}
	h.Del("Set-Cookie")
	for _, v := range keep {
		h.Add("Set-Cookie", v)
	}
}

// WriteHeader implements http.ResponseWriter.
func (g *cookieGuard) WriteHeader(code int) {
	g.beforeHeaders()
	g.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (g *cookieGuard) Write(b []byte) (int, error) {
	g.beforeHeaders()
	return g.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (g *cookieGuard) Unwrap() http.ResponseWriter {
	return g.ResponseWriter
}

// stateKey is the context key of a request's state; each Manager has its own.
type stateKey struct{ m *Manager }

// requestState travels in the request context from before scs's load to after
// its save, so the store adapter sees what the handlers did. It is a pointer
// because scs saves with the context it had before the handlers ran.
type requestState struct {
	mu       sync.Mutex
	handling bool                // the handler runs: scs's load is over
	loaded   string              // the token this request found or saved in the store ("" for none)
	dropped  bool                // the save found the session ended and dropped the write
	userID   string              // the user the session is signed in as
	login    *pendingLogin       // set by LoginHook until the save applies it
	retired  []string            // tokens LoginHook's renewals held back from deletion
	renewing bool                // LoginHook's RenewToken is running
	logout   *pendingLogout      // LogoutHook's Destroy is running
	iterated map[string]struct{} // tokens scs's Iterate handed this request's handlers
}

type pendingLogin struct {
	userID         string
	endOthers      bool
	token          string // the renewed token, as the store sees it
	previousUserID string // who the browser was before, restored if the save fails
}

type pendingLogout struct {
	userID       string // whose other sessions end too; "" for none
	signedInHere bool   // userID signed in earlier in this request: end all of theirs unconditionally
}

// state returns the request state in ctx, or nil.
func (m *Manager) state(ctx context.Context) *requestState {
	if ctx == nil {
		return nil
	}
	st, _ := ctx.Value(stateKey{m}).(*requestState)
	return st
}
