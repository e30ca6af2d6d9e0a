package singlesession

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Middleware loads and saves the session of every request, as scs's
// LoadAndSave does (it includes it: do not wrap the handler in
// sessions.LoadAndSave as well), and carries the state that [Manager.LoginHook],
// [Manager.LogoutHook] and [Manager.UserID] need from the handler to the save.
//
// It costs no database query beyond scs's own: none for a request without a
// session cookie, one (the load, which also reads the session's user) for a
// request that does not change its session, one more when the session is
// saved, and, with pgxstore, one more for a cookie whose session is
// not live (why it ended). A signed-in session whose
// LastSeen is older than Config.LastSeenInterval is refreshed by the save
// when there is one, or else by one update just before the response
// headers. Errors of the load or the save go to Config.ErrorFunc. Events
// (Config.OnEvent) are dispatched before the response headers are sent.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	loadAndSave := m.sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := m.state(r.Context()); st != nil {
			st.startHandling(r.Context())
		}
		next.ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.state(r.Context()) != nil {
			// Already inside this Manager's middleware: load and save once.
			next.ServeHTTP(w, r)
			return
		}
		st := &requestState{req: r, clientIP: m.clientIP, loadedAt: time.Now()}
		ctx := context.WithValue(r.Context(), stateKey{m}, st)
		guard := &responseGuard{ResponseWriter: w, m: m, st: st, ctx: ctx}
		loadAndSave.ServeHTTP(guard, r.WithContext(ctx))
		guard.beforeHeaders() // scs saved after the handler; net/http sends the headers next
		if st.loginPending() {
			m.logger.WarnContext(r.Context(), "singlesession: login was not saved: call LoginHook before the handler writes its response",
				"method", r.Method, "path", r.URL.Path)
		}
	})
}

// maxClientText is the most bytes of a User-Agent or an address that a
// session records.
const maxClientText = 512

// clean makes s storable as text: valid UTF-8, no NUL, at most
// maxClientText bytes, cut on a character boundary.
func clean(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= maxClientText {
		return s
	}
	cut := maxClientText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// defaultClientIP is the host of r.RemoteAddr.
func defaultClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Load is [Manager.Middleware]'s first half, for a middleware of your own
// that carries the session token elsewhere than in scs's cookie (a header,
// as scs's README shows with sessions.Load and sessions.Commit). It loads the
// session of token ("" for a new one) into the returned context, with the
// state that [Manager.LoginHook], [Manager.LogoutHook] and [Manager.UserID]
// need; pass that context to the handler (r.WithContext) and then to
// [Manager.Commit]. Sessions loaded this way and sessions of cookie clients
// follow the same rules: one session per user counts both. Load has no
// request, so sessions it signs in record no IP or User-Agent; and it
// refreshes a stale LastSeen at once (one more query, once per
// Config.LastSeenInterval), since [Manager.Commit] may not be called.
//
// Use it instead of sessions.Load, which fails without the Manager's state,
// and instead of Manager.Middleware, not inside it: Load returns an error if
// ctx already went through either.
func (m *Manager) Load(ctx context.Context, token string) (context.Context, error) {
	if m.state(ctx) != nil {
		return nil, errors.New("singlesession: load: the session of this context is already loaded (by Manager.Middleware or Manager.Load)")
	}
	st := &requestState{loadedAt: time.Now()}
	ctx, err := m.sessions.Load(context.WithValue(ctx, stateKey{m}, st), token)
	if err != nil {
		return nil, wrap("load", err)
	}
	st.startHandling(ctx)
	if t := st.toTouch(); t != "" {
		if err := m.store.Touch(ctx, t); err != nil {
			return nil, wrap("load", err)
		}
	}
	return ctx, nil
}

// Commit is [Manager.Middleware]'s second half, for a middleware built on
// [Manager.Load]: it saves the session of ctx as sessions.Commit does, and
// applies a pending login or logout with every rule of the Manager. It
// returns the token to send the client and its expiry. Call it, as scs's
// README shows, when sessions.Status(ctx) is scs.Modified; on scs.Destroyed
// tell the client to forget its token. Events of the save are dispatched
// before it returns.
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
		return "", time.Time{}, wrap("commit", ErrNoMiddleware)
	}
	token, expiry, err := m.sessions.Commit(ctx)
	m.dispatch(ctx, st)
	if err != nil {
		return "", time.Time{}, wrap("commit", err)
	}
	if st.wasDropped() {
		return "", time.Time{}, nil
	}
	return token, expiry, nil
}

// responseGuard does what must happen after scs's save and before the
// response headers go out: it refreshes a stale LastSeen that no save
// carried, dispatches the request's events, and removes scs's session cookie
// from a response whose save was dropped because the session had ended, or
// that is a watch (which writes nothing, its cookie included).
// Sending that dead token could replace a newer one that another request of
// the same browser (a login) set meanwhile; not sending it leaves the
// browser's cookie as it is.
//
// It also keeps a request to one response: when a failed load or save made
// Config.ErrorFunc answer (scs calls it from inside the handler's first
// write), the handler's own status and body that follow are dropped, so
// net/http never logs "superfluous response.WriteHeader call".
type responseGuard struct {
	http.ResponseWriter
	m           *Manager
	st          *requestState
	ctx         context.Context
	checked     bool
	wroteHeader bool // a status went out
	answered    bool // Config.ErrorFunc wrote the response: drop the handler's
}

func (g *responseGuard) beforeHeaders() {
	if g.checked {
		return
	}
	g.checked = true
	if t := g.st.toTouch(); t != "" {
		if err := g.m.store.Touch(g.ctx, t); err != nil {
			// A missed refresh costs only precision: the next request tries again.
			g.m.logger.WarnContext(g.ctx, "singlesession: refresh of LastSeen failed", "err", err)
		}
	}
	g.m.dispatch(g.ctx, g.st)
	if !g.st.wasDropped() && !g.st.isReadOnly() {
		return
	}
	h := g.Header()
	var keep []string
	for _, v := range h.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(v); err == nil && c.Name == g.m.sessions.Cookie.Name {
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
func (g *responseGuard) WriteHeader(code int) {
	if g.answered {
		return
	}
	g.beforeHeaders()
	if code >= 200 || code == http.StatusSwitchingProtocols {
		g.wroteHeader = true
	}
	g.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (g *responseGuard) Write(b []byte) (int, error) {
	if g.answered {
		return len(b), nil
	}
	g.beforeHeaders()
	g.wroteHeader = true
	return g.ResponseWriter.Write(b)
}

// answerWith returns Config.ErrorFunc as scs calls it: when it answers a
// request through a guard, the guard drops what the handler writes after,
// and a redirect the handler had set up (its Location header) does not go
// out with the error.
func answerWith(errorFunc func(http.ResponseWriter, *http.Request, error)) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		g, ok := w.(*responseGuard)
		if !ok {
			errorFunc(w, r, err)
			return
		}
		before := g.wroteHeader
		if !before {
			w.Header().Del("Location")
		}
		errorFunc(w, r, err)
		g.answered = !before && g.wroteHeader
	}
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (g *responseGuard) Unwrap() http.ResponseWriter {
	return g.ResponseWriter
}
