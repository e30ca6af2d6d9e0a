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

// Rules 6.1.5 and 8.5: Sessions lists the live sessions of the request's
// user, most recently used first, with the request's own marked Current, the IP (ClientIP) and
// User-Agent recorded at login, and LastSeen; never a token; none when
// anonymous.
func TestSessionsListsTheUsersOwn(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withPolicy(singlesession.Never), withTestClientIP())
		A := as(a.Browser("A"), "Alpha/1.0", "192.0.2.1")
		B := as(a.Browser("B"), "Beta/2.0", "192.0.2.2")
		C := as(a.Browser("C"), "Gamma/3.0", "192.0.2.3")
		A.MustLogin("alice")
		B.MustLogin("alice")
		C.MustLogin("bob")

		list := B.Sessions()
		require.Len(t, list, 2, "alice's sessions only")
		assert.Equal(t, []string{"Beta/2.0", "Alpha/1.0"}, []string{list[0].UserAgent, list[1].UserAgent}, "most recently used first")
		assert.Equal(t, []string{"192.0.2.2", "192.0.2.1"}, []string{list[0].IP, list[1].IP})
		assert.True(t, list[0].Current, "the request's own session")
		assert.False(t, list[1].Current)
		for _, s := range list {
			assert.Len(t, s.ID, 12)
			assert.False(t, s.Created.IsZero())
			assert.False(t, s.LastSeen.Before(s.Created))
			assert.True(t, s.Expiry.After(time.Now()))
		}
		assert.Equal(t, singlesession.SessionID(a.StoreToken(A.Cookie())), list[1].ID)
		_, body := B.Do("GET", "/sessions", nil)
		for _, b := range []*browser{A, B, C} {
			assert.NotContains(t, body, b.Cookie(), "no token in the list")
			assert.NotContains(t, body, a.StoreToken(b.Cookie()), "nor its store key")
		}

		assert.Empty(t, a.Browser("anonymous").Sessions())

		users, err := a.M.UserSessions(context.Background(), "alice")
		require.NoError(t, err)
		require.Len(t, users, 2)
		assert.False(t, users[0].Current || users[1].Current, "no request: nothing is current")
		_, err = a.M.UserSessions(context.Background(), "")
		assert.ErrorIs(t, err, singlesession.ErrInvalidUserID)
		counts, err := a.M.CountSessions(context.Background(), []string{"alice", "bob", "carol"})
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
		a := newApp(t, e.Store, withPolicy(singlesession.Never))
		A, B, C := a.Browser("A"), a.Browser("B"), a.Browser("C")
		A.MustLogin("alice")
		B.MustLogin("alice")
		C.MustLogin("bob")
		idB, idC := B.CurrentID(), C.CurrentID()

		res, _ := A.Do("POST", "/end-session", url.Values{"id": {idC}})
		assert.Equal(t, http.StatusNotFound, res.StatusCode, "bob's session is not alice's to end")
		assert.Equal(t, "bob", C.WhoAmI(), "and it did not end")
		for _, bad := range []string{"", "nope", "x\x00y", "AAAAAAAAAAAA", string(make([]byte, 100))} {
			res, _ := A.Do("POST", "/end-session", url.Values{"id": {bad}})
			assert.Equal(t, http.StatusNotFound, res.StatusCode, "%q", bad)
		}
		res, _ = a.Browser("anonymous").Do("POST", "/end-session", url.Values{"id": {idB}})
		assert.Equal(t, http.StatusNotFound, res.StatusCode, "an anonymous request ends nothing")
		assert.Equal(t, 2, e.SessionsOf(t, "alice"))

		res, body := A.Do("POST", "/end-session", url.Values{"id": {idB}})
		require.Equal(t, http.StatusNoContent, res.StatusCode, body)
		assert.Equal(t, "", B.WhoAmI())
		ending, ok := B.Ending()
		assert.True(t, ok)
		assert.Equal(t, singlesession.ReasonRevoked, ending.Reason)
		assert.Equal(t, "alice", A.WhoAmI())
		res, _ = A.Do("POST", "/end-session", url.Values{"id": {idB}})
		assert.Equal(t, http.StatusNotFound, res.StatusCode, "an ended session is not found")

		D := a.Browser("D")
		D.MustLogin("alice")
		res, _ = A.Do("POST", "/end-session", url.Values{"id": {A.CurrentID()}})
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		assert.Equal(t, "", A.WhoAmI(), "ending the current session signs this browser out")
		_, ok = A.Ending()
		assert.False(t, ok, "as its own logout: no reason")
		assert.Equal(t, "alice", D.WhoAmI(), "the user's other sessions stay")

		// Operators end a session of any user by its ID.
		assert.ErrorIs(t, a.M.EndUserSession(context.Background(), "alice", idC), singlesession.ErrSessionNotFound, "bob's ID is not alice's")
		require.NoError(t, a.M.EndUserSession(context.Background(), "bob", idC))
		assert.Equal(t, "", C.WhoAmI())
		ending, ok = C.Ending()
		assert.True(t, ok)
		assert.Equal(t, singlesession.ReasonAdmin, ending.Reason)
		assert.ErrorIs(t, a.M.EndUserSession(context.Background(), "", idC), singlesession.ErrInvalidUserID)
	})
}

// Rule 6.1.5: EndOtherSessions ends every other session of the user and
// returns how many live ones ended; an anonymous request ends nothing.
func TestEndOtherSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withPolicy(singlesession.Never))
		A, B, C, bob := a.Browser("A"), a.Browser("B"), a.Browser("C"), a.Browser("bob")
		A.MustLogin("alice")
		B.MustLogin("alice")
		C.MustLogin("alice")
		bob.MustLogin("bob")
		expire(t, e, a.StoreToken(C.Cookie()))

		_, body := A.Do("POST", "/end-others", url.Values{})
		assert.Equal(t, "1", body, "live sessions ended (C had expired)")
		assert.Equal(t, "alice", A.WhoAmI())
		assert.Equal(t, "", B.WhoAmI())
		ending, ok := B.Ending()
		assert.True(t, ok)
		assert.Equal(t, singlesession.ReasonRevoked, ending.Reason)
		assert.Equal(t, "bob", bob.WhoAmI(), "other users are untouched")
		assert.Equal(t, 1, e.SessionsOf(t, "alice"))

		_, body = a.Browser("anonymous").Do("POST", "/end-others", url.Values{})
		assert.Equal(t, "0", body)
		assert.Equal(t, "alice", A.WhoAmI())
	})
}
