package test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/otelsinglesession"
	"github.com/go-singlesession/singlesession/otelsinglesession/test/internal/oteltest"
)

// The wrapper has exactly the optional interfaces of the store it wraps, in
// each of the 8 combinations, and the Manager behaves through it as over
// the bare store: scs's Iterate works over an IterableStore and reports
// that it cannot work otherwise; DeleteExpired reaches a CleanupStore and
// does nothing otherwise; SessionContext learns of an ending from the
// notices of a NotifyingStore (a span per notice), and by checking every
// 2 s otherwise.
func TestOptionalInterfaces(t *testing.T) {
	for bits := range 8 {
		t.Run(combination(bits), func(t *testing.T) {
			t.Parallel()
			tel := oteltest.NewTelemetry(t)
			inner, ready := oteltest.WithReady(oteltest.Subset(singlesession.NewMemoryStore(), bits))
			wrapped := otelsinglesession.NewStore(inner, tel.Options()...)
			require.Equal(t, bits, oteltest.Bits(wrapped), "the optional interfaces of %T", wrapped)

			a := testapp.New(t, wrapped)
			A := a.Browser("A")
			A.MustLogin("alice")

			res, body := A.Do("POST", "/iterate", url.Values{})
			if bits&oteltest.Iterable != 0 {
				require.Equal(t, http.StatusNoContent, res.StatusCode, body)
				assert.Equal(t, "yes", A.Get("seen"), "Iterate updated the session")
				assert.Equal(t, 1, tel.Count("singlesession.All"))
			} else {
				assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
				assert.Contains(t, body, "is not an IterableStore")
				assert.Zero(t, tel.Count("singlesession.All"))
			}

			_, err := a.M.DeleteExpired(context.Background())
			require.NoError(t, err)
			assert.Equal(t, bits&oteltest.Cleanup != 0, tel.Count("singlesession.DeleteExpired") == 1)

			w := A.Watch()
			if bits&oteltest.Notifying != 0 {
				waitReady(t, ready)
			}
			start := time.Now()
			_, err = a.M.LogoutUsers(context.Background(), []string{"alice"})
			require.NoError(t, err)
			l, ok := w.Next(5 * time.Second)
			require.True(t, ok, "the watch ends")
			assert.Equal(t, "ended admin ", l.Text)
			if bits&oteltest.Notifying == 0 {
				assert.Zero(t, tel.Count("singlesession.Listen"), "no notices: the Manager checks every 2 s")
				return
			}
			assert.Less(t, l.At.Sub(start), time.Second, "a notice, within a second")
			require.Eventually(t, func() bool { return tel.Count("singlesession.Listen") == 1 }, 5*time.Second, 5*time.Millisecond,
				"a span for the notice")
			listen := tel.Spans("singlesession.Listen")[0]
			oteltest.AssertOK(t, listen)
			oteltest.AssertAttrs(t, "notice", listen.Attributes(), oteltest.Reason(singlesession.ReasonAdmin))
		})
	}
}

// waitReady waits until the store listens.
func waitReady(t *testing.T, ready <-chan struct{}) {
	t.Helper()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("the store did not start listening within 5 s")
	}
}

// combination names the optional interfaces of bits.
func combination(bits int) string {
	var names []string
	for i, n := range []string{"Iterable", "Cleanup", "Notifying"} {
		if bits&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if names == nil {
		return "none"
	}
	return strings.Join(names, "+")
}

// Through NewStore, on the memory store and on PostgreSQL, with two
// application instances: scs's Iterate on instance 2 updates a session of
// instance 1, and a watch (SessionContext) on instance 1 ends within a
// second when instance 2 signs the user out, by the notice that instance
// 1's wrapped store hands on (its span names the reason).
func TestIterateAndSessionContextThroughNewStore(t *testing.T) {
	pgtest.ForEachStore(t, func(t *testing.T, e *pgtest.Env) {
		tel1, tel2 := oteltest.NewTelemetry(t), oteltest.NewTelemetry(t)
		store1, ready := oteltest.WithReady(e.Store)
		a1 := testapp.New(t, otelsinglesession.NewStore(store1, tel1.Options()...))
		a2 := testapp.New(t, otelsinglesession.NewStore(e.Second(t), tel2.Options()...))
		A, B := a1.Browser("A"), a2.Browser("B")
		A.MustLogin("alice")
		B.MustLogin("bob")
		// A watch that stays, so that instance 1 listens throughout, as an
		// application with open pages does.
		K := a1.Browser("K")
		K.MustLogin("keeper")
		K.Watch()
		waitReady(t, ready)
		res, body := B.Do("POST", "/iterate", url.Values{})
		require.Equal(t, http.StatusNoContent, res.StatusCode, body)
		assert.Equal(t, "yes", A.Get("seen"), "instance 2's Iterate updated instance 1's session")
		assert.Equal(t, 1, tel2.Count("singlesession.All"))

		for i := range 3 {
			w := A.Watch()
			start := time.Now()
			_, err := a2.M.LogoutUsers(context.Background(), []string{"alice"})
			require.NoError(t, err)
			l, ok := w.Next(5 * time.Second)
			require.True(t, ok, "the watch ends")
			assert.Equal(t, "ended admin ", l.Text)
			delay := l.At.Sub(start)
			t.Logf("%s: the watch ended %v after the sign-out began", e.Name, delay.Round(time.Millisecond))
			assert.Less(t, delay, time.Second)
			require.Eventually(t, func() bool { return tel1.Count("singlesession.Listen") == i+1 }, 5*time.Second, 5*time.Millisecond)
			oteltest.AssertAttrs(t, "notice", tel1.Spans("singlesession.Listen")[i].Attributes(), oteltest.Reason(singlesession.ReasonAdmin))
			A.MustLogin("alice")
		}
		assert.Equal(t, 3, tel2.Count("singlesession.EndUsers"))
	})
}
