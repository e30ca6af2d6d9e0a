package loadtest_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// pgServer is a private PostgreSQL server for one test, which the test may
// restart without disturbing the shared server others test against.
type pgServer struct {
	t     testing.TB
	bin   string // directory of initdb and pg_ctl
	dir   string // socket directory, log, and data/ beneath it
	port  int
	runAs string // OS user to run the server as ("" for the current one)
}

// startPostgres initialises and starts a server in a temporary directory and
// stops and removes it when t ends. PostgreSQL refuses to run as root, so
// under root the server runs as the OS user postgres. When it cannot start,
// the test fails under CI=true and is skipped otherwise.
func startPostgres(t testing.TB) *pgServer {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatalf("private PostgreSQL server: %s (CI=true makes this a failure)", msg)
		}
		t.Skipf("private PostgreSQL server: %s; install PostgreSQL's server binaries or set PG_BINDIR", msg)
	}
	s := &pgServer{t: t, bin: pgBinDir()}
	if s.bin == "" {
		unavailable("initdb and pg_ctl not found")
	}
	dir, err := os.MkdirTemp("", "singlesession-pg-")
	if err != nil {
		unavailable("%v", err)
	}
	s.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			unavailable("running as root and there is no OS user postgres: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			unavailable("%v", err)
		}
		s.runAs = "postgres"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		unavailable("%v", err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()

	if err := s.run("initdb", "-D", s.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8",
		"--no-locale", "--no-sync", "--no-instructions"); err != nil {
		unavailable("%v", err)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=60", s.port, dir)
	if err := s.run("pg_ctl", "-D", s.data(), "-l", s.logFile(), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		unavailable("%v", err)
	}
	t.Cleanup(func() {
		if err := s.run("pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "-t", "60", "stop"); err != nil {
			t.Errorf("%v", err)
		}
	})
	return s
}

func (s *pgServer) data() string { return filepath.Join(s.dir, "data") }

// DSN returns the server's connection string.
func (s *pgServer) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Restart stops the server, ending every connection, and starts it again.
func (s *pgServer) Restart() error {
	return s.run("pg_ctl", "-D", s.data(), "-l", s.logFile(), "-m", "fast", "-w", "-t", "60", "restart")
}

func (s *pgServer) logFile() string { return filepath.Join(s.dir, "log") }

// run runs one of the server's programs as the server's OS user. Its output
// goes to a file, not a pipe: a server that pg_ctl starts inherits it and
// would hold a pipe open for as long as it runs.
func (s *pgServer) run(name string, args ...string) error {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	out, err := os.CreateTemp("", "singlesession-pg-out-")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		text, _ := os.ReadFile(out.Name())
		log, _ := os.ReadFile(s.logFile())
		return fmt.Errorf("%s %s: %v\n%s\nserver log:\n%s", name, strings.Join(args, " "), err, text, log)
	}
	return nil
}

// pgBinDir finds PostgreSQL's server binaries: $PG_BINDIR, pg_config
// --bindir, the newest /usr/lib/postgresql/*/bin, or initdb on the PATH.
func pgBinDir() string {
	has := func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, "pg_ctl"))
		_, err2 := os.Stat(filepath.Join(dir, "initdb"))
		return dir != "" && err == nil && err2 == nil
	}
	if d := os.Getenv("PG_BINDIR"); has(d) {
		return d
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); has(d) {
			return d
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if has(d) {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p)
	}
	return ""
}
