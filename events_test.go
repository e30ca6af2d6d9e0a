package singlesession_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
)

// Tests of Config.OnEvent (SPEC 6.1 rule 7): which event each change
// reports, with what, exactly once, after the commit and before the
// response, never for a change that failed, and with no lock held.

// evLog records the events a Manager dispatches (testapp.EventLog).
type evLog = testapp.EventLog

// withEvLog sends the app's events to l.
var withEvLog = testapp.WithEventLog

// evBrowser is a browser that sends userAgent.
func evBrowser(a *app, name, userAgent string) *browser {
	b := a.Browser(name)
	b.Header = http.Header{"User-Agent": {userAgent}}
	return b
}

// evSID is the ID of the session the browser holds now.
func evSID(b *browser) string {
	b.T.Helper()
	c := b.Cookie()
	require.NotEmpty(b.T, c, "%s has no session cookie", b.Name)
	return singlesession.SessionID(b.App.StoreToken(c))
}

// evRoutes are routes for EndSession, EndOtherSessions and a logout that
// reports, from the handler, how many events were recorded when LogoutHook
// returned.
func evRoutes(log *evLog) []appOption {
	return []appOption{
		withRoute("POST /ev/end-session", func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				err := a.M.EndSession(r.Context(), r.FormValue("id"))
				w.Header().Set("X-Events", strconv.Itoa(log.Count()))
				switch {
				case errors.Is(err, singlesession.ErrSessionNotFound):
					http.Error(w, err.Error(), http.StatusNotFound)
				case err != nil:
					http.Error(w, err.Error(), http.StatusInternalServerError)
				default:
					w.WriteHeader(http.StatusNoContent)
				}
			}
		}),
		withRoute("POST /ev/end-others", func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				n, err := a.M.EndOtherSessions(r.Context())
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				w.Header().Set("X-Events", strconv.Itoa(log.Count()))
				fmt.Fprint(w, n)
			}
		}),
		withRoute("POST /ev/logout", func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if err := a.M.LogoutHook(r.Context()); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				w.Header().Set("X-Events", strconv.Itoa(log.Count()))
				w.WriteHeader(http.StatusNoContent)
			}
		}),
	}
}

// A first login reports EventLogin with Ended 0 and no reason; a login that
// ends another session reports Ended 1 and ReasonLogin. Each carries the new
// session's ID (as the store lists it), the Config.ClientIP address, the
// request's User-Agent and the store's time. Nothing else is reported:
// ordinary requests have no events.
func TestEventLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, hashed := range []bool{false, true} {
			t.Run(fmt.Sprintf("HashTokenInStore=%v", hashed), func(t *testing.T) {
				log := &evLog{}
				a := newApp(t, e.Store, withEvLog(log),
					withSessions(func(s *scs.SessionManager) { s.HashTokenInStore = hashed }),
					withConfig(func(c *singlesession.Config) {
						c.ClientIP = func(*http.Request) string { return "203.0.113.7" }
					}))
				user := fmt.Sprint("alice-", hashed)
				A := evBrowser(a, "A", "Agent/A")
				B := evBrowser(a, "B", "Agent/B")

				before := time.Now().Add(-time.Minute)
				A.MustLogin(user)
				ev := testapp.OneEvent(t, log.Take(), singlesession.EventLogin)
				assert.Equal(t, user, ev.UserID)
				assert.Equal(t, evSID(A), ev.SessionID)
				assert.Equal(t, 0, ev.Ended, "a first login ends nothing")
				assert.Equal(t, singlesession.Reason(""), ev.Reason, "no reason when nothing ended")
				assert.Equal(t, "203.0.113.7", ev.IP, "Config.ClientIP")
				assert.Equal(t, "Agent/A", ev.UserAgent)
				assert.Empty(t, ev.Actor)
				assert.True(t, ev.At.After(before), "At is the store's time of the login: %v", ev.At)

				A.WhoAmI()
				A.Put("k", "v")
				assert.Empty(t, log.Take(), "ordinary requests report nothing")

				B.MustLogin(user)
				ev = testapp.OneEvent(t, log.Take(), singlesession.EventLogin)
				list, err := a.M.UserSessions(context.Background(), user)
				require.NoError(t, err)
				require.Len(t, list, 1)
				assert.Equal(t, list[0].ID, ev.SessionID, "the new session's ID, as the list shows it")
				assert.Equal(t, evSID(B), ev.SessionID)
				assert.True(t, list[0].Created.Equal(ev.At), "At is the login's time in the store: %v, created %v", ev.At, list[0].Created)
				assert.Equal(t, user, ev.UserID)
				assert.Equal(t, 1, ev.Ended, "the login ended A's session")
				assert.Equal(t, singlesession.ReasonLogin, ev.Reason)
				assert.Equal(t, "203.0.113.7", ev.IP)
				assert.Equal(t, "Agent/B", ev.UserAgent)
				assert.False(t, ev.At.IsZero())

				assert.Equal(t, "", A.WhoAmI())
				assert.Empty(t, log.Take(), "the kicked browser's request reports nothing")
			})
		}
	})
}

// Without Config.ClientIP an event carries the host of r.RemoteAddr.
func TestEventDefaultClientIP(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		log := &evLog{}
		a := newApp(t, e.Store, withEvLog(log))
		a.Browser("A").MustLogin("alice")
		ev := testapp.OneEvent(t, log.Take(), singlesession.EventLogin)
		assert.Equal(t, "127.0.0.1", ev.IP)
		assert.Equal(t, "testapp/A", ev.UserAgent, "the request's own User-Agent")
	})
}

// LogoutHook reports EventLogout with how many sessions ended, the browser's
// own included, and ReasonLogout when others ended; with
// KeepOtherSessionsOnLogout, Ended 1 and no reason. The event is recorded
// when LogoutHook returns. A logout of an anonymous browser, or of a browser
// whose session had ended, reports nothing.
func TestEventLogout(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		t.Run("all sessions", func(t *testing.T) {
			log := &evLog{}
			a := newApp(t, e.Store, append(evRoutes(log), withEvLog(log), withPolicy(singlesession.Never))...)
			A, B, C := evBrowser(a, "A", "Agent/A"), a.Browser("B"), a.Browser("C")
			A.MustLogin("alice")
			B.MustLogin("alice")
			C.MustLogin("alice")
			a.Browser("D").MustLogin("bob")
			log.Take()
			id := evSID(A)

			res, _ := A.Do("POST", "/ev/logout", url.Values{})
			require.Equal(t, http.StatusNoContent, res.StatusCode)
			assert.Equal(t, "1", res.Header.Get("X-Events"), "recorded before LogoutHook returns")
			ev := testapp.OneEvent(t, log.Take(), singlesession.EventLogout)
			assert.Equal(t, "alice", ev.UserID)
			assert.Equal(t, id, ev.SessionID, "the session that signed out")
			assert.Equal(t, 3, ev.Ended, "A's own session and the two others")
			assert.Equal(t, singlesession.ReasonLogout, ev.Reason)
			assert.Equal(t, "127.0.0.1", ev.IP)
			assert.Equal(t, "Agent/A", ev.UserAgent)
			assert.False(t, ev.At.IsZero())
			assert.Empty(t, ev.Actor)

			// B's session ended with A's logout: its logout is an anonymous one.
			res, _ = B.Do("POST", "/ev/logout", url.Values{})
			require.Equal(t, http.StatusNoContent, res.StatusCode)
			assert.Empty(t, log.Take(), "logout of a session that had ended reports nothing")

			anon := a.Browser("anon")
			anon.Put("cart", "1")
			res, _ = anon.Do("POST", "/ev/logout", url.Values{})
			require.Equal(t, http.StatusNoContent, res.StatusCode)
			res, _ = a.Browser("no cookie").Do("POST", "/ev/logout", url.Values{})
			require.Equal(t, http.StatusNoContent, res.StatusCode)
			assert.Empty(t, log.Take(), "logout of an anonymous session reports nothing")
			assert.Equal(t, 1, e.SessionsOf(t, "bob"))
		})

		t.Run("keep others", func(t *testing.T) {
			log := &evLog{}
			a := newApp(t, e.Store, append(evRoutes(log), withEvLog(log), withPolicy(singlesession.Never), keepOthersOnLogout())...)
			A, B := a.Browser("A"), a.Browser("B")
			A.MustLogin("carol")
			B.MustLogin("carol")
			log.Take()
			id := evSID(A)
			res, _ := A.Do("POST", "/ev/logout", url.Values{})
			require.Equal(t, http.StatusNoContent, res.StatusCode)
			ev := testapp.OneEvent(t, log.Take(), singlesession.EventLogout)
			assert.Equal(t, "carol", ev.UserID)
			assert.Equal(t, id, ev.SessionID)
			assert.Equal(t, 1, ev.Ended, "only the browser's own session")
			assert.Equal(t, singlesession.Reason(""), ev.Reason, "no other session ended")
			assert.Equal(t, "carol", B.WhoAmI())
		})
	})
}

// LogoutUser(s) report one EventEnded per user whose sessions ended
// (ReasonAdmin, no actor, no session, no client); users with none report
// nothing. Admin.Run reports the operator as Actor. Each is recorded when
// the method returns.
func TestEventEndedByOperators(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		log := &evLog{}
		a := newApp(t, e.Store, withEvLog(log), withPolicy(singlesession.Never))
		a.Browser("A1").MustLogin("alice")
		a.Browser("A2").MustLogin("alice")
		a.Browser("B1").MustLogin("bob")
		log.Take()

		counts, err := a.M.LogoutUsers(ctx, []string{"bob", "alice", "carol", "alice"})
		require.NoError(t, err)
		require.Equal(t, map[string]int{"alice": 2, "bob": 1}, counts)
		events := log.Take()
		require.Len(t, events, 2, "one event per user whose sessions ended, none for carol: %+v", events)
		byUser := map[string]singlesession.Event{}
		for _, ev := range events {
			byUser[ev.UserID] = ev
			assert.Equal(t, singlesession.EventEnded, ev.Kind)
			assert.Equal(t, singlesession.ReasonAdmin, ev.Reason)
			assert.Empty(t, ev.Actor, "LogoutUsers names no operator")
			assert.Empty(t, ev.SessionID, "no acting session")
			assert.Empty(t, ev.IP)
			assert.Empty(t, ev.UserAgent)
			assert.False(t, ev.At.IsZero())
		}
		assert.Equal(t, 2, byUser["alice"].Ended)
		assert.Equal(t, 1, byUser["bob"].Ended)

		a.Browser("A3").MustLogin("alice")
		log.Take()
		n, err := a.M.LogoutUser(ctx, "alice")
		require.NoError(t, err)
		require.Equal(t, 1, n)
		ev := testapp.OneEvent(t, log.Take(), singlesession.EventEnded)
		assert.Equal(t, "alice", ev.UserID)
		assert.Equal(t, 1, ev.Ended)
		assert.Equal(t, singlesession.ReasonAdmin, ev.Reason)
		assert.Empty(t, ev.Actor)

		_, err = a.M.LogoutUser(ctx, "alice")
		require.NoError(t, err)
		assert.Empty(t, log.Take(), "nothing ended, nothing reported")

		dir := singlesession.NewStaticDirectory(
			singlesession.User{ID: "sam", Permissions: []string{singlesession.PermLogout}},
			singlesession.User{ID: "alice"},
			singlesession.User{ID: "bob"},
			singlesession.User{ID: "root", Admin: true},
		)
		admin, err := singlesession.NewAdmin(a.M, dir, singlesession.AdminConfig{})
		require.NoError(t, err)
		a.Browser("A4").MustLogin("alice")
		a.Browser("A5").MustLogin("alice")
		a.Browser("R1").MustLogin("root")
		log.Take()
		res, err := admin.Run(ctx, "sam", singlesession.ActionLogout, []string{"alice", "root", "bob"})
		require.NoError(t, err)
		require.Equal(t, 2, res.Sessions)
		ev = testapp.OneEvent(t, log.Take(), singlesession.EventEnded) // root skipped, bob had none
		assert.Equal(t, "alice", ev.UserID)
		assert.Equal(t, 2, ev.Ended)
		assert.Equal(t, singlesession.ReasonAdmin, ev.Reason)
		assert.Equal(t, "sam", ev.Actor, "Admin.Run names its operator")
		assert.Empty(t, ev.SessionID)
		assert.False(t, ev.At.IsZero())

		_, err = admin.Run(ctx, "sam", singlesession.ActionLogoutAll, []string{"root"})
		require.ErrorIs(t, err, singlesession.ErrPermissionDenied)
		assert.Empty(t, log.Take(), "a refused action reports nothing")
		assert.Equal(t, 1, e.SessionsOf(t, "root"))
	})
}

// EndOtherSessions and EndSession report EventEnded with ReasonRevoked, the
// acting session's ID and client, recorded before the method returns;
// ending nothing (an ID that is not the user's, no other session) reports
// nothing. Ending the request's own session reports one EventEnded (and no
// EventLogout).
func TestEventEndedByRevoke(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		log := &evLog{}
		a := newApp(t, e.Store, append(evRoutes(log), withEvLog(log), withPolicy(singlesession.Never))...)
		A := evBrowser(a, "A", "Agent/A")
		B, C, D, X := a.Browser("B"), a.Browser("C"), a.Browser("D"), a.Browser("X")
		A.MustLogin("alice")
		B.MustLogin("alice")
		C.MustLogin("alice")
		X.MustLogin("bob")
		log.Take()

		res, body := A.Do("POST", "/ev/end-others", url.Values{})
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		require.Equal(t, "2", body)
		assert.Equal(t, "1", res.Header.Get("X-Events"), "recorded before EndOtherSessions returns")
		ev := testapp.OneEvent(t, log.Take(), singlesession.EventEnded)
		assert.Equal(t, "alice", ev.UserID)
		assert.Equal(t, evSID(A), ev.SessionID, "the acting session")
		assert.Equal(t, 2, ev.Ended)
		assert.Equal(t, singlesession.ReasonRevoked, ev.Reason)
		assert.Equal(t, "127.0.0.1", ev.IP)
		assert.Equal(t, "Agent/A", ev.UserAgent)
		assert.Empty(t, ev.Actor)
		assert.False(t, ev.At.IsZero())

		res, body = A.Do("POST", "/ev/end-others", url.Values{})
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		require.Equal(t, "0", body)
		assert.Empty(t, log.Take(), "nothing ended, nothing reported")

		D.MustLogin("alice")
		log.Take()
		res, body = A.Do("POST", "/ev/end-session", url.Values{"id": {evSID(D)}})
		require.Equal(t, http.StatusNoContent, res.StatusCode, body)
		assert.Equal(t, "1", res.Header.Get("X-Events"), "recorded before EndSession returns")
		ev = testapp.OneEvent(t, log.Take(), singlesession.EventEnded)
		assert.Equal(t, "alice", ev.UserID)
		assert.Equal(t, evSID(A), ev.SessionID)
		assert.Equal(t, 1, ev.Ended)
		assert.Equal(t, singlesession.ReasonRevoked, ev.Reason)
		assert.Equal(t, "Agent/A", ev.UserAgent)
		assert.Equal(t, "", D.WhoAmI())

		res, _ = A.Do("POST", "/ev/end-session", url.Values{"id": {evSID(X)}})
		require.Equal(t, http.StatusNotFound, res.StatusCode, "another user's session")
		assert.Empty(t, log.Take(), "a refused EndSession reports nothing")
		assert.Equal(t, "bob", X.WhoAmI())

		own := evSID(A)
		res, body = A.Do("POST", "/ev/end-session", url.Values{"id": {own}})
		require.Equal(t, http.StatusNoContent, res.StatusCode, body)
		ev = testapp.OneEvent(t, log.Take(), singlesession.EventEnded)
		assert.Equal(t, "alice", ev.UserID)
		assert.Equal(t, own, ev.SessionID)
		assert.Equal(t, 1, ev.Ended)
		assert.Equal(t, "", A.WhoAmI())
	})
}

// A login that a RejectNew limit refuses reports EventLoginRejected and no
// EventLogin: refused by LoginHook's check, and refused in the save after
// losing a race.
func TestEventLoginRejected(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		log := &evLog{}
		a := newApp(t, e.Store, withEvLog(log),
			withConfig(func(c *singlesession.Config) {
				c.Limit = func(context.Context, string) singlesession.Limit {
					return singlesession.Limit{Max: 1, RejectNew: true}
				}
			}),
			withRoute("POST /ev/login-wait", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if err := a.M.LoginHook(r.Context(), r.FormValue("user")); err != nil {
						http.Error(w, err.Error(), http.StatusConflict)
						return
					}
					a.Entered <- struct{}{}
					<-a.Release
					w.WriteHeader(http.StatusNoContent)
				}
			}))
		A, B := a.Browser("A"), evBrowser(a, "B", "Agent/B")
		A.MustLogin("alice")
		log.Take()

		res := B.Login("alice")
		require.Equal(t, http.StatusConflict, res.StatusCode, "LoginHook refuses")
		ev := testapp.OneEvent(t, log.Take(), singlesession.EventLoginRejected)
		assert.Equal(t, "alice", ev.UserID)
		assert.Equal(t, "127.0.0.1", ev.IP)
		assert.Equal(t, "Agent/B", ev.UserAgent)
		assert.Empty(t, ev.SessionID, "no session was created")
		assert.Equal(t, 0, ev.Ended)
		assert.False(t, ev.At.IsZero())
		assert.Equal(t, "alice", A.WhoAmI())

		// bob: C's LoginHook passes the check, D signs in meanwhile, C's save
		// is refused.
		C, D := evBrowser(a, "C", "Agent/C"), a.Browser("D")
		done := make(chan *http.Response, 1)
		go func() {
			res, _ := C.Do("POST", "/ev/login-wait", url.Values{"user": {"bob"}})
			done <- res
		}()
		<-a.Entered
		D.MustLogin("bob")
		testapp.OneEvent(t, log.Take(), singlesession.EventLogin)
		close(a.Release)
		res = <-done
		require.Equal(t, http.StatusConflict, res.StatusCode, "refused in the save: ErrorFunc")
		ev = testapp.OneEvent(t, log.Take(), singlesession.EventLoginRejected)
		assert.Equal(t, "bob", ev.UserID)
		assert.Equal(t, "Agent/C", ev.UserAgent)
		assert.Empty(t, ev.SessionID)
		assert.Equal(t, "bob", D.WhoAmI())
		assert.Equal(t, "", C.WhoAmI())
		assert.Empty(t, log.Take())
	})
}

// A login whose save fails reports nothing, neither for a fresh browser
// nor for a signed-in one signing in again; the next login that succeeds
// reports its event.
func TestEventNotForFailedLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		log := &evLog{}
		fs := &failingStore{Store: e.Store, only: "Login"}
		a := newApp(t, fs, withEvLog(log))
		A, B := a.Browser("A"), a.Browser("B")
		A.MustLogin("alice")
		B.MustLogin("bob")
		log.Take()

		fs.fail.Store(true)
		res := a.Browser("C").Login("alice")
		require.Equal(t, http.StatusInternalServerError, res.StatusCode, "the save failed")
		res = B.Login("alice")
		require.Equal(t, http.StatusInternalServerError, res.StatusCode, "the save failed")
		fs.fail.Store(false)
		assert.Empty(t, log.Take(), "no event for a login that failed")
		assert.Equal(t, "alice", A.WhoAmI())
		assert.Equal(t, "bob", B.WhoAmI(), "B keeps its session")
		assert.Empty(t, log.Take())

		a.Browser("D").MustLogin("alice")
		ev := testapp.OneEvent(t, log.Take(), singlesession.EventLogin)
		assert.Equal(t, 1, ev.Ended)
	})
}

// Events are dispatched before the response is sent, so an application
// that records them synchronously has done so when the client has the
// response: with an OnEvent that takes 100ms, the event is there as soon as
// the response arrives, without waiting. Also through Manager.Commit, before
// it returns.
func TestEventBeforeResponse(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		log := &evLog{Inside: func(context.Context, singlesession.Event) { time.Sleep(100 * time.Millisecond) }}
		a := newApp(t, e.Store, append(evRoutes(log), withEvLog(log), withPolicy(singlesession.Never))...)
		A, B := a.Browser("A"), a.Browser("B")

		A.MustLogin("alice")
		assert.Equal(t, 1, log.Count(), "the login's event is recorded when the client has the response")
		B.MustLogin("alice")
		assert.Equal(t, 2, log.Count())
		res, _ := A.Do("POST", "/ev/end-others", url.Values{})
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, 3, log.Count())
		A.Logout()
		assert.Equal(t, 4, log.Count())
		B.Put("k", "v") // B's session ended: anonymous, no event
		B.MustLogin("bob")
		assert.Equal(t, 5, log.Count())
		kinds := []singlesession.EventKind{}
		for _, ev := range log.Take() {
			kinds = append(kinds, ev.Kind)
		}
		assert.Equal(t, []singlesession.EventKind{singlesession.EventLogin, singlesession.EventLogin,
			singlesession.EventEnded, singlesession.EventLogout, singlesession.EventLogin}, kinds)

		// Manager.Load and Manager.Commit: dispatched before Commit returns.
		ctx, err := a.M.Load(context.Background(), "")
		require.NoError(t, err)
		require.NoError(t, a.M.LoginHook(ctx, "carol"))
		token, _, err := a.M.Commit(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, token)
		ev := testapp.OneEvent(t, log.Take(), singlesession.EventLogin)
		assert.Equal(t, "carol", ev.UserID)
		assert.Equal(t, singlesession.SessionID(token), ev.SessionID)
		assert.Empty(t, ev.IP, "no request")
	})
}

// OnEvent runs with no lock held: inside it, Manager.UserID, the session's
// own Get (for events of a request) and Manager.CountSessions all return.
// Each call runs on a goroutine of its own and must return within 5
// seconds, so that a lock held during dispatch fails the test instead of
// hanging it.
func TestEventNoLockHeld(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var (
			m        atomic.Pointer[singlesession.Manager]
			mu       sync.Mutex
			problems []string
			checked  = map[singlesession.EventKind]int{}
		)
		log := &evLog{Inside: func(ctx context.Context, ev singlesession.Event) {
			done := make(chan error, 1)
			go func() {
				defer func() {
					if p := recover(); p != nil {
						done <- fmt.Errorf("panic: %v", p)
					}
				}()
				mgr := m.Load()
				_ = mgr.UserID(ctx)
				if ev.IP != "" { // an event of a request: its session is in ctx
					_ = mgr.SessionManager().Get(ctx, "k")
				}
				_, err := mgr.CountSessions(ctx, []string{ev.UserID})
				done <- err
			}()
			var problem string
			select {
			case err := <-done:
				if err != nil {
					problem = fmt.Sprintf("%s of %s: %v", ev.Kind, ev.UserID, err)
				}
			case <-time.After(5 * time.Second):
				problem = fmt.Sprintf("%s of %s: a call inside OnEvent did not return within 5s (a lock is held during dispatch)", ev.Kind, ev.UserID)
			}
			mu.Lock()
			defer mu.Unlock()
			checked[ev.Kind]++
			if problem != "" {
				problems = append(problems, problem)
			}
		}}
		a := newApp(t, e.Store, append(evRoutes(log), withEvLog(log),
			withConfig(func(c *singlesession.Config) {
				c.Limit = func(_ context.Context, userID string) singlesession.Limit {
					if userID == "rita" {
						return singlesession.Limit{Max: 1, RejectNew: true}
					}
					return singlesession.Limit{}
				}
			}))...)
		m.Store(a.M)

		A, B, C := a.Browser("A"), a.Browser("B"), a.Browser("C")
		A.Put("k", "v")
		A.MustLogin("alice") // EventLogin
		B.MustLogin("alice") // EventLogin
		C.MustLogin("alice") // EventLogin
		res, _ := A.Do("POST", "/ev/end-session", url.Values{"id": {evSID(B)}})
		require.Equal(t, http.StatusNoContent, res.StatusCode) // EventEnded
		res, _ = A.Do("POST", "/ev/end-others", url.Values{})
		require.Equal(t, http.StatusOK, res.StatusCode) // EventEnded
		res, _ = A.Do("POST", "/ev/logout", url.Values{})
		require.Equal(t, http.StatusNoContent, res.StatusCode) // EventLogout
		a.Browser("R1").MustLogin("rita")
		require.Equal(t, http.StatusConflict, a.Browser("R2").Login("rita").StatusCode) // EventLoginRejected
		_, err := a.M.LogoutUsers(context.Background(), []string{"rita"})
		require.NoError(t, err) // EventEnded

		mu.Lock()
		defer mu.Unlock()
		assert.Empty(t, problems)
		assert.Equal(t, map[singlesession.EventKind]int{
			singlesession.EventLogin: 4, singlesession.EventEnded: 3,
			singlesession.EventLogout: 1, singlesession.EventLoginRejected: 1,
		}, checked, "every kind of event was checked")
	})
}

// Each event is dispatched exactly once: a handler that writes its response
// in several calls, a request that calls LoginHook twice, and a logout that
// the handler follows with writes still report one event each.
func TestEventExactlyOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		log := &evLog{}
		a := newApp(t, e.Store, withEvLog(log),
			withRoute("POST /ev/login-twice", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					for range 2 {
						if err := a.M.LoginHook(r.Context(), "alice"); err != nil {
							http.Error(w, err.Error(), http.StatusInternalServerError)
							return
						}
					}
					w.Header().Set("Content-Type", "text/plain")
					w.WriteHeader(http.StatusOK)
					for range 3 {
						io.WriteString(w, "x")
						http.NewResponseController(w).Flush()
					}
				}
			}),
			withRoute("POST /ev/logout-chatty", func(a *app) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if err := a.M.LogoutHook(r.Context()); err != nil {
						http.Error(w, err.Error(), http.StatusInternalServerError)
						return
					}
					io.WriteString(w, "bye")
					io.WriteString(w, "!")
				}
			}))
		A, B := a.Browser("A"), a.Browser("B")
		res, body := A.Do("POST", "/ev/login-twice", url.Values{})
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		ev := testapp.OneEvent(t, log.Take(), singlesession.EventLogin)
		assert.Equal(t, evSID(A), ev.SessionID)

		res, body = B.Do("POST", "/ev/login-twice", url.Values{})
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		ev = testapp.OneEvent(t, log.Take(), singlesession.EventLogin)
		assert.Equal(t, 1, ev.Ended)

		res, body = B.Do("POST", "/ev/logout-chatty", url.Values{})
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		testapp.OneEvent(t, log.Take(), singlesession.EventLogout)

		for range 3 {
			A.WhoAmI()
			B.WhoAmI()
		}
		assert.Empty(t, log.Take())
	})
}
