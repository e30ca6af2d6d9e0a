// Command singlesession administers the tables of singlesession in
// PostgreSQL: it applies the migrations, lists and ends the sessions of
// users, and gives and removes the operators' grants of pgxstore.Directory.
//
// Usage:
//
//	singlesession [-dsn URL] COMMAND [ARGUMENTS]
//
// The commands are migrate, sessions USER, logout USER..., grant USER PERM and
// remove-grant USER PERM; "singlesession help" explains them. The database is -dsn,
// or $DATABASE_URL. Whoever runs the command is trusted as an operator: logout
// checks no permission. grant and remove-grant say so when nothing changed (the
// user already held, or did not hold, the permission). The exit status is 0
// on success (nothing to change included), 1 on failure and 2 for a usage
// error, which is printed as one line and a pointer to "singlesession help".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/alexedwards/scs/v2"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/migrations"
	"github.com/go-singlesession/singlesession/pgxstore"
)

const usage = `Usage: singlesession [-dsn URL] COMMAND [ARGUMENTS]

Administers singlesession's tables in PostgreSQL.

Commands:
  migrate            apply the migrations: create or update the tables
  sessions USER      list USER's active sessions: ID, signed in, expires
  logout USER...     end every session of each USER, on every browser
  grant USER PERM          give USER the permission PERM
  remove-grant USER PERM   take the permission PERM from USER
  help               show this text

PERM is one of:
  single_session.logout      may log out users, admin users excepted
  single_session.logout_all  may log out every user, admin users included
  admin                      an admin user: holds both; "logout" skips it

Flags (before the command):
  -dsn URL   PostgreSQL connection URL; the default is $DATABASE_URL

Put -- before user IDs that start with "-".
Exit status: 0 done, 1 failure, 2 usage error.

Examples:
  export DATABASE_URL=postgres://app@db.internal/app
  singlesession migrate
  singlesession grant sam single_session.logout
  singlesession sessions alice
  singlesession logout alice bob
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// errUsage marks errors of the command line itself (exit status 2).
var errUsage = errors.New("usage error")

// helpPointer ends every usage error.
const helpPointer = "Run 'singlesession help' for usage."

// run runs the command line args (without the program name) and returns the
// exit status. Results and help go to stdout; errors go to stderr, a usage
// error as one line and helpPointer.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("singlesession", flag.ContinueOnError)
	flags.SetOutput(io.Discard) // run reports the errors itself
	dsn := flags.String("dsn", "", "PostgreSQL connection URL (default $DATABASE_URL)")
	err := flags.Parse(args)
	var cmd *command
	switch {
	case errors.Is(err, flag.ErrHelp):
		err = errHelp
	case err != nil:
		err = fmt.Errorf("%w: %v", errUsage, err)
	default:
		cmd, err = parse(flags.Args())
	}
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if err == nil && *dsn == "" {
		*dsn = os.Getenv("DATABASE_URL")
		if *dsn == "" {
			err = fmt.Errorf("%w: no database: pass -dsn URL or set DATABASE_URL", errUsage)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "singlesession: %s\n%s\n", strings.TrimPrefix(err.Error(), errUsage.Error()+": "), helpPointer)
		return exitUsage
	}

	if err := cmd.connectAndRun(ctx, *dsn, stdout); err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "singlesession: ") {
			msg = "singlesession: " + msg
		}
		fmt.Fprintln(stderr, msg)
		if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == "42P01" {
			fmt.Fprintln(stderr, "The tables are missing: run 'singlesession migrate' first.")
		}
		return exitFailure
	}
	return exitOK
}

// command is one parsed command line.
type command struct {
	name  string
	users []string // the USER arguments
	perm  string   // grant and remove-grant
}

var errHelp = errors.New("help")

// parse checks the command and its arguments, before any connection.
func parse(args []string) (*command, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: no command", errUsage)
	}
	c := &command{name: args[0]}
	rest := args[1:]
	if len(rest) > 0 && rest[0] == "--" {
		rest = rest[1:]
	} else {
		for _, a := range rest {
			if strings.HasPrefix(a, "-") {
				return nil, fmt.Errorf("%w: %s: unexpected %q: flags go before the command; put -- before a user ID that starts with -", errUsage, c.name, a)
			}
		}
	}
	want := func(n int, what string) error {
		if len(rest) != n {
			return fmt.Errorf("%w: %s takes %s, got %d argument(s)", errUsage, c.name, what, len(rest))
		}
		return nil
	}
	var err error
	switch c.name {
	case "help":
		return nil, errHelp
	case "migrate":
		err = want(0, "no arguments")
	case "sessions":
		err = want(1, "one USER")
		c.users = rest
	case "logout":
		if len(rest) == 0 {
			err = fmt.Errorf("%w: logout takes one or more USERs", errUsage)
		}
		c.users = rest
	case "grant", "remove-grant":
		if err = want(2, "USER PERM"); err == nil {
			c.users, c.perm = rest[:1], rest[1]
			if !slices.Contains([]string{singlesession.PermLogout, singlesession.PermLogoutAll, pgxstore.GrantAdmin}, c.perm) {
				err = fmt.Errorf("%w: %s: unknown permission %q: use %s, %s or %s", errUsage, c.name, c.perm,
					singlesession.PermLogout, singlesession.PermLogoutAll, pgxstore.GrantAdmin)
			}
		}
	default:
		return nil, fmt.Errorf("%w: unknown command %q", errUsage, c.name)
	}
	if err != nil {
		return nil, err
	}
	for _, u := range c.users {
		if err := singlesession.ValidateUserID(u); err != nil {
			return nil, fmt.Errorf("%w: %s: user %.40q: %v", errUsage, c.name, u, err)
		}
	}
	return c, nil
}

// connectAndRun opens the database and runs c.
func (c *command) connectAndRun(ctx context.Context, dsn string, stdout io.Writer) error {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("bad database URL: %w", err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		return fmt.Errorf("connect to %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}

	// The Manager's operators' methods, as the admin page uses them; its
	// SessionManager serves no request here.
	m, err := singlesession.New(scs.New(), pgxstore.New(pool), singlesession.Config{})
	if err != nil {
		return err
	}
	switch c.name {
	case "migrate":
		before, err := schemaVersion(ctx, pool)
		if err != nil {
			return err
		}
		if err := pgxstore.Migrate(ctx, pool); err != nil {
			return err
		}
		after, err := schemaVersion(ctx, pool)
		if err != nil {
			return err
		}
		if after == before {
			fmt.Fprintf(stdout, "nothing to apply: the database is up to date (version %d)\n", after)
		} else {
			fmt.Fprintf(stdout, "applied migrations %d to %d: the database is up to date (version %d)\n", before+1, after, after)
		}
	case "sessions":
		return listSessions(ctx, m, c.users[0], stdout)
	case "logout":
		return logout(ctx, m, c.users, stdout)
	case "grant":
		changed, err := pgxstore.NewDirectory(pool).Grant(ctx, c.users[0], c.perm)
		switch {
		case err != nil:
			return fmt.Errorf("grant %s to %q: %w", c.perm, c.users[0], err)
		case changed:
			fmt.Fprintf(stdout, "granted %s to %s\n", c.perm, c.users[0])
		default:
			fmt.Fprintf(stdout, "%s already holds %s: nothing changed\n", c.users[0], c.perm)
		}
	case "remove-grant":
		changed, err := pgxstore.NewDirectory(pool).RemoveGrant(ctx, c.users[0], c.perm)
		switch {
		case err != nil:
			return fmt.Errorf("remove grant %s from %q: %w", c.perm, c.users[0], err)
		case changed:
			fmt.Fprintf(stdout, "removed %s from %s\n", c.perm, c.users[0])
		default:
			fmt.Fprintf(stdout, "%s did not hold %s: nothing changed\n", c.users[0], c.perm)
		}
	}
	return nil
}

// listSessions prints the active sessions of userID, by their opaque IDs.
func listSessions(ctx context.Context, m *singlesession.Manager, userID string, stdout io.Writer) error {
	page, err := m.UserSessionsPage(ctx, userID, "")
	if err != nil {
		return err
	}
	if page.Total == 0 {
		fmt.Fprintf(stdout, "%s has no active session\n", userID)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tSIGNED IN\tLAST SEEN\tEXPIRES\tIP\tUSER AGENT")
	for _, s := range page.Sessions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Created.UTC().Format(time.RFC3339), s.LastSeen.UTC().Format(time.RFC3339),
			s.Expiry.UTC().Format(time.RFC3339), orDash(s.IP), orDash(shorten(s.UserAgent, 60)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if more := page.Total - len(page.Sessions); more > 0 {
		fmt.Fprintf(stdout, "... and %d more: %d active sessions in all, the %d most recently used shown\n", more, page.Total, len(page.Sessions))
	}
	return nil
}

// schemaVersion returns the latest migration applied to the first schema
// of the connection's search_path, where Migrate works: 0 for one that was
// never migrated.
func schemaVersion(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var schema *string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil || schema == nil {
		return 0, errors.Join(errors.New("read the schema's version: no schema in search_path"), err)
	}
	table := pgx.Identifier{*schema, migrations.VersionTable}.Sanitize()
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var version int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM `+table+` WHERE is_applied`).Scan(&version); err != nil {
		return 0, fmt.Errorf("read the schema's version: %w", err)
	}
	return version, nil
}

// logout ends every session of users in one statement and prints the
// counts; the ended browsers learn that an operator signed them out.
func logout(ctx context.Context, m *singlesession.Manager, users []string, stdout io.Writer) error {
	counts, err := m.LogoutUsers(ctx, users)
	if err != nil {
		return err
	}
	total := 0
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u] {
			continue
		}
		seen[u] = true
		total += counts[u]
		fmt.Fprintf(stdout, "%s: %d session(s) ended\n", u, counts[u])
	}
	if len(seen) > 1 {
		fmt.Fprintf(stdout, "%d session(s) ended in all\n", total)
	}
	return nil
}

// orDash shows an empty field as "-", so that the columns stay aligned.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shorten cuts s to at most n runes, marking the cut with "…".
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
