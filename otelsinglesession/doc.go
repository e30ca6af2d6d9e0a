// Package otelsinglesession is the OpenTelemetry instrumentation of
// singlesession: traces and metrics of the session store's calls, and of
// every change of sessions that a [singlesession.Manager] reports.
//
// Set it up with two lines, over any store:
//
//	store := otelsinglesession.NewStore(pgxstore.New(pool))
//	m, err := singlesession.New(sessions, store, singlesession.Config{
//		OnEvent: otelsinglesession.OnEvent(),
//	})
//
// It follows the rules of opentelemetry-go-contrib's instrumentation: it
// uses the global providers unless [WithTracerProvider] or
// [WithMeterProvider] name others, never takes a Tracer or a Meter, and its
// instrumentation scope is named by its import path ([ScopeName]) with the
// module's version ([Version]). Over OpenTelemetry's no-op providers (or
// with no SDK installed) it costs a few hundred nanoseconds per store call
// and computes no attribute.
//
// # Traces
//
// [NewStore] makes a span per store call, named "singlesession.<Method>":
// singlesession.Find (every signed-in request loads its session),
// singlesession.Insert, singlesession.Update, singlesession.Touch (a
// LastSeen refresh), singlesession.Login, singlesession.Logout,
// singlesession.EndUsers (operators), singlesession.EndSessions (a user's
// own sign-outs), singlesession.Sessions, singlesession.CountSessions, and
// those of the optional interfaces, singlesession.All (scs's Iterate),
// singlesession.DeleteExpired and singlesession.Listen (one span per notice
// of ended sessions that reaches this instance). Their parent is the span
// of the context the Manager passes, which is the request's when a
// middleware such as otelhttp's wraps [singlesession.Manager.Middleware].
//
// [OnEvent] adds a span event "singlesession.<kind>" (singlesession.login,
// singlesession.login_rejected, singlesession.logout, singlesession.ended)
// to the span of the context, the request's for the hooks.
//
// A session is named by session.id, its [singlesession.SessionID]. No
// attribute ever holds a session token, raw or hashed. user.id is recorded
// only with [WithUserID], and never on metrics.
//
// # Metrics
//
//   - singlesession.store.duration (histogram, s): the duration of each
//     store call, by singlesession.operation (the method: Find, Login, ...)
//     and, for calls that failed, error.type.
//   - singlesession.events (counter, {event}): the changes of sessions, by
//     singlesession.event.kind (login, login_rejected, logout, ended) and
//     singlesession.end.reason (login, logout, revoked, admin) when the
//     event has one.
//   - singlesession.sessions.ended (counter, {session}): the sessions those
//     changes ended, with the same attributes.
package otelsinglesession
