package singlesession

// SessionID returns an opaque, stable identifier of a session for logs and
// pages: 12 base64url characters of a SHA-256 of the store token (with a
// prefix of the library's). It reveals nothing that would let anyone use the
// session.
func SessionID(token string) string {
	return hashToken("singlesession:" + token)[:12]
}
