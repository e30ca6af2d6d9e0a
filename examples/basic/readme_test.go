package main

// The tour (README.md) stays true: its flag table lists every flag of the
// command line and no other, and its route table every route the
// application registers and no other, each of which answers.

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

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

	// Every listed route answers (an anonymous request, on an application
	// with every optional route on).
	app := startApp(t, "-metrics")
	anon := newClient(t, "anonymous", app.URL)
	for _, route := range listed {
		method, path, _ := strings.Cut(route, " ")
		res, _ := anon.do(method, path, nil)
		assert.NotContains(t, []int{404, 405}, res.StatusCode, "%s answers %s", route, res.Status)
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
