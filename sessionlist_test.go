package singlesession_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// Rule 6.1.5: Sessions lists the live sessions of the request's user, oldest
// login first, with the request's own marked Current, the IP (ClientIP) and
// User-Agent recorded at login, and LastSeen; never a token; none when
// anonymous.
func TestSessionsListsTheUsersOwn(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store, withPolicy(singlesession.Never), withEndedRoute(), withTestClientIP())
		A := a.browser("A").as("Alpha/1.0", "192.0.2.1")
		B := a.browser("B").as("Beta/2.0", "192.0.2.2")
		C := a.browser("C").as("Gamma/3.0", "192.0.2.3")
		A.mustLogin("alice")
		B.mustLogin("alice")
		C.mustLogin("bob")

		list := B.sessions()
		require.Len(t, list, 2, "alice's sessions only")
		assert.Equal(t, []string{"Alpha/1.0", "Beta/2.0"}, []string{list[0].UserAgent, list[1].UserAgent}, "oldest login first")
		assert.Equal(t, []string{"192.0.2.1", "192.0.2.2"}, []string{list[0].IP, list[1].IP})
		assert.False(t, list[0].Current)
		assert.True(t, list[1].Current, "the request's own session")
		for _, s := range list {
			assert.Len(t, s.ID, 12)
			assert.False(t, s.Created.IsZero())
			assert.False(t, s.LastSeen.Before(s.Created))
			assert.True(t, s.Expiry.After(time.Now()))
		}
		assert.Equal(t, singlesession.SessionID(a.storeToken(A.cookie())), list[0].ID)
		_, body := B.do("GET", "/sessions", nil)
		for _, b := range []*browser{A, B, C} {
			assert.NotContains(t, body, b.cookie(), "no token in the list")
			assert.NotContains(t, body, a.storeToken(b.cookie()), "nor its store key")
		}

		assert.Empty(t, a.browser("anonymous").sessions())

		users, err := a.m.UserSessions(context.Background(), "alice")
		require.NoError(t, err)
		require.Len(t, users, 2)
		assert.False(t, users[0].Current || users[1].Current, "no request: nothing is current")
		_, err = a.m.UserSessions(context.Background(), "")
		assert.ErrorIs(t, err, singlesession.ErrInvalidUserID)
		counts, err := a.m.CountSessions(context.Background(), []string{"alice", "bob", "carol"})
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"alice": 2, "bob": 1}, counts)
	})
}

// Rule 6.1.5: EndSession ends one of the user's sessions by its ID; an ID
// that is not a live session of the request's user (another user's
// included) is refused with ErrSessionNotFound and ends nothing; ending the
// current session signs this browser out like its own logout, others stay.
func TestEndSession(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store, withPolicy(singlesession.Never), withEndedRoute())
		A, B, C := a.browser("A"), a.browser("B"), a.browser("C")
		A.mustLogin("alice")
		B.mustLogin("alice")
		C.mustLogin("bob")
		idB, idC := B.currentID(), C.currentID()

		res, _ := A.do("POST", "/end-session", url.Values{"id": {idC}})
		assert.Equal(t, http.StatusNotFound, res.StatusCode, "bob's session is not alice's to end")
		assert.Equal(t, "bob", C.whoami(), "and it did not end")
		for _, bad := range []string{"", "nope", "x\x00y", "AAAAAAAAAAAA", string(make([]byte, 100))} {
			res, _ := A.do("POST", "/end-session", url.Values{"id": {bad}})
			assert.Equal(t, http.StatusNotFound, res.StatusCode, "%q", bad)
		}
		res, _ = a.browser("anonymous").do("POST", "/end-session", url.Values{"id": {idB}})
		assert.Equal(t, http.StatusNotFound, res.StatusCode, "an anonymous request ends nothing")
		assert.Equal(t, 2, e.sessionsOf(t, "alice"))

		res, body := A.do("POST", "/end-session", url.Values{"id": {idB}})
		require.Equal(t, http.StatusNoContent, res.StatusCode, body)
		assert.Equal(t, "", B.whoami())
		ending, ok := B.ended()
		assert.True(t, ok)
		assert.Equal(t, singlesession.ReasonRevoked, ending.Reason)
		assert.Equal(t, "alice", A.whoami())
		res, _ = A.do("POST", "/end-session", url.Values{"id": {idB}})
		assert.Equal(t, http.StatusNotFound, res.StatusCode, "an ended session is not found")

		D := a.browser("D")
		D.mustLogin("alice")
		res, _ = A.do("POST", "/end-session", url.Values{"id": {A.currentID()}})
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		assert.Equal(t, "", A.whoami(), "ending the current session signs this browser out")
		_, ok = A.ended()
		assert.False(t, ok, "as its own logout: no reason")
		assert.Equal(t, "alice", D.whoami(), "the user's other sessions stay")

		// Operators end a session of any user by its ID.
		assert.ErrorIs(t, a.m.EndUserSession(context.Background(), "alice", idC), singlesession.ErrSessionNotFound, "bob's ID is not alice's")
		require.NoError(t, a.m.EndUserSession(context.Background(), "bob", idC))
		assert.Equal(t, "", C.whoami())
		ending, ok = C.ended()
		assert.True(t, ok)
		assert.Equal(t, singlesession.ReasonAdmin, ending.Reason)
		assert.ErrorIs(t, a.m.EndUserSession(context.Background(), "", idC), singlesession.ErrInvalidUserID)
	})
}

// Rule 6.1.5: EndOtherSessions ends every other session of the user and
// returns how many live ones ended; an anonymous request ends nothing.
func TestEndOtherSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.store, withPolicy(singlesession.Never), withEndedRoute())
		A, B, C, bob := a.browser("A"), a.browser("B"), a.browser("C"), a.browser("bob")
		A.mustLogin("alice")
		B.mustLogin("alice")
		C.mustLogin("alice")
		bob.mustLogin("bob")
		expire(t, e, a.storeToken(C.cookie()))

		_, body := A.do("POST", "/end-others", url.Values{})
		assert.Equal(t, "1", body, "live sessions ended (C had expired)")
		assert.Equal(t, "alice", A.whoami())
		assert.Equal(t, "", B.whoami())
		ending, ok := B.ended()
		assert.True(t, ok)
		assert.Equal(t, singlesession.ReasonRevoked, ending.Reason)
		assert.Equal(t, "bob", bob.whoami(), "other users are untouched")
		assert.Equal(t, 1, e.sessionsOf(t, "alice"))

		_, body = a.browser("anonymous").do("POST", "/end-others", url.Values{})
		assert.Equal(t, "0", body)
		assert.Equal(t, "alice", A.whoami())
	})
}
