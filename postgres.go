package singlesession

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresStore is a [Store] over PostgreSQL: scs's sessions table, unchanged;
// the link table singlesession_links, which references it with ON DELETE
// CASCADE and records each signed-in session's user, ID, IP, User-Agent and
// LastSeen; and singlesession_endings, the reasons why ended sessions ended,
// keyed by a hash of their token. Create them with [Migrate]. The tables are
// found through the connection's search_path.
//
// Every method but Login and DeleteExpired is one round trip, but Find of a
// token whose session is not live, which costs two (the second reads why
// it ended). A login is one
// READ COMMITTED transaction in two round trips: a batch with the user's
// advisory lock and one statement that ends, inserts and links, whatever the
// number of the user's sessions; then COMMIT (or ROLLBACK when a RejectNew
// limit refuses it). Timestamps come from PostgreSQL's clock.
type PostgresStore struct {
	pool *pgxpool.Pool
}

// NewPostgresStore returns a store that uses pool. Apply [Migrate] first.
func NewPostgresStore(pool *pgxpool.Pool) *PostgresStore {
	return &PostgresStore{pool: pool}
}

// keyOpen + tok + keyClose is the SQL expression of the key under which the
// ending of the session with the token expression tok is recorded: a hash,
// so that no table holds the token of an ended session.
const (
	keyOpen  = `encode(sha256(convert_to('singlesession:ended:' || `
	keyClose = `, 'UTF8')), 'base64')`
)

const (
	// sqlFind reads the session and its link in one query: the whole load of
	// a live session, barely dearer than scs's own. Only when it finds no
	// live session does sqlFindEnding look for why it ended, so a browser
	// whose session was ended costs two queries and an ordinary request one.
	// (One query that does both, a UNION ALL under a one-time filter, made
	// every signed-in read about 10% slower in BenchmarkRequest.)
	sqlFind = `SELECT s.data, COALESCE(l.user_id, ''),
	COALESCE(l.last_seen <= now() - $2::bigint * interval '1 microsecond', false)
FROM sessions s LEFT JOIN singlesession_links l ON l.token = s.token
WHERE s.token = $1 AND now() < s.expiry`

	sqlFindEnding = `SELECT reason, at, user_agent FROM singlesession_endings
WHERE key = ` + keyOpen + `$1` + keyClose + ` AND now() < expiry`

	sqlInsert = `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)`

	sqlUpdate = `UPDATE sessions SET data = $2, expiry = $3 WHERE token = $1`

	// sqlUpdateTouch is sqlUpdate that also refreshes LastSeen, in the same
	// statement: the refresh rides on a save that happens anyway. The
	// session's row is locked before its link's, as a delete's cascade
	// does.
	sqlUpdateTouch = `WITH u AS (
	UPDATE sessions SET data = $2, expiry = $3 WHERE token = $1 RETURNING token
), t AS (
	UPDATE singlesession_links SET last_seen = now() WHERE token = (SELECT token FROM u)
)
SELECT count(*) FROM u`

	sqlTouch = `UPDATE singlesession_links SET last_seen = now() WHERE token = $1`

	// sqlLockUsers serialises every change that ends a user's sessions:
	// logins, logouts, operators' sign-outs and revocations. It runs as its
	// own statement, before the statement that deletes, in a READ COMMITTED
	// transaction, because a statement's snapshot is taken when it starts:
	// the delete must start after the locks are held to see what the
	// previous holder committed (under REPEATABLE READ the snapshot would be
	// the lock's).
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
	sqlLockUsers = `SELECT count(pg_advisory_xact_lock(1936942451, k)) FROM (
	SELECT (hashtext(u) & 1023) + 1 AS k FROM unnest($1::text[]) AS u
	UNION
	SELECT (hashtext(user_id) & 1023) + 1 FROM singlesession_links WHERE token = ANY($2::text[])
	ORDER BY 1
) AS keys`

	sqlBeginTx  = `BEGIN ISOLATION LEVEL READ COMMITTED`
	sqlCommit   = `COMMIT`
	sqlRollback = `ROLLBACK`

	// sqlLogin is a whole login in one statement, after the user's lock.
	// It reads the clock once, after the lock (t), so that LastSeen and
	// Created agree with the order in which logins commit; ranks the user's
	// other live sessions, most recently used first (ranked); decides
	// whether a RejectNew limit refuses the login (verdict); and, when it
	// does not, deletes the browser's previous tokens, the user's expired
	// sessions and the sessions past the limit, records why for the latter
	// (from the rows the DELETE returns), and inserts the session and its
	// link. Each row is found through an index, however big the tables.
	//
	// $1 user, $2 token, $3 data, $4 expiry, $5 replaced tokens, $6 Max,
	// $7 RejectNew, $8 IP, $9 User-Agent. The link's ID is a column that
	// PostgreSQL generates from the token.
	sqlLogin = `WITH t AS MATERIALIZED (
	SELECT clock_timestamp() AS now
), others AS MATERIALIZED (
	SELECT l.token, l.last_seen, l.created, s.expiry, s.expiry > (SELECT now FROM t) AS live
	FROM singlesession_links l JOIN sessions s ON s.token = l.token
	WHERE $6 > 0 AND l.user_id = $1 AND l.token <> ALL($5::text[])
), ranked AS MATERIALIZED (
	SELECT token, row_number() OVER (ORDER BY last_seen DESC, created DESC, token DESC) AS n
	FROM others WHERE live
), verdict AS MATERIALIZED (
	SELECT NOT ($7 AND $6 > 0 AND count(*) >= $6) AS ok FROM ranked
), doomed AS (
	SELECT token, true AS kicked FROM ranked WHERE $6 > 0 AND n >= $6
	UNION ALL
	SELECT token, false FROM others WHERE NOT live
	UNION ALL
	SELECT DISTINCT unnest($5::text[]), false
), ended AS (
	DELETE FROM sessions s USING doomed d
	WHERE s.token = d.token AND (SELECT ok FROM verdict)
	RETURNING s.token, s.expiry, d.kicked
), reasons AS (
	INSERT INTO singlesession_endings (key, reason, at, user_agent, expiry)
	SELECT ` + keyOpen + `token` + keyClose + `, 'login', t.now, $9, expiry
	FROM ended, t WHERE kicked
	ON CONFLICT (key) DO NOTHING
), added AS (
	INSERT INTO sessions (token, data, expiry) SELECT $2, $3, $4 FROM verdict WHERE ok
), linked AS (
	INSERT INTO singlesession_links (token, user_id, ip, user_agent, created, last_seen)
	SELECT $2, $1, $8, $9, t.now, t.now FROM t, verdict WHERE ok
)
SELECT (SELECT ok FROM verdict), (SELECT count(*) FROM ended WHERE kicked), (SELECT now FROM t)`

	// sqlLogout ends the user's other sessions only if this browser's
	// session was still there, linked to the user, when it was deleted
	// ($3 false), or unconditionally ($3 true): a concurrent login that
	// ended it first makes the browser anonymous. It records ReasonLogout
	// for the other live sessions it ends.
	//
	// $1 user, $2 the browser's tokens, $3 always, $4 User-Agent.
	sqlLogout = `WITH t AS MATERIALIZED (
	SELECT clock_timestamp() AS now
), current AS (
	DELETE FROM sessions WHERE token = ANY($2::text[]) RETURNING token
), others AS (
	DELETE FROM sessions s USING singlesession_links l
	WHERE l.token = s.token AND l.user_id = $1 AND s.token <> ALL($2::text[])
	  AND ($3 OR EXISTS (SELECT 1 FROM current JOIN singlesession_links cl ON cl.token = current.token WHERE cl.user_id = $1))
	RETURNING s.token, s.expiry
), reasons AS (
	INSERT INTO singlesession_endings (key, reason, at, user_agent, expiry)
	SELECT ` + keyOpen + `token` + keyClose + `, 'logout', t.now, $4, expiry
	FROM others, t WHERE expiry > t.now
	ON CONFLICT (key) DO NOTHING
)
SELECT (SELECT count(*) FROM current) + (SELECT count(*) FROM others),
	(SELECT count(*) FROM others, t WHERE expiry > t.now), (SELECT now FROM t)`

	sqlDeleteTokens = `WITH d AS (DELETE FROM sessions WHERE token = ANY($1::text[]) RETURNING 1)
SELECT count(*), clock_timestamp() FROM d`

	// sqlEnd takes each ended session's user from the link it deleted by,
	// so counting needs no second look at the link table.
	//
	// $1 users, $2 reason ("" for none), $3 User-Agent.
	sqlEnd = `WITH t AS MATERIALIZED (
	SELECT clock_timestamp() AS now
), ended AS (
	DELETE FROM sessions s USING singlesession_links l
	WHERE l.token = s.token AND l.user_id = ANY($1::text[])
	RETURNING l.user_id, s.token, s.expiry
), reasons AS (
	INSERT INTO singlesession_endings (key, reason, at, user_agent, expiry)
	SELECT ` + keyOpen + `token` + keyClose + `, $2, t.now, $3, expiry
	FROM ended, t WHERE $2 <> '' AND expiry > t.now
	ON CONFLICT (key) DO NOTHING
)
SELECT user_id, count(*), min(t.now) FROM ended, t WHERE expiry > t.now GROUP BY user_id`

	// sqlRevokeSessions ends the sessions of one user with the IDs $2, or, when $2
	// is NULL, every one but the token $3.
	//
	// $1 user, $2 IDs or NULL, $3 token kept, $4 reason, $5 User-Agent.
	sqlRevokeSessions = `WITH t AS MATERIALIZED (
	SELECT clock_timestamp() AS now
), ended AS (
	DELETE FROM sessions s USING singlesession_links l
	WHERE l.token = s.token AND l.user_id = $1
	  AND CASE WHEN $2::text[] IS NULL THEN s.token <> $3 ELSE l.id = ANY($2::text[]) END
	RETURNING s.token, s.expiry
), reasons AS (
	INSERT INTO singlesession_endings (key, reason, at, user_agent, expiry)
	SELECT ` + keyOpen + `token` + keyClose + `, $4, t.now, $5, expiry
	FROM ended, t WHERE $4 <> '' AND expiry > t.now
	ON CONFLICT (key) DO NOTHING
)
SELECT (SELECT count(*) FROM ended, t WHERE expiry > t.now), (SELECT now FROM t)`

	sqlAll = `SELECT token, data FROM sessions WHERE now() < expiry`

	sqlSessions = `SELECT l.id, l.created, s.expiry, l.last_seen, l.ip, l.user_agent
FROM singlesession_links l JOIN sessions s ON s.token = l.token
WHERE l.user_id = $1 AND now() < s.expiry
ORDER BY l.created, l.id`

	sqlCountSessions = `SELECT l.user_id, count(*)
FROM singlesession_links l JOIN sessions s ON s.token = l.token
WHERE l.user_id = ANY($1::text[]) AND now() < s.expiry
GROUP BY l.user_id`

	// sqlDeleteExpired deletes in bounded batches so a large backlog never
	// holds its locks for long. It skips rows that another transaction has
	// locked (a logout or sign-out deleting them, a save updating them), so
	// it never waits for one, and so can never be part of a deadlock; what
	// it skips, the next run deletes.
	sqlDeleteExpired = `DELETE FROM sessions WHERE token IN (
	SELECT token FROM sessions WHERE expiry <= now() LIMIT 5000 FOR UPDATE SKIP LOCKED)`
	sqlDeleteExpiredEndings = `DELETE FROM singlesession_endings WHERE key IN (
	SELECT key FROM singlesession_endings WHERE expiry <= now() LIMIT 5000 FOR UPDATE SKIP LOCKED)`
	deleteExpiredBatch = 5000
)

// Find implements [Store.Find]: one query for a live session; for any
// other token a second one, for why its session ended.
func (p *PostgresStore) Find(ctx context.Context, token string, staleAfter time.Duration) (Found, error) {
	f := Found{Found: true}
	err := p.pool.QueryRow(ctx, sqlFind, token, staleAfter.Microseconds()).Scan(&f.Data, &f.UserID, &f.Stale)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Found{}, fmt.Errorf("singlesession: find session: %w", err)
	}
	var e Ending
	err = p.pool.QueryRow(ctx, sqlFindEnding, token).Scan(&e.Reason, &e.At, &e.UserAgent)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Found{}, nil
	case err != nil:
		return Found{}, fmt.Errorf("singlesession: find why a session ended: %w", err)
	}
	return Found{Ending: &e}, nil
}

// Insert implements [Store.Insert].
func (p *PostgresStore) Insert(ctx context.Context, token string, data []byte, expiry time.Time) error {
	if _, err := p.pool.Exec(ctx, sqlInsert, token, data, expiry); err != nil {
		return fmt.Errorf("singlesession: insert session: %w", err)
	}
	return nil
}

// Update implements [Store.Update] with an UPDATE, never an UPSERT; a touch
// rides in the same statement.
func (p *PostgresStore) Update(ctx context.Context, u Update) (bool, error) {
	if !u.Touch {
		tag, err := p.pool.Exec(ctx, sqlUpdate, u.Token, u.Data, u.Expiry)
		if err != nil {
			return false, fmt.Errorf("singlesession: update session: %w", err)
		}
		return tag.RowsAffected() == 1, nil
	}
	var n int
	if err := p.pool.QueryRow(ctx, sqlUpdateTouch, u.Token, u.Data, u.Expiry).Scan(&n); err != nil {
		return false, fmt.Errorf("singlesession: update session: %w", err)
	}
	return n == 1, nil
}

// Touch implements [Store.Touch].
func (p *PostgresStore) Touch(ctx context.Context, token string) error {
	if _, err := p.pool.Exec(ctx, sqlTouch, token); err != nil {
		return fmt.Errorf("singlesession: touch session: %w", err)
	}
	return nil
}

// commitTimeout bounds the COMMIT of a login, which is not cut short by the
// caller's context (see Login).
const commitTimeout = 5 * time.Second

// Login implements [Store.Login] as one READ COMMITTED transaction, whatever
// the database's default isolation level, in two round trips: a batch that
// begins, takes the user's lock and applies the login, then COMMIT (or
// ROLLBACK when a RejectNew limit refuses it).
//
// The COMMIT is sent only while ctx is alive, so a login whose context ends
// while it waits for the lock (or at any point before COMMIT) never commits
// later on the server: an error means nothing changed. Once sent, COMMIT is
// waited for even if ctx ends meanwhile (up to 5 seconds), so success is
// never reported as failure.
func (p *PostgresStore) Login(ctx context.Context, l Login) (LoginResult, error) {
	res, err := p.login(ctx, l)
	if err != nil {
		return LoginResult{}, fmt.Errorf("singlesession: login of %q: %w", l.UserID, err)
	}
	return res, nil
}

func (p *PostgresStore) login(ctx context.Context, l Login) (LoginResult, error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return LoginResult{}, err
	}
	// A connection left inside a transaction (after an error) is discarded
	// by the pool on release, which ends the transaction on the server.
	defer conn.Release()

	b := &pgx.Batch{}
	b.Queue(sqlBeginTx)
	b.Queue(sqlLockUsers, []string{l.UserID}, nonNil(l.Replaces))
	b.Queue(sqlLogin, l.UserID, l.Token, l.Data, l.Expiry, nonNil(l.Replaces),
		l.Limit.Max, l.Limit.RejectNew, l.IP, l.UserAgent)
	br := conn.SendBatch(ctx, b)
	var (
		ok  bool
		res LoginResult
	)
	_, err = br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		err = br.QueryRow().Scan(&ok, &res.Ended, &res.At)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return LoginResult{}, err
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if !ok {
		if _, err := conn.Exec(endCtx, sqlRollback); err != nil {
			return LoginResult{}, fmt.Errorf("rollback: %w", err)
		}
		return LoginResult{}, fmt.Errorf("%w (limit %d)", ErrTooManySessions, l.Limit.Max)
	}
	if _, err := conn.Exec(endCtx, sqlCommit); err != nil {
		return LoginResult{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
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

// scanOne reads the single row of a query into dest.
func scanOne(dest ...any) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, dest, func() error { return nil })
		return err
	}
}

// Logout implements [Store.Logout] with one statement, after the locks of
// l.UserID and of the users the tokens are linked to.
func (p *PostgresStore) Logout(ctx context.Context, l Logout) (LogoutResult, error) {
	var res LogoutResult
	if len(l.Tokens) == 0 && !(l.Always && l.UserID != "") {
		return res, nil
	}
	var err error
	if l.UserID == "" {
		err = p.locked(ctx, nil, l.Tokens, sqlDeleteTokens, []any{l.Tokens}, scanOne(&res.Deleted, &res.At))
	} else {
		err = p.locked(ctx, []string{l.UserID}, l.Tokens, sqlLogout, []any{l.UserID, nonNil(l.Tokens), l.Always, l.UserAgent},
			scanOne(&res.Deleted, &res.Others, &res.At))
	}
	if err != nil {
		return LogoutResult{}, fmt.Errorf("singlesession: logout of %q: %w", l.UserID, err)
	}
	return res, nil
}

// End implements [Store.End] with one statement, however many users it names,
// after their locks.
func (p *PostgresStore) End(ctx context.Context, e End) (EndedByUser, error) {
	res := EndedByUser{Counts: map[string]int{}}
	if len(e.UserIDs) == 0 {
		return res, nil
	}
	var (
		userID string
		n      int
		at     time.Time
	)
	err := p.locked(ctx, e.UserIDs, nil, sqlEnd, []any{e.UserIDs, string(e.Reason), e.UserAgent}, func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&userID, &n, &at}, func() error {
			res.Counts[userID] = n
			res.At = at
			return nil
		})
		return err
	})
	if err != nil {
		return EndedByUser{}, fmt.Errorf("singlesession: end sessions: %w", err)
	}
	return res, nil
}

// Revoke implements [Store.Revoke] with one statement, after the user's lock.
func (p *PostgresStore) Revoke(ctx context.Context, r Revoke) (Ended, error) {
	var res Ended
	ids := any(r.IDs)
	if r.IDs == nil {
		ids = nil // SQL NULL: every session but r.Keep
	}
	err := p.locked(ctx, []string{r.UserID}, nil, sqlRevokeSessions, []any{r.UserID, ids, r.Keep, string(r.Reason), r.UserAgent},
		scanOne(&res.Count, &res.At))
	if err != nil {
		return Ended{}, fmt.Errorf("singlesession: end sessions of %q: %w", r.UserID, err)
	}
	return res, nil
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
		info SessionInfo
		list []SessionInfo
	)
	_, err = pgx.ForEachRow(rows, []any{&info.ID, &info.Created, &info.Expiry, &info.LastSeen, &info.IP, &info.UserAgent}, func() error {
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
	counts := map[string]int{}
	if len(userIDs) == 0 {
		return counts, nil
	}
	rows, err := p.pool.Query(ctx, sqlCountSessions, userIDs)
	if err == nil {
		var (
			userID string
			n      int
		)
		_, err = pgx.ForEachRow(rows, []any{&userID, &n}, func() error {
			counts[userID] = n
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("singlesession: count sessions: %w", err)
	}
	return counts, nil
}

// DeleteExpired implements [Store.DeleteExpired], in batches of 5,000 rows:
// expired sessions first, then expired endings.
func (p *PostgresStore) DeleteExpired(ctx context.Context) (int, error) {
	total := 0
	for _, query := range []string{sqlDeleteExpired, sqlDeleteExpiredEndings} {
		for {
			tag, err := p.pool.Exec(ctx, query)
			if err != nil {
				return total, fmt.Errorf("singlesession: delete expired sessions: %w", err)
			}
			if query == sqlDeleteExpired {
				total += int(tag.RowsAffected())
			}
			if tag.RowsAffected() < deleteExpiredBatch {
				break
			}
		}
	}
	return total, nil
}

func (p *PostgresStore) validate() error {
	if p == nil || p.pool == nil {
		return errors.New("PostgresStore has no pool: create it with NewPostgresStore(pool)")
	}
	return nil
}
