package storetest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
)

// The cases of SPEC section 8 that apply to every store: what an adversarial
// review found at the edges.

// 8.3: alice signs in on old and keep (Limit 2). A request of old is in
// flight when alice signs in on fresh, which ends old (the least recently
// used). When old's request then asks to end other sessions, to end keep's,
// or to sign out (with LogoutHook, or as scs's README does, RenewToken
// first), nothing ends: keep and fresh stay signed in, and no
// reason is recorded for them. (A stolen cookie used at the moment of a
// login cannot sign the owner out.)
func testEndedSessionEndsNothing(t *testing.T, b *Backend) {
	for _, op := range []string{"end-others", "end-session", "logout", "renew-logout"} {
		t.Run(op, func(t *testing.T) {
			a := newApp(t, b.Store, withLimit(singlesession.Limit{Max: 2}))
			second := newApp(t, b.Second, withLimit(singlesession.Limit{Max: 2}))
			old, keep, fresh := a.Browser("old"), a.Browser("keep"), second.Browser("fresh")
			old.MustLogin("alice")
			time.Sleep(2 * time.Millisecond) // old is the least recently used
			keep.MustLogin("alice")

			type reply struct {
				status int
				body   string
			}
			done := make(chan reply, 1)
			go func() {
				res, body := old.Do("POST", "/slow-then", url.Values{"op": {op}, "id": {keep.ID()}})
				done <- reply{res.StatusCode, body}
			}()
			<-a.Entered
			fresh.MustLogin("alice") // ends old, as the least recently used
			close(a.Release)
			r := <-done

			if op == "logout" || op == "renew-logout" {
				assert.Equal(t, http.StatusNoContent, r.status, "logging out an ended session is not an error: %s", r.body)
			} else {
				assert.Equal(t, http.StatusNotFound, r.status, "ErrSessionNotFound: %s", r.body)
			}
			assert.Equal(t, "", old.WhoAmI(), "old stays signed out")
			assert.Equal(t, "alice", keep.WhoAmI(), "keep stays signed in")
			assert.Equal(t, "alice", fresh.WhoAmI(), "fresh stays signed in")
			assert.Equal(t, "", keep.Ended(), "no reason is recorded for keep")
			assert.Equal(t, 2, count(t, b.Store, "alice"))
		})
	}
}

// bigUser is how many sessions testBigUser gives one user: enough that a
// store that looks at every session of the user on each login, or lists them
// all, shows it (backend tests go to 100,000).
const bigUser = 2000

// fill gives user n more sessions, straight through the store (a login
// under no limit each), and returns their IDs.
func fill(t testing.TB, s singlesession.Store, user string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	expiry := time.Now().Add(time.Hour)
	for i := range n {
		token := fmt.Sprintf("big%s%06d%s", strings.Repeat("x", 20), i, user)
		_, err := s.Login(context.Background(), singlesession.Login{UserID: user, Token: token, Data: []byte("d"), Expiry: expiry})
		require.NoError(t, err)
		ids[i] = singlesession.SessionID(token)
	}
	return ids
}

// 8.4 and 8.5: a shared account under Never with thousands of sessions
// works exactly: a login adds one and ends none, the list comes in bounded
// pages that together name every session once, most recently used first,
// EndOtherSessions ends all the others, a logout all of them, and an
// operator's sign-out all of them.
func testBigUser(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	ids := fill(t, b.Store, "crowd", bigUser)
	br := a.Browser("browser")
	br.MustLogin("crowd")
	assert.Equal(t, bigUser+1, count(t, b.Store, "crowd"), "a login under Never ends none")

	page, err := a.M.UserSessionsPage(context.Background(), "crowd", "")
	require.NoError(t, err)
	assert.Equal(t, bigUser+1, page.Total)
	assert.Len(t, page.Sessions, 50, "one page of Config.PageSize (50)")
	assert.Equal(t, br.ID(), page.Sessions[0].ID, "the most recently used first")
	seen := map[string]bool{}
	var last singlesession.SessionInfo
	for pages := 1; ; pages++ {
		require.LessOrEqual(t, len(page.Sessions), 50)
		for _, s := range page.Sessions {
			require.False(t, seen[s.ID], "session %s listed twice", s.ID)
			seen[s.ID] = true
			if last.ID != "" {
				require.True(t, s.LastSeen.Before(last.LastSeen) || (s.LastSeen.Equal(last.LastSeen) && s.ID < last.ID),
					"most recently used first, then by ID: %v %s after %v %s", s.LastSeen, s.ID, last.LastSeen, last.ID)
			}
			last = s
		}
		if page.Next == "" {
			break
		}
		require.Less(t, pages, bigUser, "the pages end")
		page, err = a.M.UserSessionsPage(context.Background(), "crowd", page.Next)
		require.NoError(t, err)
	}
	assert.Len(t, seen, bigUser+1, "the pages name every session once")
	for _, id := range ids[:10] {
		assert.True(t, seen[id])
	}

	res, body := br.Do("POST", "/end-others", url.Values{})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Equal(t, fmt.Sprint(bigUser), body, "EndOtherSessions ends every other")
	assert.Equal(t, 1, count(t, b.Store, "crowd"))
	assert.Equal(t, "crowd", br.WhoAmI())

	fill(t, b.Store, "crowd", 300)
	br.MustLogout()
	assert.Equal(t, 0, count(t, b.Store, "crowd"), "a logout ends them all")

	fill(t, b.Store, "crowd", 300)
	ended, err := a.M.LogoutUsers(context.Background(), []string{"crowd"})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"crowd": 300}, ended)
	assert.Equal(t, 0, count(t, b.Store, "crowd"), "an operator ends them all")
}

// 8.5: pages hold at most Config.PageSize sessions, carry the total, and
// end with an empty cursor; a cursor that no page gave is refused; a
// session ended between two pages makes no page repeat or skip another.
func testSessionsPages(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never), testapp.WithConfig(func(c *singlesession.Config) { c.PageSize = 3 }))
	var browsers []*browser
	for i := range 7 {
		br := a.Browser(fmt.Sprint("b", i))
		br.MustLogin("alice")
		browsers = append(browsers, br)
		time.Sleep(time.Millisecond) // distinct LastSeen
	}
	want := make([]string, 7) // most recently used first
	for i, br := range browsers {
		want[6-i] = br.ID()
	}
	ctx := context.Background()
	var got []string
	page, err := a.M.UserSessionsPage(ctx, "alice", "")
	require.NoError(t, err)
	for _, n := range []int{3, 3, 1} {
		require.Len(t, page.Sessions, n)
		assert.Equal(t, 7, page.Total)
		for _, s := range page.Sessions {
			got = append(got, s.ID)
		}
		if n == 1 {
			assert.Empty(t, page.Next, "the last page has no next")
			break
		}
		require.NotEmpty(t, page.Next)
		page, err = a.M.UserSessionsPage(ctx, "alice", page.Next)
		require.NoError(t, err)
	}
	assert.Equal(t, want, got)

	first, err := a.M.UserSessionsPage(ctx, "alice", "")
	require.NoError(t, err)
	require.NoError(t, a.M.EndUserSession(ctx, "alice", want[4])) // on the second page: it ends between pages
	second, err := a.M.UserSessionsPage(ctx, "alice", first.Next)
	require.NoError(t, err)
	assert.Equal(t, 6, second.Total)
	assert.Equal(t, []string{want[3], want[5], want[6]}, sessionIDs(second.Sessions),
		"the next page starts where the first ended, whatever ended meanwhile")

	for _, bad := range []string{"x", "bm90IGEgY3Vyc29y", strings.Repeat("A", 100)} {
		_, err := a.M.UserSessionsPage(ctx, "alice", bad)
		assert.ErrorIs(t, err, singlesession.ErrInvalidCursor, bad)
	}
	none, err := a.M.UserSessionsPage(ctx, "nobody", "")
	require.NoError(t, err)
	assert.Empty(t, none.Sessions)
	assert.Zero(t, none.Total)
	assert.Empty(t, none.Next)
}

// 8.6: an OnEvent that panics, or ends its goroutine (runtime.Goexit, as
// t.FailNow does), after a change was committed breaks nothing: the new
// browser gets its cookie, the browser it signed out is signed out, its
// logout completes, and no session is left that no browser holds (under
// RejectNew with Max 1 the user can sign in again once signed out).
func testPanickingOnEvent(t *testing.T, b *Backend) {
	for name, onEvent := range map[string]func(context.Context, singlesession.Event){
		"panic":  func(context.Context, singlesession.Event) { panic("boom") },
		"Goexit": func(context.Context, singlesession.Event) { runtime.Goexit() },
	} {
		t.Run(name, func(t *testing.T) {
			alice, rita := "alice-"+name, "rita-"+name
			cfg := testapp.WithConfig(func(c *singlesession.Config) { c.OnEvent = onEvent })
			a := newApp(t, b.Store, cfg)
			A, B := a.Browser("A"), a.Browser("B")
			A.MustLogin(alice)
			require.NotEmpty(t, A.Cookie(), "the response went out with its cookie")
			assert.Equal(t, alice, A.WhoAmI())
			B.MustLogin(alice)
			assert.Equal(t, "", A.WhoAmI(), "the login's change stays committed")
			assert.Equal(t, alice, B.WhoAmI())
			assert.Contains(t, a.Logs.String(), "Config.OnEvent panicked")
			assert.Contains(t, a.Logs.String(), "kind=login")

			r := newApp(t, b.Store, cfg, withLimit(singlesession.Limit{Max: 1, RejectNew: true}))
			R1, R2 := r.Browser("R1"), r.Browser("R2")
			R1.MustLogin(rita)
			assert.Equal(t, rita, R1.WhoAmI())
			R1.MustLogout()
			assert.Equal(t, "", R1.WhoAmI())
			R2.MustLogin(rita) // the slot is free: nothing was left behind
			assert.Equal(t, rita, R2.WhoAmI())
			assert.Equal(t, 1, count(t, b.Store, rita))
		})
	}
}

// 8.7: scs's README signs out with RenewToken and then (here) LogoutHook.
// Who signs out is who the request began with: under Never every session
// of the user ends, with ReasonLogout. (If the session had ended before the
// request renewed its token, nothing else ends: EndedSessionEndsNothing.)
func testRenewTokenThenLogout(t *testing.T, b *Backend) {
	a := newApp(t, b.Store, withPolicy(singlesession.Never))
	A, B, C := a.Browser("A"), a.Browser("B"), a.Browser("C")
	A.MustLogin("alice")
	B.MustLogin("alice")
	C.MustLogin("bob")
	res, body := A.Do("POST", "/renew-logout", url.Values{})
	require.Equal(t, http.StatusNoContent, res.StatusCode, body)
	assert.Equal(t, "", A.WhoAmI())
	assert.Equal(t, "", B.WhoAmI(), "the user's other session ends too")
	assert.Equal(t, "logout", B.Ended())
	assert.Equal(t, "bob", C.WhoAmI(), "another user's stays")
	assert.Equal(t, 0, count(t, b.Store, "alice"))

}

func sessionIDs(list []singlesession.SessionInfo) []string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return ids
}
