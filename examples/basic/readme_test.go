package main

// The tour (README.md) stays true: its flag table lists every flag of the
// command line and no other, and its route table every route the
// application registers and no other, each of which answers.

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readTour(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	return string(b)
}

func TestTourListsEveryFlag(t *testing.T) {
	var usage bytes.Buffer
	_, err := parseFlags([]string{"-h"}, noEnv, &usage)
	require.True(t, errors.Is(err, flag.ErrHelp), "%v", err)
	flags := names(regexp.MustCompile(`(?m)^  -([a-z-]+)`), usage.String())
	require.NotEmpty(t, flags, "no flag in the usage:\n%s", usage.String())
	listed := names(regexp.MustCompile("(?m)^\\| `-([a-z-]+)` \\|"), readTour(t))
	assert.ElementsMatch(t, flags, listed, "README.md's flag table against `basic -h`")

	// Each row's default is the flag's: an environment variable's name
	// where the environment supplies it ($DATABASE_URL), a duration in any
	// spelling ("1m" for Go's "1m0s").
	fs, _ := newFlagSet(&config{}, func(k string) string { return "$" + k }, io.Discard)
	rows := regexp.MustCompile("(?m)^\\| `-([a-z-]+)` \\| `([^`]*)` \\|").FindAllStringSubmatch(readTour(t), -1)
	assert.Len(t, rows, len(listed), "every row of the flag table has a default in backquotes")
	for _, row := range rows {
		name, listedDefault := row[1], row[2]
		f := fs.Lookup(name)
		if !assert.NotNil(t, f, "README.md lists -%s", name) {
			continue
		}
		if d, ok := f.Value.(flag.Getter).Get().(time.Duration); ok {
			got, err := time.ParseDuration(listedDefault)
			if assert.NoError(t, err, "-%s: README.md's default", name) {
				assert.Equal(t, d, got, "-%s: README.md's default against the flag's", name)
			}
			continue
		}
		assert.Equal(t, f.DefValue, listedDefault, "-%s: README.md's default against the flag's", name)
	}
}

func TestTourListsEveryRoute(t *testing.T) {
	listed := names(regexp.MustCompile("(?m)^\\| `((?:GET|POST) /[^`]*)` \\|"), readTour(t))
	require.NotEmpty(t, listed)

	// What the application registers: the patterns of its Handle and
	// HandleFunc calls.
	var registered []string
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		registered = append(registered, names(regexp.MustCompile(`\.Handle(?:Func)?\("([^"]+)"`), string(src))...)
	}
	require.NotEmpty(t, registered)
	for _, pattern := range registered {
		method, path, hasMethod := strings.Cut(pattern, " ")
		if !hasMethod {
			// A subtree without a method (the operators' page, the
			// middleware's catch-all): some listed route lies under it.
			path = method
			if path == "/" {
				continue
			}
			assert.True(t, slices.ContainsFunc(listed, func(r string) bool {
				_, p, _ := strings.Cut(r, " ")
				return strings.HasPrefix(p, strings.TrimSuffix(path, "/"))
			}), "README.md lists no route under %s", path)
			continue
		}
		route := method + " " + strings.TrimSuffix(path, "{$}")
		assert.Contains(t, listed, route, "README.md's route table misses %s (registered as %q)", route, pattern)
	}

	// Every listed route answers, on an application with every optional
	// route on, to an admin user (anonymous, everything under
	// /admin/sessions/ would answer 303, a misspelt route too). A post
	// with no form may answer 400; the streams answer 200.
	app := startApp(t, "-metrics")
	root := newClient(t, "root", app.URL)
	for _, route := range listed {
		method, path, _ := strings.Cut(route, " ")
		root.login("root") // again: a route may have signed root out
		if streamPaths[path] {
			root.openStream(path, http.StatusOK).close()
			continue
		}
		res, _ := root.do(method, path, nil)
		assert.NotContains(t, []int{404, 405}, res.StatusCode, "%s answers %s", route, res.Status)
		if method == "GET" {
			assert.NotEqual(t, http.StatusSeeOther, res.StatusCode, "%s answers %s to root", route, res.Status)
		}
	}
}

// names returns the first group of every match of re in s.
func names(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}
