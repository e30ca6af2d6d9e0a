package singlesession

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxUserIDLen is the longest user ID, in bytes, that the Manager accepts.
const MaxUserIDLen = 512

// ValidateUserID reports why userID cannot be a user ID, with an error
// wrapping [ErrInvalidUserID], or returns nil. A user ID is not empty, at
// most [MaxUserIDLen] bytes of valid UTF-8, and has no NUL byte. Every
// method that takes user IDs applies it; call it to check input early (the
// command line does).
func ValidateUserID(userID string) error {
	if problem := userIDProblem(userID); problem != "" {
		return fmt.Errorf("%w: %s", ErrInvalidUserID, problem)
	}
	return nil
}

// userIDProblem says in a few words why userID cannot be a user ID ("empty",
// "not valid UTF-8"), or returns "" when it can: the reason that
// ValidateUserID's error carries, for messages that are not about a user ID
// (the admin page's search).
func userIDProblem(userID string) string {
	switch {
	case userID == "":
		return "empty"
	case len(userID) > MaxUserIDLen:
		return fmt.Sprintf("%d bytes, more than %d", len(userID), MaxUserIDLen)
	case !utf8.ValidString(userID):
		return "not valid UTF-8"
	case strings.IndexByte(userID, 0) >= 0:
		return "contains a NUL byte"
	}
	return ""
}

// validUserIDs checks every ID, and names the first unacceptable one.
func validUserIDs(userIDs []string) error {
	for _, id := range userIDs {
		if err := ValidateUserID(id); err != nil {
			return fmt.Errorf("%.40q: %w", id, err)
		}
	}
	return nil
}
