package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-singlesession/singlesession"
)

var _ singlesession.NotifyingStore = (*Store)(nil)

// pingAfter is how long Listen waits for a message before it checks the
// connection with a PING; a connection that answers neither within twice
// that is broken.
const pingAfter = 30 * time.Second

// Listen implements [singlesession.NotifyingStore]. Every script that ends
// live sessions PUBLISHes, as it commits, a notice on the channel
// P+"ended" (P the store's key prefix: two prefixes do not hear each
// other), a small JSON object: the user (u), the IDs of the sessions (i;
// absent for a cut, which names none however many it ends), the reason
// (r), when (a, µs of Redis's clock) and the acting user agent (ua). Listen
// SUBSCRIBEs to that channel on one connection (on Cluster, to one node:
// PUBLISH reaches every node of a cluster), calls ready once Redis
// confirmed the subscription, then notify with each notice, until ctx ends
// (it returns ctx's error) or the connection breaks (it returns why: a
// Redis restart, a killed connection, or no reply to a PING within a
// minute).
func (s *Store) Listen(ctx context.Context, ready func(), notify func(singlesession.Notice)) error {
	ps := s.client.Subscribe(ctx, s.prefix+"ended")
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, pingAfter)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ne net.Error
		if err != nil && errors.As(err, &ne) && ne.Timeout() && !pinged {
			// Quiet for a while: make sure the connection still answers.
			if err := ps.Ping(ctx); err != nil {
				return fmt.Errorf("singlesession: redisstore: listen: %w", err)
			}
			pinged = true
			continue
		}
		if err != nil {
			return fmt.Errorf("singlesession: redisstore: listen: %w", err)
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				ready()
			}
		case *redis.Message:
			n, err := parseNotice(m.Payload)
			if err != nil {
				s.log().DebugContext(ctx, "singlesession: redisstore: an unreadable notice", "err", err)
				continue
			}
			notify(n)
		}
	}
}

// notice is what the scripts publish (see Listen).
type notice struct {
	User      string   `json:"u"`
	IDs       []string `json:"i"`
	Reason    string   `json:"r"`
	At        string   `json:"a"`
	UserAgent string   `json:"ua"`
}

func parseNotice(payload string) (singlesession.Notice, error) {
	var n notice
	if err := json.Unmarshal([]byte(payload), &n); err != nil {
		return singlesession.Notice{}, err
	}
	at, err := strconv.ParseInt(n.At, 10, 64)
	if err != nil || n.User == "" {
		return singlesession.Notice{}, fmt.Errorf("notice %.100q", payload)
	}
	return singlesession.Notice{
		UserID: n.User,
		IDs:    n.IDs,
		Ending: singlesession.Ending{Reason: singlesession.Reason(n.Reason), At: time.UnixMicro(at), UserAgent: n.UserAgent},
	}, nil
}
