package main

import (
	"strconv"
	"time"
)

// ago says how long before now t was, as people say it: "just now",
// "2 minutes ago", "3 hours ago", "yesterday", "5 days ago". A t in the
// future (another machine's clock) is "just now".
func ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	case d < 48*time.Hour:
		return "yesterday"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
}

// plural returns "1 minute", "2 minutes", "1,200 sessions".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return number(n) + " " + unit + "s"
}

// number writes n with its thousands grouped: "100,000".
func number(n int) string {
	s := strconv.Itoa(n)
	start := 0
	if n < 0 {
		start = 1
	}
	for i := len(s) - 3; i > start; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
