package main

import (
	"net/http"
	"time"

	"github.com/go-singlesession/singlesession"
)

// endedNotice tells a signed-out browser why its session ended
// (Manager.Ended), on the login and home pages.
type endedNotice struct {
	Reason singlesession.Reason // the page's data-reason
	Title  string
	Text   string
	At     time.Time
}

// AtText is when the session ended, as "5 Dec 2026, 18:47 UTC".
func (e endedNotice) AtText() string { return when(e.At) }

// ended returns why the browser of r was signed out, or nil when it was
// not (it is signed in, it never was, it signed out itself, or its session
// expired).
func (a *app) ended(r *http.Request) *endedNotice {
	e, ok := a.m.Ended(r.Context())
	if !ok {
		return nil
	}
	n := &endedNotice{Reason: e.Reason, At: e.At}
	other := "another browser"
	if e.UserAgent != "" {
		other = parseDevice(e.UserAgent).String()
	}
	since := ago(e.At, time.Now())
	switch e.Reason {
	case singlesession.ReasonLogin:
		n.Title = "You signed in on another browser, so this one was signed out."
		n.Text = "Signed in on " + other + ", " + since + "."
		if a.cfg.MaxSessions > 1 {
			n.Text += " You may be signed in on " + plural(a.cfg.MaxSessions, "browser") +
				" at once, and this one was the least recently used."
		}
	case singlesession.ReasonLogout:
		n.Title = "You signed out on another browser, which signs out every browser."
		n.Text = "Signed out on " + other + ", " + since + "."
	case singlesession.ReasonRevoked:
		n.Title = "This session was ended from another of your sessions."
		n.Text = "Ended on the “Your sessions” page of " + other + ", " + since +
			". If that was not you, sign in and change your password."
	case singlesession.ReasonAdmin:
		n.Title = "An operator signed you out."
		n.Text = "Signed out by an operator " + since + ". You may sign in again."
	default:
		n.Title = "Your session ended."
		n.Text = "It ended " + since + "."
	}
	return n
}
