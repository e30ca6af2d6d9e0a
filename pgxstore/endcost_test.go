package pgxstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/internal/pgtest"
	"github.com/go-singlesession/singlesession/pgxstore"
)

// A login under Always that ends 1,000 sessions of the user: their deletion
// (the links go by cascade), their reasons and their notices, in the login's
// one statement.
func BenchmarkLoginEnding1000(b *testing.B) {
	pool := migratedPool(b)
	pgtest.Seed(b, pool, "bystander", 10_000)
	store := pgxstore.New(pool)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		user := fmt.Sprint("user", i)
		pgtest.Seed(b, pool, user, 1000)
		b.StartTimer()
		res, err := store.Login(ctx, singlesession.Login{UserID: user, Token: fmt.Sprintf("bench-end-%038d", i), Data: []byte{0},
			Expiry: time.Now().Add(time.Hour), Limit: singlesession.Limit{Max: 1}, UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"})
		if err != nil || res.Ended != 1000 {
			b.Fatal(res, err)
		}
	}
}
