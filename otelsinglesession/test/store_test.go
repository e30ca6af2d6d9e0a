package test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/otelsinglesession"
	"github.com/go-singlesession/singlesession/otelsinglesession/test/internal/oteltest"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// Every method of the Store and of its optional interfaces makes one
// Internal span named after it, in the package's scope, and one duration
// with its name as singlesession.operation.
func TestEveryMethod(t *testing.T) {
	t.Parallel()
	tel := oteltest.NewTelemetry(t)
	mem := singlesession.NewMemoryStore()
	s := otelsinglesession.NewStore(mem, tel.Options()...)
	ctx := context.Background()
	token, other := testapp.HashToken("one"), testapp.HashToken("two")
	expiry := time.Now().Add(time.Hour)
	calls := []struct {
		method string
		call   func() error
	}{
		{"Insert", func() error { return s.Insert(ctx, token, []byte("d"), expiry) }},
		{"Find", func() error { _, err := s.Find(ctx, token, time.Minute); return err }},
		{"Update", func() error {
			_, err := s.Update(ctx, singlesession.Update{Token: token, Data: []byte("e"), Expiry: expiry})
			return err
		}},
		{"Login", func() error {
			_, err := s.Login(ctx, singlesession.Login{UserID: "u", Token: other, Data: []byte("d"), Expiry: expiry, Replaces: []string{token}})
			return err
		}},
		{"Touch", func() error { return s.Touch(ctx, other) }},
		{"Sessions", func() error {
			_, err := s.Sessions(ctx, singlesession.SessionsQuery{UserID: "u", Limit: 10})
			return err
		}},
		{"CountSessions", func() error { _, err := s.CountSessions(ctx, []string{"u", "v"}); return err }},
		{"EndSessions", func() error {
			_, err := s.EndSessions(ctx, singlesession.EndSessions{UserID: "u", IDs: []string{"x"}})
			return err
		}},
		{"Logout", func() error { _, err := s.Logout(ctx, singlesession.Logout{Tokens: []string{other}}); return err }},
		{"EndUsers", func() error { _, err := s.EndUsers(ctx, singlesession.EndUsers{UserIDs: []string{"u"}}); return err }},
		{"All", func() error { _, err := s.(singlesession.IterableStore).All(ctx); return err }},
		{"DeleteExpired", func() error { _, err := s.(singlesession.CleanupStore).DeleteExpired(ctx); return err }},
	}
	for _, c := range calls {
		mark := tel.Mark()
		require.NoError(t, c.call(), c.method)
		spans := tel.Since(mark, "")
		require.Len(t, spans, 1, c.method)
		assert.Equal(t, "singlesession."+c.method, spans[0].Name())
		oteltest.AssertOK(t, spans[0])
		assert.False(t, spans[0].Parent().IsValid(), "a root span without a parent in ctx")
		assert.Equal(t, uint64(1), tel.Duration(t, c.method, ""), c.method)
	}
	assert.Equal(t, []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		durationBounds(t, tel), "boundaries suited to store calls, from 50 µs")
	login := tel.Spans("singlesession.Login")[0]
	oteltest.AssertAttrs(t, "login", login.Attributes(),
		attribute.String("session.id", singlesession.SessionID(other)),
		attribute.String("session.previous_id", singlesession.SessionID(token)),
		attribute.Int("singlesession.limit.max", 0))
	oteltest.AssertNone(t, "login without a limit", login.Attributes(), "singlesession.limit.reject_new", "user.id")
	count := tel.Spans("singlesession.CountSessions")[0]
	oteltest.AssertAttrs(t, "count", count.Attributes(), attribute.Int("singlesession.user_count", 2), attribute.Int("singlesession.session_count", 1))
	oteltest.AssertNone(t, "count of two users", count.Attributes(), "user.id")
	sessions := tel.Spans("singlesession.Sessions")[0]
	oteltest.AssertAttrs(t, "sessions", sessions.Attributes(), attribute.Int("singlesession.page.limit", 10), attribute.Int("singlesession.session_count", 1))
	all := tel.Spans("singlesession.All")[0]
	oteltest.AssertAttrs(t, "all", all.Attributes(), attribute.Int("singlesession.session_count", 0))
	end := tel.Spans("singlesession.EndSessions")[0]
	oteltest.AssertAttrs(t, "end sessions", end.Attributes(), attribute.Int("singlesession.id_count", 1), attribute.Int("singlesession.ended_count", 0))
	oteltest.AssertNone(t, "end sessions by an operator", end.Attributes(), "session.id", "singlesession.end.reason")
	logout := tel.Spans("singlesession.Logout")[0]
	oteltest.AssertAttrs(t, "logout", logout.Attributes(), attribute.String("session.id", singlesession.SessionID(other)),
		attribute.Int("singlesession.deleted_count", 1), attribute.Int("singlesession.ended_count", 0))

	// A span in ctx is the parent.
	tracer := tel.TracerProvider.Tracer("test")
	pctx, parent := tracer.Start(ctx, "parent")
	_, err := s.Find(pctx, token, time.Minute)
	require.NoError(t, err)
	parent.End()
	find := tel.Spans("singlesession.Find")[1]
	assert.Equal(t, parent.SpanContext().SpanID(), find.Parent().SpanID())
	oteltest.AssertAttrs(t, "find of nothing", find.Attributes(), attribute.Bool("singlesession.found", false))
}

// durationBounds returns the bucket boundaries of the histogram.
func durationBounds(t *testing.T, tel *oteltest.Telemetry) []float64 {
	for _, sm := range tel.Collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "singlesession.store.duration" {
				return h.DataPoints[0].Bounds
			}
		}
	}
	t.Fatal("no singlesession.store.duration")
	return nil
}

// NewStore of a nil store is nil, so that singlesession.New reports it.
func TestNewStoreOfNothing(t *testing.T) {
	t.Parallel()
	assert.Nil(t, otelsinglesession.NewStore(nil))
	var none *pgxstore.Store
	s := otelsinglesession.NewStore(none)
	assert.Nil(t, s)
	_, err := singlesession.New(scs.New(), s, singlesession.Config{})
	assert.ErrorContains(t, err, "store is nil")
}

// notifying is a NotifyingStore whose Listen is listen.
type notifying struct {
	singlesession.Store
	listen func(ctx context.Context, ready func(), notify func(singlesession.Notice)) error
}

func (n notifying) Listen(ctx context.Context, ready func(), notify func(singlesession.Notice)) error {
	return n.listen(ctx, ready, notify)
}

// Listen: a span per notice, around its handling; a subscription that
// breaks gets a span with the error; one that ends with its context (the
// Manager stops listening) gets none. Listen records no duration.
func TestListen(t *testing.T) {
	t.Parallel()
	tel := oteltest.NewTelemetry(t)
	broken := errors.New("connection reset")
	ctx, cancel := context.WithCancel(context.Background())
	inner := notifying{Store: singlesession.NewMemoryStore(), listen: func(ctx context.Context, ready func(), notify func(singlesession.Notice)) error {
		ready()
		notify(singlesession.Notice{UserID: "u", IDs: []string{"a", "b"}, Ending: singlesession.Ending{Reason: singlesession.ReasonLogin}})
		notify(singlesession.Notice{UserID: "u"}) // a logout of its own: no reason, no IDs
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return broken
	}}
	s := otelsinglesession.NewStore(inner, tel.Options()...).(singlesession.NotifyingStore)
	var handled []singlesession.Notice
	err := s.Listen(ctx, func() {}, func(n singlesession.Notice) {
		assert.Equal(t, len(handled), tel.Count("singlesession.Listen"), "the span ends after the notice is handled")
		handled = append(handled, n)
	})
	require.ErrorIs(t, err, broken)
	require.Len(t, handled, 2)
	spans := tel.Spans("singlesession.Listen")
	require.Len(t, spans, 3)
	oteltest.AssertOK(t, spans[0])
	oteltest.AssertAttrs(t, "notice", spans[0].Attributes(), attribute.Int("singlesession.ended_count", 2), attribute.String("singlesession.end.reason", "login"))
	oteltest.AssertNone(t, "notice", spans[0].Attributes(), "user.id")
	oteltest.AssertOK(t, spans[1])
	oteltest.AssertNone(t, "unnamed notice", spans[1].Attributes(), "singlesession.ended_count", "singlesession.end.reason")
	assert.Equal(t, codes.Error, spans[2].Status().Code)
	assert.Equal(t, "connection reset", spans[2].Status().Description)
	oteltest.AssertAttrs(t, "broken", spans[2].Attributes(), attribute.String("error.type", "*errors.errorString"))
	assert.Empty(t, tel.Durations(t), "Listen records no duration")

	cancel()
	require.ErrorIs(t, s.Listen(ctx, func() {}, func(singlesession.Notice) {}), context.Canceled)
	assert.Equal(t, 5, tel.Count("singlesession.Listen"), "two notices, and no failure for the end of ctx")
}

// Without options, NewStore and OnEvent use the global providers, as they
// are when they run or as they are set later (the globals delegate).
func TestGlobalProviders(t *testing.T) {
	tp, mp := otel.GetTracerProvider(), otel.GetMeterProvider()
	t.Cleanup(func() { otel.SetTracerProvider(tp); otel.SetMeterProvider(mp) })
	s := otelsinglesession.NewStore(singlesession.NewMemoryStore(), otelsinglesession.WithTracerProvider(nil), otelsinglesession.WithMeterProvider(nil))
	onEvent := otelsinglesession.OnEvent()
	tel := oteltest.NewTelemetry(t)
	otel.SetTracerProvider(tel.TracerProvider)
	otel.SetMeterProvider(tel.MeterProvider)

	_, err := s.Find(context.Background(), "t", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, 1, tel.Count("singlesession.Find"))
	assert.Equal(t, uint64(1), tel.Duration(t, "Find", ""))
	ctx, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "request")
	onEvent(ctx, singlesession.Event{Kind: singlesession.EventLogin, SessionID: "abc"})
	span.End()
	assert.Equal(t, int64(1), tel.Sum(t, oteltest.Events, oteltest.Kind(singlesession.EventLogin)))
	ev := oteltest.Event(t, tel.Spans("request")[0], "singlesession.login")
	oteltest.AssertAttrs(t, "event", ev.Attributes, attribute.String("session.id", "abc"), attribute.Int("singlesession.ended_count", 0))
}

// OnEvent counts every event by kind and reason, the sessions it ended
// too, and adds nothing to a context without a recording span.
func TestOnEvent(t *testing.T) {
	t.Parallel()
	tel := oteltest.NewTelemetry(t)
	onEvent := otelsinglesession.OnEvent(tel.Options(otelsinglesession.WithUserID())...)
	onEvent(context.Background(), singlesession.Event{Kind: singlesession.EventLogin, UserID: "u", Ended: 2, Reason: singlesession.ReasonLogin})
	onEvent(context.Background(), singlesession.Event{Kind: singlesession.EventLoginRejected, UserID: "u"})
	onEvent(trace.ContextWithSpan(context.Background(), trace.SpanFromContext(context.Background())), singlesession.Event{Kind: singlesession.EventLogout, UserID: "u", Ended: 1})
	ctx, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "operator")
	onEvent(ctx, singlesession.Event{Kind: singlesession.EventEnded, UserID: "v", Ended: 3, Reason: singlesession.ReasonAdmin, Actor: "root"})
	span.End()

	assert.Equal(t, map[string]int64{
		"singlesession.end.reason=login,singlesession.event.kind=login": 1,
		"singlesession.event.kind=login_rejected":                       1,
		"singlesession.event.kind=logout":                               1,
		"singlesession.end.reason=admin,singlesession.event.kind=ended": 1,
	}, tel.Sums(t, oteltest.Events))
	assert.Equal(t, map[string]int64{
		"singlesession.end.reason=login,singlesession.event.kind=login": 2,
		"singlesession.event.kind=logout":                               1,
		"singlesession.end.reason=admin,singlesession.event.kind=ended": 3,
	}, tel.Sums(t, oteltest.Ended))
	spans := tel.Spans("")
	require.Len(t, spans, 1, "only the operator's span")
	ev := oteltest.Event(t, spans[0], "singlesession.ended")
	oteltest.AssertAttrs(t, "ended", ev.Attributes, attribute.String("user.id", "v"), attribute.String("singlesession.actor", "root"),
		attribute.Int("singlesession.ended_count", 3), attribute.String("singlesession.end.reason", "admin"))
	oteltest.AssertNone(t, "ended by an operator", ev.Attributes, "session.id")
	for _, sm := range tel.Collect(t).ScopeMetrics {
		assert.Equal(t, otelsinglesession.ScopeName, sm.Scope.Name)
		assert.Equal(t, otelsinglesession.Version(), sm.Scope.Version)
	}
}
