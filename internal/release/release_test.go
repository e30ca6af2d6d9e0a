package release

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

const (
	rootPath = "github.com/go-singlesession/singlesession"
	version  = "v0.1.0"
	// oldestGo is the oldest Go the README promises: a consumer builds
	// with its toolchain (fetched through the module proxy, like any
	// GOTOOLCHAIN).
	oldestGo = "1.25.0"
)

// published are the modules a release tags, by directory: the root as
// v0.1.0, each nested one as <dir>/v0.1.0. The others (examples, compat,
// loadtest, this one) are never required by anyone.
var published = map[string]string{
	".":                 rootPath,
	"redisstore":        rootPath + "/redisstore",
	"otelsinglesession": rootPath + "/otelsinglesession",
}

// repo is the repository's root directory.
func repo(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "go.work"))
	require.NoError(t, err, "the repository's root is two levels up")
	return dir
}

// goMods returns the directories of the repository that hold a go.mod,
// relative to it, the root's first.
func goMods(t *testing.T) []string {
	t.Helper()
	root := repo(t)
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.Name() == "go.mod" {
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			dirs = append(dirs, rel)
		}
		return nil
	})
	require.NoError(t, err)
	slices.Sort(dirs) // "." first
	return dirs
}

// proxy builds a file module proxy in a temporary directory with every
// published module that exists in the checkout at v0.1.0, made from the
// working tree exactly as a tag would publish it (a module's zip leaves out
// the directories of other modules), and returns its GOPROXY URL.
func proxy(t *testing.T) string {
	t.Helper()
	root := repo(t)
	dir := t.TempDir()
	for rel, path := range published {
		src := filepath.Join(root, rel)
		if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
			continue // not in this checkout yet
		}
		m := module.Version{Path: path, Version: version}
		base := filepath.Join(dir, filepath.FromSlash(path), "@v")
		require.NoError(t, os.MkdirAll(base, 0o755))
		f, err := os.Create(filepath.Join(base, version+".zip"))
		require.NoError(t, err)
		require.NoError(t, zip.CreateFromDir(f, m, src), "zip %s", path)
		require.NoError(t, f.Close())
		mod, err := os.ReadFile(filepath.Join(src, "go.mod"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(base, version+".mod"), mod, 0o644))
		info, _ := json.Marshal(map[string]any{"Version": version, "Time": time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
		require.NoError(t, os.WriteFile(filepath.Join(base, version+".info"), info, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(base, "list"), []byte(version+"\n"), 0o644))
	}
	return "file://" + filepath.ToSlash(dir)
}

// goEnv is the environment of a go command that sees the local proxy first
// and the machine's proxy for everything else, outside any workspace, and
// checks no sum database for the modules of the repository. Its module
// cache is a fresh one: the machine's keeps the first v0.1.0 it unpacked
// and would hide every later change of the checkout. Modules the machine
// has already downloaded come from its cache's download directory, so the
// fresh cache costs no network.
func goEnv(t *testing.T, proxyURL string) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOPROXY", "GOMODCACHE").Output()
	require.NoError(t, err)
	lines := strings.Fields(string(out))
	require.Len(t, lines, 2, "go env GOPROXY GOMODCACHE: %q", out)
	upstream, machineCache := lines[0], lines[1]
	return append(os.Environ(),
		"GOWORK=off",
		"GOFLAGS=-mod=mod -modcacherw",
		"GOMODCACHE="+filepath.Join(t.TempDir(), "modcache"),
		"GOPROXY="+proxyURL+",file://"+filepath.ToSlash(filepath.Join(machineCache, "cache", "download"))+","+upstream,
		"GONOSUMDB="+rootPath,
		"GOPRIVATE=",
	)
}

// run runs the go command in dir and returns its output, failing t with
// what it printed when it fails.
func run(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "go %s:\n%s", strings.Join(args, " "), out.String())
	return out.String()
}

// A consumer of the release gets the root and redisstore at v0.1.0 from a
// module proxy with go get, and builds, with no replace of its own, with
// the oldest Go the README promises (oldestGo) as with the newest. The
// Redis-only binary links no pgx (the root package imports only scs); the
// one that uses pgxstore does.
func TestConsumerOfTheRelease(t *testing.T) {
	env := goEnv(t, proxy(t))
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("go.mod", "module example.com/consumer\n\ngo "+oldestGo+"\n")
	write("redisonly/main.go", `package main

import (
	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/redisstore"
)

func main() {
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}})
	_, _ = singlesession.New(scs.New(), redisstore.New(client), singlesession.Config{})
}
`)
	write("postgres/main.go", `package main

import (
	"context"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/pgxstore"
)

func main() {
	pool, _ := pgxpool.New(context.Background(), "")
	_, _ = singlesession.New(scs.New(), pgxstore.New(pool), singlesession.Config{})
}
`)
	out := run(t, dir, env, "get", rootPath+"@"+version, rootPath+"/redisstore@"+version)
	t.Logf("go get:\n%s", out)
	run(t, dir, env, "mod", "tidy")
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	t.Logf("the consumer's go.mod:\n%s", mod)
	f, err := modfile.Parse("go.mod", mod, nil)
	require.NoError(t, err)
	assert.Empty(t, f.Replace, "no replace")
	run(t, dir, env, "build", "-o", filepath.Join(dir, "bin")+"/", "./...")
	assert.Contains(t, string(mod), "\ngo "+oldestGo+"\n", "nothing the consumer needs asks for a newer Go")
	run(t, dir, append(env, "GOTOOLCHAIN=go"+oldestGo), "vet", "./...")

	// Nothing that only the examples, the other libraries' stores, the
	// benchmarks or the load test use reaches the consumer's graph.
	modules := run(t, dir, env, "list", "-m", "all")
	for _, unwanted := range []string{"github.com/chromedp/", "github.com/pressly/goose", "github.com/alexedwards/scs/pgxstore",
		"github.com/alexedwards/scs/postgresstore", "golang.org/x/crypto/bcrypt",
		"github.com/medama-io/", "go.opentelemetry.io/", "github.com/alexedwards/scs/goredisstore"} {
		assert.NotContains(t, modules, unwanted)
	}

	redisOnly := run(t, dir, env, "version", "-m", filepath.Join(dir, "bin", "redisonly"))
	t.Logf("go version -m redisonly:\n%s", redisOnly)
	assert.Contains(t, redisOnly, "github.com/redis/go-redis/v9")
	assert.Contains(t, redisOnly, "github.com/go-singlesession/singlesession\t"+version)
	assert.NotContains(t, redisOnly, "github.com/jackc/pgx", "a Redis-only binary links no pgx")
	withPostgres := run(t, dir, env, "version", "-m", filepath.Join(dir, "bin", "postgres"))
	assert.Contains(t, withPostgres, "github.com/jackc/pgx/v5")
	assert.NotContains(t, withPostgres, "github.com/redis/go-redis", "and a PostgreSQL binary no go-redis")
}

// Every nested go.mod requires the repository's modules at the version they
// are released with, never at a pseudo-version, and has no replace (go.work
// joins the modules for development); the root's go.mod has neither.
func TestGoModsAreReleasable(t *testing.T) {
	root := repo(t)
	for _, dir := range goMods(t) {
		t.Run(dir, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, dir, "go.mod"))
			require.NoError(t, err)
			f, err := modfile.Parse("go.mod", data, nil)
			require.NoError(t, err)
			assert.Empty(t, f.Replace, "a replace in a go.mod that users read")
			for _, r := range f.Require {
				if strings.HasPrefix(r.Mod.Path, rootPath) {
					assert.Equal(t, version, r.Mod.Version, "%s requires %s at the release's version", dir, r.Mod.Path)
				}
			}
		})
	}
}

var update = flag.Bool("update", false, "TestNestedModulesAreTidy writes what go mod tidy makes of each nested go.mod and go.sum")

// Every nested module is tidy as a consumer of the release would see it: go
// mod tidy against the local proxy, outside the workspace, changes nothing
// in its go.mod, and adds nothing to its go.sum but the sums of the
// repository's own modules (which a release adds once they are tagged).
func TestNestedModulesAreTidy(t *testing.T) {
	root := repo(t)
	env := goEnv(t, proxy(t))
	for _, dir := range goMods(t) {
		if dir == "." {
			continue // scripts/test.sh runs go mod tidy -diff on the root itself
		}
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			copyDir := filepath.Join(t.TempDir(), "m")
			cp := exec.Command("cp", "-r", filepath.Join(root, dir), copyDir)
			out, err := cp.CombinedOutput()
			require.NoError(t, err, string(out))
			run(t, copyDir, env, "mod", "tidy")
			for _, name := range []string{"go.mod", "go.sum"} {
				before, _ := os.ReadFile(filepath.Join(root, dir, name))
				after, _ := os.ReadFile(filepath.Join(copyDir, name))
				if name == "go.sum" {
					after = withoutRepoSums(after)
				}
				if *update {
					require.NoError(t, os.WriteFile(filepath.Join(root, dir, name), after, 0o644))
					continue
				}
				assert.Equal(t, string(before), string(after), "%s/%s is not what go mod tidy makes of it (go test ./internal/release -run Tidy -update writes it)", dir, name)
			}
		})
	}
}

// withoutRepoSums drops the lines of the repository's own modules from a
// go.sum.
func withoutRepoSums(sum []byte) []byte {
	var keep []string
	for line := range strings.Lines(string(sum)) {
		if !strings.HasPrefix(line, rootPath+" ") && !strings.HasPrefix(line, rootPath+"/") {
			keep = append(keep, line)
		}
	}
	return []byte(strings.Join(keep, ""))
}

// A consumer of otelsinglesession gets the OpenTelemetry API at the version
// the module asks for and nothing of the SDK, the exporters or the
// repository's tests.
func TestConsumerOfOtelsinglesession(t *testing.T) {
	env := goEnv(t, proxy(t))
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/consumer\n\ngo 1.26.0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(`package main

import (
	"github.com/alexedwards/scs/v2"

	"github.com/go-singlesession/singlesession"
	"github.com/go-singlesession/singlesession/otelsinglesession"
)

func main() {
	_, _ = singlesession.New(scs.New(), otelsinglesession.NewStore(&singlesession.MemoryStore{}), singlesession.Config{
		OnEvent: otelsinglesession.OnEvent(),
	})
}
`), 0o644))
	run(t, dir, env, "get", rootPath+"@"+version, rootPath+"/otelsinglesession@"+version)
	run(t, dir, env, "mod", "tidy")
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	t.Logf("the consumer's go.mod:\n%s", mod)
	run(t, dir, env, "build", "-o", filepath.Join(dir, "consumer"), ".")
	modules := run(t, dir, env, "list", "-m", "all")
	assert.Contains(t, modules, "go.opentelemetry.io/otel v1.20.0")
	for _, unwanted := range []string{"go.opentelemetry.io/otel/sdk", "go.opentelemetry.io/otel/exporters",
		"github.com/redis/go-redis", "github.com/prometheus/"} {
		assert.NotContains(t, modules, unwanted)
	}
	// pgx is in the graph (pgxstore is a package of the root module) but not
	// in a binary that does not import pgxstore.
	linked := run(t, dir, env, "version", "-m", filepath.Join(dir, "consumer"))
	assert.Contains(t, linked, "go.opentelemetry.io/otel/trace\tv1.20.0")
	assert.NotContains(t, linked, "github.com/jackc/pgx")
}
