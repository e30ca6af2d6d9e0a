package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-singlesession/singlesession"
)

// probeUser signs in after the load to show the application works again; the
// browsers never use it.
const probeUser = "loadtest-probe"

// check fills report.Invariants, once the load has stopped.
func check(ctx context.Context, cfg *Config, a *app, pool *pgxpool.Pool, base string, transport http.RoundTripper,
	clients []*client, sampled *sampler, report *Report) {
	add := func(name string, ok bool, format string, args ...any) {
		report.Invariants = append(report.Invariants, Invariant{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}

	// A run in which some operation never succeeded proves nothing.
	var idle []string
	for _, w := range opsOf(cfg.Collide) {
		if report.Succeeded[w.op] == 0 {
			idle = append(idle, w.op)
		}
	}
	add("every operation succeeded at least once", len(idle) == 0, "%d successful replies; never: %s", sum(report.Succeeded), listOrNone(idle))
	add("no handler panicked", report.Panics == 0, "%d panics", report.Panics)
	add("no unexpected reply", report.UnexpectedReply == 0, "%d replies neither 2xx nor a store or sign-out error", report.UnexpectedReply)
	if cfg.ExpectStoreErrors {
		add("store errors reach ErrorFunc", true, "%d store errors, expected under the injected faults", report.StoreErrors)
	} else {
		add("no unexpected 5xx", report.StoreErrors == 0, "%d store errors (%d deadlocks among all errors)", report.StoreErrors, report.Deadlocks)
	}
	if cfg.Collide {
		add("every operator sign-out succeeded", cfg.ExpectStoreErrors || report.SignOutErrors == 0,
			"%d of %d sign-outs failed (%d deadlocks among all errors)", report.SignOutErrors, report.Ops[OpSignOut], report.Deadlocks)
	}
	add("every request got a reply", report.NoReply == 0, "%d requests without a reply", report.NoReply)
	limit := cfg.RequestTimeout + time.Second
	add("no request outlived its context", report.Max <= limit, "slowest reply %v, limit %v", report.Max.Round(time.Millisecond), limit)
	add("session data and link agree on every request", a.mismatches.Load() == 0, "%d requests disagreed", a.mismatches.Load())

	// The application serves again: a whole login, write, read and logout.
	begin := time.Now()
	probeErr := retry(ctx, cfg.RecoveryTimeout, func() error { return probe(base, transport, cfg.RequestTimeout) })
	report.Recovery = time.Since(begin)
	if probeErr == nil && report.Recovery < 50*time.Millisecond {
		report.Recovery = 0
	}
	add("the application serves again after the load", probeErr == nil, "login, write, read and logout %s", okOr(probeErr, "worked"))

	// Every browser asks who it is; under Always no user is signed in twice.
	browsersOf := map[string]int{}
	var sweepErr error
	for _, c := range clients {
		err := retry(ctx, cfg.RecoveryTimeout, func() error {
			status, errHeader, body, err := c.do("GET", "/whoami", nil)
			switch {
			case err != nil:
				return err
			case status != http.StatusOK:
				return fmt.Errorf("whoami: %d %s %s", status, errHeader, body)
			}
			if body != "" {
				browsersOf[body]++
			}
			return nil
		})
		if err != nil {
			sweepErr = err
			break
		}
	}
	if report.Always {
		twice := usersOver(browsersOf, 1)
		add("no user is signed in on two browsers", sweepErr == nil && len(twice) == 0,
			"%d browsers signed in as %d users; more than one browser: %s%s", sum(browsersOf), len(browsersOf), listOrNone(twice), errSuffix(sweepErr))
	} else {
		add("every browser can ask who it is", sweepErr == nil, "%d browsers signed in as %d users%s", sum(browsersOf), len(browsersOf), errSuffix(sweepErr))
	}

	if sampled != nil {
		add("no user had more than one live session during the load", sampled.samples > 0 && sampled.bad == 0,
			"%d samples of the tables, %d with a user over one: %s", sampled.samples, sampled.bad, listOrNone(sampled.first))
	}
	report.Invariants = append(report.Invariants, checkTables(ctx, pool, report.Always, cfg.RecoveryTimeout)...)
	if cfg.Collide {
		a.mu.Lock()
		signOuts := slices.Clone(a.signOuts)
		a.mu.Unlock()
		report.Invariants = append(report.Invariants, checkSignOuts(ctx, pool, signOuts, clients, cfg.RecoveryTimeout))
	}
}

// checkSignOuts checks that no session outlived an operator's sign-out of its
// user that began after the session's login had been answered (so after the
// login committed): no request sent after such a sign-out returned found the
// browser still signed in, and no such session is left in the tables.
// Logouts through LogoutHook are not traced: one whose own session had
// already ended rightly ends nothing else, and the browser cannot tell.
func checkSignOuts(ctx context.Context, pool *pgxpool.Pool, signOuts []signOut, clients []*client, patience time.Duration) Invariant {
	// For each user, the sign-outs in the order they returned, each with
	// the latest beginning among it and those that returned before it.
	type mark struct{ end, latestBegin time.Time }
	slices.SortFunc(signOuts, func(x, y signOut) int { return x.end.Compare(y.end) })
	marks := map[string][]mark{}
	latest := map[string]time.Time{} // the latest beginning of a sign-out of each user
	for _, s := range signOuts {
		for _, u := range s.users {
			begin := s.begin
			if begin.Before(latest[u]) {
				begin = latest[u]
			}
			latest[u] = begin
			marks[u] = append(marks[u], mark{end: s.end, latestBegin: begin})
		}
	}
	// latestBefore returns the latest beginning of the sign-outs of user
	// that returned before t.
	latestBefore := func(user string, t time.Time) time.Time {
		list := marks[user]
		i, _ := slices.BinarySearchFunc(list, t, func(m mark, t time.Time) int {
			if m.end.Before(t) {
				return -1
			}
			return 1
		})
		if i == 0 {
			return time.Time{}
		}
		return list[i-1].latestBegin
	}

	var replies, stale int
	var found []string
	logins := map[string]login{}
	for _, c := range clients {
		for _, l := range c.logins {
			logins[l.token] = l
		}
		for _, r := range c.signedIn {
			replies++
			if latestBefore(r.login.user, r.sent).After(r.login.done) {
				stale++
				if len(found) < 3 {
					found = append(found, fmt.Sprintf("a request of session %s was still signed in as %s after a sign-out of that user",
						singlesession.SessionID(r.login.token), r.login.user))
				}
			}
		}
	}

	var left, traced, survived int
	err := retry(ctx, patience, func() error {
		left, traced, survived = 0, 0, 0
		rows, err := pool.Query(ctx, `SELECT l.token, l.user_id FROM singlesession_links l JOIN sessions s USING (token)`)
		if err != nil {
			return err
		}
		var token, user string
		_, err = pgx.ForEachRow(rows, []any{&token, &user}, func() error {
			left++
			l, ok := logins[token]
			if !ok {
				return nil // a login whose reply was lost, or the probe's
			}
			traced++
			if latest[user].After(l.done) {
				survived++
				if len(found) < 3 {
					found = append(found, fmt.Sprintf("session %s of %s is left after a sign-out of that user", singlesession.SessionID(token), user))
				}
			}
			return nil
		})
		return err
	})
	return Invariant{
		Name: "no session outlives an operator's sign-out of its user",
		OK:   err == nil && stale == 0 && survived == 0,
		Detail: fmt.Sprintf("%d sign-outs; %d signed-in replies, %d still signed in after a later sign-out; %d sessions left, %d traced to their login, %d older than a sign-out%s%s",
			len(signOuts), replies, stale, left, traced, survived, firstFew(found), errSuffix(err)),
	}
}

// checkTables checks the rows left in the sessions and link tables.
func checkTables(ctx context.Context, pool *pgxpool.Pool, always bool, patience time.Duration) []Invariant {
	var list []Invariant
	add := func(name string, ok bool, format string, args ...any) {
		list = append(list, Invariant{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}
	if always {
		var live map[string]int
		err := retry(ctx, patience, func() error {
			var err error
			live, err = liveSessions(ctx, pool)
			return err
		})
		over := usersOver(live, 1)
		add("no user has more than one live session", err == nil && len(over) == 0,
			"%d users with live sessions; more than one: %s%s", len(live), listOrNone(over), errSuffix(err))
	}
	var orphans int
	err := retry(ctx, patience, func() error {
		return pool.QueryRow(ctx, `SELECT count(*) FROM singlesession_links l
WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.token = l.token)`).Scan(&orphans)
	})
	add("no link row without its session", err == nil && orphans == 0, "%d link rows without a session%s", orphans, errSuffix(err))

	var sessions int
	var disagree []string
	err = retry(ctx, patience, func() error {
		sessions, disagree = 0, nil
		rows, err := pool.Query(ctx, `SELECT s.token, s.data, COALESCE(l.user_id, '') FROM sessions s LEFT JOIN singlesession_links l USING (token)`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var token, linked string
			var data []byte
			if err := rows.Scan(&token, &data, &linked); err != nil {
				return err
			}
			sessions++
			_, values, err := scs.GobCodec{}.Decode(data)
			if err != nil {
				disagree = append(disagree, fmt.Sprintf("session %s: undecodable data: %v", singlesession.SessionID(token), err))
				continue
			}
			claim, _ := values["user"].(string)
			if claim != linked {
				disagree = append(disagree, fmt.Sprintf("session %s: data says %q, link says %q", singlesession.SessionID(token), claim, linked))
			}
		}
		return rows.Err()
	})
	add("no session claims a user without a link", err == nil && len(disagree) == 0,
		"%d sessions, %d disagree%s%s", sessions, len(disagree), firstFew(disagree), errSuffix(err))
	return list
}

// liveSessions returns how many unexpired sessions each user has.
func liveSessions(ctx context.Context, pool *pgxpool.Pool) (map[string]int, error) {
	rows, err := pool.Query(ctx, `SELECT l.user_id, count(*) FROM singlesession_links l JOIN sessions s USING (token)
WHERE now() < s.expiry GROUP BY l.user_id`)
	if err != nil {
		return nil, err
	}
	live := map[string]int{}
	var (
		user string
		n    int
	)
	_, err = pgx.ForEachRow(rows, []any{&user, &n}, func() error {
		live[user] = n
		return nil
	})
	return live, err
}

// sampler looks at the tables while the load runs: under Always, no
// snapshot of them may show a user with two live sessions, since a login
// ends the others in the transaction that adds its own.
type sampler struct {
	samples, bad int
	first        []string // the first violations seen
}

func (s *sampler) run(ctx context.Context, pool *pgxpool.Pool) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		live, err := liveSessions(ctx, pool)
		if err != nil {
			continue // a killed connection or a restart; the faults are the point
		}
		s.samples++
		if over := usersOver(live, 1); len(over) > 0 {
			s.bad++
			if len(s.first) < 3 {
				s.first = append(s.first, over...)
			}
		}
	}
}

// probe runs a whole login, write, read and logout on a new browser.
func probe(base string, transport http.RoundTripper, timeout time.Duration) error {
	c := newClient(base, transport, timeout)
	steps := []struct {
		method, path string
		form         url.Values
		status       int
		body         string
	}{
		{"POST", "/login", url.Values{"user": {probeUser}}, http.StatusNoContent, ""},
		{"POST", "/put", url.Values{}, http.StatusOK, probeUser},
		{"GET", "/whoami", nil, http.StatusOK, probeUser},
		{"POST", "/logout", url.Values{}, http.StatusNoContent, ""},
		{"GET", "/whoami", nil, http.StatusOK, ""},
	}
	for _, s := range steps {
		status, _, body, err := c.do(s.method, s.path, s.form)
		if err != nil {
			return err
		}
		if status != s.status || body != s.body {
			return fmt.Errorf("%s %s: %d %q, want %d %q", s.method, s.path, status, strings.TrimSpace(body), s.status, s.body)
		}
	}
	return nil
}

// retry calls f until it succeeds or patience runs out, and returns its last
// error.
func retry(ctx context.Context, patience time.Duration, f func() error) error {
	deadline := time.Now().Add(patience)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func usersOver(counts map[string]int, limit int) []string {
	var list []string
	for u, n := range counts {
		if n > limit {
			list = append(list, fmt.Sprintf("%s×%d", u, n))
		}
	}
	slices.Sort(list)
	return list
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func okOr(err error, ok string) string {
	if err != nil {
		return "failed: " + err.Error()
	}
	return ok
}

func errSuffix(err error) string {
	if err != nil {
		return "; error: " + err.Error()
	}
	return ""
}

func firstFew(list []string) string {
	if len(list) == 0 {
		return ""
	}
	if len(list) > 3 {
		return fmt.Sprintf(": %s, ...", strings.Join(list[:3], "; "))
	}
	return ": " + strings.Join(list, "; ")
}

func listOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
