package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
)

// limitKey carries the Limit of a login through its context, so that one
// application signs users in under Never, Always, a limit and RejectNew.
type limitKey struct{}

func limitByContext(ctx context.Context, _ string) singlesession.Limit {
	l, _ := ctx.Value(limitKey{}).(singlesession.Limit)
	return l
}

// withLimitsByForm makes POST /login-limit sign in under the form's max and
// reject, and every signed-in request refresh LastSeen.
func withLimitsByForm() []option {
	return []option{
		testapp.WithConfig(func(c *singlesession.Config) {
			c.Limit = limitByContext
			c.LastSeenInterval = time.Nanosecond
		}),
		testapp.WithRoute("POST /login-limit", func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				max, _ := strconv.Atoi(r.FormValue("max"))
				limit := singlesession.Limit{Max: max, RejectNew: r.FormValue("reject") == "true"}
				if err := a.M.LoginHook(context.WithValue(r.Context(), limitKey{}, limit), r.FormValue("user")); err != nil {
					code := http.StatusBadRequest
					if errors.Is(err, singlesession.ErrTooManySessions) {
						code = http.StatusConflict
					}
					http.Error(w, err.Error(), code)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}
		}),
	}
}

// arena is one round of testEveryPairOfChanges: two application instances,
// and alice, bob and carol signed in on three browsers each, with the IDs
// of alice's sessions.
type arena struct {
	apps     []*app
	browsers map[string][]*browser
	ids      []string
}

// change is one operation that changes sessions; it returns a description
// of its failure, or "".
type change func(r *arena) string

func status(what string, res *http.Response, body string, want ...int) string {
	if !slices.Contains(want, res.StatusCode) {
		return fmt.Sprintf("%s: %d %s", what, res.StatusCode, body)
	}
	return ""
}

func loginAs(b *browser, user string, max int, reject bool) (*http.Response, string) {
	return b.Do("POST", "/login-limit", url.Values{"user": {user}, "max": {strconv.Itoa(max)}, "reject": {strconv.FormatBool(reject)}})
}

// changes are the operations that change sessions, every one racing every
// other one (itself included) in testEveryPairOfChanges.
var changes = map[string]change{
	"logout": func(r *arena) string {
		res, body := r.browsers["alice"][0].Do("POST", "/logout", url.Values{})
		return status("logout", res, body, http.StatusNoContent)
	},
	"login, Always": func(r *arena) string {
		res, body := loginAs(r.apps[1].Browser("new"), "alice", 1, false)
		return status("login", res, body, http.StatusNoContent)
	},
	"login, Limit 2": func(r *arena) string {
		res, body := loginAs(r.apps[0].Browser("new"), "alice", 2, false)
		return status("login", res, body, http.StatusNoContent)
	},
	"login, RejectNew 4": func(r *arena) string { // refused (409) when the other change added one
		res, body := loginAs(r.apps[1].Browser("new"), "alice", 4, true)
		return status("login", res, body, http.StatusNoContent, http.StatusConflict)
	},
	"re-login": func(r *arena) string {
		res, body := loginAs(r.browsers["alice"][1], "alice", 2, false)
		return status("re-login", res, body, http.StatusNoContent)
	},
	"switch user": func(r *arena) string {
		res, body := loginAs(r.browsers["alice"][1], "bob", 1, false)
		return status("switch to bob", res, body, http.StatusNoContent)
	},
	"LogoutUsers": func(r *arena) string {
		if _, err := r.apps[0].M.LogoutUsers(context.Background(), []string{"carol", "alice", "bob"}); err != nil {
			return err.Error()
		}
		return ""
	},
	"EndSession": func(r *arena) string { // 404 when the other change ended it first
		res, body := r.browsers["alice"][1].Do("POST", "/end-session", url.Values{"id": {r.ids[0]}})
		return status("EndSession", res, body, http.StatusNoContent, http.StatusNotFound)
	},
	"EndOtherSessions": func(r *arena) string { // 404 when the other change ended the asking session first
		res, body := r.browsers["alice"][0].Do("POST", "/end-others", url.Values{})
		return status("EndOtherSessions", res, body, http.StatusOK, http.StatusNotFound)
	},
	"EndUserSession": func(r *arena) string {
		err := r.apps[1].M.EndUserSession(context.Background(), "alice", r.ids[1])
		if err != nil && !errors.Is(err, singlesession.ErrSessionNotFound) {
			return err.Error()
		}
		return ""
	},
	"DeleteExpired": func(r *arena) string {
		if _, err := r.apps[1].M.DeleteExpired(context.Background()); err != nil {
			return err.Error()
		}
		return ""
	},
	"read, refreshing LastSeen": func(r *arena) string {
		res, body := r.browsers["alice"][1].Do("GET", "/whoami", nil)
		return status("read", res, body, http.StatusOK)
	},
	"write": func(r *arena) string {
		res, body := r.browsers["alice"][0].Do("POST", "/put", url.Values{"key": {"k"}, "val": {"v"}})
		return status("write", res, body, http.StatusNoContent)
	},
	"Iterate in a handler": func(r *arena) string {
		res, body := r.browsers["bob"][0].Do("POST", "/iterate", url.Values{})
		return status("iterate", res, body, http.StatusNoContent)
	},
	"MergeSession": func(r *arena) string {
		res, body := r.apps[0].Browser("merger").Do("POST", "/merge", url.Values{"token": {r.browsers["alice"][2].Cookie()}})
		return status("merge", res, body, http.StatusNoContent)
	},
}

// Rule 13, every path against every path: each operation that creates,
// changes or ends sessions (logins under Always, a limit and RejectNew,
// re-login, switching user, logout, operators' sign-out, EndSession,
// EndOtherSessions, EndUserSession, DeleteExpired, a LastSeen refresh, a
// write, Iterate and MergeSession in handlers) runs at the same moment as
// each other one, itself included, on two instances sharing the backend,
// round after round. Every one must succeed (or be refused as its rule
// says), and no user may end up with more sessions than three plus one per
// change.
func testEveryPairOfChanges(t *testing.T, b *Backend) {
	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	names := make([]string, 0, len(changes))
	for name := range changes {
		names = append(names, name)
	}
	slices.Sort(names)
	apps := []*app{newApp(t, b.Store, withLimitsByForm()...), newApp(t, b.Second, withLimitsByForm()...)}
	for i, first := range names {
		for _, second := range names[i:] {
			t.Run(first+" | "+second, func(t *testing.T) {
				for round := range rounds {
					r := newArena(t, b, apps)
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
					counts, err := b.Store.CountSessions(context.Background(), []string{"alice", "bob", "carol"})
					require.NoError(t, err)
					for user, n := range counts {
						assert.LessOrEqual(t, n, 5, "round %d: %s's sessions", round, user)
					}
					if t.Failed() {
						return
					}
				}
				for _, a := range apps {
					assert.Zero(t, a.Errors.Load(), "ErrorFunc calls")
				}
			})
		}
	}
}

func newArena(t *testing.T, b *Backend, apps []*app) *arena {
	t.Helper()
	_, err := apps[0].M.LogoutUsers(context.Background(), []string{"alice", "bob", "carol"})
	require.NoError(t, err)
	r := &arena{apps: apps, browsers: map[string][]*browser{}}
	for _, user := range []string{"alice", "bob", "carol"} {
		for i := range 3 {
			br := apps[i%2].Browser(fmt.Sprintf("%s %d", user, i))
			res, body := loginAs(br, user, 0, false)
			require.Equal(t, http.StatusNoContent, res.StatusCode, body)
			r.browsers[user] = append(r.browsers[user], br)
			// Each instance loads the session once before the round, as a
			// browser's second request does: a store that remembers what it
			// loaded (redisstore's pointers, pgxstore's links) races the
			// changes on that path, not only on a first load.
			twin := apps[(i+1)%2].Browser(fmt.Sprintf("%s %d, twin", user, i))
			twin.SetCookie(br.Cookie())
			require.Equal(t, user, twin.WhoAmI())
			require.Equal(t, user, br.WhoAmI())
		}
	}
	for _, br := range r.browsers["alice"] {
		r.ids = append(r.ids, br.ID())
	}
	return r
}
