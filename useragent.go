package singlesession

import "strings"

// device returns the browser and system a User-Agent names, such as
// "Firefox on Linux", for the admin page. It recognises the common browsers
// and systems by substring, without a parser (the package adds no
// dependency for it); for anything else it returns the User-Agent itself,
// cut to 60 characters, or "unknown" when there is none.
func device(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return "unknown"
	}
	browser := firstMatch(ua, []match{
		// Order matters: Edge and Opera also say Chrome, Chrome also says
		// Safari, and iOS browsers say Safari with their own token.
		{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
		{"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
		{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
		{"Safari/", "Safari"},
		{"curl/", "curl"}, {"Go-http-client/", "Go"},
	})
	system := firstMatch(ua, []match{
		{"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"iPod", "iOS"},
		{"Android", "Android"}, {"CrOS", "ChromeOS"},
		{"Windows", "Windows"}, {"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
		{"Linux", "Linux"}, {"FreeBSD", "FreeBSD"},
	})
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "a browser on " + system
	}
	if r := []rune(ua); len(r) > 60 {
		return string(r[:59]) + "\u2026"
	}
	return ua
}

type match struct{ substr, name string }

func firstMatch(s string, list []match) string {
	for _, m := range list {
		if strings.Contains(s, m.substr) {
			return m.name
		}
	}
	return ""
}
