package main

import (
	"strings"

	"github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"
)

// device is what a page shows of a User-Agent: the browser ("Firefox 128")
// and the device ("Mac computer", "iPhone").
type device struct {
	Browser string // "Chrome 141", or the client's product ("curl 8.5.0"), or "Unknown browser"
	OS      string // "macOS", "Linux"; "" when unknown
	Kind    string // "Computer", "Phone", "Tablet", "TV", "Automated", or "Unknown device"
}

// uaParser reads User-Agent strings. It is built once, from tables embedded
// in the package.
var uaParser = useragent.NewParser()

// parseDevice describes the client of a User-Agent header.
func parseDevice(ua string) device {
	agent := uaParser.Parse(ua)
	d := device{Browser: string(agent.Browser()), OS: osName(agent.OS()), Kind: kindName(agent.Device())}
	switch {
	case d.Browser != "":
		if v := agent.BrowserVersionMajor(); v != "" {
			d.Browser += " " + v
		}
	case product(ua) != "":
		d.Browser = product(ua)
	default:
		d.Browser = "Unknown browser"
	}
	return d
}

// String reads as "Firefox 128 on macOS".
func (d device) String() string {
	if d.OS == "" {
		return d.Browser
	}
	return d.Browser + " on " + d.OS
}

func osName(os agents.OS) string {
	switch os {
	case agents.OSMacOS:
		return "macOS"
	case agents.OSIOS:
		return "iOS"
	default:
		return string(os)
	}
}

func kindName(d agents.Device) string {
	switch d {
	case agents.DeviceDesktop:
		return "Computer"
	case agents.DeviceMobile:
		return "Phone"
	case agents.DeviceTablet:
		return "Tablet"
	case agents.DeviceTV:
		return "TV"
	case agents.DeviceBot:
		return "Automated"
	default:
		return "Unknown device"
	}
}

// product returns the first product of a User-Agent that names no known
// browser, "curl/8.5.0" as "curl 8.5.0", or "" when there is none or it is
// the "Mozilla/5.0" every browser starts with.
func product(ua string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(ua), " ")
	name, version, _ := strings.Cut(first, "/")
	if name == "" || name == "Mozilla" || len(first) > 40 {
		return ""
	}
	return strings.TrimSpace(name + " " + version)
}
