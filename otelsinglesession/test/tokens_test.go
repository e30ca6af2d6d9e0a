package test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/otelsinglesession/test/internal/oteltest"
)

// The detector of the tests on tokens and user IDs finds what it looks
// for, wherever it is.
func TestMentionsFindsALeak(t *testing.T) {
	t.Parallel()
	tel := oteltest.NewTelemetry(t)
	secret := testapp.HashToken("secret")
	_, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "s")
	span.AddEvent("e", trace.WithAttributes(attribute.StringSlice("list", []string{"x", "a" + secret + "b"})))
	span.SetStatus(codes.Error, "failed for "+secret)
	span.End()
	found := oteltest.Mentions(t, tel, []string{secret})
	assert.Len(t, found, 2, "%v", found)
	assert.Empty(t, oteltest.Mentions(t, tel, []string{testapp.HashToken("other")}))
}
