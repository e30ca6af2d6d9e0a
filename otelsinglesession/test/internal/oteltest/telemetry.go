// Package oteltest is the test harness of otelsinglesession's tests: the
// OpenTelemetry SDK recording into memory (a SpanRecorder and a
// ManualReader), an application served behind a server span, stores that
// fail, wait or have chosen optional interfaces, the collection of every
// token a test makes, and the scenarios every store runs ([Run]).
package oteltest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/otelsinglesession"
)

// Telemetry is the OpenTelemetry SDK recording into memory: every ended
// span in Recorder, every metric in Reader.
type Telemetry struct {
	Recorder       *tracetest.SpanRecorder
	TracerProvider *sdktrace.TracerProvider
	Reader         *sdkmetric.ManualReader
	MeterProvider  *sdkmetric.MeterProvider
}

// NewTelemetry returns SDK providers that record everything, shut down when
// t ends.
func NewTelemetry(t testing.TB) *Telemetry {
	tel := &Telemetry{Recorder: tracetest.NewSpanRecorder(), Reader: sdkmetric.NewManualReader()}
	tel.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.Recorder), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	tel.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.Reader))
	t.Cleanup(func() {
		ctx := context.Background()
		_ = tel.TracerProvider.Shutdown(ctx)
		_ = tel.MeterProvider.Shutdown(ctx)
	})
	return tel
}

// Options returns the options that send to tel, and more.
func (tel *Telemetry) Options(more ...otelsinglesession.Option) []otelsinglesession.Option {
	return append([]otelsinglesession.Option{
		otelsinglesession.WithTracerProvider(tel.TracerProvider),
		otelsinglesession.WithMeterProvider(tel.MeterProvider),
	}, more...)
}

// Spans returns the ended spans named name, or all of them for "", in the
// order they ended.
func (tel *Telemetry) Spans(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tel.Recorder.Ended() {
		if name == "" || s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// Count returns how many spans named name ended.
func (tel *Telemetry) Count(name string) int { return len(tel.Spans(name)) }

// Since returns the spans named name that ended after the first n spans
// ended (n from Mark).
func (tel *Telemetry) Since(n int, name string) []sdktrace.ReadOnlySpan {
	all := tel.Recorder.Ended()
	var out []sdktrace.ReadOnlySpan
	for _, s := range all[min(n, len(all)):] {
		if name == "" || s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// Mark returns how many spans ended so far, for Since.
func (tel *Telemetry) Mark() int { return len(tel.Recorder.Ended()) }

// ServerSpan waits for the server span of the request method path sent by
// the browser named browser (the n-th from the end when several, 1 for the
// last), which ends just after its response went out, and returns it.
func (tel *Telemetry) ServerSpan(t testing.TB, method, path, browser string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found sdktrace.ReadOnlySpan
	require.Eventually(t, func() bool {
		for _, s := range slices.Backward(tel.Spans(method + " " + path)) {
			if Attr(s.Attributes(), "user_agent.original").AsString() == "testapp/"+browser {
				found = s
				return true
			}
		}
		return false
	}, 5*time.Second, 5*time.Millisecond, "the server span of %s %s by %s", method, path, browser)
	return found
}

// Serve serves a's routes behind a server span of tel's, as otelhttp would
// start one, in place of a's own server: the store's spans of a request
// are its children, and OnEvent's span events go on it.
func (tel *Telemetry) Serve(a *testapp.App) {
	tracer := tel.TracerProvider.Tracer("oteltest")
	h := a.M.Middleware(a.Routes())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tracer.Start(r.Context(), r.Method+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("user_agent.original", r.UserAgent())))
		defer span.End()
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	a.Srv.Close()
	a.Srv = srv
	a.T.Cleanup(srv.Close)
}

// Attr returns the value of key in attrs, or an empty value.
func Attr(attrs []attribute.KeyValue, key attribute.Key) attribute.Value {
	for _, kv := range attrs {
		if kv.Key == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// Has reports whether attrs holds key.
func Has(attrs []attribute.KeyValue, key attribute.Key) bool {
	return slices.ContainsFunc(attrs, func(kv attribute.KeyValue) bool { return kv.Key == key })
}

// Event returns the span event of s named name, or fails t.
func Event(t testing.TB, s sdktrace.ReadOnlySpan, name string) sdktrace.Event {
	t.Helper()
	for _, e := range s.Events() {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("span %s has no event %s: %v", s.Name(), name, s.Events())
	return sdktrace.Event{}
}

// Collect returns every metric recorded so far.
func (tel *Telemetry) Collect(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.Reader.Collect(context.Background(), &rm))
	return rm
}

// Sum returns the value of the counter name at the data point whose
// attributes are exactly attrs (0 when there is none).
func (tel *Telemetry) Sum(t testing.TB, name string, attrs ...attribute.KeyValue) int64 {
	t.Helper()
	want := attribute.NewSet(attrs...)
	for _, sm := range tel.Collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			require.True(t, ok, "%s is an int64 counter: %T", name, m.Data)
			require.True(t, sum.IsMonotonic, "%s is monotonic", name)
			for _, dp := range sum.DataPoints {
				if dp.Attributes.Equals(&want) {
					return dp.Value
				}
			}
		}
	}
	return 0
}

// Sums returns every data point of the counter name, by the encoding of
// its attributes.
func (tel *Telemetry) Sums(t testing.TB, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, sm := range tel.Collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, dp := range sum.DataPoints {
					out[dp.Attributes.Encoded(attribute.DefaultEncoder())] = dp.Value
				}
			}
		}
	}
	return out
}

// Durations returns the data points of singlesession.store.duration, by
// the encoding of their attributes, as their counts.
func (tel *Telemetry) Durations(t testing.TB) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, sm := range tel.Collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "singlesession.store.duration" {
				continue
			}
			require.Equal(t, "s", m.Unit)
			h, ok := m.Data.(metricdata.Histogram[float64])
			require.True(t, ok, "the duration is a float64 histogram: %T", m.Data)
			for _, dp := range h.DataPoints {
				out[dp.Attributes.Encoded(attribute.DefaultEncoder())] = dp.Count
			}
		}
	}
	return out
}

// Duration returns the count of the data point of
// singlesession.store.duration for the operation op, failed with errorType
// ("" for the calls that did not fail).
func (tel *Telemetry) Duration(t testing.TB, op, errorType string) uint64 {
	t.Helper()
	attrs := []attribute.KeyValue{attribute.String("singlesession.operation", op)}
	if errorType != "" {
		attrs = append(attrs, attribute.String("error.type", errorType))
	}
	set := attribute.NewSet(attrs...)
	return tel.Durations(t)[set.Encoded(attribute.DefaultEncoder())]
}
