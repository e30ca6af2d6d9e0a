package singlesession_test

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
)

// Tests of SPEC 10: SessionContext and WatchHandler learn at once, on every
// instance, that a request's session ended.

// SessionContext of a request with no signed-in session, or outside the
// middleware, is cancelled at once with ErrSessionNotFound; of a request whose
// cookie names a session that ended for a reason, with that reason.
func TestSessionContextWithoutASession(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		s := a.Browser("anon").Open("/watch")
		l, _ := s.Next(5 * time.Second)
		assert.Equal(t, "watching", l.Text)
		l, _ = s.Next(time.Second)
		assert.Contains(t, l.Text, "session not found")

		A, B := a.Browser("A"), as(a.Browser("B"), "Agent/B", "")
		A.MustLogin("alice")
		B.MustLogin("alice")
		s = A.Open("/watch")
		l, _ = s.Next(5 * time.Second)
		assert.Equal(t, "watching", l.Text)
		l, _ = s.Next(time.Second)
		assert.Equal(t, "ended login Agent/B", l.Text, "the kicked browser learns why at once")

		ctx, cancel := a.M.SessionContext(context.Background())
		defer cancel()
		assert.ErrorIs(t, context.Cause(ctx), singlesession.ErrSessionNotFound)
		assert.ErrorIs(t, context.Cause(ctx), singlesession.ErrNoMiddleware)
	})
}

// A session that ends between its request's load and SessionContext is
// caught: the watch is cancelled at once.
func TestSessionContextCatchesAnEndBeforeIt(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withRoute("GET /slow-watch", func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				a.Entered <- struct{}{}
				<-a.Release
				ctx, cancel := a.M.SessionContext(r.Context())
				defer cancel()
				select {
				case <-ctx.Done():
					var ended *singlesession.EndedError
					if errors.As(context.Cause(ctx), &ended) {
						w.Write([]byte("ended " + string(ended.Ending.Reason)))
					}
				case <-time.After(3 * time.Second):
					w.Write([]byte("still watching"))
				}
			}
		}))
		keep := a.Browser("keep") // a watch that keeps the listener running
		keep.MustLogin("kim")
		kw := keep.Watch()
		defer kw.Close()
		A := a.Browser("A")
		A.MustLogin("alice")
		done := make(chan string, 1)
		go func() {
			_, body := A.Do("GET", "/slow-watch", nil)
			done <- body
		}()
		<-a.Entered
		a.Browser("B").MustLogin("alice") // ends A's session while its request waits
		time.Sleep(200 * time.Millisecond)
		close(a.Release)
		assert.Equal(t, "ended login", <-done)
	})
}

// WatchHandler tells a page of another session of its user that ended
// between the page's request's load and its watch (heard while the
// listener ran): the event "sessions" comes at once.
func TestWatchHandlerOtherSessionEndedBeforeIt(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withPolicy(singlesession.Never), withRoute("GET /slow-events", func(a *app) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				a.Entered <- struct{}{}
				<-a.Release
				a.M.WatchHandler().ServeHTTP(w, r)
			}
		}))
		keep := a.Browser("keep") // a watch that keeps the listener running
		keep.MustLogin("kim")
		kw := keep.Watch()
		defer kw.Close()
		A, B, C := a.Browser("A"), a.Browser("B"), a.Browser("C")
		A.MustLogin("alice")
		B.MustLogin("alice")
		C.MustLogin("alice")
		streams := make(chan *testapp.Stream, 1)
		go func() { streams <- A.Open("/slow-events") }()
		<-a.Entered // A's request has loaded its session
		res, body := B.Do("POST", "/end-session", url.Values{"id": {C.ID()}})
		require.Equal(t, http.StatusNoContent, res.StatusCode, body)
		time.Sleep(100 * time.Millisecond) // the notice is heard
		close(a.Release)
		s := <-streams
		l, _ := s.Next(5 * time.Second)
		require.Equal(t, ": watching", l.Text)
		s.Next(time.Second) // the blank line
		l, ok := s.Next(2 * time.Second)
		require.True(t, ok, "an event comes")
		assert.Equal(t, "event: sessions", l.Text)
	})
}

// WatchHandler: 204 for an anonymous request; for a signed-in one 200
// text/event-stream, a comment line at once and at every ping, and, when the
// session ends, one event "ended" with its reason, time and User-Agent, then
// the end of the stream; for a browser whose session ended for a reason, the
// event at once.
func TestWatchHandler(t *testing.T) {
	t.Cleanup(singlesession.SetPingInterval(200 * time.Millisecond))
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store)
		res, _ := a.Browser("anon").Do("GET", "/events", nil)
		assert.Equal(t, http.StatusNoContent, res.StatusCode, "EventSource stops on 204")

		A := a.Browser("A")
		A.MustLogin("alice")
		s := A.Open("/events")
		assert.Equal(t, http.StatusOK, s.Response.StatusCode)
		assert.Equal(t, "text/event-stream", s.Response.Header.Get("Content-Type"))
		assert.Equal(t, "no-store", s.Response.Header.Get("Cache-Control"))
		assert.Empty(t, s.Response.Header.Values("Set-Cookie"), "a watch sets no cookie")
		var lines []string
		for len(lines) < 4 {
			l, ok := s.Next(2 * time.Second)
			require.True(t, ok)
			lines = append(lines, l.Text)
		}
		assert.Equal(t, []string{": watching", "", ": ping", ""}, lines)

		before := time.Now()
		as(a.Browser("B"), "Agent/B", "").MustLogin("alice")
		var event []string
		for {
			l, ok := s.Next(2 * time.Second)
			if !ok {
				break
			}
			if strings.HasPrefix(l.Text, ":") || (l.Text == "" && len(event) == 0) {
				continue
			}
			event = append(event, l.Text)
		}
		require.Len(t, event, 3, "%q", event)
		assert.Equal(t, "event: ended", event[0])
		data, ok := strings.CutPrefix(event[1], "data: ")
		require.True(t, ok, event[1])
		assert.Contains(t, data, `"reason":"login"`)
		assert.Contains(t, data, `"user_agent":"Agent/B"`)
		at := data[strings.Index(data, `"at":"`)+6:]
		at = at[:strings.Index(at, `"`)]
		when, err := time.Parse(time.RFC3339, at)
		require.NoError(t, err)
		assert.WithinDuration(t, before, when, 2*time.Second)

		s = A.Open("/events")
		assert.Equal(t, http.StatusOK, s.Response.StatusCode, "the kicked browser gets the event at once")
		l, ok := s.Next(time.Second)
		require.True(t, ok)
		assert.Equal(t, "event: ended", l.Text)
	})
}

// A watch writes nothing: with IdleTimeout (scs saves on every request) and
// a LastSeen due for a refresh, the stream's request neither saves the
// session, nor refreshes LastSeen, nor sets a cookie; on PostgreSQL it costs
// the load alone.
func TestWatchWritesNothing(t *testing.T) {
	forEachTracedStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withSessions(func(s *scs.SessionManager) { s.IdleTimeout = time.Hour }),
			withConfig(func(c *singlesession.Config) { c.LastSeenInterval = time.Nanosecond }))
		A := a.Browser("A")
		A.MustLogin("alice")
		before, err := a.M.UserSessions(context.Background(), "alice")
		require.NoError(t, err)
		time.Sleep(10 * time.Millisecond)
		trips := e.Cost(t, "a watch's request, while nothing ends", func() {
			s := A.Open("/events")
			assert.Empty(t, s.Response.Header.Values("Set-Cookie"))
			l, _ := s.Next(time.Second)
			assert.Equal(t, ": watching", l.Text)
			_, ok := s.Next(500 * time.Millisecond)
			assert.True(t, ok, "the blank line after the comment")
			_, ok = s.Next(500 * time.Millisecond)
			assert.False(t, ok, "nothing more while nothing ends")
			s.Close()
		})
		if e.Counter != nil {
			require.NotEmpty(t, trips)
			assert.Contains(t, trips[0], "FROM sessions", "the load")
			for _, q := range trips[1:] {
				assert.NotContains(t, q, "UPDATE", "no save and no refresh")
			}
		}
		after, err := a.M.UserSessions(context.Background(), "alice")
		require.NoError(t, err)
		assert.Equal(t, before[0].LastSeen, after[0].LastSeen, "LastSeen untouched")
		assert.Equal(t, before[0].Expiry, after[0].Expiry, "the session is not saved")
	})
}

// cancel releases the watch, and the last watch's end stops the listener;
// the end of the request's context does the same when cancel is forgotten.
func TestSessionContextCancelReleases(t *testing.T) {
	store := singlesession.NewMemoryStore()
	m, err := singlesession.New(scs.New(), store, singlesession.Config{Logger: quietLogger})
	require.NoError(t, err)
	ctx, err := m.Load(context.Background(), "")
	require.NoError(t, err)
	require.NoError(t, m.LoginHook(ctx, "alice"))
	token, _, err := m.Commit(ctx)
	require.NoError(t, err)

	req, err := m.Load(context.Background(), token)
	require.NoError(t, err)
	w1, cancel1 := m.SessionContext(req)
	parent, stopParent := context.WithCancel(req)
	w2, _ := m.SessionContext(parent)
	assert.Equal(t, 2, m.Watches())
	assert.True(t, m.Listening())
	cancel1()
	assert.ErrorIs(t, context.Cause(w1), context.Canceled)
	assert.Equal(t, 1, m.Watches())
	stopParent() // the request ends; its watch goes with it
	<-w2.Done()
	require.Eventually(t, func() bool { return m.Watches() == 0 && !m.Listening() }, time.Second, 5*time.Millisecond)
	cancel1() // twice is fine
}

// Over a store that is not a NotifyingStore, SessionContext checks the
// watched sessions every 2 seconds.
func TestSessionContextPollsOtherStores(t *testing.T) {
	plain := &failingStore{Store: singlesession.NewMemoryStore()} // hides the optional interfaces
	a := newApp(t, plain)
	A := a.Browser("A")
	A.MustLogin("alice")
	w := A.Watch()
	start := time.Now()
	a.Browser("B").MustLogin("alice")
	l, ok := w.Next(5 * time.Second)
	require.True(t, ok)
	assert.Equal(t, "ended login testapp/B", l.Text)
	t.Logf("ended %v after the login, by polling", l.At.Sub(start).Round(time.Millisecond))
	assert.Less(t, l.At.Sub(start), 2*time.Second+500*time.Millisecond)
}

// WatchHandler tells a page that lists the user's sessions when another of
// them ends: an event "sessions", and the stream goes on.
func TestWatchHandlerOtherSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := newApp(t, e.Store, withPolicy(singlesession.Never))
		A, B := a.Browser("A"), a.Browser("B")
		A.MustLogin("alice")
		B.MustLogin("alice")
		s := A.Open("/events")
		l, _ := s.Next(2 * time.Second)
		require.Equal(t, ": watching", l.Text)
		s.Next(time.Second) // the blank line
		res, body := A.Do("POST", "/end-session", url.Values{"id": {B.ID()}})
		require.Equal(t, http.StatusNoContent, res.StatusCode, body)
		l, ok := s.Next(2 * time.Second)
		require.True(t, ok)
		assert.Equal(t, "event: sessions", l.Text)
		l, _ = s.Next(time.Second)
		assert.Equal(t, "data: {}", l.Text)
		assert.Equal(t, "alice", A.WhoAmI(), "A's own session goes on")
	})
}

// WatchHandler's stream outlives the server's WriteTimeout (it sets a
// deadline of its own before each write), and still ends with the event.
func TestWatchHandlerOutlivesWriteTimeout(t *testing.T) {
	t.Cleanup(singlesession.SetPingInterval(100 * time.Millisecond))
	a := newApp(t, singlesession.NewMemoryStore())
	srv := httptest.NewUnstartedServer(a.Srv.Config.Handler)
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	A := a.Browser("A")
	A.MustLogin("alice")

	req, err := http.NewRequest("GET", srv.URL+"/events", nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: a.Sessions.Cookie.Name, Value: A.Cookie()})
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	pings := 0
	deadline := time.After(5 * time.Second)
	for pings < 10 { // a second: three times the WriteTimeout
		select {
		case l, ok := <-lines:
			require.True(t, ok, "the stream ended after %d pings", pings)
			if l == ": ping" {
				pings++
			}
		case <-deadline:
			t.Fatalf("%d pings in 5 s", pings)
		}
	}
	a.Browser("B").MustLogin("alice")
	var got []string
	for l := range lines {
		got = append(got, l)
	}
	assert.Contains(t, got, "event: ended", "the ending still comes: %q", got)
}

// hangingStore is a Store whose Find, while hang is set, waits for its
// context to end (a store that stopped answering); it hides the optional
// interfaces, so the Manager polls it.
type hangingStore struct {
	singlesession.Store
	hang atomic.Bool
}

func (s *hangingStore) Find(ctx context.Context, token string, staleAfter time.Duration) (singlesession.FindResult, error) {
	if s.hang.Load() {
		<-ctx.Done()
		return singlesession.FindResult{}, ctx.Err()
	}
	return s.Store.Find(ctx, token, staleAfter)
}

// A check of a watched session that hangs gives up within its own deadline:
// once the store answers again, the next check sees the ending. A check
// without a deadline would hold the checker, and every watch, forever.
func TestSessionContextCheckThatHangs(t *testing.T) {
	store := &hangingStore{Store: singlesession.NewMemoryStore()}
	a := newApp(t, store)
	A := a.Browser("A")
	A.MustLogin("alice")
	w := A.Watch()
	store.hang.Store(true)
	time.Sleep(2500 * time.Millisecond) // a poll has begun, and hangs
	store.hang.Store(false)
	a.Browser("B").MustLogin("alice")
	l, ok := w.Next(8 * time.Second)
	require.True(t, ok, "the watch learns of the ending once the store answers")
	assert.Equal(t, "ended login testapp/B", l.Text)
}
