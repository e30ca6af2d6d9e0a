// Package pgxstore keeps singlesession's sessions in PostgreSQL, through a
// pgx pool: the [Store], the migrations that create its tables ([Migrate]),
// and the operators' grants ([Directory]).
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	if err != nil { ... }
//	if err := pgxstore.Migrate(ctx, pool); err != nil { ... }
//	m, err := singlesession.New(scs.New(), pgxstore.New(pool), singlesession.Config{})
//
// The session table is scs's own (sessions(token, data, expiry), as scs's
// postgresstore and pgxstore keep it), so an application that already
// stores its sessions there keeps its table and its signed-in users.
package pgxstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-singlesession/singlesession"
)

// Store is a [singlesession.Store] over PostgreSQL: scs's sessions table,
// unchanged; the link table singlesession_links, which references it with
// ON DELETE CASCADE and records each signed-in session's user, ID, IP,
// User-Agent and LastSeen; and singlesession_endings, the reasons why ended
// sessions ended, keyed by a hash of their token. Create them with
// [Migrate]. The tables are found through the connection's search_path.
//
// Every method but Login and DeleteExpired is one round trip, but Find of a
// token whose session is not live, which costs two (the second reads why it
// ended). A login is one READ COMMITTED transaction in two round trips: a
// batch with the user's advisory lock and one statement that ends, inserts
// and links, whatever the number of the user's sessions; then COMMIT (or
// ROLLBACK when a RejectNew limit refuses it). Timestamps come from
// PostgreSQL's clock.
//
// It implements [singlesession.IterableStore] and
// [singlesession.CleanupStore] too.
type Store struct {
	pool  *pgxpool.Pool
	links linkCache
}

var (
	_ singlesession.Store         = (*Store)(nil)
	_ singlesession.IterableStore = (*Store)(nil)
	_ singlesession.CleanupStore  = (*Store)(nil)
)

// New returns a store that uses pool. Apply [Migrate] first. It panics if
// pool is nil, a mistake that no later call could survive.
func New(pool *pgxpool.Pool) *Store {
	if pool == nil {
		panic("pgxstore: New: pool is nil")
	}
	return &Store{pool: pool}
}

// Find implements [singlesession.Store.Find]: one query for a live session
// (the session alone, as scs's own store reads it, when this process has
// seen the token before; with its link otherwise); for any other token a
// second one, for why its session ended.
func (p *Store) Find(ctx context.Context, token string, staleAfter time.Duration) (singlesession.FindResult, error) {
	f := singlesession.FindResult{Found: true}
	var err error
	if l, ok := p.links.get(token); ok {
		err = p.pool.QueryRow(ctx, sqlFindSession, token).Scan(&f.Data, &f.Expiry)
		f.UserID = l.userID
		f.Stale = l.userID != "" && time.Since(l.seen) >= staleAfter
	} else {
		var age int64 // µs since LastSeen
		err = p.pool.QueryRow(ctx, sqlFind, token).Scan(&f.Data, &f.Expiry, &f.UserID, &age)
		if err == nil {
			seen := time.Duration(age) * time.Microsecond
			p.links.put(token, link{userID: f.UserID, seen: time.Now().Add(-seen)})
			f.Stale = f.UserID != "" && seen >= staleAfter
		}
	}
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return singlesession.FindResult{}, fmt.Errorf("singlesession: pgxstore: find session: %w", err)
	}
	p.links.forget(token)
	var e singlesession.Ending
	err = p.pool.QueryRow(ctx, sqlFindEnding, token).Scan(&e.Reason, &e.At, &e.UserAgent)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return singlesession.FindResult{}, nil
	case err != nil:
		return singlesession.FindResult{}, fmt.Errorf("singlesession: pgxstore: find why a session ended: %w", err)
	}
	return singlesession.FindResult{Ending: &e}, nil
}

// Insert implements [singlesession.Store.Insert].
func (p *Store) Insert(ctx context.Context, token string, data []byte, expiry time.Time) error {
	if _, err := p.pool.Exec(ctx, sqlInsert, token, data, expiry); err != nil {
		return fmt.Errorf("singlesession: pgxstore: insert session: %w", err)
	}
	p.links.put(token, link{})
	return nil
}

// Update implements [singlesession.Store.Update] with an UPDATE, never an UPSERT; a touch
// rides in the same statement.
func (p *Store) Update(ctx context.Context, u singlesession.Update) (bool, error) {
	if !u.Touch {
		tag, err := p.pool.Exec(ctx, sqlUpdate, u.Token, u.Data, u.Expiry)
		if err != nil {
			return false, fmt.Errorf("singlesession: pgxstore: update session: %w", err)
		}
		return tag.RowsAffected() == 1, nil
	}
	var n int
	if err := p.pool.QueryRow(ctx, sqlUpdateTouch, u.Token, u.Data, u.Expiry).Scan(&n); err != nil {
		return false, fmt.Errorf("singlesession: pgxstore: update session: %w", err)
	}
	if n == 1 {
		p.links.touched(u.Token)
	}
	return n == 1, nil
}

// Touch implements [singlesession.Store.Touch].
func (p *Store) Touch(ctx context.Context, token string) error {
	if _, err := p.pool.Exec(ctx, sqlTouch, token); err != nil {
		return fmt.Errorf("singlesession: pgxstore: touch session: %w", err)
	}
	p.links.touched(token)
	return nil
}

// commitTimeout bounds the COMMIT of a login, which is not cut short by the
// caller's context (see Login).
const commitTimeout = 5 * time.Second

// Login implements [singlesession.Store.Login] as one READ COMMITTED transaction, whatever
// the database's default isolation level, in two round trips: a batch that
// begins, takes the user's lock and applies the login, then COMMIT (or
// ROLLBACK when a RejectNew limit refuses it).
//
// The COMMIT is sent only while ctx is alive, so a login whose context ends
// while it waits for the lock (or at any point before COMMIT) never commits
// later on the server: an error means nothing changed. Once sent, COMMIT is
// waited for even if ctx ends meanwhile (up to 5 seconds), so success is
// never reported as failure.
func (p *Store) Login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	res, err := p.login(ctx, l)
	if err != nil {
		return singlesession.LoginResult{}, fmt.Errorf("singlesession: pgxstore: login of %q: %w", l.UserID, err)
	}
	p.links.forget(l.Replaces...)
	p.links.put(l.Token, link{userID: l.UserID, seen: time.Now()})
	return res, nil
}

func (p *Store) login(ctx context.Context, l singlesession.Login) (singlesession.LoginResult, error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return singlesession.LoginResult{}, err
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
		res singlesession.LoginResult
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
		return singlesession.LoginResult{}, err
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if !ok {
		if _, err := conn.Exec(endCtx, sqlRollback); err != nil {
			return singlesession.LoginResult{}, fmt.Errorf("rollback: %w", err)
		}
		return singlesession.LoginResult{}, fmt.Errorf("%w (limit %d)", singlesession.ErrTooManySessions, l.Limit.Max)
	}
	if _, err := conn.Exec(endCtx, sqlCommit); err != nil {
		return singlesession.LoginResult{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// locked runs query in one round trip, as one READ COMMITTED transaction
// that first takes the locks of users and of the users linked to tokens (see
// sqlLockUsers), and hands its rows to scan. An error means nothing changed.
func (p *Store) locked(ctx context.Context, users, tokens []string, query string, args []any, scan func(pgx.Rows) error) error {
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

// Logout implements [singlesession.Store.Logout] with one statement, after the locks of
// l.UserID and of the users the tokens are linked to.
func (p *Store) Logout(ctx context.Context, l singlesession.Logout) (singlesession.LogoutResult, error) {
	var res singlesession.LogoutResult
	if len(l.Tokens) == 0 && !(l.Always && l.UserID != "") {
		return res, nil
	}
	var err error
	if l.UserID == "" {
		err = p.locked(ctx, nil, l.Tokens, sqlDeleteTokens, []any{l.Tokens}, scanOne(&res.Deleted, &res.At))
	} else {
		err = p.locked(ctx, []string{l.UserID}, l.Tokens, sqlLogout, []any{l.UserID, nonNil(l.Tokens), l.Always, l.UserAgent},
			scanOne(&res.Deleted, &res.Ended, &res.At))
	}
	if err != nil {
		return singlesession.LogoutResult{}, fmt.Errorf("singlesession: pgxstore: logout of %q: %w", l.UserID, err)
	}
	p.links.forget(l.Tokens...)
	return res, nil
}

// EndUsers implements [singlesession.Store.EndUsers] with one statement,
// however many users it names, after their locks.
func (p *Store) EndUsers(ctx context.Context, e singlesession.EndUsers) (singlesession.EndUsersResult, error) {
	res := singlesession.EndUsersResult{Ended: map[string]int{}}
	if len(e.UserIDs) == 0 {
		return res, nil
	}
	var (
		userID string
		n      int
		at     time.Time
	)
	err := p.locked(ctx, e.UserIDs, nil, sqlEndUsers, []any{e.UserIDs, string(e.Reason), e.UserAgent}, func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&userID, &n, &at}, func() error {
			res.Ended[userID] = n
			res.At = at
			return nil
		})
		return err
	})
	if err != nil {
		return singlesession.EndUsersResult{}, fmt.Errorf("singlesession: pgxstore: end sessions: %w", err)
	}
	return res, nil
}

// EndSessions implements [singlesession.Store.EndSessions] with one
// statement, after the user's lock.
func (p *Store) EndSessions(ctx context.Context, e singlesession.EndSessions) (singlesession.EndSessionsResult, error) {
	var (
		res singlesession.EndSessionsResult
		ok  bool
	)
	ids := any(e.IDs)
	if e.IDs == nil {
		ids = nil // SQL NULL: every session but e.By's
	}
	err := p.locked(ctx, []string{e.UserID}, nil, sqlEndSessions, []any{e.UserID, ids, e.By, string(e.Reason), e.UserAgent},
		scanOne(&ok, &res.Ended, &res.At))
	if err == nil && !ok {
		err = fmt.Errorf("the asking session: %w", singlesession.ErrSessionNotFound)
	}
	if err != nil {
		return singlesession.EndSessionsResult{}, fmt.Errorf("singlesession: pgxstore: end sessions of %q: %w", e.UserID, err)
	}
	return res, nil
}

// All implements [singlesession.IterableStore].
func (p *Store) All(ctx context.Context) (map[string][]byte, error) {
	rows, err := p.pool.Query(ctx, sqlAll)
	if err != nil {
		return nil, fmt.Errorf("singlesession: pgxstore: all sessions: %w", err)
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
		return nil, fmt.Errorf("singlesession: pgxstore: all sessions: %w", err)
	}
	return all, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Sessions implements [singlesession.Store.Sessions] with one query.
func (p *Store) Sessions(ctx context.Context, q singlesession.SessionsQuery) (singlesession.SessionsResult, error) {
	var after any // SQL NULL: from the start
	if !q.After.IsZero() {
		after = q.After.LastSeen
	}
	rows, err := p.pool.Query(ctx, sqlSessions, q.UserID, after, q.After.ID, q.Limit)
	if err != nil {
		return singlesession.SessionsResult{}, fmt.Errorf("singlesession: pgxstore: sessions of %q: %w", q.UserID, err)
	}
	var (
		res                       singlesession.SessionsResult
		id, ip, userAgent         *string
		created, expiry, lastSeen *time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&res.Total, &id, &created, &expiry, &lastSeen, &ip, &userAgent}, func() error {
		if id != nil {
			res.Sessions = append(res.Sessions, singlesession.SessionInfo{ID: *id, Created: *created, Expiry: *expiry,
				LastSeen: *lastSeen, IP: *ip, UserAgent: *userAgent})
		}
		return nil
	})
	if err != nil {
		return singlesession.SessionsResult{}, fmt.Errorf("singlesession: pgxstore: sessions of %q: %w", q.UserID, err)
	}
	return res, nil
}

// CountSessions implements [singlesession.Store.CountSessions] with one grouped query.
func (p *Store) CountSessions(ctx context.Context, userIDs []string) (map[string]int, error) {
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
		return nil, fmt.Errorf("singlesession: pgxstore: count sessions: %w", err)
	}
	return counts, nil
}

// DeleteExpired implements [singlesession.CleanupStore], in batches of 5,000 rows:
// expired sessions first, then expired endings.
func (p *Store) DeleteExpired(ctx context.Context) (int, error) {
	total := 0
	for _, query := range []string{sqlDeleteExpired, sqlDeleteExpiredEndings} {
		for {
			tag, err := p.pool.Exec(ctx, query)
			if err != nil {
				return total, fmt.Errorf("singlesession: pgxstore: delete expired sessions: %w", err)
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
