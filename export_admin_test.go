package singlesession

// Device is the admin page's summary of a User-Agent, for its tests.
var Device = device

// When and Ago are how the admin page writes times, for its tests.
var (
	When = when
	Ago  = ago
)
