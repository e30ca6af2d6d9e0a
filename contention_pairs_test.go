package singlesession_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// limitKey carries the Limit of a login through its context, so that one
// app can sign users in under Never, Always and Limit{Max: 2}.
type limitKey struct{}

func limitByContext(ctx context.Context, _ string) singlesession.Limit {
	l, _ := ctx.Value(limitKey{}).(singlesession.Limit)
	return l
}

// loginWithLimit signs in as the form's user under the form's max.
func loginWithLimit(a *app) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var max int
		fmt.Sscan(r.FormValue("max"), &max)
		ctx := context.WithValue(r.Context(), limitKey{}, singlesession.Limit{Max: max})
		if err := a.m.LoginHook(ctx, r.FormValue("user")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// mergeRoute merges the session of the form's token into the request's.
func mergeRoute(a *app) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.SessionManager().MergeSession(r.Context(), r.FormValue("token")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// arena is one round of TestEveryPairOfSessionChanges: two instances, and
// alice, bob and carol signed in on three browsers each, the third one
// expired, with the IDs of alice's sessions.
type arena struct {
	apps     []*app
	browsers map[string][]*browser
	ids      map[string][]string
}

// change is one operation that changes sessions; it returns a description
// of its failure, or "".
type change func(r *arena) string

func expectStatus(what string, want int, res *http.Response, body string) string {
	if res.StatusCode != want {
		return fmt.Sprintf("%s: %d %s", what, res.StatusCode, body)
	}
	return ""
}

// The operations that change sessions, every one racing every other one
// (itself included) in TestEveryPairOfSessionChanges.
var changes = map[string]change{
	"logout": func(r *arena) string {
		res, body := r.browsers["alice"][0].do("POST", "/logout", url.Values{})
		return expectStatus("logout", http.StatusNoContent, res, body)
	},
	"login, Always": func(r *arena) string {
		res, body := r.apps[1].browser("new").do("POST", "/login-limit", url.Values{"user": {"alice"}, "max": {"1"}})
		return expectStatus("login", http.StatusNoContent, res, body)
	},
	"login, Limit 2": func(r *arena) string {
		res, body := r.apps[0].browser("new").do("POST", "/login-limit", url.Values{"user": {"alice"}, "max": {"2"}})
		return expectStatus("login", http.StatusNoContent, res, body)
	},
	"re-login": func(r *arena) string {
		res, body := r.browsers["alice"][1].do("POST", "/login-limit", url.Values{"user": {"alice"}, "max": {"2"}})
		return expectStatus("re-login", http.StatusNoContent, res, body)
	},
	"switch user": func(r *arena) string {
		res, body := r.browsers["alice"][1].do("POST", "/login-limit", url.Values{"user": {"bob"}, "max": {"1"}})
		return expectStatus("switch to bob", http.StatusNoContent, res, body)
	},
	"LogoutUsers": func(r *arena) string {
		if _, err := r.apps[0].m.LogoutUsers(context.Background(), []string{"carol", "alice", "bob"}); err != nil {
			return err.Error()
		}
		return ""
	},
	"EndSession": func(r *arena) string {
		res, body := r.browsers["alice"][1].do("POST", "/end-session", url.Values{"id": {r.ids["alice"][0]}})
		if res.StatusCode != http.StatusNoContent && res.StatusCode != http.StatusNotFound { // it may have ended first
			return fmt.Sprintf("EndSession: %d %s", res.StatusCode, body)
		}
		return ""
	},
	"EndOtherSessions": func(r *arena) string {
		res, body := r.browsers["alice"][0].do("POST", "/end-others", url.Values{})
		return expectStatus("EndOtherSessions", http.StatusOK, res, body)
	},
	"EndUserSession": func(r *arena) string {
		err := r.apps[1].m.EndUserSession(context.Background(), "alice", r.ids["alice"][1])
		if err != nil && !errorsIsNotFound(err) {
			return err.Error()
		}
		return ""
	},
	"DeleteExpired": func(r *arena) string {
		if _, err := r.apps[1].m.DeleteExpired(context.Background()); err != nil {
			return err.Error()
		}
		return ""
	},
	"read, refreshing LastSeen": func(r *arena) string {
		res, body := r.browsers["alice"][1].do("GET", "/whoami", nil)
		return expectStatus("read", http.StatusOK, res, body)
	},
	"write": func(r *arena) string {
		res, body := r.browsers["alice"][0].do("POST", "/put", url.Values{"key": {"k"}, "val": {"v"}})
		return expectStatus("write", http.StatusNoContent, res, body)
	},
	"Iterate in a handler": func(r *arena) string {
		res, body := r.browsers["bob"][0].do("POST", "/iterate", url.Values{})
		return expectStatus("iterate", http.StatusNoContent, res, body)
	},
	"MergeSession": func(r *arena) string {
		res, body := r.apps[0].browser("merger").do("POST", "/merge", url.Values{"token": {r.browsers["alice"][1].cookie()}})
		return expectStatus("merge", http.StatusNoContent, res, body)
	},
}

func errorsIsNotFound(err error) bool {
	return errors.Is(err, singlesession.ErrSessionNotFound)
}

// Rule 13, every path against every path: each operation that changes
// sessions (login under Always, under a limit, re-login, switching user,
// logout, operators' sign-out, EndSession, EndOtherSessions,
// EndUserSession, DeleteExpired, a LastSeen refresh, a write, Iterate and
// MergeSession in handlers) runs at the same moment as each other one, on two
// instances sharing the store, round after round. Every one must succeed,
// and afterwards the store must hold together: each live link has its
// session, no user holds more sessions than the last login allowed, and the
// errors stay at zero.
func TestEveryPairOfSessionChanges(t *testing.T) {
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	names := make([]string, 0, len(changes))
	for name := range changes {
		names = append(names, name)
	}
	slices.Sort(names)
	opts := []appOption{
		withConfig(func(c *singlesession.Config) {
			c.Limit = limitByContext
			c.LastSeenInterval = time.Nanosecond // every signed-in request refreshes LastSeen
		}),
		withRoute("POST /login-limit", loginWithLimit),
		withRoute("POST /iterate", iterateRoute),
		withRoute("POST /merge", mergeRoute),
		withEndedRoute(),
	}
	forEachStore(t, func(t *testing.T, e *env) {
		apps := twoInstances(t, e, opts...)
		for i, first := range names {
			for _, second := range names[i:] {
				t.Run(first+" | "+second, func(t *testing.T) {
					for round := range rounds {
						r := newArena(t, e, apps)
						var wg sync.WaitGroup
						start := make(chan struct{})
						failures := make([]string, 2)
						for k, name := range []string{first, second} {
							wg.Go(func() {
								<-start
								failures[k] = changes[name](r)
							})
						}
						close(start)
						wg.Wait()
						for _, f := range failures {
							assert.Empty(t, f, "round %d", round)
						}
						checkArena(t, e, r)
						if t.Failed() {
							return
						}
					}
					for _, a := range apps {
						assert.Zero(t, a.errors.Load(), "ErrorFunc calls")
					}
				})
			}
		}
	})
}

func newArena(t *testing.T, e *env, apps []*app) *arena {
	t.Helper()
	_, err := apps[0].m.LogoutUsers(context.Background(), []string{"alice", "bob", "carol"})
	require.NoError(t, err)
	r := &arena{apps: apps, browsers: map[string][]*browser{}, ids: map[string][]string{}}
	for _, user := range []string{"alice", "bob", "carol"} {
		for i := range 3 {
			b := apps[i%2].browser(fmt.Sprintf("%s %d", user, i))
			res, body := b.do("POST", "/login-limit", url.Values{"user": {user}, "max": {"0"}})
			require.Equal(t, http.StatusNoContent, res.StatusCode, body)
			r.browsers[user] = append(r.browsers[user], b)
		}
		for _, b := range r.browsers[user] {
			r.ids[user] = append(r.ids[user], singlesession.SessionID(apps[0].storeToken(b.cookie())))
		}
		expire(t, e, apps[0].storeToken(r.browsers[user][2].cookie()))
	}
	return r
}

// checkArena checks what must hold whatever order the two changes took:
// every listed session answers as its user, and no user holds more than 5
// live sessions (3 at the start, at most one new per change).
func checkArena(t *testing.T, e *env, r *arena) {
	t.Helper()
	counts, err := e.store.CountSessions(context.Background(), []string{"alice", "bob", "carol"})
	require.NoError(t, err)
	for user, n := range counts {
		assert.LessOrEqual(t, n, 5, "%s's sessions", user)
	}
	sessions, links := rows(t, e)
	assert.LessOrEqual(t, links, sessions, "every link has its session")
}
