package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
)

// help, like the command line singlesession's, prints the usage to stdout
// and exits 0; a mistake says how to get it.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "-help", "--help"} {
		var out, errOut strings.Builder
		assert.Equal(t, 0, runTo([]string{arg}, &out, &errOut), arg)
		assert.Contains(t, out.String(), "Usage: singlesession-load [flags]", arg)
		assert.Contains(t, out.String(), "-collide", arg)
		assert.Empty(t, errOut.String(), arg)
	}
	var out, errOut strings.Builder
	assert.Equal(t, 2, runTo([]string{"-dsn", "postgres://x", "extra"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "Run 'singlesession-load help' for usage.")
}

func TestRun(t *testing.T) {
	assert.Equal(t, 2, run([]string{"-no-such-flag"}))
	assert.Equal(t, 2, run([]string{"-dsn", "", "-duration", "1s"}))
	assert.Equal(t, 2, run([]string{"-dsn", "postgres://x", "extra"}))

	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is unreachable (CI=true makes this a failure): %v", dsn, err)
		}
		t.Skipf("PostgreSQL at %s is unreachable: %v", dsn, err)
	}
	conn.Close(ctx)
	assert.Equal(t, 0, run([]string{"-dsn", dsn, "-duration", "1s", "-clients", "8", "-users", "3"}))
	assert.Equal(t, 0, run([]string{"-dsn", dsn, "-duration", "1s", "-clients", "16", "-collide"}))
	assert.Equal(t, 0, run([]string{"-dsn", dsn, "-duration", "1s", "-clients", "4", "-baseline", "-rounds", "2"}))
	assert.Equal(t, 2, run([]string{"-dsn", dsn, "-baseline", "-collide"}))
}
