package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseDevice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ua, want, kind string
	}{
		{uaFirefoxMac, "Firefox 128 on macOS", "Computer"},
		{uaIPhone, "Safari 17 on iOS", "Phone"},
		{uaChromeLin, "Chrome 141 on Linux", "Computer"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/141.0.0.0 Safari/537.36", "Chrome 141 on Linux", "Automated"},
		{"curl/8.5.0", "curl 8.5.0", "Automated"},
		{"Go-http-client/1.1", "Go-http-client 1.1", "Automated"},
		{"", "Unknown browser", "Unknown device"},
		{"Mozilla/5.0 (compatible)", "Unknown browser", "Unknown device"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			d := parseDevice(tc.ua)
			assert.Equal(t, tc.want, d.String(), tc.ua)
			assert.Equal(t, tc.kind, d.Kind, tc.ua)
		})
	}
}

func TestAgo(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		-time.Minute:                   "just now",
		0:                              "just now",
		59 * time.Second:               "just now",
		time.Minute:                    "1 minute ago",
		2*time.Minute + 30*time.Second: "2 minutes ago",
		time.Hour:                      "1 hour ago",
		5 * time.Hour:                  "5 hours ago",
		30 * time.Hour:                 "yesterday",
		72 * time.Hour:                 "3 days ago",
	} {
		assert.Equal(t, want, ago(now.Add(-d), now), "%v", d)
	}
}
