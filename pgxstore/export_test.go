package pgxstore

// StoreStatements are Store's statements, for the test that checks
// they find their rows through indexes.
var StoreStatements = map[string]string{
	"find ending":            sqlFindEnding,
	"find":                   sqlFind,
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
