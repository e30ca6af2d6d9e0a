package singlesession_test

import (
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeGoBlock returns the README from heading on, and the first Go code
// block in it.
func readmeGoBlock(t *testing.T, heading string) (section, block string) {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), heading)
	require.True(t, ok, "README has a section %q", heading)
	_, block, ok = strings.Cut(section, "```go\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	return section, block
}

// The quick start in README.md is examples/quickstart/main.go, which go vet
// and go build check, so the README's program compiles as pasted.
func TestReadmeQuickStartIsTheCompiledExample(t *testing.T) {
	_, block := readmeGoBlock(t, "## Quick start")
	program, err := os.ReadFile("examples/quickstart/main.go")
	require.NoError(t, err)
	assert.Equal(t, string(program), block)
}

// The Go example of the README's Operators section is the body of
// ExampleAdmin_Run, which go test compiles and runs against its output.
func TestReadmeOperatorsIsExampleAdminRun(t *testing.T) {
	section, block := readmeGoBlock(t, "## Operators\n")

	src, err := os.ReadFile("example_admin_test.go")
	require.NoError(t, err)
	_, body, ok := strings.Cut(string(src), "func ExampleAdmin_Run() {\n")
	require.True(t, ok)
	body, output, ok := strings.Cut(body, "\t// Output:\n")
	require.True(t, ok)
	var lines []string
	for line := range strings.Lines(body) {
		lines = append(lines, strings.TrimPrefix(line, "\t"))
	}
	assert.Equal(t, strings.Join(lines, ""), block)

	// And the output the README shows is the example's.
	output, _, _ = strings.Cut(output, "}")
	var want strings.Builder
	for line := range strings.Lines(output) {
		if line = strings.TrimSpace(line); line != "" {
			want.WriteString(strings.TrimPrefix(line, "// ") + "\n")
		}
	}
	assert.Contains(t, section, "```\n"+want.String()+"```")
}

// The README's contents list every section (## heading), in order, with
// links GitHub resolves.
func TestReadmeContentsListsEverySection(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(readme), "## Contents\n\n")
	require.True(t, ok, "README has a section Contents")
	contents, rest, _ := strings.Cut(rest, "\n\n")
	var want []string
	for line := range strings.Lines(rest) {
		if h, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "## "); ok {
			anchor := strings.Map(func(r rune) rune {
				switch {
				case r == ' ':
					return '-'
				case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
					return unicode.ToLower(r)
				}
				return -1
			}, h)
			want = append(want, "- ["+strings.ReplaceAll(h, "`", "")+"](#"+anchor+")")
		}
	}
	assert.Equal(t, strings.Join(want, "\n"), contents)
}
