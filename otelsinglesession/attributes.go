package otelsinglesession

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/go-singlesession/singlesession"
)

// The attributes this package records. session.id, session.previous_id,
// user.id and error.type are OpenTelemetry's semantic conventions; the
// rest are this package's own, under "singlesession.".
const (
	keyOperation  = attribute.Key("singlesession.operation")  // metric: the Store method
	keyErrorType  = attribute.Key("error.type")               // metric and span: why a call failed
	keySessionID  = attribute.Key("session.id")               // singlesession.SessionID, never the token
	keyPreviousID = attribute.Key("session.previous_id")      // the browser's previous session at a login
	keyUserID     = attribute.Key("user.id")                  // only with WithUserID, only on spans
	keyActor      = attribute.Key("singlesession.actor")      // the operator of Admin.Run; only with WithUserID
	keyEventKind  = attribute.Key("singlesession.event.kind") // singlesession.EventKind
	keyEndReason  = attribute.Key("singlesession.end.reason") // singlesession.Reason
	keyRefused    = attribute.Key("singlesession.refused")    // a refusal the contract foresees (see refusal)
	keyEnded      = attribute.Key("singlesession.ended_count")
	keyDeleted    = attribute.Key("singlesession.deleted_count")
	keySessions   = attribute.Key("singlesession.session_count")
	keyUsers      = attribute.Key("singlesession.user_count")
	keyIDs        = attribute.Key("singlesession.id_count") // EndSessions: how many IDs it names
	keyOthers     = attribute.Key("singlesession.end.others")
	keyLimitMax   = attribute.Key("singlesession.limit.max")
	keyRejectNew  = attribute.Key("singlesession.limit.reject_new")
	keyPageLimit  = attribute.Key("singlesession.page.limit")
	keyFound      = attribute.Key("singlesession.found")
	keyStale      = attribute.Key("singlesession.stale")
	keyTouch      = attribute.Key("singlesession.touch")

	keyExceptionType    = attribute.Key("exception.type")
	keyExceptionMessage = attribute.Key("exception.message")
)

// sessionID names the session of a store token by its
// singlesession.SessionID, a hash that cannot be turned back into the
// token; "" names none.
func sessionID(key attribute.Key, token string) attribute.KeyValue {
	return key.String(singlesession.SessionID(token))
}

// Refusals are the outcomes that the Store contract foresees and that the
// Manager answers as such: a login refused by a RejectNew limit (the user
// is signed in elsewhere: a 409 the application shows), and a session that
// asks to end sessions after it ended itself (a request that was in flight
// when its session ended: 404). They are no failure of the store, so a
// span records them with the attribute singlesession.refused and keeps the
// status Unset, and the duration carries no error.type: alerting on the
// store's error rate must not page anyone because users hit their limit.
func refusal(err error) string {
	switch {
	case errors.Is(err, singlesession.ErrTooManySessions):
		return "too_many_sessions"
	case errors.Is(err, singlesession.ErrSessionNotFound):
		return "session_not_found"
	}
	return ""
}

// errorType returns the value of error.type for err, low in cardinality as
// the convention asks: the context's error by its name when the call's
// context ended, or else the Go type of the innermost error of the chain
// (such as *pgconn.PgError or *net.OpError), which names the failure
// better than the wrappers around it.
func errorType(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	case errors.Is(err, context.Canceled):
		return "context.Canceled"
	}
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				next = errs[0]
			}
		}
		if next == nil {
			break
		}
		err = next
	}
	if t := reflect.TypeOf(err); t != nil {
		return t.String()
	}
	return "_OTHER"
}

// redact replaces in msg every user ID of userIDs, quoted as the stores
// and the Manager quote them in errors (%q), with "<user.id>".
func redact(msg string, userIDs []string) string {
	for _, id := range userIDs {
		if id != "" {
			msg = strings.ReplaceAll(msg, strconv.Quote(id), `"<user.id>"`)
		}
	}
	return msg
}
