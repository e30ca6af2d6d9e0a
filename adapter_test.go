package singlesession_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// iterateRoute signs in as the form's user when it has one (before or after
// the iteration, as the form's "when" says), and marks every session with
// scs's Iterate, committing each one inside fn as scs's README shows.
func iterateRoute(a *app) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		user, when := r.FormValue("user"), r.FormValue("when")
		if user != "" && when == "before" {
			if err := a.M.LoginHook(ctx, user); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		err := a.Sessions.Iterate(ctx, func(ctx context.Context) error {
			a.Sessions.Put(ctx, "seen", "yes")
			_, _, err := a.Sessions.Commit(ctx)
			return err
		})
		if err != nil {
			http.Error(w, "iterate: "+err.Error(), http.StatusInternalServerError)
			return
		}
		if user != "" && when == "after" {
			if err := a.M.LoginHook(ctx, user); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// Rule 13: scs's Iterate, with Commit inside, in a handler with r.Context(),
// before or after LoginHook, updates the sessions it iterates and nothing
// else: it creates none, and the login is saved as the login. On the code
// before, each Commit was taken for a new session (duplicate key), and after
// LoginHook for the login itself, which was lost.
func TestIterateInHandlerOnlyUpdates(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for variant, opt := range scsVariants {
			for _, when := range []string{"", "before", "after"} {
				t.Run(variant+"/login "+when, func(t *testing.T) {
					a := newApp(t, e.Store, withSessions(opt), withPolicy(singlesession.Never),
						withRoute("POST /iterate", iterateRoute))
					B, C := a.Browser("B"), a.Browser("C")
					B.MustLogin("bob")
					C.Put("cart", "apples")
					A := a.Browser("A")
					A.Put("cart", "pears")
					sessionsBefore, linksBefore := rows(t, e)

					alice := "alice " + variant + " " + when // the store is shared by the subtests
					form := url.Values{}
					if when != "" {
						form = url.Values{"user": {alice}, "when": {when}}
					}
					res, body := A.Do("POST", "/iterate", form)
					require.Equal(t, http.StatusNoContent, res.StatusCode, body)

					sessionsAfter, linksAfter := rows(t, e)
					assert.Equal(t, sessionsBefore, sessionsAfter, "Iterate created or ended no session (a login replaces A's)")
					if when != "" {
						assert.Equal(t, linksBefore+1, linksAfter, "the login linked A")
						assert.Equal(t, alice, A.WhoAmI(), "the login was saved")
						assert.Equal(t, 1, e.SessionsOf(t, alice))
					} else {
						assert.Equal(t, linksBefore, linksAfter)
						assert.Equal(t, "", A.WhoAmI())
					}
					assert.Equal(t, "pears", A.Get("cart"), "A kept its own data")
					assert.Equal(t, "bob", B.WhoAmI(), "Iterate signed nobody out")
					assert.Equal(t, "apples", C.Get("cart"))
					if !a.Sessions.HashTokenInStore {
						// With HashTokenInStore, scs's Iterate commits under a
						// hash of the store key, which finds no session: scs's
						// own limit, and still nothing is created.
						assert.Equal(t, "yes", B.Get("seen"), "Iterate's commit updated B")
						assert.Equal(t, "yes", C.Get("seen"), "Iterate's commit updated C")
					}
					assert.Zero(t, a.Errors.Load())
				})
			}
		}
	})
}

// Rule 13: scs's MergeSession in a handler, before or after LoginHook, merges
// another session's values into this one and deletes the other: it creates
// no session and signs nobody in or out but the merged session.
func TestMergeSessionInHandler(t *testing.T) {
	merge := func(a *app) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if r.FormValue("when") == "before" {
				require.NoError(t, a.M.LoginHook(ctx, "alice"))
			}
			if err := a.Sessions.MergeSession(ctx, r.FormValue("token")); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			if r.FormValue("when") == "after" {
				require.NoError(t, a.M.LoginHook(ctx, "alice"))
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}
	forEachStore(t, func(t *testing.T, e *env) {
		for _, when := range []string{"", "before", "after"} {
			t.Run("login "+when, func(t *testing.T) {
				a := newApp(t, e.Store, withPolicy(singlesession.Never), withRoute("POST /merge", merge))
				A, old, bob := a.Browser("A"), a.Browser("old"), a.Browser("bob")
				A.Put("cart", "pears")
				old.Put("wishlist", "figs")
				bob.MustLogin("bob")
				sessionsBefore, _ := rows(t, e)

				res, body := A.Do("POST", "/merge", url.Values{"token": {old.Cookie()}, "when": {when}})
				require.Equal(t, http.StatusNoContent, res.StatusCode, body)

				sessionsAfter, _ := rows(t, e)
				assert.Equal(t, sessionsBefore-1, sessionsAfter, "the merged session is gone, nothing was created")
				assert.Equal(t, "pears", A.Get("cart"))
				assert.Equal(t, "figs", A.Get("wishlist"))
				if when != "" {
					assert.Equal(t, "alice", A.WhoAmI())
				} else {
					assert.Equal(t, "", A.WhoAmI())
				}
				assert.Equal(t, "bob", bob.WhoAmI())
				assert.Zero(t, a.Errors.Load())
			})
		}
	})
}

// Rule 13: sessions.Commit outside a request never reports success for a
// write that did not happen: a new session is refused with an error (the
// Manager cannot tell it from an ended one), while scs's Iterate outside a
// request keeps updating live sessions.
func TestCommitOutsideRequest(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		ctx, err := a.Sessions.Load(context.Background(), "")
		require.NoError(t, err)
		a.Sessions.Put(ctx, "job", "done")
		sessionsBefore, _ := rows(t, e)
		token, _, err := a.Sessions.Commit(ctx)
		assert.ErrorIs(t, err, singlesession.ErrSessionNotFound, "no success for a write that did not happen (token %q)", token)
		sessionsAfter, _ := rows(t, e)
		assert.Equal(t, sessionsBefore, sessionsAfter)

		A := a.Browser("A")
		A.MustLogin("alice")
		err = a.Sessions.Iterate(context.Background(), func(ctx context.Context) error {
			a.Sessions.Put(ctx, "seen", "yes")
			_, _, err := a.Sessions.Commit(ctx)
			return err
		})
		require.NoError(t, err)
		assert.Equal(t, "yes", A.Get("seen"))
		assert.Equal(t, "alice", A.WhoAmI())
	})
}

// MergeSession (an OAuth callback merging the session from before the
// redirect) deletes another session; it leaves this request's user and a
// pending login alone.
func TestMergeSession(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store,
			withRoute("POST /merge", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if u := r.FormValue("login"); u != "" {
						require.NoError(t, a.M.LoginHook(r.Context(), u))
					}
					err := a.Sessions.MergeSession(r.Context(), r.FormValue("token"))
					fmt.Fprintf(w, "%v|%s", err, a.M.UserID(r.Context()))
				}
			}))
		cartOf := func() string {
			other := a.Browser("other")
			other.Put("cart", "figs")
			_, token := other.Do("GET", "/token", nil)
			return token
		}

		signedIn := a.Browser("signed in")
		signedIn.MustLogin("alice")
		_, body := signedIn.Do("POST", "/merge", url.Values{"token": {cartOf()}})
		assert.Equal(t, "<nil>|alice", body)
		assert.Equal(t, "alice", signedIn.WhoAmI())
		assert.Equal(t, "figs", signedIn.Get("cart"))

		callback := a.Browser("callback")
		_, body = callback.Do("POST", "/merge", url.Values{"token": {cartOf()}, "login": {"bob"}})
		assert.Equal(t, "<nil>|bob", body)
		assert.Equal(t, "bob", callback.WhoAmI())
		assert.Equal(t, "figs", callback.Get("cart"))

		// A browser with no cookie: the merged session's user is not this
		// browser's, even if the merge then fails.
		bob := a.Browser("bob")
		bob.MustLogin("bob2")
		_, bobToken := bob.Do("GET", "/token", nil)
		_, body = a.Browser("fresh").Do("POST", "/merge", url.Values{"token": {bobToken}})
		assert.True(t, strings.HasSuffix(body, "|"), "anonymous, got %q", body)
	})
}

// scs's Iterate works: it reads every live session, and a Commit inside it
// updates (never re-creates) and a Destroy deletes with the link.
func TestIterate(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		one, two := a.Browser("one"), a.Browser("two")
		one.MustLogin("alice")
		two.Put("cart", "nuts")

		var mu sync.Mutex
		seen := 0
		err := a.Sessions.Iterate(context.Background(), func(ctx context.Context) error {
			mu.Lock()
			seen++
			mu.Unlock()
			a.Sessions.Put(ctx, "touched", "yes")
			_, _, err := a.Sessions.Commit(ctx)
			return err
		})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, seen, 2)
		assert.Equal(t, "yes", one.Get("touched"))
		assert.Equal(t, "alice", one.WhoAmI())

		err = a.Sessions.Iterate(context.Background(), func(ctx context.Context) error {
			return a.Sessions.Destroy(ctx)
		})
		require.NoError(t, err)
		assert.Equal(t, "", one.WhoAmI())
		assert.Equal(t, "", two.Get("cart"))
		_, links := rows(t, e)
		assert.Zero(t, links)
	})
}
