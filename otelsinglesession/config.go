package otelsinglesession

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// An Option changes where [NewStore] and [OnEvent] send what they record,
// and what they record.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config is what the options set.
type config struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	userID         bool
}

// newConfig applies opts over the defaults: the global providers, as they
// are when newConfig runs (before otel.SetTracerProvider too: the global
// providers delegate to the ones set later), and no user IDs.
func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.tracerProvider == nil {
		c.tracerProvider = otel.GetTracerProvider()
	}
	if c.meterProvider == nil {
		c.meterProvider = otel.GetMeterProvider()
	}
	return c
}

// tracer returns the tracer of the package's scope from c's provider.
func (c config) tracer() trace.Tracer {
	return c.tracerProvider.Tracer(ScopeName, trace.WithInstrumentationVersion(Version()))
}

// meter returns the meter of the package's scope from c's provider.
func (c config) meter() metric.Meter {
	return c.meterProvider.Meter(ScopeName, metric.WithInstrumentationVersion(Version()))
}

// WithTracerProvider sets the provider of the tracer that [NewStore] starts
// its spans with. A nil provider, or no WithTracerProvider, means the
// global one (otel.GetTracerProvider), which delegates to whatever
// otel.SetTracerProvider sets, before or after NewStore. [OnEvent] starts
// no span (it adds events to the span of its context), so it ignores it.
func WithTracerProvider(provider trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if provider != nil {
			c.tracerProvider = provider
		}
	})
}

// WithMeterProvider sets the provider of the meter whose instruments
// [NewStore] and [OnEvent] record in. A nil provider, or no
// WithMeterProvider, means the global one (otel.GetMeterProvider), which
// delegates to whatever otel.SetMeterProvider sets, before or after.
func WithMeterProvider(provider metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if provider != nil {
			c.meterProvider = provider
		}
	})
}

// WithUserID puts the ID of the user a call concerns on spans and span
// events, as the attribute user.id (and, for [singlesession.Admin.Run],
// the operator's as singlesession.actor). It is off by default, since a
// user ID is personal data that traces may not be allowed to carry; when
// it is off, the error messages that spans record have every quoted user
// ID of the call replaced by "<user.id>" too. User IDs never go on metrics,
// whose attributes must stay few.
func WithUserID() Option {
	return optionFunc(func(c *config) { c.userID = true })
}
