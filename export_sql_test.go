package singlesession

// StoreStatements are PostgresStore's statements, for the test that checks
// they find their rows through indexes.
var StoreStatements = map[string]string{
	"find":                   sqlFind,
	"insert":                 sqlInsert,
	"update":                 sqlUpdate,
	"update touch":           sqlUpdateTouch,
	"touch":                  sqlTouch,
	"lock users":             sqlLockUsers,
	"login":                  sqlLogin,
	"logout":                 sqlLogout,
	"delete tokens":          sqlDeleteTokens,
	"end":                    sqlEnd,
	"revoke":                 sqlRevokeSessions,
	"count sessions":         sqlCountSessions,
	"sessions":               sqlSessions,
	"delete expired":         sqlDeleteExpired,
	"delete expired endings": sqlDeleteExpiredEndings,
}

// UserLock is the SQL expression of the advisory lock key (second half, after
// 1936942451) of the user named by the SQL expression user, as sqlLockUsers
// computes it.
func UserLock(user string) string { return "(hashtext(" + user + ") & 1023) + 1" }
