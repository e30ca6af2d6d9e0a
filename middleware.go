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
	loadAndSave := m.sessions.LoadAndSave(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.state(r.Context()) != nil {
			// Already inside this Manager's middleware: load and save once.
			next.ServeHTTP(w, r)
			return
		}
		st := &requestState{}
		loadAndSave.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stateKey{m}, st)))
		st.mu.Lock()
		unsaved := st.login
		st.mu.Unlock()
		if unsaved != nil {
			m.logger.WarnContext(r.Context(), "singlesession: login was not saved: call LoginHook before the handler writes its response",
				"method", r.Method, "path", r.URL.Path)
		}
	})
}

// stateKey is the context key of a request's state; each Manager has its own.
type stateKey struct{ m *Manager }

// requestState travels in the request context from before scs's load to after
// its save, so the store adapter sees what the handlers did. It is a pointer
// because scs saves with the context it had before the handlers ran.
type requestState struct {
	mu       sync.Mutex
	loadDone bool           // scs's load has asked the store
	loaded   string         // the token this request found or saved in the store ("" for none)
	userID   string         // the user the session is signed in as
	login    *pendingLogin  // set by LoginHook until the save applies it
	retired  []string       // tokens LoginHook's renewals held back from deletion
	renewing bool           // LoginHook's RenewToken is running
	logout   *pendingLogout // LogoutHook's Destroy is running
}

type pendingLogin struct {
	userID    string
	endOthers bool
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
