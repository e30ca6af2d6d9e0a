package singlesession

import "errors"

// ErrSessionNotFound is wrapped by the error that scs's Commit returns
// outside a request (a background job, scs's Iterate outside a handler) for
// a session that is not in the store: one that ended, or one that was never
// stored. Outside a request the Manager updates sessions only; it never
// creates one, since it cannot tell a new session from an ended one.
var ErrSessionNotFound = errors.New("session not found")
