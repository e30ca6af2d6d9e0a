package otelsinglesession

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-singlesession/singlesession"
)

// OnEvent returns a Config.OnEvent that counts every event in the counter
// singlesession.events (attributes singlesession.event.kind and, when set,
// singlesession.end.reason) and adds a span event "singlesession.<kind>" to
// the span in ctx.
//
// It also adds the sessions that the event ended (Event.Ended) to the
// counter singlesession.sessions.ended, with the same attributes: a login
// that ended two other sessions counts one event and two sessions, kind
// "login" and reason "login"; a logout counts the browser's own session
// too, with the reason "logout" only when other sessions ended with it.
// Both counters carry no user and no session, so that their series stay
// few.
//
// The span event (singlesession.login, singlesession.login_rejected,
// singlesession.logout, singlesession.ended) goes on the span of ctx: the
// request's server span (otelhttp's, for instance) for the hooks and the
// user's own actions, the caller's for [singlesession.Manager.LogoutUsers]
// and [singlesession.Admin.Run]; over a context without a recording span
// there is none. It carries session.id (the acting session: the new one
// for a login; none for operators), singlesession.ended_count, the reason,
// and, with [WithUserID], user.id and, for Admin.Run, singlesession.actor.
//
// Combine it with an OnEvent of your own by calling both:
//
//	record := otelsinglesession.OnEvent()
//	cfg.OnEvent = func(ctx context.Context, e singlesession.Event) { record(ctx, e); audit(ctx, e) }
func OnEvent(opts ...Option) func(context.Context, singlesession.Event) {
	c := newConfig(opts)
	meter := c.meter()
	events, err := meter.Int64Counter("singlesession.events",
		metric.WithUnit("{event}"),
		metric.WithDescription("Changes of sessions reported by singlesession's Manager (Config.OnEvent), by kind and reason."))
	if err != nil {
		otel.Handle(err) // the meter still returns a working instrument
	}
	ended, err := meter.Int64Counter("singlesession.sessions.ended",
		metric.WithUnit("{session}"),
		metric.WithDescription("Sessions ended by the changes that singlesession's Manager reports, by event kind and reason."))
	if err != nil {
		otel.Handle(err)
	}
	userID := c.userID
	return func(ctx context.Context, e singlesession.Event) {
		attrs := []attribute.KeyValue{keyEventKind.String(string(e.Kind))}
		if e.Reason != "" {
			attrs = append(attrs, keyEndReason.String(string(e.Reason)))
		}
		set := metric.WithAttributeSet(attribute.NewSet(attrs...))
		events.Add(ctx, 1, set)
		if e.Ended > 0 {
			ended.Add(ctx, int64(e.Ended), set)
		}
		span := trace.SpanFromContext(ctx)
		if !span.IsRecording() {
			return
		}
		attrs = append(attrs, keyEnded.Int(e.Ended))
		if e.SessionID != "" {
			attrs = append(attrs, keySessionID.String(e.SessionID))
		}
		if userID {
			attrs = append(attrs, keyUserID.String(e.UserID))
			if e.Actor != "" {
				attrs = append(attrs, keyActor.String(e.Actor))
			}
		}
		span.AddEvent("singlesession."+string(e.Kind), trace.WithAttributes(attrs...))
	}
}
