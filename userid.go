package singlesession

import (
	"fmt"
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
	switch {
	case userID == "":
		return fmt.Errorf("%w: empty", ErrInvalidUserID)
	case len(userID) > MaxUserIDLen:
		return fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidUserID, len(userID), MaxUserIDLen)
	case !utf8.ValidString(userID):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidUserID)
	}
	for i := 0; i < len(userID); i++ {
		if userID[i] == 0 {
			return fmt.Errorf("%w: contains a NUL byte", ErrInvalidUserID)
		}
	}
	return nil
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
