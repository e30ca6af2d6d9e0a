package singlesession

import (
	"context"
	"net/http"
	"sync"
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
	handling bool           // the handler runs: scs's load is over
	loaded   string         // the token this request found or saved in the store ("" for none)
	dropped  bool           // the save found the session ended and dropped the write
	userID   string         // the user the session is signed in as
	login    *pendingLogin  // set by LoginHook until the save applies it
	retired  []string       // tokens LoginHook's renewals held back from deletion
	renewing bool           // LoginHook's RenewToken is running
	logout   *pendingLogout // LogoutHook's Destroy is running
}

type pendingLogin struct {
	userID         string
	endOthers      bool
	token          string // the renewed token, as the store sees it
	previousUserID string // who the browser was before, restored if the save fails
}

type pendingLogout struct {
	userID string // whose other sessions end too; "" for none
}

// state returns the request state in ctx, or nil.
func (m *Manager) state(ctx context.Context) *requestState {
	if ctx == nil {
		return nil
	}
	st, _ := ctx.Value(stateKey{m}).(*requestState)
	return st
}
