package otelsinglesession

// ScopeName is the instrumentation scope of the tracers and meters that
// [NewStore] and [OnEvent] obtain: the import path of this package.
const ScopeName = "github.com/go-singlesession/singlesession/otelsinglesession"

// Version returns the version of this package, which the instrumentation
// scope carries.
func Version() string {
	return "0.1.0"
}
