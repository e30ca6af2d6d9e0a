package oteltest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/otelsinglesession"
)

// Backend is one empty store under test.
type Backend struct {
	// Store is the store, bare. It must be empty.
	Store singlesession.Store

	// Broken, when set, is a store of the same kind whose connection is
	// closed, for a failure of the real client (nil for the memory store).
	Broken singlesession.Store
}

// The attributes the scenarios expect, by their public names.
var (
	kSessionID  = attribute.Key("session.id")
	kPreviousID = attribute.Key("session.previous_id")
	kUserID     = attribute.Key("user.id")
	kActor      = attribute.Key("singlesession.actor")
	kEnded      = attribute.Key("singlesession.ended_count")
	kDeleted    = attribute.Key("singlesession.deleted_count")
	kSessions   = attribute.Key("singlesession.session_count")
	kUsers      = attribute.Key("singlesession.user_count")
	kIDs        = attribute.Key("singlesession.id_count")
	kOthers     = attribute.Key("singlesession.end.others")
	kLimitMax   = attribute.Key("singlesession.limit.max")
	kRejectNew  = attribute.Key("singlesession.limit.reject_new")
	kFound      = attribute.Key("singlesession.found")
)

// Env is one instrumented application of a scenario.
type Env struct {
	T     *testing.T
	Tel   *Telemetry
	App   *testapp.App
	Store singlesession.Store // the instrumented store the Manager uses
}

// Setup serves an application over NewStore(inner) whose Config.OnEvent is
// OnEvent, both recording into a new Telemetry with opts, behind server
// spans.
func Setup(t *testing.T, inner singlesession.Store, opts []otelsinglesession.Option, appOpts ...testapp.Option) *Env {
	t.Helper()
	tel := NewTelemetry(t)
	store := otelsinglesession.NewStore(inner, tel.Options(opts...)...)
	appOpts = append(appOpts, testapp.WithConfig(func(c *singlesession.Config) {
		c.OnEvent = otelsinglesession.OnEvent(tel.Options(opts...)...)
	}))
	a := testapp.New(t, store, appOpts...)
	tel.Serve(a)
	return &Env{T: t, Tel: tel, App: a, Store: store}
}

// One requires exactly one span named name since mark and returns it.
func (e *Env) One(mark int, name string) sdktrace.ReadOnlySpan {
	e.T.Helper()
	spans := e.Tel.Since(mark, name)
	require.Len(e.T, spans, 1, "one span %s: %v", name, names(spans))
	return spans[0]
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}

// AssertNoFailures checks that no duration was recorded with an error.type.
func (e *Env) AssertNoFailures() {
	e.T.Helper()
	for k := range e.Tel.Durations(e.T) {
		assert.NotContains(e.T, k, "error.type", "no call failed")
	}
}

// Run runs the scenarios on the backends that newBackend returns, one
// empty backend per scenario, in parallel: logins that end sessions,
// limits that evict and refuse, logouts, the users' own sign-outs,
// operators', failing stores, user IDs on spans, and no token anywhere.
// Each checks every span the store calls make, their status, the
// histogram and the counters by kind and reason.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	for _, s := range []struct {
		name string
		run  func(t *testing.T, b Backend)
	}{
		{"LoginEndsOthers", loginEndsOthers},
		{"LimitEvicts", limitEvicts},
		{"RejectNew", rejectNew},
		{"Logout", logout},
		{"OwnSessions", ownSessions},
		{"Operators", operators},
		{"FailingStore", failingStore},
		{"UserIDs", userIDs},
		{"NoTokenInTelemetry", noToken},
		{"NoUserIDWithoutTheOption", noUserID},
	} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			s.run(t, newBackend(t))
		})
	}
}

// A login that ends the user's other session: a Login span under the
// request's span, with the new session's ID, what it ended and why; the
// login event on the request's span; the counters by kind and reason.
func loginEndsOthers(t *testing.T, b Backend) {
	e := Setup(t, b.Store, nil)
	A, B := e.App.Browser("A"), e.App.Browser("B")
	A.MustLogin("alice")
	first := e.One(0, "singlesession.Login")
	AssertOK(t, first)
	AssertAttrs(t, "first login", first.Attributes(), kSessionID.String(A.ID()), kEnded.Int(0), kLimitMax.Int(1), kRejectNew.Bool(false))
	AssertNone(t, "first login", first.Attributes(), kReason, kUserID, kPreviousID)

	mark := e.Tel.Mark()
	B.MustLogin("alice")
	second := e.One(mark, "singlesession.Login")
	AssertOK(t, second)
	AssertAttrs(t, "second login", second.Attributes(), kSessionID.String(B.ID()), kEnded.Int(1), Reason(singlesession.ReasonLogin), kLimitMax.Int(1))
	AssertNone(t, "second login", second.Attributes(), kUserID)

	srv := e.Tel.ServerSpan(t, "POST", "/login", "B")
	assert.Equal(t, srv.SpanContext().SpanID(), second.Parent().SpanID(), "the Login span is a child of the request's")
	assert.Equal(t, srv.SpanContext().TraceID(), second.SpanContext().TraceID())
	ev := Event(t, srv, "singlesession.login")
	AssertAttrs(t, "login event", ev.Attributes, kSessionID.String(B.ID()), kEnded.Int(1), Reason(singlesession.ReasonLogin), Kind(singlesession.EventLogin))
	AssertNone(t, "login event", ev.Attributes, kUserID, kActor)

	// A's next request finds its session ended, and why: no error.
	mark = e.Tel.Mark()
	assert.Equal(t, "", A.WhoAmI())
	find := e.One(mark, "singlesession.Find")
	AssertOK(t, find)
	AssertAttrs(t, "find of an ended session", find.Attributes(), kSessionID.String(A.ID()), kFound.Bool(false), Reason(singlesession.ReasonLogin))
	mark = e.Tel.Mark()
	assert.Equal(t, "alice", B.WhoAmI())
	find = e.One(mark, "singlesession.Find")
	AssertOK(t, find)
	AssertAttrs(t, "find", find.Attributes(), kSessionID.String(B.ID()), kFound.Bool(true))
	AssertNone(t, "find", find.Attributes(), kUserID, kReason)

	assert.Equal(t, int64(1), e.Tel.Sum(t, Events, Kind(singlesession.EventLogin)))
	assert.Equal(t, int64(1), e.Tel.Sum(t, Events, Kind(singlesession.EventLogin), Reason(singlesession.ReasonLogin)))
	assert.Equal(t, int64(1), e.Tel.Sum(t, Ended, Kind(singlesession.EventLogin), Reason(singlesession.ReasonLogin)))
	assert.Len(t, e.Tel.Sums(t, Ended), 1, "a login that ends nothing counts no session")
	assert.Equal(t, uint64(2), e.Tel.Duration(t, "Login", ""))
	assert.Equal(t, uint64(2), e.Tel.Duration(t, "Find", ""))
	e.AssertNoFailures()
}

// A limit evicts the least recently used session: the login says its
// limit and what it ended.
func limitEvicts(t *testing.T, b Backend) {
	e := Setup(t, b.Store, nil, testapp.WithLimit(singlesession.Limit{Max: 2}))
	A, B, C := e.App.Browser("A"), e.App.Browser("B"), e.App.Browser("C")
	A.MustLogin("bob")
	B.MustLogin("bob")
	mark := e.Tel.Mark()
	C.MustLogin("bob")
	login := e.One(mark, "singlesession.Login")
	AssertOK(t, login)
	AssertAttrs(t, "evicting login", login.Attributes(), kSessionID.String(C.ID()), kLimitMax.Int(2), kRejectNew.Bool(false),
		kEnded.Int(1), Reason(singlesession.ReasonLogin))
	assert.Equal(t, "", A.WhoAmI(), "the least recently used ended")
	assert.Equal(t, "bob", B.WhoAmI())
	assert.Equal(t, int64(3), e.Tel.Sum(t, Events, Kind(singlesession.EventLogin))+e.Tel.Sum(t, Events, Kind(singlesession.EventLogin), Reason(singlesession.ReasonLogin)))
	assert.Equal(t, int64(1), e.Tel.Sum(t, Ended, Kind(singlesession.EventLogin), Reason(singlesession.ReasonLogin)))
	assert.Equal(t, uint64(3), e.Tel.Duration(t, "Login", ""))
	e.AssertNoFailures()
}

// A RejectNew limit refuses a login, in LoginHook (a CountSessions span,
// no Login) and, for a login that lost the race, in the save (a Login span
// that is no failure: singlesession.refused, status Unset).
func rejectNew(t *testing.T, b Backend) {
	gate := NewGate(b.Store, "dave")
	e := Setup(t, gate, nil, testapp.WithLimit(singlesession.Limit{Max: 1, RejectNew: true}))
	A, B := e.App.Browser("A"), e.App.Browser("B")
	A.MustLogin("carol")
	mark := e.Tel.Mark()
	res := B.Login("carol")
	assert.Equal(t, http.StatusConflict, res.StatusCode, "refused by LoginHook")
	count := e.One(mark, "singlesession.CountSessions")
	AssertOK(t, count)
	AssertAttrs(t, "the check of LoginHook", count.Attributes(), kUsers.Int(1), kSessions.Int(1))
	assert.Empty(t, e.Tel.Since(mark, "singlesession.Login"), "no login reaches the store")
	assert.Equal(t, int64(1), e.Tel.Sum(t, Events, Kind(singlesession.EventLoginRejected)))

	// X passes LoginHook's check, then Y signs in before X's save.
	X, Y := e.App.Browser("X"), e.App.Browser("Y")
	status := make(chan int)
	go func() {
		res, _ := X.Do("POST", "/login", url.Values{"user": {"dave"}})
		status <- res.StatusCode
	}()
	<-gate.Entered
	Y.MustLogin("dave")
	mark = e.Tel.Mark()
	close(gate.Release)
	assert.Equal(t, http.StatusConflict, <-status, "refused in the save")
	refused := e.One(mark, "singlesession.Login")
	assert.Equal(t, codes.Unset, refused.Status().Code, "a refusal is no failure: %v", refused.Status())
	AssertAttrs(t, "refused login", refused.Attributes(), kRefused.String("too_many_sessions"), kLimitMax.Int(1), kRejectNew.Bool(true))
	AssertNone(t, "refused login", refused.Attributes(), kErrorType, kEnded)
	assert.Empty(t, refused.Events(), "no exception")
	assert.Equal(t, int64(2), e.Tel.Sum(t, Events, Kind(singlesession.EventLoginRejected)))
	assert.Equal(t, int64(2), e.Tel.Sum(t, Events, Kind(singlesession.EventLogin)))
	assert.Equal(t, uint64(3), e.Tel.Duration(t, "Login", ""), "A's, Y's and X's refused one")
	e.AssertNoFailures()
}

// A logout ends the browser's session and the user's others: the Logout
// span counts both, the event counts them by reason.
func logout(t *testing.T, b Backend) {
	e := Setup(t, b.Store, nil, testapp.WithPolicy(singlesession.Never))
	A, B := e.App.Browser("A"), e.App.Browser("B")
	A.MustLogin("erin")
	B.MustLogin("erin")
	id := A.ID()
	mark := e.Tel.Mark()
	A.MustLogout()
	out := e.One(mark, "singlesession.Logout")
	AssertOK(t, out)
	AssertAttrs(t, "logout", out.Attributes(), kSessionID.String(id), kEnded.Int(1), Reason(singlesession.ReasonLogout))
	assert.Positive(t, Attr(out.Attributes(), kDeleted).AsInt64())
	AssertNone(t, "logout", out.Attributes(), kUserID)
	srv := e.Tel.ServerSpan(t, "POST", "/logout", "A")
	ev := Event(t, srv, "singlesession.logout")
	AssertAttrs(t, "logout event", ev.Attributes, kSessionID.String(id), kEnded.Int(2), Reason(singlesession.ReasonLogout))
	assert.Equal(t, "", B.WhoAmI())

	assert.Equal(t, int64(1), e.Tel.Sum(t, Events, Kind(singlesession.EventLogout), Reason(singlesession.ReasonLogout)))
	assert.Equal(t, int64(2), e.Tel.Sum(t, Ended, Kind(singlesession.EventLogout), Reason(singlesession.ReasonLogout)))
	assert.Equal(t, uint64(1), e.Tel.Duration(t, "Logout", ""))
	e.AssertNoFailures()
}

// A user's own sign-outs (EndSession, EndOtherSessions): EndSessions
// spans with the asking session, the reason and the count; a session that
// asks after it ended is refused, which is no failure.
func ownSessions(t *testing.T, b Backend) {
	e := Setup(t, b.Store, nil, testapp.WithPolicy(singlesession.Never))
	A, B, C := e.App.Browser("A"), e.App.Browser("B"), e.App.Browser("C")
	for _, br := range []*testapp.Browser{A, B, C} {
		br.MustLogin("ivy")
	}
	mark := e.Tel.Mark()
	res, body := B.Do("POST", "/end-session", url.Values{"id": {A.ID()}})
	require.Equal(t, http.StatusNoContent, res.StatusCode, body)
	one := e.One(mark, "singlesession.EndSessions")
	AssertOK(t, one)
	AssertAttrs(t, "EndSession", one.Attributes(), kSessionID.String(B.ID()), kIDs.Int(1), kEnded.Int(1), Reason(singlesession.ReasonRevoked))
	AssertNone(t, "EndSession", one.Attributes(), kOthers, kUserID)

	mark = e.Tel.Mark()
	res, body = C.Do("POST", "/end-others", url.Values{})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	others := e.One(mark, "singlesession.EndSessions")
	AssertOK(t, others)
	AssertAttrs(t, "EndOtherSessions", others.Attributes(), kSessionID.String(C.ID()), kOthers.Bool(true), kEnded.Int(1), Reason(singlesession.ReasonRevoked))
	ev := Event(t, e.Tel.ServerSpan(t, "POST", "/end-others", "C"), "singlesession.ended")
	AssertAttrs(t, "ended event", ev.Attributes, kSessionID.String(C.ID()), kEnded.Int(1), Reason(singlesession.ReasonRevoked))

	// A session that ended asks (its request was in flight): refused.
	mark = e.Tel.Mark()
	_, err := e.Store.EndSessions(context.Background(), singlesession.EndSessions{UserID: "ivy", By: testapp.HashToken("gone"), Reason: singlesession.ReasonRevoked})
	require.ErrorIs(t, err, singlesession.ErrSessionNotFound)
	refused := e.One(mark, "singlesession.EndSessions")
	assert.Equal(t, codes.Unset, refused.Status().Code)
	AssertAttrs(t, "refused EndSessions", refused.Attributes(), kRefused.String("session_not_found"))
	AssertNone(t, "refused EndSessions", refused.Attributes(), kErrorType, kEnded)

	assert.Equal(t, int64(2), e.Tel.Sum(t, Events, Kind(singlesession.EventEnded), Reason(singlesession.ReasonRevoked)))
	assert.Equal(t, int64(2), e.Tel.Sum(t, Ended, Kind(singlesession.EventEnded), Reason(singlesession.ReasonRevoked)))
	assert.Equal(t, uint64(3), e.Tel.Duration(t, "EndSessions", ""))
	e.AssertNoFailures()
}

// Operators' sign-outs (LogoutUsers, Admin.Run): EndUsers spans under the
// caller's span, the event on it, counted with the reason admin.
func operators(t *testing.T, b Backend) {
	e := Setup(t, b.Store, nil)
	F, G := e.App.Browser("F"), e.App.Browser("G")
	F.MustLogin("frank")
	G.MustLogin("gina")
	tracer := e.Tel.TracerProvider.Tracer("operator")

	mark := e.Tel.Mark()
	ctx, op := tracer.Start(context.Background(), "operator")
	n, err := e.App.M.LogoutUser(ctx, "frank")
	op.End()
	require.NoError(t, err)
	require.Equal(t, 1, n)
	end := e.One(mark, "singlesession.EndUsers")
	AssertOK(t, end)
	assert.Equal(t, op.SpanContext().SpanID(), end.Parent().SpanID())
	AssertAttrs(t, "LogoutUser", end.Attributes(), kUsers.Int(1), kEnded.Int(1), Reason(singlesession.ReasonAdmin))
	AssertNone(t, "LogoutUser", end.Attributes(), kUserID, kSessionID)
	ev := Event(t, e.One(mark, "operator"), "singlesession.ended")
	AssertAttrs(t, "ended event", ev.Attributes, kEnded.Int(1), Reason(singlesession.ReasonAdmin))
	AssertNone(t, "ended event", ev.Attributes, kSessionID, kUserID, kActor)

	admin, err := singlesession.NewAdmin(e.App.M, singlesession.NewStaticDirectory(
		singlesession.User{ID: "root", Admin: true}, singlesession.User{ID: "gina"}), singlesession.AdminConfig{})
	require.NoError(t, err)
	mark = e.Tel.Mark()
	ctx, op = tracer.Start(context.Background(), "admin action")
	result, err := admin.Run(ctx, "root", singlesession.ActionLogoutAll, []string{"gina"})
	op.End()
	require.NoError(t, err)
	require.Len(t, result.SignedOut, 1)
	end = e.One(mark, "singlesession.EndUsers")
	AssertOK(t, end)
	AssertAttrs(t, "Admin.Run", end.Attributes(), kEnded.Int(1), Reason(singlesession.ReasonAdmin))
	ev = Event(t, e.One(mark, "admin action"), "singlesession.ended")
	AssertAttrs(t, "Admin.Run event", ev.Attributes, kEnded.Int(1), Reason(singlesession.ReasonAdmin))
	AssertNone(t, "Admin.Run event", ev.Attributes, kUserID, kActor)
	assert.Equal(t, "", G.WhoAmI())

	assert.Equal(t, int64(2), e.Tel.Sum(t, Events, Kind(singlesession.EventEnded), Reason(singlesession.ReasonAdmin)))
	assert.Equal(t, int64(2), e.Tel.Sum(t, Ended, Kind(singlesession.EventEnded), Reason(singlesession.ReasonAdmin)))
	assert.Equal(t, uint64(2), e.Tel.Duration(t, "EndUsers", ""))
	e.AssertNoFailures()
}

// A failing store: status Error, the error recorded (its quoted user IDs
// taken out), error.type on the span and on the duration; no event.
func failingStore(t *testing.T, b Backend) {
	failing, inner := NewFailing(b.Store)
	e := Setup(t, inner, nil)
	A, B := e.App.Browser("A"), e.App.Browser("B")
	A.MustLogin("jack")
	failing.Down.Store(true)
	events := e.Tel.Sums(t, Events)

	mark := e.Tel.Mark()
	res, _ := A.Do("GET", "/whoami", nil)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	find := e.One(mark, "singlesession.Find")
	assertFailed(t, find, "*oteltest.DownError")
	AssertAttrs(t, "failed find", find.Attributes(), kSessionID.String(A.ID()))
	AssertNone(t, "failed find", find.Attributes(), kFound)

	mark = e.Tel.Mark()
	res = B.Login("jack")
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	login := e.One(mark, "singlesession.Login")
	assertFailed(t, login, "*oteltest.DownError")
	msg := login.Status().Description
	assert.Contains(t, msg, `login of "<user.id>": store down`)
	assert.NotContains(t, msg, `"jack"`, "no user ID without WithUserID")
	exc := Event(t, login, "exception")
	assert.Equal(t, msg, Attr(exc.Attributes, "exception.message").AsString())
	assert.Equal(t, "*oteltest.DownError", Attr(exc.Attributes, "exception.type").AsString())

	assert.Equal(t, uint64(1), e.Tel.Duration(t, "Find", "*oteltest.DownError"))
	assert.Equal(t, uint64(1), e.Tel.Duration(t, "Login", "*oteltest.DownError"))
	assert.Equal(t, uint64(1), e.Tel.Duration(t, "Login", ""), "A's login, before")
	assert.Equal(t, events, e.Tel.Sums(t, Events), "no event for a change that failed")

	if b.Broken == nil {
		return
	}
	// The real client's failure (a closed pool or client).
	tel := NewTelemetry(t)
	broken := otelsinglesession.NewStore(b.Broken, tel.Options()...)
	_, err := broken.Find(context.Background(), testapp.HashToken("any"), 0)
	require.Error(t, err)
	spans := tel.Spans("singlesession.Find")
	require.Len(t, spans, 1)
	et := Attr(spans[0].Attributes(), kErrorType).AsString()
	t.Logf("the client's failure: error.type %s, %v", et, err)
	assertFailed(t, spans[0], et)
	assert.NotEmpty(t, et)
	assert.Equal(t, uint64(1), tel.Duration(t, "Find", et))
}

// assertFailed checks that s failed with errorType.
func assertFailed(t testing.TB, s sdktrace.ReadOnlySpan, errorType string) {
	t.Helper()
	assert.Equal(t, trace.SpanKindInternal, s.SpanKind())
	assert.Equal(t, codes.Error, s.Status().Code, "%s: status", s.Name())
	assert.NotEmpty(t, s.Status().Description)
	AssertAttrs(t, s.Name(), s.Attributes(), kErrorType.String(errorType))
	AssertNone(t, s.Name(), s.Attributes(), kRefused)
	exc := Event(t, s, "exception")
	assert.Equal(t, s.Status().Description, Attr(exc.Attributes, "exception.message").AsString())
}

// With WithUserID, spans and span events name the user (and the operator),
// and metrics still do not.
func userIDs(t *testing.T, b Backend) {
	e := Setup(t, b.Store, []otelsinglesession.Option{otelsinglesession.WithUserID()})
	A, B := e.App.Browser("A"), e.App.Browser("B")
	A.MustLogin("kate")
	B.MustLogin("kate")
	login := e.Tel.Spans("singlesession.Login")[1]
	AssertAttrs(t, "login", login.Attributes(), kUserID.String("kate"))
	ev := Event(t, e.Tel.ServerSpan(t, "POST", "/login", "B"), "singlesession.login")
	AssertAttrs(t, "login event", ev.Attributes, kUserID.String("kate"))
	mark := e.Tel.Mark()
	assert.Equal(t, "kate", B.WhoAmI())
	AssertAttrs(t, "find", e.One(mark, "singlesession.Find").Attributes(), kUserID.String("kate"))

	admin, err := singlesession.NewAdmin(e.App.M, singlesession.NewStaticDirectory(
		singlesession.User{ID: "root", Admin: true}, singlesession.User{ID: "kate"}), singlesession.AdminConfig{})
	require.NoError(t, err)
	mark = e.Tel.Mark()
	ctx, op := e.Tel.TracerProvider.Tracer("operator").Start(context.Background(), "admin action")
	_, err = admin.Run(ctx, "root", singlesession.ActionLogout, []string{"kate"})
	op.End()
	require.NoError(t, err)
	AssertAttrs(t, "EndUsers", e.One(mark, "singlesession.EndUsers").Attributes(), kUserID.String("kate"))
	ev = Event(t, e.One(mark, "admin action"), "singlesession.ended")
	AssertAttrs(t, "Admin.Run event", ev.Attributes, kUserID.String("kate"), kActor.String("root"))

	assert.Empty(t, metricMentions(t, e.Tel, "kate", "root"), "no user ID on metrics")
}

// metricMentions returns where the metrics of tel hold one of words.
func metricMentions(t testing.TB, tel *Telemetry, words ...string) []string {
	var out []string
	for _, m := range Mentions(t, tel, words) {
		if strings.HasPrefix(m, "metric ") {
			out = append(out, m)
		}
	}
	return out
}

// exercise drives every kind of call with browsers whose tokens tokens
// collects, as users, on e's application (which has a limit of 2):
// anonymous writes, logins, a re-login, a login that evicts, lists, the
// users' own sign-outs, scs's Iterate, a logout, operators, failing calls,
// and cleanup.
func exercise(t *testing.T, e *Env, failing *Failing, tokens *Tokens, users [4]string) {
	a := e.App
	A, B, C := tokens.Watch(a.Browser("A")), tokens.Watch(a.Browser("B")), tokens.Watch(a.Browser("C"))
	A.Put("cart", "apples")
	A.MustLogin(users[0])
	A.MustLogin(users[0]) // a re-login
	B.MustLogin(users[0])
	C.MustLogin(users[0]) // evicts A's
	assert.Equal(t, "", A.WhoAmI())
	time.Sleep(2 * time.Millisecond) // C's LastSeen is stale: its next request refreshes it (Touch)
	assert.Equal(t, users[0], C.WhoAmI())
	assert.Len(t, C.Sessions(), 2)
	res, body := C.Do("POST", "/end-session", url.Values{"id": {B.ID()}})
	require.Equal(t, http.StatusNoContent, res.StatusCode, body)
	A.MustLogin(users[0])
	res, body = C.Do("POST", "/end-others", url.Values{})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Equal(t, "1", body)
	if _, ok := e.Store.(singlesession.IterableStore); ok {
		res, body = C.Do("POST", "/iterate", url.Values{})
		require.Equal(t, http.StatusNoContent, res.StatusCode, body)
	}
	C.MustLogout()
	A.MustLogin(users[2])
	B.MustLogin(users[3])
	_, err := a.M.LogoutUsers(context.Background(), []string{users[2], users[3]})
	require.NoError(t, err)
	B.MustLogin(users[3])
	failing.Down.Store(true)
	D := tokens.Watch(a.Browser("D"))
	res = D.Login(users[1]) // fails in the store, which quotes the user in its error
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	res, _ = B.Do("GET", "/whoami", nil)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	failing.Down.Store(false)
	_, err = a.M.DeleteExpired(context.Background())
	require.NoError(t, err)
}

// No attribute of any span, span event or metric data point holds a token,
// raw or hashed, with scs's HashTokenInStore on and off; with WithUserID,
// so that every attribute there is gets recorded.
func noToken(t *testing.T, b Backend) {
	for _, hashed := range []bool{false, true} {
		tokens := NewTokens(scs.New().Cookie.Name)
		failing, inner := NewFailing(tokens.Store(b.Store))
		e := Setup(t, inner, []otelsinglesession.Option{otelsinglesession.WithUserID()}, testapp.WithLimit(singlesession.Limit{Max: 2}),
			testapp.WithLastSeenInterval(time.Millisecond), testapp.WithSessions(func(s *scs.SessionManager) { s.HashTokenInStore = hashed }))
		users := [4]string{"lea", "max", "ned", "ola"}
		for i := range users {
			users[i] += fmt.Sprint(hashed)
		}
		exercise(t, e, failing, tokens, users)
		forms := tokens.Forms()
		t.Logf("HashTokenInStore %v: %d tokens (%d forms), %d spans", hashed, tokens.Len(), len(forms), e.Tel.Count(""))
		require.GreaterOrEqual(t, tokens.Len(), 8, "the test made tokens")
		ids := 0
		for _, s := range e.Tel.Spans("") {
			if Has(s.Attributes(), kSessionID) {
				ids++
			}
		}
		require.Greater(t, ids, 10, "spans name sessions (by session.id)")
		require.Positive(t, e.Tel.Count("singlesession.Touch"), "LastSeen was refreshed")
		assert.Empty(t, Mentions(t, e.Tel, forms), "HashTokenInStore %v", hashed)
	}
}

// Without WithUserID, no attribute anywhere holds a user ID: not on spans,
// not in recorded errors, not on metrics.
func noUserID(t *testing.T, b Backend) {
	users := [4]string{"user-5d0c1e", "user-a17f42", "user-93be07", "user-c2d5f8"}
	tokens := NewTokens(scs.New().Cookie.Name)
	failing, inner := NewFailing(b.Store)
	e := Setup(t, inner, nil, testapp.WithLimit(singlesession.Limit{Max: 2}), testapp.WithLastSeenInterval(time.Millisecond))
	exercise(t, e, failing, tokens, users)
	require.Positive(t, e.Tel.Duration(t, "Login", "*oteltest.DownError"), "a failure was recorded")
	assert.Empty(t, Mentions(t, e.Tel, users[:]))
}
