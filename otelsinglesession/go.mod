module github.com/go-singlesession/singlesession/otelsinglesession

go 1.25.0

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/go-singlesession/singlesession v0.1.0
	github.com/stretchr/testify v1.12.1
	go.opentelemetry.io/otel v1.20.0
	go.opentelemetry.io/otel/metric v1.20.0
	go.opentelemetry.io/otel/trace v1.20.0
)

require (
	github.com/go-logr/logr v1.3.0 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
