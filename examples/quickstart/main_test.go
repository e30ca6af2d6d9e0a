package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession/internal/pgtest"
)

// build compiles the program once per test.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "quickstart")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// Without DATABASE_URL the program says so and exits 1, before it connects
// anywhere (pgx would otherwise pick a default database).
func TestNoDatabaseURL(t *testing.T) {
	err := run("127.0.0.1:0", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DATABASE_URL is not set")

	cmd := exec.Command(build(t))
	cmd.Env = append(os.Environ(), "DATABASE_URL=")
	out, err := cmd.CombinedOutput()
	exitErr, ok := err.(*exec.ExitError)
	require.True(t, ok, "exits with a status: %v", err)
	assert.Equal(t, 1, exitErr.ExitCode())
	assert.Equal(t, "quickstart: DATABASE_URL is not set: run with DATABASE_URL=postgres://localhost/app\n", string(out))
}

// With a database it migrates, logs where it listens (-addr), and serves.
func TestListensAndServes(t *testing.T) {
	dsn := pgtest.DSN(t, pgtest.Schema(t, "ss_quickstart"))
	cmd := exec.Command(build(t), "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var url string
	for url == "" {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "the program ended before it listened")
			if m := regexp.MustCompile(`INFO quickstart listening url=(http://127\.0\.0\.1:\d+)$`).FindStringSubmatch(line); m != nil {
				url = m[1]
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no \"quickstart listening\" line")
		}
	}
	go func() {
		for range lines { // keep the pipe drained
		}
	}()

	res, err := http.Get(url + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "signed in as \"\"\n", string(body))

	res, err = http.Post(url+"/login", "application/x-www-form-urlencoded", strings.NewReader("username=alice&password=secret"))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "303 to /, followed")
}
