package singlesession

// StoreStatements are PostgresStore's statements, for the test that checks
// they find their rows through indexes.
var StoreStatements = map[string]string{
	"find":           sqlFind,
	"insert":         sqlInsert,
	"update":         sqlUpdate,
	"lock user":      sqlLockUser,
	"login":          sqlLogin,
	"end":            sqlEnd,
	"end tokens":     sqlEndTokens,
	"sessions":       sqlSessions,
	"delete expired": sqlDeleteExpired,
}
