package main

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlagsMetrics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"-metrics"}, true},
		{[]string{"-metrics=false"}, false},
	} {
		cfg, err := parseFlags(tc.args, noEnv, io.Discard)
		require.NoError(t, err, "%q", tc.args)
		assert.Equal(t, tc.want, cfg.Metrics, "%q", tc.args)
	}
}

// sample returns the value of the one sample of metrics (Prometheus text)
// whose name is name and whose labels include each of labels, and whether
// there is one.
func sample(t *testing.T, metrics, name string, labels ...string) (float64, bool) {
	t.Helper()
	var found []float64
	line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{([^}]*)\} (\S+)$`)
	for _, m := range line.FindAllStringSubmatch(metrics, -1) {
		all := true
		for _, l := range labels {
			all = all && regexp.MustCompile(`(^|,)`+regexp.QuoteMeta(l)+`(,|$)`).MatchString(m[1])
		}
		if all {
			v, err := strconv.ParseFloat(m[2], 64)
			require.NoError(t, err, m[0])
			found = append(found, v)
			t.Logf("%s", m[0])
		}
	}
	require.LessOrEqual(t, len(found), 1, "%s%q: more than one sample", name, labels)
	if len(found) == 0 {
		return 0, false
	}
	return found[0], true
}

// With -metrics, GET /metrics serves the events and the store's calls in the
// Prometheus text format, by the names and labels docs/opentelemetry.md
// gives, outside the sessions.
func TestMetrics(t *testing.T) {
	t.Parallel()
	app := startApp(t, "-metrics")
	a := newClient(t, "A", app.URL)
	a.login("alice")
	b := newClient(t, "B", app.URL)
	b.login("alice") // -max-sessions 1: ends A's session, reason login
	require.Empty(t, a.whoami(), "B's login ended A's session")

	scrape := func() string {
		t.Helper()
		// B scrapes, with its session cookie: /metrics must not load it.
		res, body := b.do("GET", "/metrics", nil)
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		assert.Contains(t, res.Header.Get("Content-Type"), "text/plain")
		assert.Empty(t, res.Header.Values("Set-Cookie"))
		return body
	}
	metrics := scrape()

	logins, ok := sample(t, metrics, "singlesession_events_total",
		`singlesession_event_kind="login"`, `singlesession_end_reason="login"`)
	require.True(t, ok, "no events counter of logins that ended sessions:\n%s", metrics)
	assert.GreaterOrEqual(t, logins, 1.0)
	ended, ok := sample(t, metrics, "singlesession_sessions_ended_total",
		`singlesession_event_kind="login"`, `singlesession_end_reason="login"`)
	require.True(t, ok, "no counter of the sessions logins ended:\n%s", metrics)
	assert.GreaterOrEqual(t, ended, 1.0)
	_, ok = sample(t, metrics, "singlesession_store_duration_seconds_bucket",
		`singlesession_operation="Login"`, `le="+Inf"`)
	assert.True(t, ok, "no histogram of the store's Login calls:\n%s", metrics)
	finds, ok := sample(t, metrics, "singlesession_store_duration_seconds_count", `singlesession_operation="Find"`)
	require.True(t, ok, "no histogram of the store's Find calls:\n%s", metrics)

	again, _ := sample(t, scrape(), "singlesession_store_duration_seconds_count", `singlesession_operation="Find"`)
	assert.Equal(t, finds, again, "a scrape loads no session")
	assert.NotContains(t, metrics, "alice", "metrics name no user")
	assert.NotContains(t, metrics, b.cookie(), "nor a token")
}

// Without -metrics there is no /metrics.
func TestMetricsOff(t *testing.T) {
	t.Parallel()
	app := startApp(t)
	res, body := newClient(t, "Prometheus", app.URL).do("GET", "/metrics", nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode, body)
}
