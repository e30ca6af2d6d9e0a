package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/otelsinglesession"
)

// withMetrics is what -metrics adds. When on, it records the store's calls
// and the Manager's events with otelsinglesession in a meter provider of its
// own: it returns the store instrumented, sets sc.OnEvent to count the events
// (after sc's own OnEvent, when it has one), and returns the handler of
// GET /metrics, which serves the readings in the Prometheus text format, and
// release extended to shut the provider down. When off, it returns store and
// release as they are and a nil handler: nothing of OpenTelemetry runs. On an
// error it returns release as it is, for the caller to call.
//
// The readings are in a Prometheus registry of the application's own, not
// in prometheus.DefaultRegisterer, so that several applications in one
// process (the tests) each count their own.
func withMetrics(on bool, store singlesession.Store, sc *singlesession.Config, release func()) (singlesession.Store, http.Handler, func(), error) {
	if !on {
		return store, nil, release, nil
	}
	registry := prometheus.NewRegistry()
	exporter, err := otelprometheus.New(otelprometheus.WithRegisterer(registry))
	if err != nil {
		return store, nil, release, fmt.Errorf("metrics: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	opt := otelsinglesession.WithMeterProvider(provider)
	record := otelsinglesession.OnEvent(opt)
	if own := sc.OnEvent; own != nil {
		sc.OnEvent = func(ctx context.Context, e singlesession.Event) {
			own(ctx, e)
			record(ctx, e)
		}
	} else {
		sc.OnEvent = record
	}
	handler := promhttp.HandlerFor(registry, promhttp.HandlerOpts{})
	return otelsinglesession.NewStore(store, opt), handler, func() {
		release()
		_ = provider.Shutdown(context.Background())
	}, nil
}
