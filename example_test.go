package singlesession_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-singlesession/singlesession"
)

// A complete application: two browsers sign in as the same user, and the
// first one is signed out.
func ExampleNew() {
	sessions := scs.New()
	m, err := singlesession.New(sessions, singlesession.NewMemoryStore(), singlesession.Config{})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// Check the password first; then:
		if err := m.LoginHook(r.Context(), r.FormValue("user")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if user := m.UserID(r.Context()); user != "" {
			fmt.Fprintf(w, "signed in as %s", user)
			return
		}
		io.WriteString(w, "anonymous")
	})
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()

	laptop, phone := newBrowser(), newBrowser()
	fmt.Println("laptop:", post(laptop, srv.URL+"/login", "user=alice"))
	fmt.Println("phone: ", post(phone, srv.URL+"/login", "user=alice"))
	fmt.Println("laptop:", get(laptop, srv.URL+"/"))
	// Output:
	// laptop: signed in as alice
	// phone:  signed in as alice
	// laptop: anonymous
}

// Sign out everywhere: LogoutHook ends the current session and every other
// session of the user.
func ExampleManager_LogoutHook() {
	sessions := scs.New()
	m, _ := singlesession.New(sessions, singlesession.NewMemoryStore(), singlesession.Config{
		Policy: singlesession.Never, // allow many sessions, to show logout ending them all
	})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = m.LoginHook(r.Context(), r.FormValue("user"))
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.LogoutHook(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%q", m.UserID(r.Context()))
	})
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()

	laptop, phone := newBrowser(), newBrowser()
	post(laptop, srv.URL+"/login", "user=alice")
	post(phone, srv.URL+"/login", "user=alice")
	fmt.Println("before:", get(laptop, srv.URL+"/whoami"), get(phone, srv.URL+"/whoami"))
	post(phone, srv.URL+"/logout", "")
	fmt.Println("after: ", get(laptop, srv.URL+"/whoami"), get(phone, srv.URL+"/whoami"))
	// Output:
	// before: "alice" "alice"
	// after:  "" ""
}

// A Policy that lets staff keep several sessions and gives everyone else one.
func ExamplePolicy() {
	staff := map[string]bool{"sam": true}
	cfg := singlesession.Config{
		Policy: func(ctx context.Context, userID string) bool {
			return !staff[userID] // true: end the user's other sessions
		},
	}
	_, err := singlesession.New(scs.New(), singlesession.NewMemoryStore(), cfg)
	fmt.Println(err)
	// Output: <nil>
}

// An operator signs a user out of every browser.
func ExampleManager_LogoutUser() {
	m, _ := singlesession.New(scs.New(), singlesession.NewMemoryStore(), singlesession.Config{})
	n, err := m.LogoutUser(context.Background(), "alice")
	fmt.Println(n, err)
	_, err = m.LogoutUser(context.Background(), "")
	fmt.Println(err)
	// Output:
	// 0 <nil>
	// singlesession: logout user: invalid user ID: empty
}

// Set up PostgreSQL: apply the migrations, then use the store. Expired
// sessions are removed by a cleanup that stops with its context.
func ExampleMigrate() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := singlesession.Migrate(ctx, pool); err != nil {
		log.Fatal(err)
	}

	sessions := scs.New()
	sessions.Lifetime = 12 * time.Hour
	m, err := singlesession.New(sessions, singlesession.NewPostgresStore(pool), singlesession.Config{})
	if err != nil {
		log.Fatal(err)
	}
	go m.RunCleanup(ctx, 5*time.Minute) // stopped by stop()
	// http.ListenAndServe(":8080", m.Middleware(mux))
}

func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func post(c *http.Client, u, form string) string {
	res, err := c.Post(u, "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func get(c *http.Client, u string) string {
	res, err := c.Get(u)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
