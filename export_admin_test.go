package singlesession

// Device is the admin page's summary of a User-Agent, for its tests.
var Device = device
