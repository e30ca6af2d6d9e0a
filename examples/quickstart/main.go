// Command quickstart is the smallest complete application with singlesession:
// one session per user, kept in PostgreSQL. README.md shows it in full.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	if err := run(*addr, os.Getenv("DATABASE_URL")); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(addr, databaseURL string) error {
	if databaseURL == "" { // pgx would quietly use a default database, and Migrate create tables there
		return errors.New("DATABASE_URL is not set: run with DATABASE_URL=postgres://localhost/app")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pgxstore.Migrate(ctx, pool); err != nil {
		return err
	}

	sessions := scs.New() // every scs option still applies
	m, err := singlesession.New(sessions, pgxstore.New(pool), singlesession.Config{})
	if err != nil {
		return err
	}
	go m.RunCleanup(ctx, 5*time.Minute) // removes expired sessions and their links

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.PostFormValue("username")
		if !passwordOK(user, r.PostFormValue("password")) {
			http.Error(w, "wrong username or password", http.StatusUnauthorized)
			return
		}
		// Renews the token, links the session to user, ends user's other sessions.
		err := m.LoginHook(r.Context(), user)
		if errors.Is(err, singlesession.ErrInvalidUserID) {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		// Ends this session and every other session of the user.
		if err := m.LogoutHook(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "signed in as %q\n", m.UserID(r.Context()))
	})

	// Middleware includes sessions.LoadAndSave; do not add it again.
	handler := http.NewCrossOriginProtection().Handler(m.Middleware(mux))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	slog.Info("quickstart listening", "url", "http://"+ln.Addr().String())
	return http.Serve(ln, handler)
}

// passwordOK stands in for your password check (bcrypt, an identity provider...).
func passwordOK(user, password string) bool {
	return user != "" && password == "secret"
}
