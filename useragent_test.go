package singlesession_test

import (
	"strings"
	"testing"

	"github.com/go-singlesession/singlesession"
	"github.com/stretchr/testify/assert"
)

// The page's summary of a User-Agent: browser and system by substring.
func TestDevice(t *testing.T) {
	for ua, want := range map[string]string{
		firefoxLinux:  "Firefox on Linux",
		safariIPhone:  "Safari on iOS",
		edgeWindows:   "Edge on Windows",
		chromeAndroid: "Chrome on Android",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15":   "Safari on macOS",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36":   "Chrome on macOS",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 OPR/120": "Opera on Windows",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/138.0.0.0 Safari/537.36":           "Chrome on Linux",
		"curl/8.14.1":              "curl",
		"Go-http-client/1.1":       "Go",
		"":                         "unknown",
		"SomeBot/2.0":              "SomeBot/2.0",
		strings.Repeat("x", 100):   strings.Repeat("x", 59) + "…",
		"Mozilla/5.0 (X11; Linux)": "a browser on Linux",
	} {
		assert.Equal(t, want, singlesession.Device(ua), ua)
	}
}
