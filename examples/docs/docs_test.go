package docs

import (
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	// The OpenTelemetry guide's set-up block imports otelhttp; go vet builds
	// the blocks in this module, whose go.mod must then require it.
	_ "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// imports are the packages a block may name, by the name it uses.
var imports = map[string]string{
	"context":           "context",
	"errors":            "errors",
	"fmt":               "fmt",
	"http":              "net/http",
	"httptest":          "net/http/httptest",
	"io":                "io",
	"json":              "encoding/json",
	"log":               "log",
	"os":                "os",
	"slog":              "log/slog",
	"strings":           "strings",
	"testing":           "testing",
	"time":              "time",
	"scs":               "github.com/alexedwards/scs/v2",
	"pgxpool":           "github.com/jackc/pgx/v5/pgxpool",
	"redis":             "github.com/redis/go-redis/v9",
	"singlesession":     "github.com/go-singlesession/singlesession",
	"pgxstore":          "github.com/go-singlesession/singlesession/pgxstore",
	"redisstore":        "github.com/go-singlesession/singlesession/redisstore",
	"storetest":         "github.com/go-singlesession/singlesession/storetest",
	"otelsinglesession": "github.com/go-singlesession/singlesession/otelsinglesession",
}

// documents are the Markdown files whose Go blocks must compile, relative to
// the repository's root.
func documents(t *testing.T, root string) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	list := []string{"README.md", "examples/basic/README.md", "redisstore/README.md", "otelsinglesession/README.md"}
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		list = append(list, rel)
	}
	var exist []string
	for _, f := range list {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			exist = append(exist, f)
		}
	}
	slices.Sort(exist)
	return exist
}

var goBlock = regexp.MustCompile("(?ms)^```go\n(.*?)^```")

// named returns the names that block qualifies (x in x.Y), in its code: a
// name in a comment or a string is none.
func named(block string) []string {
	var s scanner.Scanner
	s.Init(token.NewFileSet().AddFile("", -1, len(block)), []byte(block), nil, 0)
	var names []string
	var prev, prev2 token.Token
	var prevLit string
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			return names
		}
		if tok == token.PERIOD && prev == token.IDENT && prev2 != token.PERIOD {
			names = append(names, prevLit)
		}
		prev2, prev, prevLit = prev, tok, lit
	}
}

// source makes a file of block, in package pkg: a whole program stays as it
// is; declarations get the imports they name, but for those the block
// imports itself.
func source(block, pkg string) string {
	if strings.HasPrefix(block, "package ") || strings.Contains(block, "\npackage ") {
		return block
	}
	var paths []string
	for _, name := range named(block) {
		if p, ok := imports[name]; ok && !slices.Contains(paths, p) && !strings.Contains(block, strconv.Quote(p)) {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var b strings.Builder
	b.WriteString("package " + pkg + "\n\nimport (\n")
	for _, p := range paths {
		b.WriteString("\t" + strconv.Quote(p) + "\n")
	}
	b.WriteString(")\n\n" + block)
	return b.String()
}

// Every Go block of the README and the guides compiles: go vet builds each
// in a package of its own, against the modules of the checkout.
func TestGoBlocksCompile(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	dir, err := os.MkdirTemp(".", "blocks-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	n := 0
	where := map[string]string{}
	for d, doc := range documents(t, root) {
		text, err := os.ReadFile(filepath.Join(root, doc))
		require.NoError(t, err)
		// The declarations of one document share a package, so that a block
		// may use what an earlier one declared; a whole program (package
		// main) is a package of its own.
		pkg := "doc" + strconv.Itoa(d)
		for i, m := range goBlock.FindAllStringSubmatch(string(text), -1) {
			n++
			name := pkg
			src := source(m[1], pkg)
			if strings.HasPrefix(src, "package main") || strings.Contains(src, "\npackage main") {
				name = "main" + strconv.Itoa(n)
			}
			sub := filepath.Join(dir, name)
			require.NoError(t, os.MkdirAll(sub, 0o755))
			file := "block" + strconv.Itoa(i+1) + ".go"
			require.NoError(t, os.WriteFile(filepath.Join(sub, file), []byte(src), 0o644))
			where[name+"/"+file] = doc + ", Go block " + strconv.Itoa(i+1)
		}
	}
	t.Logf("%d Go blocks", n)
	require.Positive(t, n)
	cmd := exec.Command("go", "vet", "./"+filepath.Base(dir)+"/...")
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(root, "go.work"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		report := string(out)
		for f, w := range where {
			report = strings.ReplaceAll(report, filepath.Base(dir)+"/"+f, w)
		}
		t.Fatalf("Go blocks that do not compile:\n%s", report)
	}
}
