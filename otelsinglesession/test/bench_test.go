package test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/internal/testapp"
	"github.com/go-singlesession/singlesession/otelsinglesession"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// providers are the three ways a store runs in the benchmarks, in the
// order they run: bare, through NewStore over OpenTelemetry's no-op
// providers, and through NewStore with the SDK recording every span (in
// batches, to an exporter that drops them, as an application's exporter
// would take them off the request's path) and every measurement.
var providers = []struct {
	name string
	wrap func(b *testing.B, s singlesession.Store) singlesession.Store
}{
	{"bare", func(_ *testing.B, s singlesession.Store) singlesession.Store { return s }},
	{"noop", func(_ *testing.B, s singlesession.Store) singlesession.Store {
		return otelsinglesession.NewStore(s,
			otelsinglesession.WithTracerProvider(tracenoop.NewTracerProvider()),
			otelsinglesession.WithMeterProvider(metricnoop.NewMeterProvider()))
	}},
	{"sdk", func(b *testing.B, s singlesession.Store) singlesession.Store {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()), sdktrace.WithSampler(sdktrace.AlwaysSample()))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() {
			_ = tp.Shutdown(context.Background())
			_ = mp.Shutdown(context.Background())
		})
		return otelsinglesession.NewStore(s, otelsinglesession.WithTracerProvider(tp), otelsinglesession.WithMeterProvider(mp))
	}},
}

// benchStores are the stores of the benchmarks.
var benchStores = []struct {
	name string
	new  func(b *testing.B) singlesession.Store
}{
	{"memory", func(*testing.B) singlesession.Store { return singlesession.NewMemoryStore() }},
	{"postgres", func(b *testing.B) singlesession.Store { return pgxstore.New(pgtest.MigratedPool(b)) }},
}

// BenchmarkSignedInGET measures a signed-in GET (one Find, and the whole
// request over HTTP) on a store bare, through NewStore with the no-op
// providers, and through NewStore with the SDK recording: three
// applications over the same store, and one op is one request to each, in
// an order that rotates, so that the machine's load falls on the three
// alike. It reports each one's median time per request and the ratios of
// the medians, noop/bare and sdk/bare. Run it several times:
//
//	go test -run '^$' -bench SignedInGET -count 10 | tee bench.txt
//	benchstat bench.txt
func BenchmarkSignedInGET(b *testing.B) {
	for _, st := range benchStores {
		b.Run("store="+st.name, func(b *testing.B) {
			store := st.new(b)
			browsers := make([]*testapp.Browser, len(providers))
			for i, p := range providers {
				browsers[i] = testapp.New(b, p.wrap(b, store)).Browser("bench")
				browsers[i].MustLogin("user-" + p.name)
			}
			took := make([][]time.Duration, len(providers))
			n := 0
			for b.Loop() {
				for k := range providers {
					i := (n + k) % len(providers)
					start := time.Now()
					res, body := browsers[i].Do("GET", "/whoami", nil)
					took[i] = append(took[i], time.Since(start))
					if res.StatusCode != http.StatusOK || body != "user-"+providers[i].name {
						b.Fatalf("GET /whoami: %d %q", res.StatusCode, body)
					}
				}
				n++
			}
			medians := make([]float64, len(providers))
			for i, p := range providers {
				medians[i] = float64(median(took[i]).Nanoseconds())
				b.ReportMetric(medians[i], p.name+"-ns/req")
			}
			b.ReportMetric(medians[1]/medians[0], "noop/bare")
			b.ReportMetric(medians[2]/medians[0], "sdk/bare")
		})
	}
}

// median returns the median of d, which it sorts. A median, not a mean: on
// a busy machine a few requests wait milliseconds for a core, which says
// nothing of the code they ran.
func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// BenchmarkFind measures one Find of a signed-in session on the memory
// store, called directly: the instrumentation's own cost per call, with
// nothing around it to hide it.
func BenchmarkFind(b *testing.B) {
	store := singlesession.NewMemoryStore()
	ctx := context.Background()
	token := testapp.HashToken("bench")
	if _, err := store.Login(ctx, singlesession.Login{UserID: "u", Token: token, Data: []byte("d"), Expiry: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	for _, p := range providers {
		b.Run("provider="+p.name, func(b *testing.B) {
			s := p.wrap(b, store)
			b.ReportAllocs()
			for b.Loop() {
				if f, err := s.Find(ctx, token, time.Minute); err != nil || !f.Found {
					b.Fatal(f, err)
				}
			}
		})
	}
}
