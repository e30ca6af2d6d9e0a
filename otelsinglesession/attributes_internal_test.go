package otelsinglesession

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-singlesession/singlesession"
)

type codeError struct{ code string }

func (e *codeError) Error() string { return "code " + e.code }

func TestErrorType(t *testing.T) {
	deep := &codeError{"57014"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{errors.New("plain"), "*errors.errorString"},
		{fmt.Errorf("login of %q: %w", "u", deep), "*otelsinglesession.codeError"},
		{fmt.Errorf("a: %w", fmt.Errorf("b: %w", &net.OpError{Op: "dial", Err: errors.New("refused")})), "*errors.errorString"},
		{fmt.Errorf("a: %w", &net.OpError{Op: "dial"}), "*net.OpError"},
		{errors.Join(deep, errors.New("other")), "*otelsinglesession.codeError"},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), "context.DeadlineExceeded"},
		{fmt.Errorf("query: %w: %w", deep, context.Canceled), "context.Canceled"},
	} {
		assert.Equal(t, c.want, errorType(c.err), "%v", c.err)
	}
}

func TestRefusal(t *testing.T) {
	assert.Equal(t, "too_many_sessions", refusal(fmt.Errorf("login of %q: %w (limit 1)", "u", singlesession.ErrTooManySessions)))
	assert.Equal(t, "session_not_found", refusal(fmt.Errorf("x: %w", singlesession.ErrSessionNotFound)))
	assert.Equal(t, "", refusal(errors.New("session not found"))) // the text is not the sentinel
}

func TestRedact(t *testing.T) {
	msg := `singlesession: pgxstore: login of "alice": end "al" of "alice" and "bob": no "ali"`
	assert.Equal(t, `singlesession: pgxstore: login of "<user.id>": end "al" of "<user.id>" and "<user.id>": no "ali"`,
		redact(msg, []string{"alice", "bob", ""}))
	assert.Equal(t, `of "<user.id>"`, redact(`of "a\"b"`, []string{`a"b`}), "quoted as %%q quotes")
}
