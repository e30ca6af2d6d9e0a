package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

// listener runs Listen in the background until the test ends, and collects
// the notices.
type listener struct {
	mu      sync.Mutex
	notices []singlesession.Notice
	done    chan error
}

func listen(t *testing.T, s *redisstore.Store) *listener {
	t.Helper()
	l := &listener{done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	go func() {
		l.done <- s.Listen(ctx, func() { close(ready) }, func(n singlesession.Notice) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.notices = append(l.notices, n)
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-l.done:
			assert.ErrorIs(t, err, context.Canceled, "Listen returns ctx's error")
		case <-time.After(5 * time.Second):
			t.Error("Listen did not return when its context ended")
		default:
		}
	})
	select {
	case <-ready:
	case err := <-l.done:
		t.Fatalf("Listen: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Listen was not ready within 10 s")
	}
	return l
}

// take waits until n notices came (or 2 s passed) and returns what came.
func (l *listener) take(n int) []singlesession.Notice {
	deadline := time.Now().Add(2 * time.Second)
	for {
		l.mu.Lock()
		got := len(l.notices)
		l.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // and nothing more
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.notices
	l.notices = nil
	return out
}

func ids(tokens ...string) []string {
	var out []string
	for _, t := range tokens {
		out = append(out, singlesession.SessionID(t))
	}
	slices.Sort(out)
	return out
}

// notices sorts each notice's IDs, for comparing.
func sorted(ns []singlesession.Notice) []singlesession.Notice {
	for i := range ns {
		slices.Sort(ns[i].IDs)
	}
	return ns
}

// SPEC 10, the Redis side: the store is a NotifyingStore. Every kind of
// ending done by one instance reaches Listen on another at once, with the
// user, the IDs (none for a cut, however many it ends), the reason, the
// time and the acting user agent; the notices of another prefix do not.
func TestListenHearsEveryEnding(t *testing.T) {
	forEachTopology(t, func(t *testing.T, client func() redis.UniversalClient) {
		c := client()
		prefix := testPrefix(t, c)
		listening := redisstore.NewWithPrefix(c, prefix)
		acting := redisstore.NewWithPrefix(client(), prefix)
		l := listen(t, listening)
		otherPrefix := listen(t, redisstore.NewWithPrefix(client(), testPrefix(t, c)))
		ctx := context.Background()
		in := func(user, tok string, limit singlesession.Limit, replaces ...string) {
			t.Helper()
			_, err := acting.Login(ctx, singlesession.Login{UserID: user, Token: tok, Data: []byte("d"), Expiry: time.Now().Add(time.Hour),
				Limit: limit, UserAgent: "phone", Replaces: replaces})
			require.NoError(t, err)
		}
		check := func(what string, want ...singlesession.Notice) {
			t.Helper()
			got := sorted(l.take(len(want)))
			require.Len(t, got, len(want), "%s: %+v", what, got)
			for i := range want {
				assert.Equal(t, want[i].UserID, got[i].UserID, what)
				assert.Equal(t, want[i].IDs, got[i].IDs, what)
				assert.Equal(t, want[i].Ending.Reason, got[i].Ending.Reason, what)
				assert.Equal(t, want[i].Ending.UserAgent, got[i].Ending.UserAgent, what)
				assert.WithinDuration(t, time.Now(), got[i].Ending.At, 5*time.Second, what)
			}
		}
		notice := func(user string, tokens []string, reason singlesession.Reason, ua string) singlesession.Notice {
			n := singlesession.Notice{UserID: user, Ending: singlesession.Ending{Reason: reason, UserAgent: ua}}
			if tokens != nil {
				n.IDs = ids(tokens...)
			}
			return n
		}

		a1, a2 := token("a1"), token("a2")
		in("ali{ce}%", a1, singlesession.Limit{})
		check("a login that ends nothing")
		in("ali{ce}%", a2, singlesession.Limit{Max: 1})
		check("a login elsewhere", notice("ali{ce}%", []string{a1}, singlesession.ReasonLogin, "phone"))

		b1, b2, b3 := token("b1"), token("b2"), token("b3")
		in("bob", b1, singlesession.Limit{})
		in("bob", b2, singlesession.Limit{})
		in("bob", b3, singlesession.Limit{Max: 2})
		check("a limit", notice("bob", []string{b1}, singlesession.ReasonLogin, "phone"))

		b4 := token("b4")
		in("bob", b4, singlesession.Limit{}, b3)
		check("a re-login", notice("bob", []string{b3}, "", ""))

		_, err := acting.Logout(ctx, singlesession.Logout{Tokens: []string{b4}, UserID: "bob", UserAgent: "laptop"})
		require.NoError(t, err)
		check("a logout", notice("bob", []string{b4}, "", ""), notice("bob", []string{b2}, singlesession.ReasonLogout, "laptop"))

		_, err = acting.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"ali{ce}%"}, Reason: singlesession.ReasonAdmin})
		require.NoError(t, err)
		check("an operator", notice("ali{ce}%", []string{a2}, singlesession.ReasonAdmin, ""))

		c1, c2, c3 := token("c1"), token("c2"), token("c3")
		for _, tok := range []string{c1, c2, c3} {
			in("carol", tok, singlesession.Limit{})
		}
		_, err = acting.EndSessions(ctx, singlesession.EndSessions{UserID: "carol", IDs: ids(c1), By: c3, Reason: singlesession.ReasonRevoked, UserAgent: "tablet"})
		require.NoError(t, err)
		check("EndSession", notice("carol", []string{c1}, singlesession.ReasonRevoked, "tablet"))
		_, err = acting.EndSessions(ctx, singlesession.EndSessions{UserID: "carol", By: c3, Reason: singlesession.ReasonRevoked, UserAgent: "tablet"})
		require.NoError(t, err)
		check("EndOtherSessions", notice("carol", []string{c2}, singlesession.ReasonRevoked, "tablet"))

		for range 150 {
			in("dave", token("d"), singlesession.Limit{})
		}
		check("150 logins under Never")
		_, err = acting.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"dave"}, Reason: singlesession.ReasonAdmin})
		require.NoError(t, err)
		check("a cut of 150", notice("dave", nil, singlesession.ReasonAdmin, ""))

		e1, e2 := token("e1"), token("e2")
		in("erin", e1, singlesession.Limit{})
		in("erin", e2, singlesession.Limit{})
		require.NoError(t, c.Del(ctx, prefix+"t:{"+ids(e1)[0]+"}").Err(), "an eviction of e1's pointer")
		_, err = acting.CountSessions(ctx, []string{"erin"})
		require.NoError(t, err)
		check("an eviction the store meets", notice("erin", []string{e1}, singlesession.ReasonExpired, ""))

		assert.Empty(t, otherPrefix.take(0), "another prefix hears nothing")
	})
}

// Listen returns an error when its connection breaks: a private
// redis-server restarted while it listens.
func TestListenReturnsWhenRedisRestarts(t *testing.T) {
	srv := startPrivateRedis(t)
	s := redisstore.NewWithPrefix(srv.client(func(o *redis.Options) { o.MaxRetries = -1 }), "p:")
	done := make(chan error, 1)
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- s.Listen(ctx, func() { close(ready) }, func(singlesession.Notice) {}) }()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	start := time.Now()
	srv.restart()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.False(t, errors.Is(err, context.Canceled), "%v", err)
		t.Logf("Listen returned %v after %v", err, time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not return when Redis restarted")
	}
}

// SPEC 10, faults: watches wait on one instance while its Redis restarts
// (with an append-only file, so the sessions survive). The Manager listens
// again and checks every watched session, so a sign-out made on another
// instance as soon as Redis is back, whether or not the new subscription
// hears it, cancels its watch within 5 s; the other watch goes on, and
// nothing hangs.
func TestWatchesAcrossRedisRestart(t *testing.T) {
	srv := startPrivateRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	newManager := func() *singlesession.Manager {
		c := srv.client(func(o *redis.Options) { o.DialTimeout = 200 * time.Millisecond })
		m, err := singlesession.New(scs.New(), redisstore.NewWithPrefix(c, "restart-watch:"),
			singlesession.Config{Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		return m
	}
	m, other := newManager(), newManager()
	watch := func(user string) (context.Context, context.CancelFunc) {
		ctx, err := m.Load(context.Background(), "")
		require.NoError(t, err)
		require.NoError(t, m.LoginHook(ctx, user))
		token, _, err := m.Commit(ctx)
		require.NoError(t, err)
		ctx, err = m.Load(context.Background(), token)
		require.NoError(t, err)
		require.Equal(t, user, m.UserID(ctx))
		return m.SessionContext(ctx)
	}
	alice, cancelAlice := watch("alice")
	defer cancelAlice()
	kim, cancelKim := watch("kim")
	defer cancelKim()
	time.Sleep(200 * time.Millisecond) // the Manager subscribes

	srv.restart()
	counts, err := other.LogoutUsers(context.Background(), []string{"alice"})
	require.NoError(t, err)
	require.Equal(t, 1, counts["alice"], "alice's session survived the restart, and ends now")
	ended := time.Now()
	select {
	case <-alice.Done():
		t.Logf("the watch ended %v after the sign-out, across a restart of Redis", time.Since(ended).Round(time.Millisecond))
	case <-time.After(7 * time.Second):
		t.Fatal("the watch did not end within 7 s of the sign-out")
	}
	var e *singlesession.EndedError
	require.ErrorAs(t, context.Cause(alice), &e)
	assert.Equal(t, singlesession.ReasonAdmin, e.Ending.Reason)
	assert.NoError(t, kim.Err(), "the other watch goes on")
	cancelKim()
	assert.ErrorIs(t, kim.Err(), context.Canceled, "cancel releases")
}
