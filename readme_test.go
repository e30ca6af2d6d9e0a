package singlesession_test

import (
	"os"
	"path/filepath"
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

// The Go example of the operators' guide is ExampleAdmin_Run, which go test
// compiles and runs against its output.
func TestOperatorsGuideIsExampleAdminRun(t *testing.T) {
	guide, err := os.ReadFile("docs/operators.md")
	require.NoError(t, err)
	src, err := os.ReadFile("example_admin_test.go")
	require.NoError(t, err)
	start := strings.Index(string(src), "func ExampleAdmin_Run() {\n")
	require.GreaterOrEqual(t, start, 0)
	end := strings.Index(string(src)[start:], "\n}\n")
	require.Positive(t, end)
	assert.Contains(t, string(guide), "```go\n"+string(src)[start:start+end+3]+"```")
}

// docs/opentelemetry.md holds the section of otelsinglesession's README
// that its comments mark, word for word, so that the two never disagree.
func TestOpenTelemetryGuideIsTheModuleReadme(t *testing.T) {
	guide, err := os.ReadFile("docs/opentelemetry.md")
	require.NoError(t, err)
	readme, err := os.ReadFile("otelsinglesession/README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "<!-- The section below is the text of docs/opentelemetry.md. -->\n")
	require.True(t, ok, "the README marks the start of the section")
	section, _, ok = strings.Cut(section, "<!-- End of the section of docs/opentelemetry.md. -->")
	require.True(t, ok, "the README marks the end of the section")
	assert.True(t, strings.Contains(string(guide), strings.TrimSpace(section)), "docs/opentelemetry.md holds the README's section")
}

// README.md stays short: what it is, install, the rules, the quick start,
// adopting it, links; the guides are in docs/.
func TestReadmeIsShort(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	assert.LessOrEqual(t, strings.Count(string(readme), "\n"), 300)
}

// The schema in docs/postgres.md is every migration, word for word.
func TestPostgresGuideShowsEveryMigration(t *testing.T) {
	guide, err := os.ReadFile("docs/postgres.md")
	require.NoError(t, err)
	files, err := filepath.Glob("migrations/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		_, up, _ := strings.Cut(string(b), "-- +goose Up\n")
		up, _, _ = strings.Cut(up, "-- +goose Down")
		assert.True(t, strings.Contains(string(guide), strings.TrimSpace(up)), "docs/postgres.md shows %s", f)
	}
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
