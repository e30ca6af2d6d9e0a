package pgxstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-singlesession/singlesession"
)

// GrantAdmin is the grant of [Directory] that makes a user an admin user
// ([singlesession.User].Admin).
const GrantAdmin = "admin"

// Directory is a [singlesession.Directory] for applications that keep no
// permissions of their own: grants live in the table singlesession_grants,
// which [Migrate] creates, and are given with [Directory.Grant] (or the
// command singlesession grant) and taken back with [Directory.RemoveGrant].
//
// The users it knows are those that hold a grant or have a session linked to
// them (signed in through the Manager's LoginHook and not yet ended or
// cleaned up); it cannot know users that did neither. Each method is one
// query.
type Directory struct {
	pool *pgxpool.Pool
}

var _ singlesession.Directory = (*Directory)(nil)

// NewDirectory returns a directory over the grants in pool's database.
// Apply [Migrate] first. It panics if pool is nil.
func NewDirectory(pool *pgxpool.Pool) *Directory {
	if pool == nil {
		panic("pgxstore: NewDirectory: pool is nil")
	}
	return &Directory{pool: pool}
}

const (
	// sqlDirectoryUsers finds the grants and the linked users among $1 with
	// two index scans; for 10,000 IDs this is about twice as fast as probing
	// the tables once per ID.
	sqlDirectoryUsers = `WITH g AS (
	SELECT user_id, array_agg(permission ORDER BY permission) AS grants
	FROM singlesession_grants WHERE user_id = ANY($1::text[]) GROUP BY user_id
), l AS (
	SELECT DISTINCT user_id FROM singlesession_links WHERE user_id = ANY($1::text[])
)
SELECT COALESCE(g.user_id, l.user_id), COALESCE(g.grants, '{}')
FROM g FULL JOIN l ON l.user_id = g.user_id`

	// sqlDirectorySearch returns one row even when the page is empty, so the
	// total arrives with it; user_id is then NULL. COLLATE "C" orders by
	// bytes, as Go compares strings.
	sqlDirectorySearch = `WITH matched AS (
	SELECT user_id FROM singlesession_grants WHERE strpos(user_id, $1) > 0
	UNION
	SELECT user_id FROM singlesession_links WHERE strpos(user_id, $1) > 0
), page AS (
	SELECT user_id FROM matched ORDER BY user_id COLLATE "C" OFFSET $2 LIMIT $3
)
SELECT t.total, p.user_id,
	COALESCE((SELECT array_agg(g.permission ORDER BY g.permission) FROM singlesession_grants g WHERE g.user_id = p.user_id), '{}')
FROM (SELECT count(*) AS total FROM matched) t
LEFT JOIN page p ON true
ORDER BY p.user_id COLLATE "C"`

	sqlGrant = `INSERT INTO singlesession_grants (user_id, permission) VALUES ($1, $2)
ON CONFLICT DO NOTHING`

	sqlRemoveGrant = `DELETE FROM singlesession_grants WHERE user_id = $1 AND permission = $2`
)

// userFromGrants turns a row's grants into a User.
func userFromGrants(id string, grants []string) singlesession.User {
	u := singlesession.User{ID: id}
	for _, g := range grants {
		if g == GrantAdmin {
			u.Admin = true
		} else {
			u.Permissions = append(u.Permissions, g)
		}
	}
	return u
}

// Users implements [singlesession.Directory.Users] with one query.
func (d *Directory) Users(ctx context.Context, ids []string) (map[string]singlesession.User, error) {
	found := map[string]singlesession.User{}
	if len(ids) == 0 {
		return found, nil
	}
	rows, err := d.pool.Query(ctx, sqlDirectoryUsers, ids)
	if err != nil {
		return nil, fmt.Errorf("singlesession: pgxstore: look up users: %w", err)
	}
	var (
		id     string
		grants []string
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &grants}, func() error {
		found[id] = userFromGrants(id, grants)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("singlesession: pgxstore: look up users: %w", err)
	}
	return found, nil
}

// Search implements [singlesession.Directory.Search] with one query; the
// match is case-sensitive. A negative offset or limit is an error.
func (d *Directory) Search(ctx context.Context, query string, offset, limit int) ([]singlesession.User, int, error) {
	if offset < 0 || limit < 0 {
		return nil, 0, fmt.Errorf("singlesession: pgxstore: search users: negative offset (%d) or limit (%d)", offset, limit)
	}
	rows, err := d.pool.Query(ctx, sqlDirectorySearch, query, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("singlesession: pgxstore: search users: %w", err)
	}
	var (
		total  int
		id     *string
		grants []string
		page   []singlesession.User
	)
	_, err = pgx.ForEachRow(rows, []any{&total, &id, &grants}, func() error {
		if id != nil {
			page = append(page, userFromGrants(*id, grants))
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("singlesession: pgxstore: search users: %w", err)
	}
	return page, total, nil
}

// Grant gives userID perm: [singlesession.PermLogout],
// [singlesession.PermLogoutAll] or [GrantAdmin]. It reports whether the
// user did not hold it before; granting what the user holds already changes
// nothing and is not an error. It returns an error wrapping
// [singlesession.ErrInvalidUserID] or [singlesession.ErrUnknownPermission]
// for an unacceptable argument.
func (d *Directory) Grant(ctx context.Context, userID, perm string) (changed bool, err error) {
	if err := checkGrant(userID, perm); err != nil {
		return false, fmt.Errorf("singlesession: pgxstore: grant: %w", err)
	}
	tag, err := d.pool.Exec(ctx, sqlGrant, userID, perm)
	if err != nil {
		return false, fmt.Errorf("singlesession: pgxstore: grant %s to %q: %w", perm, userID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// RemoveGrant takes perm ([singlesession.PermLogout],
// [singlesession.PermLogoutAll] or [GrantAdmin]) from userID and reports
// whether the user held it; removing what the user does not hold is not an
// error. The user's sessions are not touched. It returns an error wrapping
// [singlesession.ErrInvalidUserID] or [singlesession.ErrUnknownPermission]
// for an unacceptable argument.
func (d *Directory) RemoveGrant(ctx context.Context, userID, perm string) (changed bool, err error) {
	if err := checkGrant(userID, perm); err != nil {
		return false, fmt.Errorf("singlesession: pgxstore: remove grant: %w", err)
	}
	tag, err := d.pool.Exec(ctx, sqlRemoveGrant, userID, perm)
	if err != nil {
		return false, fmt.Errorf("singlesession: pgxstore: remove grant %s from %q: %w", perm, userID, err)
	}
	return tag.RowsAffected() > 0, nil
}

func checkGrant(userID, perm string) error {
	if err := singlesession.ValidateUserID(userID); err != nil {
		return fmt.Errorf("%.40q: %w", userID, err)
	}
	switch perm {
	case singlesession.PermLogout, singlesession.PermLogoutAll, GrantAdmin:
		return nil
	}
	return fmt.Errorf("%w %q (want %q, %q or %q)", singlesession.ErrUnknownPermission, perm,
		singlesession.PermLogout, singlesession.PermLogoutAll, GrantAdmin)
}
