package oteltest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/otelsinglesession"
)

// The attributes that the assertions below read.
var (
	kKind      = attribute.Key("singlesession.event.kind")
	kReason    = attribute.Key("singlesession.end.reason")
	kErrorType = attribute.Key("error.type")
	kRefused   = attribute.Key("singlesession.refused")
)

// Counter names.
const (
	Events = "singlesession.events"
	Ended  = "singlesession.sessions.ended"
)

// Kind is the attribute singlesession.event.kind.
func Kind(k singlesession.EventKind) attribute.KeyValue { return kKind.String(string(k)) }

// Reason is the attribute singlesession.end.reason.
func Reason(r singlesession.Reason) attribute.KeyValue { return kReason.String(string(r)) }

// AssertAttrs checks that attrs hold want, each with its value and type.
func AssertAttrs(t testing.TB, where string, attrs []attribute.KeyValue, want ...attribute.KeyValue) {
	t.Helper()
	for _, w := range want {
		assert.Equal(t, w.Value, Attr(attrs, w.Key), "%s: attribute %s (has %v)", where, w.Key, attrs)
	}
}

// AssertNone checks that attrs hold none of keys.
func AssertNone(t testing.TB, where string, attrs []attribute.KeyValue, keys ...attribute.Key) {
	t.Helper()
	for _, k := range keys {
		assert.False(t, Has(attrs, k), "%s: no attribute %s (has %v)", where, k, attrs)
	}
}

// AssertOK checks that s is an Internal span that did not fail.
func AssertOK(t testing.TB, s sdktrace.ReadOnlySpan) {
	t.Helper()
	assert.Equal(t, trace.SpanKindInternal, s.SpanKind(), "%s: kind", s.Name())
	assert.Equal(t, codes.Unset, s.Status().Code, "%s: status %v", s.Name(), s.Status())
	AssertNone(t, s.Name(), s.Attributes(), kErrorType, kRefused)
	for _, e := range s.Events() {
		assert.NotEqual(t, "exception", e.Name, "%s: no exception: %v", s.Name(), e.Attributes)
	}
	assert.Equal(t, otelsinglesession.ScopeName, s.InstrumentationScope().Name)
	assert.Equal(t, otelsinglesession.Version(), s.InstrumentationScope().Version)
}
