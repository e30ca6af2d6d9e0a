package main

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-singlesession/singlesession"
)

// mountAdmin registers the library's operators' page under /admin/sessions,
// with the demo users as its directory. It sits inside the session middleware,
// which it needs to know the actor; anonymous visitors go to /login. The page
// names devices with the application's own parser, so that it and "Your
// sessions" both say "Safari 17 on iOS", and listens at /session/events as
// every signed-in page without the clock does.
func (a *app) mountAdmin(mux *http.ServeMux) error {
	a.dir = singlesession.NewStaticDirectory(a.users.accounts...)
	admin, err := singlesession.NewAdmin(a.m, a.dir, singlesession.AdminConfig{
		LoginURL: "/login",
		HomeURL:  "/",
		WatchURL: "/session/events", // the page goes to /login, which says why, the moment the operator's session ends
		Device:   func(userAgent string) string { return parseDevice(userAgent).String() },
		Logger:   a.logger,
	})
	if err != nil {
		return err
	}
	h := a.operatorsOnly(a.sayWhenSignedOut(http.StripPrefix("/admin/sessions", admin)))
	mux.Handle("/admin/sessions", h)
	mux.Handle("/admin/sessions/", h)
	return nil
}

// operatorsOnly answers a signed-in user who may not use the operators'
// page with a page of the application's (403, with a way back) when the
// page is opened in a browser; the library's own 403 is plain text. Posts,
// JSON clients and anonymous visitors (sent to /login) go to the library's
// handler, which checks the permissions of every request itself.
func (a *app) operatorsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := a.m.UserID(r.Context())
		if user == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) ||
			strings.Contains(r.Header.Get("Accept"), "application/json") {
			next.ServeHTTP(w, r)
			return
		}
		ok, err := a.operator(r.Context(), user)
		if err != nil {
			a.serverError(w, r, "operators' page", err)
			return
		}
		if !ok {
			a.renderProblem(w, r, http.StatusForbidden, problem{
				Heading: "Operators only",
				Message: "The operators' page signs users out of their sessions. It is for staff who hold " +
					singlesession.PermLogout + " or " + singlesession.PermLogoutAll +
					", and for admin users; " + user + " holds neither permission.",
				Back: "/", BackLabel: "Back to the home page",
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// operator asks the directory whether user may use the operators' page:
// whether it is an admin user or holds either of its permissions.
func (a *app) operator(ctx context.Context, user string) (bool, error) {
	found, err := a.dir.Users(ctx, []string{user})
	if err != nil {
		return false, err
	}
	u, ok := found[user]
	return ok && isOperator(u), nil
}

// isOperator reports whether u may use the operators' page: whether it holds
// either of its permissions.
func isOperator(u singlesession.User) bool {
	return u.HasPermission(singlesession.PermLogout) || u.HasPermission(singlesession.PermLogoutAll)
}

// sayWhenSignedOut leaves "You signed this browser out." for the login page
// when a post to the operators' page signed out the very browser that sent
// it: an operator who ended their own session, or signed their own user out
// everywhere. The page then drops the browser's session and answers 303 to
// /login; this notices that answer before it goes out (while the session
// may still be written) and puts the message in a new, anonymous session.
func (a *app) sayWhenSignedOut(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || a.m.UserID(r.Context()) == "" {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&signedOutWriter{ResponseWriter: w, signedOut: func() {
			if a.m.UserID(r.Context()) == "" && w.Header().Get("Location") == "/login" {
				a.sessions.Put(r.Context(), flashKey, signedOutHere)
			}
		}}, r)
	})
}

// signedOutWriter calls signedOut before a 303 goes out.
type signedOutWriter struct {
	http.ResponseWriter
	signedOut func()
	wrote     bool
}

func (s *signedOutWriter) WriteHeader(code int) {
	if !s.wrote {
		s.wrote = true
		if code == http.StatusSeeOther {
			s.signedOut()
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *signedOutWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (s *signedOutWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
