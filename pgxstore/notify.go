package pgxstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/go-singlesession/singlesession"
)

var _ singlesession.NotifyingStore = (*Store)(nil)

// notice is the JSON of a notice, as notifyOpen builds it.
type notice struct {
	UserID    string   `json:"u"`
	IDs       []string `json:"i"`
	Reason    string   `json:"r"`
	At        int64    `json:"a"` // microseconds since the epoch
	UserAgent string   `json:"ua"`
}

// Listen implements [singlesession.NotifyingStore] with PostgreSQL's LISTEN
// and NOTIFY. Every statement that ends sessions sends its notices with
// pg_notify in its own transaction, so they go out exactly when it commits.
// The channel is the schema's (singlesession_ and a hash of
// current_schema()), so stores in other schemas of the server are not
// heard. Listen holds one connection of the pool while it runs; when it
// returns, the connection goes back to the pool with UNLISTEN (or is
// closed, when ctx interrupted it).
func (p *Store) Listen(ctx context.Context, ready func(), notify func(singlesession.Notice)) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("singlesession: pgxstore: listen: %w", err)
	}
	defer func() {
		if !conn.Conn().IsClosed() {
			uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if _, err := conn.Exec(uctx, "UNLISTEN *"); err != nil {
				_ = conn.Conn().Close(uctx) // the pool drops a closed connection
			}
			cancel()
		}
		conn.Release()
	}()
	var channel string
	if err := conn.QueryRow(ctx, sqlChannel).Scan(&channel); err != nil {
		return fmt.Errorf("singlesession: pgxstore: listen: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("singlesession: pgxstore: listen: %w", err)
	}
	ready()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("singlesession: pgxstore: listen: %w", err)
		}
		var msg notice
		if err := json.Unmarshal([]byte(n.Payload), &msg); err != nil || msg.UserID == "" {
			continue // not ours: someone else's NOTIFY on the channel
		}
		notify(singlesession.Notice{UserID: msg.UserID, IDs: msg.IDs, Ending: singlesession.Ending{
			Reason: singlesession.Reason(msg.Reason), At: time.UnixMicro(msg.At), UserAgent: msg.UserAgent}})
	}
}
