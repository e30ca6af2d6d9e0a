package singlesession

// StoreStatements are PostgresStore's statements, for the test that checks
// they find their rows through indexes.
var StoreStatements = map[string]string{
	"find":           sqlFind,
	"insert":         sqlInsert,
	"update":         sqlUpdate,
	"lock user":      sqlLockUser,
	"login":          sqlLogin,
	"logout":         sqlLogout,
	"delete tokens":  sqlDeleteTokens,
	"end":            sqlEnd,
	"count sessions": sqlCountSessions,
	"sessions":       sqlSessions,
	"delete expired": sqlDeleteExpired,
}
