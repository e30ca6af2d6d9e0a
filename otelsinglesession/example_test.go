package otelsinglesession_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/alexedwards/scs/v2"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/otelsinglesession"
)

// The set-up of an application: the store wrapped, the events counted.
// Both use the global providers, which the application sets with
// otel.SetTracerProvider and otel.SetMeterProvider (before or after).
func Example() {
	store := otelsinglesession.NewStore(singlesession.NewMemoryStore()) // or pgxstore.New(pool), redisstore.New(client)
	m, err := singlesession.New(scs.New(), store, singlesession.Config{
		OnEvent: otelsinglesession.OnEvent(),
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	// ... the application's routes, which call m.LoginHook and m.LogoutHook.
	// Wrap the handler with otelhttp.NewHandler outside m.Middleware, so
	// that the store's spans and the events go to the request's span.
	_ = m.Middleware(mux)
}

// Wrapping a store keeps its optional interfaces: here every one of
// MemoryStore's (scs's Iterate, cleanup, live endings).
func ExampleNewStore() {
	store := otelsinglesession.NewStore(singlesession.NewMemoryStore())
	_, iterable := store.(singlesession.IterableStore)
	_, cleanup := store.(singlesession.CleanupStore)
	_, notifying := store.(singlesession.NotifyingStore)
	fmt.Println(iterable, cleanup, notifying)
	// Output: true true true
}

// OnEvent with an audit log of the application's own.
func ExampleOnEvent() {
	record := otelsinglesession.OnEvent()
	audit := func(ctx context.Context, e singlesession.Event) {
		fmt.Println("audit:", e.Kind, e.UserID, e.Ended)
	}
	m, err := singlesession.New(scs.New(), singlesession.NewMemoryStore(), singlesession.Config{
		OnEvent: func(ctx context.Context, e singlesession.Event) {
			record(ctx, e)
			audit(ctx, e)
		},
	})
	if err != nil {
		panic(err)
	}
	ctx, _ := m.Load(context.Background(), "")
	_ = m.LoginHook(ctx, "alice")
	_, _, _ = m.Commit(ctx)
	// Output: audit: login alice 0
}

// User IDs on spans, for a deployment whose traces may hold them.
func ExampleWithUserID() {
	store := otelsinglesession.NewStore(singlesession.NewMemoryStore(), otelsinglesession.WithUserID())
	_, err := singlesession.New(scs.New(), store, singlesession.Config{
		OnEvent: otelsinglesession.OnEvent(otelsinglesession.WithUserID()),
	})
	fmt.Println(err)
	// Output: <nil>
}
