package main

import (
	"net/http"

	"github.com/go-singlesession/singlesession"
)

// mountAdmin registers the library's operators' page under /admin/sessions,
// with the demo users as its directory. It sits inside the session middleware,
// which it needs to know the actor; anonymous visitors go to /login.
func (a *app) mountAdmin(mux *http.ServeMux) error {
	admin, err := singlesession.NewAdmin(a.m, singlesession.NewStaticDirectory(a.users.accounts...),
		singlesession.AdminConfig{LoginURL: "/login", HomeURL: "/", Logger: a.logger})
	if err != nil {
		return err
	}
	h := http.StripPrefix("/admin/sessions", admin)
	mux.Handle("/admin/sessions", h)
	mux.Handle("/admin/sessions/", h)
	return nil
}

// isOperator reports whether u may use the operators' page: whether it holds
// either of its permissions.
func isOperator(u singlesession.User) bool {
	return u.HasPermission(singlesession.PermLogout) || u.HasPermission(singlesession.PermLogoutAll)
}
