package singlesession_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
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
	if err := pgxstore.Migrate(ctx, pool); err != nil {
		log.Fatal(err)
	}

	sessions := scs.New()
	sessions.Lifetime = 12 * time.Hour
	m, err := singlesession.New(sessions, pgxstore.New(pool), singlesession.Config{})
	if err != nil {
		log.Fatal(err)
	}
	go m.RunCleanup(ctx, 5*time.Minute) // stopped by stop()
	// http.ListenAndServe(":8080", m.Middleware(mux))
}

// An API whose clients carry the session token in a header rather than a
// cookie: a middleware of its own, on Manager.Load and Manager.Commit (scs's
// README shows the same with sessions.Load and sessions.Commit). Header and
// cookie clients share the rules: one session per user counts both.
func ExampleManager_Load() {
	sessions := scs.New()
	m, _ := singlesession.New(sessions, singlesession.NewMemoryStore(), singlesession.Config{})

	withHeaderSession := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, err := m.Load(r.Context(), r.Header.Get("X-Session"))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			// The handler must not write the response before the token is
			// known: record it, commit, then send it.
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r.WithContext(ctx))
			switch sessions.Status(ctx) {
			case scs.Modified:
				token, _, err := m.Commit(ctx)
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				if token != "" { // "": the session ended meanwhile; send nothing
					w.Header().Set("X-Session", token)
				}
			case scs.Destroyed:
				w.Header().Set("X-Session", "")
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
		})
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.LoginHook(r.Context(), r.FormValue("user")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%q", m.UserID(r.Context()))
	})
	api := httptest.NewServer(withHeaderSession(mux))
	defer api.Close()
	web := httptest.NewServer(m.Middleware(mux))
	defer web.Close()

	call := func(method, u, token, form string) (string, string) {
		req, _ := http.NewRequest(method, u, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Session", token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err.Error()
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.Header.Get("X-Session"), string(body)
	}
	token, _ := call("POST", api.URL+"/login", "", "user=alice")
	_, who := call("GET", api.URL+"/whoami", token, "")
	fmt.Println("API client:", who)

	browser := newBrowser()
	post(browser, web.URL+"/login", "user=alice")
	_, who = call("GET", api.URL+"/whoami", token, "")
	fmt.Println("API client after alice signed in on a browser:", who)
	// Output:
	// API client: "alice"
	// API client after alice signed in on a browser: ""
}

// At most two sessions per user: a third login ends the least recently used
// one. With RejectNew the third login would be refused instead, with
// ErrTooManySessions.
func ExampleLimit() {
	sessions := scs.New()
	m, _ := singlesession.New(sessions, singlesession.NewMemoryStore(), singlesession.Config{
		Limit: func(ctx context.Context, userID string) singlesession.Limit {
			return singlesession.Limit{Max: 2}
		},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.LoginHook(r.Context(), r.FormValue("user")); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
		}
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%q", m.UserID(r.Context()))
	})
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()

	laptop, phone, tablet := newBrowser(), newBrowser(), newBrowser()
	for _, b := range []*http.Client{laptop, phone, tablet} {
		post(b, srv.URL+"/login", "user=alice")
	}
	fmt.Println(get(laptop, srv.URL+"/whoami"), get(phone, srv.URL+"/whoami"), get(tablet, srv.URL+"/whoami"))
	// Output: "" "alice" "alice"
}

// A login page that tells a signed-out browser why, and a "your sessions"
// page whose button signs out every other browser (after a password change,
// say).
func ExampleManager_Ended() {
	sessions := scs.New()
	m, _ := singlesession.New(sessions, singlesession.NewMemoryStore(), singlesession.Config{
		Policy: singlesession.Never,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = m.LoginHook(r.Context(), r.FormValue("user"))
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		if e, ok := m.Ended(r.Context()); ok {
			switch e.Reason {
			case singlesession.ReasonLogin:
				fmt.Fprint(w, "You signed in on another browser.")
			case singlesession.ReasonRevoked:
				fmt.Fprint(w, "You signed this browser out from another one.")
			case singlesession.ReasonAdmin:
				fmt.Fprint(w, "An administrator signed you out.")
			case singlesession.ReasonLogout:
				fmt.Fprint(w, "You signed out on another browser.")
			}
			return
		}
		fmt.Fprint(w, "Please sign in.")
	})
	mux.HandleFunc("GET /sessions", func(w http.ResponseWriter, r *http.Request) {
		list, _ := m.Sessions(r.Context())
		var lines []string
		for _, s := range list {
			lines = append(lines, fmt.Sprintf("[%s current=%v]", s.UserAgent, s.Current))
		}
		fmt.Fprint(w, strings.Join(lines, " "))
	})
	mux.HandleFunc("POST /sessions/end-others", func(w http.ResponseWriter, r *http.Request) {
		n, _ := m.EndOtherSessions(r.Context())
		fmt.Fprintf(w, "ended %d", n)
	})
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()

	laptop, phone := newBrowser(), newBrowser()
	post(laptop, srv.URL+"/login", "user=alice")
	post(phone, srv.URL+"/login", "user=alice")
	fmt.Println(get(phone, srv.URL+"/sessions"))
	fmt.Println(post(phone, srv.URL+"/sessions/end-others", ""))
	fmt.Println(get(laptop, srv.URL+"/login"))
	// Output:
	// [Go-http-client/1.1 current=true] [Go-http-client/1.1 current=false]
	// ended 1
	// You signed this browser out from another one.
}

// An audit log: Config.OnEvent hands every change of sessions to a slog
// logger, after the change is committed. It runs on the request's
// goroutine; send events to a channel of your own if the log may be slow.
func ExampleConfig_onEvent() {
	audit := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "at" || a.Key == "session" {
				return slog.Attr{} // vary from run to run
			}
			return a
		},
	}))
	sessions := scs.New()
	m, _ := singlesession.New(sessions, singlesession.NewMemoryStore(), singlesession.Config{
		OnEvent: func(ctx context.Context, e singlesession.Event) {
			audit.InfoContext(ctx, "session", "event", e.Kind, "user", e.UserID, "ended", e.Ended,
				"reason", e.Reason, "actor", e.Actor, "session", e.SessionID, "at", e.At)
		},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = m.LoginHook(r.Context(), r.FormValue("user"))
	})
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()

	post(newBrowser(), srv.URL+"/login", "user=alice")
	post(newBrowser(), srv.URL+"/login", "user=alice")
	m.LogoutUser(context.Background(), "alice")
	// Output:
	// level=INFO msg=session event=login user=alice ended=0 reason="" actor=""
	// level=INFO msg=session event=login user=alice ended=1 reason=login actor=""
	// level=INFO msg=session event=ended user=alice ended=1 reason=admin actor=""
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
