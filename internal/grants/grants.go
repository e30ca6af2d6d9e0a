// Package grants holds the statements on singlesession_grants that give and
// take permissions, shared by singlesession.PostgresDirectory and the
// command line, which tells the operator when nothing changed.
package grants

import (
	"context"

	"github.com/jackc/pgx/v5/pgconn"
)

const (
	sqlGrant = `INSERT INTO singlesession_grants (user_id, permission) VALUES ($1, $2)
ON CONFLICT DO NOTHING`

	sqlRevoke = `DELETE FROM singlesession_grants WHERE user_id = $1 AND permission = $2`
)

// Execer runs one statement: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Grant gives userID perm and reports whether the user did not hold it
// before. It checks neither argument.
func Grant(ctx context.Context, db Execer, userID, perm string) (changed bool, err error) {
	tag, err := db.Exec(ctx, sqlGrant, userID, perm)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// Revoke takes perm from userID and reports whether the user held it. It
// checks neither argument.
func Revoke(ctx context.Context, db Execer, userID, perm string) (changed bool, err error) {
	tag, err := db.Exec(ctx, sqlRevoke, userID, perm)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}
