package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{"number": number, "rfc3339": rfc3339, "minus": func(a, b int) int { return a - b }}).ParseFS(templateFS, "templates/*.html"))

// config is what the command line sets; see parseFlags.
type config struct {
	Addr              string        // where to listen
	DSN               string        // PostgreSQL URL; "" keeps the sessions in memory
	Redis             string        // Redis URL; when set, the sessions live in Redis (see redis.go)
	MaxSessions       int           // sessions a user may hold at once; 0: no limit
	RejectNew         bool          // when full, refuse a login instead of ending the least recently used session
	LastSeenInterval  time.Duration // how stale a session's LastSeen may get; 0: one minute
	LogoutAllSessions bool          // logout ends every session of the user
	CleanupInterval   time.Duration // how often expired sessions are deleted (PostgreSQL)
	BcryptCost        int           // 0: bcrypt.DefaultCost
	Metrics           bool          // serve GET /metrics; see withMetrics
	Logger            *slog.Logger  // nil: slog.Default()

	// Store, when set, keeps the sessions, whatever DSN and Redis say: the
	// tests run two instances over one memory store with it.
	Store singlesession.Store
}

// app is the demo application: its routes and what they need.
type app struct {
	cfg      config
	logger   *slog.Logger
	sessions *scs.SessionManager
	m        *singlesession.Manager
	users    *users
	dir      singlesession.Directory // who may use the operators' page
	store    string                  // "memory" or "PostgreSQL", for the home page
}

// newApp builds the application that cfg describes and returns its handler
// and a func that releases what it holds; see buildApp.
func newApp(ctx context.Context, cfg config) (http.Handler, func(), error) {
	_, h, release, err := buildApp(ctx, cfg)
	return h, release, err
}

// buildApp builds the application that cfg describes and returns it, its handler
// and a func that releases what it holds. With a DSN it connects to
// PostgreSQL, applies the migrations, and deletes expired sessions every
// cfg.CleanupInterval until the release func is called.
func buildApp(ctx context.Context, cfg config) (*app, http.Handler, func(), error) {
	a := &app{cfg: cfg, logger: cfg.Logger, store: "memory"}
	if a.logger == nil {
		a.logger = slog.Default()
	}
	var store singlesession.Store = singlesession.NewMemoryStore()
	release := func() {}
	switch {
	case cfg.Store != nil:
		store = cfg.Store
	case cfg.DSN != "":
		pool, err := openPostgres(ctx, cfg.DSN)
		if err != nil {
			return nil, nil, nil, err
		}
		store, a.store = pgxstore.New(pool), "PostgreSQL"
		release = pool.Close
	}
	if cfg.Redis != "" && cfg.Store == nil {
		release()
		var err error
		if store, release, err = openRedis(ctx, cfg.Redis); err != nil {
			return nil, nil, nil, err
		}
		a.store = "Redis"
	}

	var err error
	if a.users, err = newUsers(cfg.BcryptCost); err != nil {
		release()
		return nil, nil, nil, err
	}

	limit := singlesession.Limit{Max: cfg.MaxSessions, RejectNew: cfg.RejectNew}
	a.sessions = scs.New()
	a.sessions.Cookie.Name = "basic_session"
	sc := singlesession.Config{
		Limit:                     func(context.Context, string) singlesession.Limit { return limit },
		KeepOtherSessionsOnLogout: !cfg.LogoutAllSessions,
		LastSeenInterval:          cfg.LastSeenInterval,
		ErrorFunc:                 a.sessionError,
		Logger:                    a.logger,
	}
	store, metrics, release, err := withMetrics(cfg.Metrics, store, &sc, release)
	if err != nil {
		release()
		return nil, nil, nil, err
	}
	a.m, err = singlesession.New(a.sessions, store, sc)
	if err != nil {
		release()
		return nil, nil, nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.loginForm)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET /whoami", a.whoami)
	mux.HandleFunc("GET /sessions", a.yourSessions)
	mux.HandleFunc("POST /sessions/end", a.endSession)
	mux.HandleFunc("POST /sessions/end-others", a.endOtherSessions)
	// Live endings (live.go): the home page listens on its clock, /clock;
	// every other signed-in page at /session/events.
	mux.Handle("GET /session/events", a.m.WatchHandler())
	mux.HandleFunc("GET /session/ended", a.sessionEnded)
	mux.HandleFunc("GET /clock", a.clock)
	if err := a.mountAdmin(mux); err != nil {
		release()
		return nil, nil, nil, err
	}

	static, _ := fs.Sub(staticFS, "static")
	root := http.NewServeMux()
	// Static files need no session: serving them outside the middleware
	// costs no database query.
	root.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	if metrics != nil {
		root.Handle("GET /metrics", metrics) // -metrics: nor does a scrape
	}
	root.Handle("/", a.m.Middleware(mux))

	if cfg.DSN != "" && cfg.CleanupInterval > 0 {
		release = a.startCleanup(cfg.CleanupInterval, release)
	}
	h := http.NewCrossOriginProtection().Handler(securityHeaders(root))
	return a, logRequests(a.logger, h), release, nil
}

// openPostgres connects to dsn and applies the migrations.
func openPostgres(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pgxstore.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// startCleanup runs the expired-session cleanup on a goroutine and returns a
// release func that stops it, waits for it, then calls next.
func (a *app) startCleanup(interval time.Duration, next func()) func() {
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.m.RunCleanup(ctx, interval) })
	return func() {
		stop()
		wg.Wait()
		next()
	}
}

// page is what every template gets.
type page struct {
	Name      string // the template: "home", "login", "sessions", "ended" or "problem"
	Title     string
	User      string // "" when anonymous
	Role      string
	Operator  bool   // the user may open the operators' page
	Host      string // the instance the browser talks to
	Store     string
	Max       int  // sessions a user may hold at once; 0: no limit
	RejectNew bool // a login past Max is refused
	LogoutAll bool
	Accounts  []accountRow
	Username  string // the login form's last attempt
	Error     string
	Sessions  []sessionRow // the "Your sessions" page: one page of them
	Total     int          // how many sessions the user holds in all
	FirstURL  string       // the first page of sessions, when this is another
	NextURL   string       // the next page of sessions; "" on the last
	Flash     string       // a one-time message from the previous request
	Problem   problem      // the error page
	Ended     *endedNotice // why this browser was signed out; nil when it was not
}

// problem is what the error page says, and the way back it offers.
type problem struct {
	Heading, Message string
	Back, BackLabel  string
}

type accountRow struct {
	ID, Role, Permissions string
}

func (a *app) page(r *http.Request, name, title string) page {
	p := page{
		Name:      name,
		Title:     title,
		User:      a.m.UserID(r.Context()),
		Host:      r.Host,
		Store:     a.store,
		Max:       a.cfg.MaxSessions,
		RejectNew: a.cfg.RejectNew,
		LogoutAll: a.cfg.LogoutAllSessions,
	}
	if acc, ok := a.users.lookup(p.User); ok {
		p.Role = role(acc)
		op, err := a.operator(r.Context(), p.User)
		if err != nil {
			a.logger.WarnContext(r.Context(), "directory", "user", p.User, "err", err)
		}
		p.Operator = op
	}
	if p.User == "" {
		p.Ended = a.ended(r)
	}
	return p
}

func (a *app) render(w http.ResponseWriter, r *http.Request, status int, p page) {
	var b strings.Builder
	if err := templates.ExecuteTemplate(&b, p.Name+".html", p); err != nil {
		a.logger.ErrorContext(r.Context(), "render", "template", p.Name, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// renderProblem renders the error page with status.
func (a *app) renderProblem(w http.ResponseWriter, r *http.Request, status int, pr problem) {
	p := a.page(r, "problem", pr.Heading)
	p.Problem = pr
	a.render(w, r, status, p)
}

// serverError logs err and answers 500.
func (a *app) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	a.logger.ErrorContext(r.Context(), what, "user", a.m.UserID(r.Context()), "err", err)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, a.page(r, "home", "Home"))
}

func (a *app) loginPage(r *http.Request) page {
	p := a.page(r, "login", "Sign in")
	for _, acc := range a.users.accounts {
		p.Accounts = append(p.Accounts, accountRow{ID: acc.ID, Role: role(acc), Permissions: strings.Join(acc.Permissions, ", ")})
	}
	return p
}

func (a *app) loginForm(w http.ResponseWriter, r *http.Request) {
	p := a.loginPage(r)
	p.Flash = a.sessions.PopString(r.Context(), flashKey)
	a.render(w, r, http.StatusOK, p)
}

// maxFormBytes bounds the body of the forms.
const maxFormBytes = 4 << 10

// readForm parses the posted form into r.PostForm, or answers 413 or 400 and
// returns false.
func (a *app) readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "Form too large.", http.StatusRequestEntityTooLarge)
			return false
		}
		http.Error(w, "Malformed form.", http.StatusBadRequest)
		return false
	}
	return true
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	if !a.readForm(w, r) {
		return
	}
	name, hasName := r.PostForm["username"]
	password, hasPassword := r.PostForm["password"]
	if !hasName || !hasPassword || len(name) != 1 || len(password) != 1 ||
		!utf8.ValidString(name[0]) || !utf8.ValidString(password[0]) {
		http.Error(w, "The form needs one username and one password.", http.StatusBadRequest)
		return
	}
	acc, ok := a.users.authenticate(name[0], password[0])
	if !ok {
		a.logger.InfoContext(r.Context(), "login failed")
		p := a.loginPage(r)
		p.Username = name[0]
		p.Error = "Wrong username or password."
		a.render(w, r, http.StatusUnauthorized, p)
		return
	}
	if err := a.m.LoginHook(r.Context(), acc.ID); err != nil {
		if errors.Is(err, singlesession.ErrTooManySessions) {
			a.refuseLogin(w, r, name[0])
			return
		}
		a.logger.ErrorContext(r.Context(), "login", "user", acc.ID, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	a.logger.InfoContext(r.Context(), "signed in", "user", acc.ID)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// refuseLogin answers a login that -reject-new refused (ErrTooManySessions)
// with 409 Conflict and the form, saying why and what to do.
func (a *app) refuseLogin(w http.ResponseWriter, r *http.Request, username string) {
	a.logger.InfoContext(r.Context(), "login refused: too many sessions", "user", username)
	where := "another browser"
	if a.cfg.MaxSessions > 1 {
		where = plural(a.cfg.MaxSessions, "browser")
	}
	p := a.loginPage(r)
	p.Username = username
	p.Error = "You are already signed in on " + where + ", the most allowed at once. " +
		"Sign out there first (or end that session on its “Your sessions” page), " +
		"or ask an operator (sam, tess, root or ruth) to sign you out."
	a.render(w, r, http.StatusConflict, p)
}

// sessionError is Config.ErrorFunc: a login that the limit refused in its
// save (it lost a race after LoginHook's own check) gets the same 409 page
// as one LoginHook refused; any other error is logged and answered 500.
func (a *app) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, singlesession.ErrTooManySessions) {
		// The save runs when the handler starts its response: drop the
		// redirect it meant to send.
		w.Header().Del("Location")
		a.refuseLogin(w, r, r.PostForm.Get("username"))
		return
	}
	a.serverError(w, r, "session", err)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	user := a.m.UserID(r.Context())
	if err := a.m.LogoutHook(r.Context()); err != nil {
		a.logger.ErrorContext(r.Context(), "logout", "user", user, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	if user != "" {
		a.logger.InfoContext(r.Context(), "signed out", "user", user)
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (a *app) whoami(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	user := a.m.UserID(r.Context())
	if user == "" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("not signed in\n"))
		return
	}
	_, _ = w.Write([]byte(user))
}

// securityHeaders keeps the pages out of frames and the browser to this
// origin's own resources.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// logRequests logs one line per request: method, path, status and duration.
// It logs neither headers nor the query, so no cookie or token reaches the log.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
