package singlesession_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/alexedwards/scs/v2"

	"github.com/go-singlesession/singlesession"
)

// An operator with single_session.logout signs users out: admin users and
// users the directory does not know are skipped, and the result says so.
// Then one session at a time: a user's sessions are listed by opaque IDs, and
// single_session.logout may not end an admin user's.
func ExampleAdmin_Run() {
	ctx := context.Background()
	m, err := singlesession.New(scs.New(), singlesession.NewMemoryStore(), singlesession.Config{})
	if err != nil {
		log.Fatal(err)
	}
	dir := singlesession.NewStaticDirectory(
		singlesession.User{ID: "sam", Permissions: []string{singlesession.PermLogout}},
		singlesession.User{ID: "alice"},
		singlesession.User{ID: "root", Admin: true},
	)
	admin, err := singlesession.NewAdmin(m, dir, singlesession.AdminConfig{})
	if err != nil {
		log.Fatal(err)
	}
	// alice and root sign in, as in your login handler.
	login := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.LoginHook(r.Context(), r.FormValue("user")); err != nil {
			log.Fatal(err)
		}
	}))
	for _, user := range []string{"alice", "root"} {
		login.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/login?user="+user, nil))
	}

	res, err := admin.Run(ctx, "sam", singlesession.ActionLogout, []string{"alice", "root", "mallory"})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range res.SignedOut {
		fmt.Printf("signed out %s: %d session(s) ended\n", s.UserID, s.Sessions)
	}
	for _, s := range res.Skipped {
		fmt.Printf("skipped %s: %s\n", s.UserID, s.Reason)
	}

	_, err = admin.Run(ctx, "sam", singlesession.ActionLogoutAll, []string{"root"})
	fmt.Println(errors.Is(err, singlesession.ErrPermissionDenied))

	list, err := m.UserSessions(ctx, "root")
	if err != nil {
		log.Fatal(err)
	}
	err = admin.EndSession(ctx, "sam", "root", list[0].ID)
	fmt.Println(len(list), errors.Is(err, singlesession.ErrPermissionDenied))
	// Output:
	// signed out alice: 1 session(s) ended
	// skipped root: admin_user
	// skipped mallory: unknown_user
	// true
	// 1 true
}

// The admin page mounted under /admin/sessions, inside Manager.Middleware. An
// anonymous visitor is sent to the login page.
func ExampleNewAdmin() {
	sessions := scs.New()
	m, err := singlesession.New(sessions, singlesession.NewMemoryStore(), singlesession.Config{})
	if err != nil {
		log.Fatal(err)
	}
	dir := singlesession.NewStaticDirectory(
		singlesession.User{ID: "root", Admin: true},
		singlesession.User{ID: "sam", Permissions: []string{singlesession.PermLogout}},
	)
	admin, err := singlesession.NewAdmin(m, dir, singlesession.AdminConfig{LoginURL: "/login"})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/admin/sessions/", http.StripPrefix("/admin/sessions", admin))
	mux.Handle("/admin/sessions", http.StripPrefix("/admin/sessions", admin))
	// ... the application's routes, among them /login, which calls m.LoginHook.
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(srv.URL + "/admin/sessions")
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Location"))
	// Output: 303 /login
}
