package pgxstore

// StoreStatements are Store's statements, for the test that checks
// they find their rows through indexes.
var StoreStatements = map[string]string{
	"find ending":            sqlFindEnding,
	"find":                   sqlFind,
	"find session":           sqlFindSession,
	"insert":                 sqlInsert,
	"update":                 sqlUpdate,
	"update touch":           sqlUpdateTouch,
	"touch":                  sqlTouch,
	"lock users":             sqlLockUsers,
	"login":                  sqlLogin,
	"logout":                 sqlLogout,
	"delete tokens":          sqlDeleteTokens,
	"end users":              sqlEndUsers,
	"end sessions":           sqlEndSessions,
	"count sessions":         sqlCountSessions,
	"sessions":               sqlSessions,
	"delete expired":         sqlDeleteExpired,
	"delete expired endings": sqlDeleteExpiredEndings,
}

// ForgetLinks empties s's cache of links, as a process that never saw the
// store's tokens has it: the next load of each reads its link again.
func ForgetLinks(s *Store) {
	s.links.mu.Lock()
	defer s.links.mu.Unlock()
	s.links.m = nil
}
