// Package test holds the tests of otelsinglesession, in a module of its own
// as opentelemetry-go-contrib keeps the tests of an instrumentation that
// need more than the instrumentation does, so that otelsinglesession's
// go.mod asks its users for nothing it does not use:
//
//   - The OpenTelemetry SDK. It must be at least as new as the API it is
//     built with, and this workspace builds with the API at v1.47.0 (other
//     modules' dependencies ask for it), so the tests need the SDK at
//     v1.47.0; in otelsinglesession's go.mod that requirement would raise
//     every user's OpenTelemetry to v1.47.0, where the instrumentation
//     itself needs v1.20.0.
//   - Redis: redisstore and go-redis, which would raise users' go-redis.
//
// The tests run the real SDK (sdk/trace with a tracetest.SpanRecorder,
// sdk/metric with a ManualReader) over the memory store, PostgreSQL
// (DATABASE_URL) and Redis (REDIS_URL), and the benchmarks compare a
// signed-in request through NewStore with the bare store.
package test
