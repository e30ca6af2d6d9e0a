package singlesession_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An application that imports singlesession gets in its module graph what the
// library builds with (scs, pgx) and nothing of what only its examples, tests
// of other stores, benchmarks or load test use: those live in modules of their
// own (examples/, compat/, loadtest/).
func TestConsumerModuleGraph(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the go command is not in PATH (CI=true makes this a failure): %v", err)
		}
		t.Skipf("the go command is not in PATH: %v", err)
	}
	root, err := filepath.Abs(".")
	require.NoError(t, err)
	goMod, err := os.ReadFile("go.mod")
	require.NoError(t, err)
	var goLine string
	for line := range strings.Lines(string(goMod)) {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			goLine = strings.TrimSpace(v)
		}
	}
	require.NotEmpty(t, goLine, "go.mod has a go line")

	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("go.mod", "module example.com/consumer\n\ngo "+goLine+"\n\n"+
		"require github.com/go-singlesession/singlesession v0.0.0-00010101000000-000000000000\n\n"+
		"replace github.com/go-singlesession/singlesession => "+root+"\n")
	write("main.go", `package main

import (
	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/migrations"
)

var _, _ = singlesession.New, migrations.FS

func main() {}
`)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goTool, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "go %s: %s", strings.Join(args, " "), stderr.String())
		return string(out)
	}
	run("mod", "tidy")
	list := run("list", "-m", "all")
	t.Logf("go list -m all:\n%s", list)
	var modules []string
	for line := range strings.Lines(list) {
		if fields := strings.Fields(line); len(fields) > 0 {
			modules = append(modules, fields[0])
		}
	}

	assert.Contains(t, modules, "github.com/alexedwards/scs/v2")
	assert.Contains(t, modules, "github.com/jackc/pgx/v5")
	for _, unwanted := range []string{
		"github.com/chromedp/chromedp",
		"github.com/chromedp/cdproto",
		"github.com/pressly/goose/v3",
		"github.com/alexedwards/scs/pgxstore",
		"github.com/alexedwards/scs/postgresstore",
	} {
		assert.NotContains(t, modules, unwanted)
	}
}
