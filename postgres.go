package singlesession

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresStore is a [Store] over PostgreSQL: scs's sessions table, unchanged,
// and the link table singlesession_links, which references it with ON DELETE
// CASCADE. Create both with [Migrate]. The tables are found through the
// connection's search_path.
//
// Every method but Login and DeleteExpired is one round trip. A login is one
// READ COMMITTED transaction in two round trips: a batch with a per-user
// advisory lock and one statement that ends, inserts and links, whatever the
// number of the user's sessions; then COMMIT.
type PostgresStore struct {
	pool *pgxpool.Pool
}

// NewPostgresStore returns a store that uses pool. Apply [Migrate] first.
func NewPostgresStore(pool *pgxpool.Pool) *PostgresStore {
	return &PostgresStore{pool: pool}
}

const (
	sqlFind = `SELECT s.data, COALESCE(l.user_id, '')
FROM sessions s LEFT JOIN singlesession_links l ON l.token = s.token
WHERE s.token = $1 AND now() < s.expiry`

	sqlInsert = `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)`

	sqlUpdate = `UPDATE sessions SET data = $2, expiry = $3 WHERE token = $1`

	// sqlLockUsers serialises every change that ends a user's sessions:
	// logins, logouts and operators' sign-outs. It runs as its own statement,
	// before the statement that deletes, in a READ COMMITTED transaction,
	// because a statement's snapshot is taken when it starts: the delete must
	// start after the locks are held to see what the previous holder
	// committed (under REPEATABLE READ the snapshot would be the lock's).
	//
	// It locks the users $1 and the users linked to the tokens $2 (a
	// browser's previous session may belong to another user), each through
	// one of 1,024 buckets of hashtext(user_id), in ascending order. Every
	// path takes its locks in that one order, and takes them all before it
	// deletes a row, so two of them can never wait for each other in a
	// cycle: that is what keeps PostgreSQL from reporting deadlocks when a
	// user's logins, logouts and sign-outs meet. Buckets bound how many locks
	// a sign-out of thousands of users holds (PostgreSQL's lock table is
	// shared and finite); two users in one bucket only take turns.
	//
	// Every advisory lock of singlesession has the two-key form with
	// 1936942451 ("sses") first, so it never meets an application's
	// single-key locks; the users' buckets are 1 to 1024, Migrate's key is 0.
	sqlBeginTx   = `BEGIN ISOLATION LEVEL READ COMMITTED`
	sqlLockUsers = `SELECT count(pg_advisory_xact_lock(1936942451, k)) FROM (
	SELECT (hashtext(u) & 1023) + 1 AS k FROM unnest($1::text[]) AS u
	UNION
	SELECT (hashtext(user_id) & 1023) + 1 FROM singlesession_links WHERE token = ANY($2::text[])
	ORDER BY 1
) AS keys`
	sqlCommit = `COMMIT`

	// sqlLogin and sqlEnd name the sessions to delete as one IN over a
	// UNION ALL, never as "token = ANY(...) OR token IN (...)": PostgreSQL
	// cannot use an index for an OR whose one side is a sub-select, so that
	// form scans the whole sessions table on every login and logout (see
	// BENCHMARKS.md for what that costs at a million sessions). This way each
	// token is found through the primary key, whatever the size of the table.
	sqlLogin = `WITH ended AS (
	DELETE FROM sessions
	WHERE token IN (
		SELECT unnest($5::text[])
		UNION ALL
		SELECT token FROM singlesession_links WHERE $6 AND user_id = $1
	)
	RETURNING token
), added AS (
	INSERT INTO sessions (token, data, expiry) VALUES ($2, $3, $4)
)
INSERT INTO singlesession_links (token, user_id) VALUES ($2, $1)
RETURNING (SELECT count(*) FROM ended WHERE token <> ALL($5::text[]))`

	// sqlLogout ends the user's other sessions only if this browser's
	// session was still there, linked to the user, when it was deleted: a
	// concurrent login that ended it first makes the browser anonymous.
	sqlLogout = `WITH current AS (
	DELETE FROM sessions WHERE token = ANY($2::text[]) RETURNING token
), others AS (
	DELETE FROM sessions
	WHERE token <> ALL($2::text[])
	  AND token IN (SELECT token FROM singlesession_links WHERE user_id = $1)
	  AND EXISTS (SELECT 1 FROM current JOIN singlesession_links l USING (token) WHERE l.user_id = $1)
	RETURNING token
)
SELECT (SELECT count(*) FROM current) + (SELECT count(*) FROM others)`

	sqlDeleteTokens = `DELETE FROM sessions WHERE token = ANY($1::text[])`

	// sqlEnd takes each ended session's user from the link it deleted by, so
	// counting needs no second look at the link table.
	sqlEnd = `WITH ended AS (
	DELETE FROM sessions s USING singlesession_links l
	WHERE l.token = s.token AND l.user_id = ANY($1::text[])
	RETURNING l.user_id
)
SELECT user_id, count(*) FROM ended GROUP BY user_id`

	sqlAll = `SELECT token, data FROM sessions WHERE now() < expiry`

	sqlSessions = `SELECT l.token, l.created, s.expiry
FROM singlesession_links l JOIN sessions s USING (token)
WHERE l.user_id = $1 AND now() < s.expiry
ORDER BY l.created, l.token`

	sqlCountSessions = `SELECT l.user_id, count(*)
FROM singlesession_links l JOIN sessions s USING (token)
WHERE l.user_id = ANY($1::text[]) AND now() < s.expiry
GROUP BY l.user_id`

	// sqlDeleteExpired deletes in bounded batches so a large backlog never
	// holds its locks for long. It skips rows that another transaction has
	// locked (a logout or sign-out deleting them, a save updating them), so
	// it never waits for one, and so can never be part of a deadlock; what
	// it skips, the next run deletes.
	sqlDeleteExpired = `DELETE FROM sessions WHERE token IN (
	SELECT token FROM sessions WHERE expiry <= now() LIMIT 5000 FOR UPDATE SKIP LOCKED)`
	deleteExpiredBatch = 5000
)

// Find implements [Store.Find] with one query that reads the session and its
// link together.
func (p *PostgresStore) Find(ctx context.Context, token string) ([]byte, string, bool, error) {
	var (
		data   []byte
		userID string
	)
	err := p.pool.QueryRow(ctx, sqlFind, token).Scan(&data, &userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, fmt.Errorf("singlesession: find session: %w", err)
	}
	return data, userID, true, nil
}

// Insert implements [Store.Insert].
func (p *PostgresStore) Insert(ctx context.Context, token string, data []byte, expiry time.Time) error {
	if _, err := p.pool.Exec(ctx, sqlInsert, token, data, expiry); err != nil {
		return fmt.Errorf("singlesession: insert session: %w", err)
	}
	return nil
}

// Update implements [Store.Update] with an UPDATE, never an UPSERT.
func (p *PostgresStore) Update(ctx context.Context, token string, data []byte, expiry time.Time) (bool, error) {
	tag, err := p.pool.Exec(ctx, sqlUpdate, token, data, expiry)
	if err != nil {
		return false, fmt.Errorf("singlesession: update session: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// commitTimeout bounds the COMMIT of a login, which is not cut short by the
// caller's context (see Login).
const commitTimeout = 5 * time.Second

// Login implements [Store.Login] as one READ COMMITTED transaction, whatever
// the database's default isolation level, in two round trips: a batch that
// begins, takes the user's lock and applies the login, then COMMIT.
//
// The COMMIT is sent only while ctx is alive, so a login whose context ends
// while it waits for the lock (or at any point before COMMIT) never commits
// later on the server: an error means nothing changed. Once sent, COMMIT is
// waited for even if ctx ends meanwhile (up to 5 seconds), so success is
// never reported as failure.
func (p *PostgresStore) Login(ctx context.Context, l Login) (int, error) {
	ended, err := p.login(ctx, l)
	if err != nil {
		return 0, fmt.Errorf("singlesession: login of %q: %w", l.UserID, err)
	}
	return ended, nil
}

func (p *PostgresStore) login(ctx context.Context, l Login) (int, error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	// A connection left inside a transaction (after an error) is discarded
	// by the pool on release, which ends the transaction on the server.
	defer conn.Release()

	b := &pgx.Batch{}
	b.Queue(sqlBeginTx)
	b.Queue(sqlLockUsers, []string{l.UserID}, nonNil(l.Replaces))
	b.Queue(sqlLogin, l.UserID, l.Token, l.Data, l.Expiry, nonNil(l.Replaces), l.EndOthers)
	br := conn.SendBatch(ctx, b)
	var ended int
	_, err = br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		err = br.QueryRow().Scan(&ended)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return 0, err
	}
	commitCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if _, err := conn.Exec(commitCtx, sqlCommit); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return ended, nil
}

// locked runs query in one round trip, as one READ COMMITTED transaction
// that first takes the locks of users and of the users linked to tokens (see
// sqlLockUsers), and hands its rows to scan. An error means nothing changed.
func (p *PostgresStore) locked(ctx context.Context, users, tokens []string, query string, args []any, scan func(pgx.Rows) error) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release() // discarded by the pool if a failure left it inside the transaction
	b := &pgx.Batch{}
	b.Queue(sqlBeginTx)
	b.Queue(sqlLockUsers, nonNil(users), nonNil(tokens))
	b.Queue(query, args...).Query(scan)
	b.Queue(sqlCommit)
	return conn.SendBatch(ctx, b).Close()
}

// Logout implements [Store.Logout] with one statement, after the locks of
// userID and of the users the tokens are linked to.
func (p *PostgresStore) Logout(ctx context.Context, userID string, tokens []string) (int, error) {
	if len(tokens) == 0 {
		return 0, nil
	}
	var users []string
	query, args := sqlDeleteTokens, []any{tokens}
	if userID != "" {
		users = []string{userID}
		query, args = sqlLogout, []any{userID, tokens}
	}
	var n int64
	err := p.locked(ctx, users, tokens, query, args, func(rows pgx.Rows) error {
		if userID == "" {
			rows.Close()
			n = rows.CommandTag().RowsAffected()
			return rows.Err()
		}
		_, err := pgx.ForEachRow(rows, []any{&n}, func() error { return nil })
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("singlesession: logout of %q: %w", userID, err)
	}
	return int(n), nil
}

// End implements [Store.End] with one statement, however many users it names,
// after their locks.
func (p *PostgresStore) End(ctx context.Context, userIDs []string) (map[string]int, error) {
	counts := map[string]int{}
	if len(userIDs) == 0 {
		return counts, nil
	}
	err := p.locked(ctx, userIDs, nil, sqlEnd, []any{userIDs}, func(rows pgx.Rows) error {
		return collectCounts(rows, counts)
	})
	if err != nil {
		return nil, fmt.Errorf("singlesession: end sessions: %w", err)
	}
	return counts, nil
}

// All implements [Store.All].
func (p *PostgresStore) All(ctx context.Context) (map[string][]byte, error) {
	rows, err := p.pool.Query(ctx, sqlAll)
	if err != nil {
		return nil, fmt.Errorf("singlesession: all sessions: %w", err)
	}
	all := map[string][]byte{}
	var (
		token string
		data  []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&token, &data}, func() error {
		all[token] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("singlesession: all sessions: %w", err)
	}
	return all, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Sessions implements [Store.Sessions].
func (p *PostgresStore) Sessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	rows, err := p.pool.Query(ctx, sqlSessions, userID)
	if err != nil {
		return nil, fmt.Errorf("singlesession: sessions of %q: %w", userID, err)
	}
	var (
		token string
		info  SessionInfo
		list  []SessionInfo
	)
	_, err = pgx.ForEachRow(rows, []any{&token, &info.Created, &info.Expiry}, func() error {
		info.ID = SessionID(token)
		list = append(list, info)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("singlesession: sessions of %q: %w", userID, err)
	}
	return list, nil
}

// CountSessions implements [Store.CountSessions] with one grouped query.
func (p *PostgresStore) CountSessions(ctx context.Context, userIDs []string) (map[string]int, error) {
	counts, err := p.countByUser(ctx, sqlCountSessions, userIDs)
	if err != nil {
		return nil, fmt.Errorf("singlesession: count sessions: %w", err)
	}
	return counts, nil
}

// countByUser runs query, which takes userIDs as $1 and returns rows of
// (user_id, count), and collects them; no query for no users.
func (p *PostgresStore) countByUser(ctx context.Context, query string, userIDs []string) (map[string]int, error) {
	counts := map[string]int{}
	if len(userIDs) == 0 {
		return counts, nil
	}
	rows, err := p.pool.Query(ctx, query, userIDs)
	if err != nil {
		return nil, err
	}
	return counts, collectCounts(rows, counts)
}

// collectCounts reads rows of (user_id, count) into counts.
func collectCounts(rows pgx.Rows, counts map[string]int) error {
	var (
		userID string
		n      int
	)
	_, err := pgx.ForEachRow(rows, []any{&userID, &n}, func() error {
		counts[userID] = n
		return nil
	})
	return err
}

// DeleteExpired implements [Store.DeleteExpired], in batches of 5,000 rows.
func (p *PostgresStore) DeleteExpired(ctx context.Context) (int, error) {
	total := 0
	for {
		tag, err := p.pool.Exec(ctx, sqlDeleteExpired)
		if err != nil {
			return total, fmt.Errorf("singlesession: delete expired sessions: %w", err)
		}
		total += int(tag.RowsAffected())
		if tag.RowsAffected() < deleteExpiredBatch {
			return total, nil
		}
	}
}

func (p *PostgresStore) validate() error {
	if p == nil || p.pool == nil {
		return errors.New("PostgresStore has no pool: create it with NewPostgresStore(pool)")
	}
	return nil
}
