package otelsinglesession

import (
	"context"
	"reflect"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-singlesession/singlesession"
)

// op is a method of the Store or of one of its optional interfaces.
type op int

const (
	opFind op = iota
	opInsert
	opUpdate
	opTouch
	opLogin
	opLogout
	opEndUsers
	opEndSessions
	opSessions
	opCountSessions
	opAll
	opDeleteExpired
	opListen
	numOps
)

// opNames are the method names, the values of singlesession.operation.
var opNames = [numOps]string{
	"Find", "Insert", "Update", "Touch", "Login", "Logout", "EndUsers",
	"EndSessions", "Sessions", "CountSessions", "All", "DeleteExpired", "Listen",
}

// spanNames are the span names, "singlesession." and the method.
var spanNames = func() (names [numOps]string) {
	for i, n := range opNames {
		names[i] = "singlesession." + n
	}
	return names
}()

// durationBuckets are the bucket boundaries of singlesession.store.duration,
// in seconds: from 50 µs (the memory store, or a Redis call on the same
// host) through the single round trips of PostgreSQL and Redis (0.1 to 5
// ms) and logins that wait for the user's lock, up to the 10 s of a call
// that waits for a timeout. OpenTelemetry's default boundaries start at
// 5 ms, where most store calls have long finished.
var durationBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// NewStore wraps a Store: one span per call, named "singlesession.<Method>"
// (singlesession.Login, singlesession.Find, ...), status Error with the error
// recorded when it fails, and the histogram singlesession.store.duration
// (unit "s", attribute singlesession.operation = the method, error.type on
// failure). It keeps every optional interface of the store it wraps.
//
// The result is a [singlesession.IterableStore], a
// [singlesession.CleanupStore] or a [singlesession.NotifyingStore] exactly
// when s is one: scs's Iterate, [singlesession.Manager.DeleteExpired] and
// the notices of [singlesession.Manager.SessionContext] work through it as
// they work on s, and a Manager over a wrapped store that lacks one of them
// does what it does over s (Iterate fails; SessionContext checks the
// watched sessions every 2 s). Methods of s outside these interfaces are
// not reachable through the result: keep s for them.
//
// Spans have the kind Internal: a call is one logical operation of the
// library that may make no round trip (the memory store) or several (a
// login on Redis Cluster), and the client libraries of the databases
// (otelpgx, redisotel) record each round trip as a Client span under it.
// A call that fails has the status Error, error.type and an exception
// event; a refusal that the Store contract foresees (a login refused by a
// RejectNew limit, with [singlesession.ErrTooManySessions]; an ended
// session that asks to end sessions, with
// [singlesession.ErrSessionNotFound]) is no failure: it keeps the status
// Unset and says which refusal it is in singlesession.refused. A Find that
// finds nothing, and an Update of a session that ended, are no errors
// either (singlesession.found is false).
//
// Attributes name a session by session.id, its [singlesession.SessionID],
// and never carry a token, raw or hashed. A call that ends sessions says
// how many (singlesession.ended_count) and why (singlesession.end.reason);
// a login says its limit (singlesession.limit.max,
// singlesession.limit.reject_new). user.id is recorded only with
// [WithUserID]. Listen, which lasts as long as the Manager watches
// sessions, has no span of its own: each notice it receives gets a span
// "singlesession.Listen" around its handling, and so does each failure of
// the channel; it records no duration.
//
// NewStore returns nil for a nil s (or a nil pointer), so that
// [singlesession.New] reports the missing store.
func NewStore(s singlesession.Store, opts ...Option) singlesession.Store {
	if s == nil {
		return nil
	}
	if v := reflect.ValueOf(s); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	c := newConfig(opts)
	t := &store{next: s, tracer: c.tracer(), userID: c.userID}
	var err error
	t.duration, err = c.meter().Float64Histogram("singlesession.store.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of the calls of singlesession's Manager to its session store."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		otel.Handle(err) // the meter still returns a working instrument
	}
	for o := range numOps {
		t.ok[o] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(keyOperation.String(opNames[o])))}
	}
	return withInterfacesOf(s, t)
}

// store is the instrumented Store. It has every method of the optional
// interfaces; withInterfacesOf hides those that next lacks.
type store struct {
	next     singlesession.Store
	tracer   trace.Tracer
	duration metric.Float64Histogram
	userID   bool
	ok       [numOps][]metric.RecordOption // the attributes of a call that did not fail, made once
}

// internal is the option of every span, in a slice made once: a variadic
// call through an interface would otherwise allocate one per call.
var internal = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)}

// call is one instrumented call in progress.
type call struct {
	s     *store
	op    op
	span  trace.Span
	start time.Time
	users []string // the user IDs of the call, redacted from error messages without WithUserID
}

// begin starts the span of one call of o.
func (s *store) begin(ctx context.Context, o op) (context.Context, call) {
	ctx, span := s.tracer.Start(ctx, spanNames[o], internal...)
	return ctx, call{s: s, op: o, span: span, start: time.Now()}
}

// recording reports whether attributes are worth computing: not over a
// no-op provider or an unsampled trace, where a SessionID's hash would be
// work for nothing.
func (c *call) recording() bool { return c.span.IsRecording() }

// user records the user the call concerns: as user.id with WithUserID, and
// for the redaction of error messages without.
func (c *call) user(id string) {
	if id == "" {
		return
	}
	if c.s.userID {
		c.span.SetAttributes(keyUserID.String(id))
	} else {
		c.users = append(c.users, id)
	}
}

// finish ends the call: its outcome on the span, its duration on the
// histogram.
func (c *call) finish(ctx context.Context, err error) {
	opts := c.s.ok[c.op]
	if err != nil {
		if r := refusal(err); r != "" {
			c.span.SetAttributes(keyRefused.String(r))
		} else {
			et := c.s.failed(c.span, err, c.users)
			opts = []metric.RecordOption{metric.WithAttributes(keyOperation.String(opNames[c.op]), keyErrorType.String(et))}
		}
	}
	c.s.duration.Record(ctx, time.Since(c.start).Seconds(), opts...)
	c.span.End()
}

// failed records err on span as a failure, as span.RecordError would,
// with the quoted user IDs of users taken out of its message unless
// WithUserID is set, and returns its error.type.
func (s *store) failed(span trace.Span, err error, users []string) string {
	et := errorType(err)
	msg := err.Error()
	if !s.userID {
		msg = redact(msg, users)
	}
	span.AddEvent("exception", trace.WithAttributes(keyExceptionType.String(et), keyExceptionMessage.String(msg)))
	span.SetStatus(codes.Error, msg)
	span.SetAttributes(keyErrorType.String(et))
	return et
}

// Find implements [singlesession.Store].
func (s *store) Find(ctx context.Context, token string, staleAfter time.Duration) (singlesession.FindResult, error) {
	ctx, c := s.begin(ctx, opFind)
	if c.recording() && token != "" {
		c.span.SetAttributes(sessionID(keySessionID, token))
	}
	f, err := s.next.Find(ctx, token, staleAfter)
	if err == nil && c.recording() {
		c.span.SetAttributes(keyFound.Bool(f.Found))
		if f.Found {
			c.span.SetAttributes(keyStale.Bool(f.Stale))
			c.user(f.UserID)
		} else if f.Ending != nil && f.Ending.Reason != "" {
			c.span.SetAttributes(keyEndReason.String(string(f.Ending.Reason)))
		}
	}
	c.finish(ctx, err)
	return f, err
}

// Insert implements [singlesession.Store].
func (s *store) Insert(ctx context.Context, token string, data []byte, expiry time.Time) error {
	ctx, c := s.begin(ctx, opInsert)
	if c.recording() {
		c.span.SetAttributes(sessionID(keySessionID, token))
	}
	err := s.next.Insert(ctx, token, data, expiry)
	c.finish(ctx, err)
	return err
}

// Update implements [singlesession.Store].
func (s *store) Update(ctx context.Context, u singlesession.Update) (bool, error) {
	ctx, c := s.begin(ctx, opUpdate)
	if c.recording() {
		c.span.SetAttributes(sessionID(keySessionID, u.Token), keyTouch.Bool(u.Touch))
	}
	found, err := s.next.Update(ctx, u)
	if err == nil && c.recording() {
		c.span.SetAttributes(keyFound.Bool(found))
	}
	c.finish(ctx, err)
	return found, err
}

// Touch implements [singlesession.Store].
func (s *store) Touch(ctx context.Context, token string) error {
	ctx, c := s.begin(ctx, opTouch)
	if c.recording() {
		c.span.SetAttributes(sessionID(keySessionID, token))
	}
	err := s.next.Touch(ctx, token)
	c.finish(ctx, err)
	return err
}

// Login implements [singlesession.Store].
func (s *store) Login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	ctx, c := s.begin(ctx, opLogin)
	if c.recording() {
		c.span.SetAttributes(sessionID(keySessionID, l.Token), keyLimitMax.Int(l.Limit.Max))
		if l.Limit.Max > 0 {
			c.span.SetAttributes(keyRejectNew.Bool(l.Limit.RejectNew))
		}
		if len(l.Replaces) > 0 {
			c.span.SetAttributes(sessionID(keyPreviousID, l.Replaces[0]))
		}
		c.user(l.UserID)
	}
	res, err := s.next.Login(ctx, l)
	if err == nil && c.recording() {
		c.span.SetAttributes(keyEnded.Int(res.Ended))
		if res.Ended > 0 {
			c.span.SetAttributes(keyEndReason.String(string(singlesession.ReasonLogin)))
		}
	}
	c.finish(ctx, err)
	return res, err
}

// Logout implements [singlesession.Store].
func (s *store) Logout(ctx context.Context, l singlesession.Logout) (singlesession.LogoutResult, error) {
	ctx, c := s.begin(ctx, opLogout)
	if c.recording() {
		if len(l.Tokens) > 0 {
			c.span.SetAttributes(sessionID(keySessionID, l.Tokens[0]))
		}
		c.user(l.UserID)
	}
	res, err := s.next.Logout(ctx, l)
	if err == nil && c.recording() {
		c.span.SetAttributes(keyDeleted.Int(res.Deleted), keyEnded.Int(res.Ended))
		if res.Ended > 0 {
			c.span.SetAttributes(keyEndReason.String(string(singlesession.ReasonLogout)))
		}
	}
	c.finish(ctx, err)
	return res, err
}

// EndUsers implements [singlesession.Store].
func (s *store) EndUsers(ctx context.Context, e singlesession.EndUsers) (singlesession.EndUsersResult, error) {
	ctx, c := s.begin(ctx, opEndUsers)
	if c.recording() {
		c.span.SetAttributes(keyUsers.Int(len(e.UserIDs)))
		if e.Reason != "" {
			c.span.SetAttributes(keyEndReason.String(string(e.Reason)))
		}
		if len(e.UserIDs) == 1 {
			c.user(e.UserIDs[0])
		} else if !s.userID {
			c.users = e.UserIDs
		}
	}
	res, err := s.next.EndUsers(ctx, e)
	if err == nil && c.recording() {
		n := 0
		for _, k := range res.Ended {
			n += k
		}
		c.span.SetAttributes(keyEnded.Int(n))
	}
	c.finish(ctx, err)
	return res, err
}

// EndSessions implements [singlesession.Store].
func (s *store) EndSessions(ctx context.Context, e singlesession.EndSessions) (singlesession.EndSessionsResult, error) {
	ctx, c := s.begin(ctx, opEndSessions)
	if c.recording() {
		if e.IDs == nil {
			c.span.SetAttributes(keyOthers.Bool(true))
		} else {
			c.span.SetAttributes(keyIDs.Int(len(e.IDs)))
		}
		if e.By != "" {
			c.span.SetAttributes(sessionID(keySessionID, e.By))
		}
		if e.Reason != "" {
			c.span.SetAttributes(keyEndReason.String(string(e.Reason)))
		}
		c.user(e.UserID)
	}
	res, err := s.next.EndSessions(ctx, e)
	if err == nil && c.recording() {
		c.span.SetAttributes(keyEnded.Int(res.Ended))
	}
	c.finish(ctx, err)
	return res, err
}

// Sessions implements [singlesession.Store].
func (s *store) Sessions(ctx context.Context, q singlesession.SessionsQuery) (singlesession.SessionsResult, error) {
	ctx, c := s.begin(ctx, opSessions)
	if c.recording() {
		c.span.SetAttributes(keyPageLimit.Int(q.Limit))
		c.user(q.UserID)
	}
	res, err := s.next.Sessions(ctx, q)
	if err == nil && c.recording() {
		c.span.SetAttributes(keySessions.Int(res.Total))
	}
	c.finish(ctx, err)
	return res, err
}

// CountSessions implements [singlesession.Store].
func (s *store) CountSessions(ctx context.Context, userIDs []string) (map[string]int, error) {
	ctx, c := s.begin(ctx, opCountSessions)
	if c.recording() {
		c.span.SetAttributes(keyUsers.Int(len(userIDs)))
		if len(userIDs) == 1 {
			c.user(userIDs[0])
		} else if !s.userID {
			c.users = userIDs
		}
	}
	counts, err := s.next.CountSessions(ctx, userIDs)
	if err == nil && c.recording() {
		n := 0
		for _, k := range counts {
			n += k
		}
		c.span.SetAttributes(keySessions.Int(n))
	}
	c.finish(ctx, err)
	return counts, err
}

// All implements [singlesession.IterableStore] when next does.
func (s *store) All(ctx context.Context) (map[string][]byte, error) {
	ctx, c := s.begin(ctx, opAll)
	all, err := s.next.(singlesession.IterableStore).All(ctx)
	if err == nil && c.recording() {
		c.span.SetAttributes(keySessions.Int(len(all)))
	}
	c.finish(ctx, err)
	return all, err
}

// DeleteExpired implements [singlesession.CleanupStore] when next does.
func (s *store) DeleteExpired(ctx context.Context) (int, error) {
	ctx, c := s.begin(ctx, opDeleteExpired)
	n, err := s.next.(singlesession.CleanupStore).DeleteExpired(ctx)
	if c.recording() {
		c.span.SetAttributes(keyDeleted.Int(n))
	}
	c.finish(ctx, err)
	return n, err
}

// Listen implements [singlesession.NotifyingStore] when next does. A
// subscription lasts as long as the Manager watches sessions, too long for
// one span: each notice gets a span around its handling by the Manager,
// and a subscription that breaks gets one with the error. ctx ending is
// how the Manager stops listening, not a failure.
func (s *store) Listen(ctx context.Context, ready func(), notify func(singlesession.Notice)) error {
	err := s.next.(singlesession.NotifyingStore).Listen(ctx, ready, func(n singlesession.Notice) {
		_, c := s.begin(ctx, opListen)
		if c.recording() {
			if n.IDs != nil {
				c.span.SetAttributes(keyEnded.Int(len(n.IDs)))
			}
			if n.Ending.Reason != "" {
				c.span.SetAttributes(keyEndReason.String(string(n.Ending.Reason)))
			}
			c.user(n.UserID)
		}
		notify(n)
		c.span.End()
	})
	if err != nil && ctx.Err() == nil {
		_, span := s.tracer.Start(ctx, spanNames[opListen], internal...)
		s.failed(span, err, nil)
		span.End()
	}
	return err
}
