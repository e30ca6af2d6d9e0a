package main

// TEMPORARY: this file stands in for the operators' page of issue 3 until
// singlesession.NewAdmin lands. It is the only file that changes then:
//
//	type account = singlesession.User
//
//	func mountAdmin(mux *http.ServeMux, m *singlesession.Manager, u *users) error {
//		admin, err := singlesession.NewAdmin(m, singlesession.NewStaticDirectory(u.accounts...),
//			singlesession.AdminConfig{LoginURL: "/login"})
//		if err != nil {
//			return err
//		}
//		h := http.StripPrefix("/admin/sessions", admin)
//		mux.Handle("/admin/sessions", h)
//		mux.Handle("/admin/sessions/", h)
//		return nil
//	}
//
// With it come the tests that need the real page: the success path of the
// action over HTTP (303 back to /admin/sessions, the result on the page) and
// the browser flows of issue 4 (root signs alice out; sam selects root and
// alice and the page names root as skipped; tess signs root out; the same on
// two instances sharing PostgreSQL), with docs/admin.png taken from them.
// The helpers of e2e_test.go (open, load, shot) work on any page.
//
// Until then the stand-in answers the status codes of SPEC.md section 3 that
// do not depend on the page itself (303 to /login when anonymous, 403 without
// either permission or without the posted action's, 400 for a bad action or
// no user, 405 for other methods) and ends nothing.

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/go-singlesession/singlesession"
)

// account is a demo user as the admin directory sees it: the fields of
// singlesession.User (ID, Admin, Permissions).
type account struct {
	ID          string
	Admin       bool     // holds every permission
	Permissions []string // singlesession.PermLogout, singlesession.PermLogoutAll
}

// mountAdmin registers the operators' page under /admin/sessions.
func mountAdmin(mux *http.ServeMux, m *singlesession.Manager, u *users) error {
	h := http.StripPrefix("/admin/sessions", &adminStandIn{m: m, users: u})
	mux.Handle("/admin/sessions", h)
	mux.Handle("/admin/sessions/", h)
	return nil
}

type adminStandIn struct {
	m     *singlesession.Manager
	users *users
}

func (h *adminStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "", "/":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
	case "/logout":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	actor, _ := h.users.lookup(h.m.UserID(r.Context()))
	if actor.ID == "" {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	may := func(perm string) bool { return actor.Admin || slices.Contains(actor.Permissions, perm) }
	if !may(singlesession.PermLogout) && !may(singlesession.PermLogoutAll) {
		http.Error(w, "You may not sign users out.", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Signed in as %s. The operators' page arrives with issue 3 (singlesession.NewAdmin).\n", actor.ID)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Malformed form.", http.StatusBadRequest)
		return
	}
	var perm string
	switch r.PostForm.Get("action") {
	case "logout":
		perm = singlesession.PermLogout
	case "logout_all":
		perm = singlesession.PermLogoutAll
	default:
		http.Error(w, "Unknown or missing action.", http.StatusBadRequest)
		return
	}
	if !may(perm) {
		http.Error(w, "You lack the permission "+perm+".", http.StatusForbidden)
		return
	}
	if len(r.PostForm["user"]) == 0 {
		http.Error(w, "Choose at least one user.", http.StatusBadRequest)
		return
	}
	http.Error(w, "The operators' actions arrive with issue 3; nothing ended.", http.StatusNotImplemented)
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
}
