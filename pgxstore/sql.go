package pgxstore

// keyOpen + tok + keyClose is the SQL expression of the key under which the
// ending of the session with the token expression tok is recorded: a hash,
// so that no table holds the token of an ended session.
//
// A session's ending is recorded by the statement whose DELETE removed its
// row, which no other can; a row already under its key can only come from
// a token used again (scs never does; a test's seed might), and
// keyUnrecorded (a condition on the key column of the inserted rows, e)
// skips it. That costs one index probe; ON CONFLICT DO NOTHING costs a
// speculative insertion, with more WAL.
const (
	keyOpen       = `encode(sha256(convert_to('singlesession:ended:' || `
	keyClose      = `, 'UTF8')), 'base64')`
	keyUnrecorded = `NOT EXISTS (SELECT 1 FROM singlesession_endings r WHERE r.key = e.key)`
)

// recordEndings is a CTE named reasons that records why the sessions of the
// query from ended (columns token, expiry) ended, those still live at
// t.now: reason and userAgent are SQL expressions. A statement must
// reference t.
func recordEndings(reason, userAgent, from string) string {
	return `reasons AS (
	INSERT INTO singlesession_endings (key, reason, at, user_agent, expiry)
	SELECT key, ` + reason + `, t.now, ` + userAgent + `, expiry FROM (
		SELECT ` + keyOpen + `token` + keyClose + ` AS key, expiry FROM ` + from + `) e, t
	WHERE expiry > t.now AND ` + keyUnrecorded + `
)`
}

// notifyOpen + rows + notifyClose is a CTE named notified that sends, with
// pg_notify on the store's channel (see sqlChannel), a notice of the ended
// sessions that the query rows returns (columns user_id, id, reason,
// user_agent, at): one JSON notice per user and reason, of at most 200 IDs
// (PostgreSQL refuses payloads of 8000 bytes and more). A statement must
// reference notified for it to run; the notices go out when its transaction
// commits, and never when it rolls back.
const (
	notifyOpen = `notified AS (
	SELECT pg_notify('singlesession_' || substr(md5(current_schema()), 1, 16),
		json_build_object('u', user_id, 'i', json_agg(id ORDER BY id), 'r', reason,
			'a', (extract(epoch FROM at) * 1000000)::bigint, 'ua', user_agent)::text)
	FROM (SELECT r.*, (row_number() OVER (PARTITION BY user_id, reason ORDER BY id) - 1) / 200 AS chunk FROM (
`
	notifyClose = `
	) r) c
	GROUP BY user_id, reason, user_agent, at, chunk
)`

	// sqlChannel is the channel of the store's notices: one per schema, so
	// that two stores on one server do not hear each other's.
	sqlChannel = `SELECT 'singlesession_' || substr(md5(current_schema()), 1, 16)`
)

var (
	// sqlFind reads the session and its link in one query: the whole load of
	// a live session, barely dearer than scs's own. Only when it finds no
	// live session does sqlFindEnding look for why it ended, so a browser
	// whose session was ended costs two queries and an ordinary request one.
	// (One query that does both, a UNION ALL under a one-time filter, made
	// every signed-in read about 10% slower in BenchmarkRequest.)
	//
	// sqlFind returns the age of LastSeen (µs; 0 for an anonymous session),
	// which the store remembers with the user (see linkCache): the next
	// loads of the token in this process are sqlFindSession, scs's own
	// query, without the join.
	sqlFind = `SELECT s.data, s.expiry, COALESCE(l.user_id, ''),
	COALESCE((extract(epoch FROM now() - l.last_seen) * 1000000)::bigint, 0)
FROM sessions s LEFT JOIN singlesession_links l ON l.token = s.token
WHERE s.token = $1 AND now() < s.expiry`

	sqlFindSession = `SELECT data, expiry FROM sessions WHERE token = $1 AND now() < expiry`

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
	SELECT l.token, l.id, l.last_seen, l.created, s.expiry, s.expiry > (SELECT now FROM t) AS live
	FROM singlesession_links l JOIN sessions s ON s.token = l.token
	WHERE $6 > 0 AND l.user_id = $1 AND l.token <> ALL($5::text[])
), ranked AS MATERIALIZED (
	SELECT token, id, row_number() OVER (ORDER BY last_seen DESC, created DESC, token DESC) AS n
	FROM others WHERE live
), verdict AS MATERIALIZED (
	SELECT NOT ($7 AND $6 > 0 AND count(*) >= $6) AS ok FROM ranked
), doomed AS (
	SELECT token, id, 'k' AS kind FROM ranked WHERE $6 > 0 AND n >= $6
	UNION ALL
	SELECT token, id, 'x' FROM others WHERE NOT live
	UNION ALL
	SELECT DISTINCT unnest($5::text[]), NULL, 'r'
), ended AS (
	DELETE FROM sessions s USING doomed d
	WHERE s.token = d.token AND (SELECT ok FROM verdict)
	RETURNING s.token, s.expiry, d.kind, d.id
), ` + recordEndings(`'login'`, `$9`, `ended WHERE kind = 'k'`) + `, ` + notifyOpen + `SELECT $1::text AS user_id, id, 'login' AS reason, $9::text AS user_agent, t.now AS at
	FROM ended, t WHERE kind = 'k' AND expiry > t.now
	UNION ALL
	SELECT l.user_id, l.id, '', '', t.now
	FROM ended e JOIN singlesession_links l ON l.token = e.token, t
	WHERE e.kind = 'r' AND e.expiry > t.now` + notifyClose + `, added AS (
	INSERT INTO sessions (token, data, expiry) SELECT $2, $3, $4 FROM verdict WHERE ok
), linked AS (
	INSERT INTO singlesession_links (token, user_id, ip, user_agent, created, last_seen)
	SELECT $2, $1, $8, $9, t.now, t.now FROM t, verdict WHERE ok
)
SELECT (SELECT ok FROM verdict), (SELECT count(*) FROM ended WHERE kind = 'k'), (SELECT now FROM t)
FROM (SELECT count(*) FROM notified) n`

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
	DELETE FROM sessions WHERE token = ANY($2::text[]) RETURNING token, expiry
), others AS (
	DELETE FROM sessions s USING singlesession_links l
	WHERE l.token = s.token AND l.user_id = $1 AND s.token <> ALL($2::text[])
	  AND ($3 OR EXISTS (SELECT 1 FROM current JOIN singlesession_links cl ON cl.token = current.token WHERE cl.user_id = $1))
	RETURNING s.token, s.expiry, l.id
), ` + recordEndings(`'logout'`, `$4`, `others`) + `, ` + notifyOpen + `SELECT cl.user_id, cl.id, '' AS reason, '' AS user_agent, t.now AS at
	FROM current c JOIN singlesession_links cl ON cl.token = c.token, t WHERE c.expiry > t.now
	UNION ALL
	SELECT $1, id, 'logout', $4, t.now FROM others, t WHERE expiry > t.now` + notifyClose + `
SELECT (SELECT count(*) FROM current) + (SELECT count(*) FROM others),
	(SELECT count(*) FROM others, t WHERE expiry > t.now), (SELECT now FROM t)
FROM (SELECT count(*) FROM notified) n`

	// sqlDeleteTokens deletes a browser's sessions, and notifies their
	// watchers (without a reason) of the live, linked ones.
	sqlDeleteTokens = `WITH t AS MATERIALIZED (
	SELECT clock_timestamp() AS now
), d AS (
	DELETE FROM sessions WHERE token = ANY($1::text[]) RETURNING token, expiry
), ` + notifyOpen + `SELECT l.user_id, l.id, '' AS reason, '' AS user_agent, t.now AS at
	FROM d JOIN singlesession_links l ON l.token = d.token, t WHERE d.expiry > t.now` + notifyClose + `
SELECT (SELECT count(*) FROM d), (SELECT now FROM t) FROM (SELECT count(*) FROM notified) n`

	// sqlEndUsers takes each ended session's user from the link it deleted by,
	// so counting needs no second look at the link table.
	//
	// $1 users, $2 reason ("" for none), $3 User-Agent.
	sqlEndUsers = `WITH t AS MATERIALIZED (
	SELECT clock_timestamp() AS now
), ended AS (
	DELETE FROM sessions s USING singlesession_links l
	WHERE l.token = s.token AND l.user_id = ANY($1::text[])
	RETURNING l.user_id, l.id, s.token, s.expiry
), ` + recordEndings(`$2`, `$3`, `ended WHERE $2 <> ''`) + `, ` + notifyOpen + `SELECT user_id, id, $2::text AS reason, $3::text AS user_agent, t.now AS at FROM ended, t WHERE expiry > t.now` + notifyClose + `
SELECT user_id, count(*), min(t.now) FROM ended, t, (SELECT count(*) FROM notified) n WHERE expiry > t.now GROUP BY user_id`

	// sqlEndSessions ends the sessions of one user with the IDs $2, or, when
	// $2 is NULL, every one but the token $3. When $3 is not '' (a session
	// asks), nothing ends unless $3 is a live session of the user (by):
	// a session that was ended meanwhile ends nothing.
	//
	// $1 user, $2 IDs or NULL, $3 the asking token or '', $4 reason, $5 User-Agent.
	sqlEndSessions = `WITH t AS MATERIALIZED (
	SELECT clock_timestamp() AS now
), by AS MATERIALIZED (
	SELECT $3 = '' OR EXISTS (
		SELECT 1 FROM singlesession_links l JOIN sessions s ON s.token = l.token
		WHERE l.token = $3 AND l.user_id = $1 AND s.expiry > (SELECT now FROM t)) AS ok
), ended AS (
	DELETE FROM sessions s USING singlesession_links l
	WHERE l.token = s.token AND l.user_id = $1 AND (SELECT ok FROM by)
	  AND CASE WHEN $2::text[] IS NULL THEN s.token <> $3 ELSE l.id = ANY($2::text[]) END
	RETURNING s.token, s.expiry, l.id
), ` + recordEndings(`$4`, `$5`, `ended WHERE $4 <> ''`) + `, ` + notifyOpen + `SELECT $1::text AS user_id, id, $4::text AS reason, $5::text AS user_agent, t.now AS at FROM ended, t WHERE expiry > t.now` + notifyClose + `
SELECT (SELECT ok FROM by), (SELECT count(*) FROM ended, t WHERE expiry > t.now), (SELECT now FROM t)
FROM (SELECT count(*) FROM notified) n`

	sqlAll = `SELECT token, data FROM sessions WHERE now() < expiry`

	// sqlSessions returns one page of a user's live sessions, most recently
	// used first, after the position ($2, $3) unless $2 is NULL, with the
	// user's total on every row (and on a row of NULLs when the page is
	// empty). IDs compare as bytes (COLLATE "C"), as Go compares strings.
	//
	// $1 user, $2 last seen or NULL, $3 ID, $4 limit.
	sqlSessions = `WITH mine AS MATERIALIZED (
	SELECT l.id COLLATE "C" AS id, l.created, s.expiry, l.last_seen, l.ip, l.user_agent
	FROM singlesession_links l JOIN sessions s ON s.token = l.token
	WHERE l.user_id = $1 AND now() < s.expiry
), page AS (
	SELECT * FROM mine
	WHERE $2::timestamptz IS NULL OR (last_seen, id) < ($2::timestamptz, $3::text COLLATE "C")
	ORDER BY last_seen DESC, id DESC
	LIMIT $4
)
SELECT t.total, p.id, p.created, p.expiry, p.last_seen, p.ip, p.user_agent
FROM (SELECT count(*) AS total FROM mine) t LEFT JOIN page p ON true
ORDER BY p.last_seen DESC, p.id DESC`

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
)

// deleteExpiredBatch is the LIMIT of sqlDeleteExpired and
// sqlDeleteExpiredEndings: a batch shorter than it is the last.
const deleteExpiredBatch = 5000
