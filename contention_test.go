package singlesession_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/pgxstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endOthersKey marks a login context whose policy answer is "end the others".
type endOthersKey struct{}

// policyByContext ends the user's other sessions only for logins through
// /login-ending, so that one app can build users with several sessions
// (policy Never) and also log in as Always.
func policyByContext(ctx context.Context, _ string) bool {
	return ctx.Value(endOthersKey{}) != nil
}

func loginEndingRoute(a *app) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), endOthersKey{}, true)
		if err := a.M.LoginHook(ctx, r.FormValue("user")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// contender is one operation that ends sessions, run by one of the pairs of
// TestConcurrentEndingsAllSucceed; it returns a description of its failure,
// or "".
type contender func(t *testing.T, c *contest) string

// contest is one round: the apps (two instances on one database), and the
// browsers signed in as each user.
type contest struct {
	apps     []*app
	browsers map[string][]*browser
}

func logoutOf(user string, i int) contender {
	return func(t *testing.T, c *contest) string {
		res, body := c.browsers[user][i].Do("POST", "/logout", url.Values{})
		if res.StatusCode != http.StatusNoContent {
			return fmt.Sprintf("logout of %s on browser %d: %d %s", user, i, res.StatusCode, body)
		}
		return ""
	}
}

func loginEnding(user string, app int) contender {
	return func(t *testing.T, c *contest) string {
		b := c.apps[app].Browser("new " + user)
		res, body := b.Do("POST", "/login-ending", url.Values{"user": {user}})
		if res.StatusCode != http.StatusNoContent {
			return fmt.Sprintf("login of %s ending others: %d %s", user, res.StatusCode, body)
		}
		return ""
	}
}

func loginOver(user string, i int, as string) contender {
	return func(t *testing.T, c *contest) string {
		res, body := c.browsers[user][i].Do("POST", "/login-ending", url.Values{"user": {as}})
		if res.StatusCode != http.StatusNoContent {
			return fmt.Sprintf("login as %s on %s's browser %d: %d %s", as, user, i, res.StatusCode, body)
		}
		return ""
	}
}

func logoutUsers(app int, users ...string) contender {
	return func(t *testing.T, c *contest) string {
		if _, err := c.apps[app].M.LogoutUsers(context.Background(), users); err != nil {
			return fmt.Sprintf("LogoutUsers(%v): %v", users, err)
		}
		return ""
	}
}

func deleteExpired(app int) contender {
	return func(t *testing.T, c *contest) string {
		if _, err := c.apps[app].M.DeleteExpired(context.Background()); err != nil {
			return fmt.Sprintf("DeleteExpired: %v", err)
		}
		return ""
	}
}

// Rule 13: operations that end sessions of one user at the same moment all
// succeed, on two instances sharing the store. Each round signs alice, bob
// and carol in on three browsers each (spread over both instances, some
// sessions already expired), then starts both operations of a pair at once.
// On the code before per-user locks, two logouts of alice answered 500
// (PostgreSQL: deadlock detected) in about one round in ten.
func TestConcurrentEndingsAllSucceed(t *testing.T) {
	pairs := map[string][2]contender{
		"logout, logout":                        {logoutOf("alice", 0), logoutOf("alice", 1)},
		"logout, LogoutUsers":                   {logoutOf("alice", 0), logoutUsers(1, "alice")},
		"login ending others, logout":           {loginEnding("alice", 0), logoutOf("alice", 1)},
		"login ending others, LogoutUsers":      {loginEnding("alice", 1), logoutUsers(0, "alice")},
		"login ending others, login":            {loginEnding("alice", 0), loginEnding("alice", 1)},
		"LogoutUsers, LogoutUsers reversed":     {logoutUsers(0, "alice", "bob", "carol"), logoutUsers(1, "carol", "bob", "alice")},
		"switching user, logout of both":        {loginOver("alice", 0, "bob"), logoutOf("bob", 1)},
		"switching user, LogoutUsers of both":   {loginOver("alice", 0, "bob"), logoutUsers(1, "bob", "alice")},
		"logout, DeleteExpired":                 {logoutOf("alice", 2), deleteExpired(1)},
		"LogoutUsers, DeleteExpired":            {logoutUsers(0, "carol", "alice"), deleteExpired(1)},
		"logouts of two users, switching users": {logoutOf("bob", 0), loginOver("carol", 1, "bob")},
	}
	rounds := 100
	if testing.Short() {
		rounds = 20
	}
	forEachInstancePair(t, func(t *testing.T, e *env, apps []*app) {
		for name, pair := range pairs {
			t.Run(name, func(t *testing.T) {
				for round := range rounds {
					c := &contest{apps: apps, browsers: map[string][]*browser{}}
					for _, user := range []string{"alice", "bob", "carol"} {
						for i := range 3 {
							b := apps[i%2].Browser(fmt.Sprintf("%s %d", user, i))
							b.MustLogin(user)
							c.browsers[user] = append(c.browsers[user], b)
						}
						expire(t, e, apps[0].StoreToken(c.browsers[user][2].Cookie()))
					}
					var wg sync.WaitGroup
					start := make(chan struct{})
					failures := make([]string, 2)
					for i, op := range pair {
						wg.Go(func() {
							<-start
							failures[i] = op(t, c)
						})
					}
					close(start)
					wg.Wait()
					for _, f := range failures {
						assert.Empty(t, f, "round %d", round)
					}
					if t.Failed() {
						return
					}
					// Start the next round from nothing.
					_, err := apps[0].M.LogoutUsers(context.Background(), []string{"alice", "bob", "carol"})
					require.NoError(t, err)
				}
				for _, a := range apps {
					assert.Zero(t, a.Errors.Load(), "ErrorFunc calls")
				}
			})
		}
	})
}

// forEachInstancePair runs f on two apps (two Managers) that share one store:
// a MemoryStore, and a PostgreSQL schema reached through two pools. Their
// policy is [policyByContext], and they serve /login-ending.
func forEachInstancePair(t *testing.T, f func(t *testing.T, e *env, apps []*app)) {
	opts := []appOption{withPolicy(policyByContext), withRoute("POST /login-ending", loginEndingRoute)}
	forEachStore(t, func(t *testing.T, e *env) {
		second := e.Store
		if e.Pool != nil {
			var schema string
			require.NoError(t, e.Pool.QueryRow(context.Background(), `SELECT current_schema()`).Scan(&schema))
			second = pgxstore.New(pgtest.Pool(t, schema, nil))
		}
		f(t, e, []*app{newApp(t, e.Store, opts...), newApp(t, second, opts...)})
	})
}

// The per-user locks also serialise a sign-out of thousands of users, and a
// sign-out never needs more locks than PostgreSQL's shared lock table holds:
// 50,000 users, four sign-outs at once. With one lock per user instead of
// 1,024 buckets this fails with "out of shared memory" (at 8,000 users it did
// not, so that size could not fail).
func TestLogoutUsersOfManyUsersWithConcurrentLogouts(t *testing.T) {
	forEachInstancePair(t, func(t *testing.T, e *env, apps []*app) {
		users := make([]string, 50000)
		for i := range users {
			users[i] = fmt.Sprintf("user%05d", i)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 4)
		for i := range 4 {
			wg.Go(func() {
				<-start
				list := users
				if i%2 == 1 {
					list = make([]string, len(users))
					for j, u := range users {
						list[len(users)-1-j] = u
					}
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				_, err := apps[i%2].M.LogoutUsers(ctx, list)
				errs <- err
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
	})
}
