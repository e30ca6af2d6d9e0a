// Package compat holds the tests and benchmarks of singlesession that need
// other session stores or migration tools: switching from scs's postgresstore
// and pgxstore, applying the migrations with goose, and the benchmarks against
// plain scs on pgxstore and on goredisstore (BenchmarkRequestRedis, beside
// redisstore on the same Redis).
//
// It is a module of its own so that the library's go.mod requires only what
// the library builds with (scs, pgx) and testify, and redisstore's go-redis
// besides them: an application that imports singlesession does
// not get pgxstore, postgresstore, goredisstore, goose, or their dependencies
// in its module graph.
package compat
