package main

// Live endings over HTTP: GET /session/events (the library's WatchHandler)
// and GET /clock (SessionContext), mounted inside the middleware, across two
// instances that share one store; and GET /session/ended, the page a tab
// turns into. The browser's side is in e2e_live_test.go.

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// sseEvent is one Server-Sent Event: its name ("" for a plain message) and
// data. A comment line is an event named ":" whose data is the comment.
type sseEvent struct {
	Name, Data string
	At         time.Time // when it was read
}

// stream is an open event stream; events closes when the stream ends.
type stream struct {
	res    *http.Response
	events chan sseEvent
	cancel context.CancelFunc
}

// openStream opens path as an event stream from c's browser, requires
// status, and reads its events on a goroutine until it ends or t ends.
func (c *client) openStream(path string, status int) *stream {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	require.NoError(c.t, err)
	req.Header.Set("Accept", "text/event-stream")
	// The client's Timeout would cut a long stream: a client of its own.
	res, err := (&http.Client{Jar: c.c.Jar, CheckRedirect: c.c.CheckRedirect}).Do(req)
	require.NoError(c.t, err)
	s := &stream{res: res, events: make(chan sseEvent, 100), cancel: cancel}
	c.t.Cleanup(s.close)
	require.Equal(c.t, status, res.StatusCode, "%s: GET %s", c.name, path)
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" || ev.Data != "" {
					ev.At = time.Now()
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				s.events <- sseEvent{Name: ":", Data: strings.TrimSpace(line[1:]), At: time.Now()}
			case strings.HasPrefix(line, "event: "):
				ev.Name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.Data = line[len("data: "):]
			}
		}
	}()
	return s
}

func (s *stream) close() {
	s.cancel()
	_ = s.res.Body.Close()
}

// next returns the next event that skip does not skip, failing t when none
// comes within wait.
func (s *stream) next(t testing.TB, wait time.Duration, skip func(sseEvent) bool) sseEvent {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case ev, ok := <-s.events:
			require.True(t, ok, "the stream ended without the event")
			if skip(ev) {
				continue
			}
			return ev
		case <-deadline:
			require.FailNow(t, "no event within "+wait.String())
		}
	}
}

// ends requires that the stream ends within wait, with no event but
// comments.
func (s *stream) ends(t testing.TB, wait time.Duration) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			require.Equal(t, ":", ev.Name, "an event after the last: %+v", ev)
		case <-deadline:
			require.FailNow(t, "the stream is still open after "+wait.String())
		}
	}
}

// Which events next skips.
func comment(ev sseEvent) bool       { return ev.Name == ":" }
func tickOrComment(ev sseEvent) bool { return ev.Name == "" || ev.Name == ":" }
func nothing(sseEvent) bool          { return false }

// twoInstances starts two instances of the application that share one
// store: one memory store in this process, or a PostgreSQL schema.
func twoInstances(t *testing.T, store string, args ...string) (one, two *testApp) {
	t.Helper()
	if store == "postgres" {
		dsn := schemaDSN(t)
		return startApp(t, append([]string{"-dsn", dsn}, args...)...), startApp(t, append([]string{"-dsn", dsn}, args...)...)
	}
	shared := singlesession.NewMemoryStore()
	start := func() *testApp {
		logs := &syncBuffer{}
		cfg := flagsConfig(t, logs, args...)
		cfg.Store = shared
		return serveApp(t, cfg, logs)
	}
	return start(), start()
}

var stores = []string{"memory", "postgres"}

// A browser that is not signed in gets 204 from the events (EventSource
// then stops) and 401 from the clock; neither sets a cookie.
func TestLiveAnonymous(t *testing.T) {
	app := startApp(t)
	c := newClient(t, "anonymous", app.URL)
	res, body := c.do("GET", "/session/events", nil)
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Empty(t, body)
	res, body = c.do("GET", "/clock", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Equal(t, "not signed in\n", body)
	assert.Empty(t, c.cookie())

	// The page a tab turns into says, for a browser with nothing recorded,
	// that it is signed out; for an expiry, that it expired.
	res, body = c.do("GET", "/session/ended", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `<div id="ended" class="notice" data-reason="" role="status">`)
	assert.Contains(t, body, "This browser was signed out.")
	assert.NotContains(t, body, "<time", "no time is known")
	assert.NotContains(t, body, "0001", "not the zero time")
	_, body = c.do("GET", "/session/ended?reason=expired", nil)
	assert.Contains(t, body, `data-reason="expired"`)
	assert.Contains(t, body, "Your session expired.")
	assert.NotContains(t, body, "0001", "not the zero time")
}

// alice's clock on instance one stops within a second of her login on
// instance two, and its last event says why; the events stream of the same
// browser says "ended" with the reason, and the page the tab then loads
// says what the login page says.
func TestLiveClockStopsOnLoginElsewhere(t *testing.T) {
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			one, two := twoInstances(t, store)
			a := newClient(t, "A", one.URL)
			a.login("alice")
			b := newClient(t, "B", two.URL)
			b.ua = uaIPhone

			clock := a.openStream("/clock", http.StatusOK)
			assert.Equal(t, "text/event-stream", clock.res.Header.Get("Content-Type"))
			// Ticks come, each a later second than the one before (a
			// loaded machine may delay one or skip one, not repeat one).
			first := clock.next(t, 3*time.Second, comment)
			assert.Equal(t, "", first.Name)
			second := clock.next(t, 3*time.Second, comment)
			assert.Equal(t, "", second.Name, "a second tick")
			assert.True(t, tickTime(t, first.Data).Before(tickTime(t, second.Data)), "%q, then %q", first.Data, second.Data)
			events := a.openStream("/session/events", http.StatusOK)
			assert.Equal(t, sseEvent{Name: ":", Data: "watching"}, dropAt(events.next(t, 3*time.Second, nothing)), "listening")

			start := time.Now()
			b.login("alice")
			stopped := clock.next(t, 3*time.Second, tickOrComment)
			t.Logf("the clock stopped %v after the login elsewhere", stopped.At.Sub(start))
			assert.Less(t, stopped.At.Sub(start), time.Second, "within a second")
			assert.Equal(t, "ended", stopped.Name)
			var why clockEnded
			require.NoError(t, json.Unmarshal([]byte(stopped.Data), &why))
			assert.Equal(t, clockEnded{Reason: singlesession.ReasonLogin, Text: "Stopped: the session ended, as you signed in on another browser."}, why)
			clock.ends(t, time.Second)

			ended := events.next(t, time.Second, comment)
			assert.Equal(t, "ended", ended.Name)
			assert.Contains(t, ended.Data, `"reason":"login"`)
			events.ends(t, time.Second)

			_, page := a.do("GET", "/session/ended", nil)
			assert.Contains(t, page, `data-reason="login"`)
			assert.Contains(t, page, "You signed in on another browser, so this one was signed out.")
			assert.Contains(t, page, "Signed in on Safari 17 on iOS, just now.")
			assert.Contains(t, page, `href="/login">Sign in again</a>`)
			assert.Equal(t, "alice", b.whoami())
		})
	}
}

// With -max-sessions 3, the events stream of one of alice's browsers says
// "sessions" when another of hers ends (B, on the other instance, ends C's),
// and goes on.
func TestLiveOtherSessionEnds(t *testing.T) {
	one, two := twoInstances(t, "memory", "-max-sessions", "3")
	a := newClient(t, "A", one.URL)
	a.login("alice")
	b := newClient(t, "B", two.URL)
	b.login("alice")
	events := a.openStream("/session/events", http.StatusOK)
	require.Equal(t, sseEvent{Name: ":", Data: "watching"}, dropAt(events.next(t, 3*time.Second, nothing)))
	c := newClient(t, "C", one.URL)
	c.login("alice")
	// B ends C's session from its "Your sessions" page, on instance two.
	cID, _ := c.sessionIDs()
	res, _ := b.do("POST", "/sessions/end", url.Values{"id": {cID}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, sseEvent{Name: "sessions", Data: "{}"}, dropAt(events.next(t, 3*time.Second, comment)))
	assert.Equal(t, "", c.whoami())

	// The page's live reload of its list leaves B's one-time message to the
	// page B's redirect loads.
	_, page := b.do("GET", "/sessions", nil, liveReloadHeader, "1")
	assert.Contains(t, page, `<ul id="sessions"`)
	assert.NotContains(t, page, `id="flash"`)
	_, page = b.do("GET", "/sessions", nil)
	assert.Contains(t, page, "The session ended: that browser is signed out.")
	assert.Equal(t, "alice", a.whoami(), "A goes on")
}

// The server's WriteTimeout (30 s in serve, a fraction of a second here)
// does not cut the streams: the events lift it for their own response, the
// clock pushes it 30 s ahead before each write.
func TestLiveStreamsOutliveWriteTimeout(t *testing.T) {
	logs := &syncBuffer{}
	h, release, err := newApp(context.Background(), flagsConfig(t, logs))
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Config = newServer(h, flagsConfig(t, logs).Logger)
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		release()
	})
	a := newClient(t, "A", srv.URL)
	a.login("alice")
	clock := a.openStream("/clock", http.StatusOK)
	events := a.openStream("/session/events", http.StatusOK)
	time.Sleep(1200 * time.Millisecond)
	newClient(t, "B", srv.URL).login("alice")
	assert.Equal(t, "ended", clock.next(t, 3*time.Second, tickOrComment).Name, "the clock's last event, past the write timeout")
	assert.Equal(t, "ended", events.next(t, 3*time.Second, comment).Name, "the events' last event, past the write timeout")
	clock.close()
	events.close()
}

// tickTime returns the time of a tick of the clock ("15:04:05 UTC") as a
// time of day, a tick past midnight (of a test started before) the next
// day's.
func tickTime(t testing.TB, data string) time.Time {
	t.Helper()
	at, err := time.Parse("15:04:05 UTC", data)
	require.NoError(t, err, "a tick says the time")
	if at.Hour() < time.Now().UTC().Add(-time.Minute).Hour() {
		at = at.Add(24 * time.Hour)
	}
	return at
}

// Neither stream keeps its session alive: with a "last seen" that is stale
// after 10 ms, connecting to /clock or /session/events and reading their
// events leaves the session's LastSeen as it was, while any page refreshes
// it.
func TestLiveStreamsKeepNothingAlive(t *testing.T) {
	store := singlesession.NewMemoryStore()
	logs := &syncBuffer{}
	cfg := flagsConfig(t, logs, "-last-seen-interval", "10ms")
	cfg.Store = store
	app := serveApp(t, cfg, logs)
	lastSeen := func() time.Time {
		t.Helper()
		res, err := store.Sessions(context.Background(), singlesession.SessionsQuery{UserID: "alice", Limit: 10})
		require.NoError(t, err)
		require.Len(t, res.Sessions, 1)
		return res.Sessions[0].LastSeen
	}
	a := newClient(t, "A", app.URL)
	a.login("alice")
	seen := lastSeen()

	time.Sleep(50 * time.Millisecond)
	clock := a.openStream("/clock", http.StatusOK)
	clock.next(t, 3*time.Second, comment)
	clock.next(t, 3*time.Second, comment)
	clock.close()
	events := a.openStream("/session/events", http.StatusOK)
	events.next(t, 3*time.Second, nothing)
	events.close()
	assert.Equal(t, seen, lastSeen(), "the streams refreshed LastSeen")

	assert.Equal(t, "alice", a.whoami())
	assert.True(t, lastSeen().After(seen), "a page refreshes a stale LastSeen (else this test proves nothing)")
}

// dropAt returns ev without the time it was read, to compare.
func dropAt(ev sseEvent) sseEvent { ev.At = time.Time{}; return ev }
