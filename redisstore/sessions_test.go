package redisstore_test

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-singlesession/singlesession"
)

// SPEC 8.5: Sessions pages through a user's sessions most recently used
// first (LastSeen descending, then ID descending, byte order as Go compares
// strings), strictly after the position, at most Limit, with Total on
// every page; sessions last seen at the same microsecond are ordered by ID
// and none is skipped or repeated across a page boundary.
func TestSessionsPages(t *testing.T) {
	forEachTopology(t, func(t *testing.T, client func() redis.UniversalClient) {
		c := client()
		s, prefix := newStore(t, c)
		ctx := context.Background()
		var toks []string
		for range 23 {
			toks = append(toks, loginNew(t, s))
		}
		for _, tok := range toks[3:9] {
			require.NoError(t, s.Touch(ctx, tok))
		}
		// Eight sessions last seen at one microsecond: ties broken by ID.
		g := generation(t, c, prefix, "alice")
		tie := time.Now().Add(-time.Minute).UnixMicro()
		for _, tok := range toks[10:18] {
			id := singlesession.SessionID(tok)
			require.NoError(t, c.HSet(ctx, prefix+"u:{alice}:s:"+id, "l", tie).Err())
			require.NoError(t, c.ZAdd(ctx, prefix+"u:{alice}:l:"+g, redis.Z{Score: float64(tie), Member: id}).Err())
		}
		want, err := s.Sessions(ctx, singlesession.SessionsQuery{UserID: "alice", Limit: 100})
		require.NoError(t, err)
		require.Len(t, want.Sessions, 23)
		assert.Equal(t, 23, want.Total)
		assert.True(t, slices.IsSortedFunc(want.Sessions, func(a, b singlesession.SessionInfo) int {
			return cmp.Or(b.LastSeen.Compare(a.LastSeen), cmp.Compare(b.ID, a.ID))
		}), "most recently used first, then by ID descending")
		for _, limit := range []int{1, 2, 3, 7} {
			t.Run("limit "+strconv.Itoa(limit), func(t *testing.T) {
				var got []singlesession.SessionInfo
				q := singlesession.SessionsQuery{UserID: "alice", Limit: limit}
				for {
					page, err := s.Sessions(ctx, q)
					require.NoError(t, err)
					assert.Equal(t, 23, page.Total)
					assert.LessOrEqual(t, len(page.Sessions), limit)
					got = append(got, page.Sessions...)
					if len(page.Sessions) < limit {
						break
					}
					last := page.Sessions[len(page.Sessions)-1]
					q.After = singlesession.Position{LastSeen: last.LastSeen, ID: last.ID}
				}
				assert.Equal(t, want.Sessions, got)
			})
		}
		// The session a position names ends between two pages: the next
		// page still starts right after where it stood.
		ended := map[string]bool{}
		require.Equal(t, want.Sessions[15].LastSeen, want.Sessions[22].LastSeen, "the ties are the oldest eight")
		for _, at := range []int{4, 15, 18} { // before the ties, the first of them, inside them
			cut := want.Sessions[at]
			ended[cut.ID] = true
			_, err := s.EndSessions(ctx, singlesession.EndSessions{UserID: "alice", IDs: []string{cut.ID}})
			require.NoError(t, err)
			page, err := s.Sessions(ctx, singlesession.SessionsQuery{UserID: "alice", Limit: 3, After: singlesession.Position{LastSeen: cut.LastSeen, ID: cut.ID}})
			require.NoError(t, err)
			var wantNext []singlesession.SessionInfo
			for _, info := range want.Sessions[at+1:] {
				if len(wantNext) < 3 && !ended[info.ID] {
					wantNext = append(wantNext, info)
				}
			}
			assert.Equal(t, wantNext, page.Sessions, "after the ended session %d", at)
		}
		none, err := s.Sessions(ctx, singlesession.SessionsQuery{UserID: "alice", Limit: 0})
		require.NoError(t, err)
		assert.Empty(t, none.Sessions)
		assert.Equal(t, 20, none.Total)
	})
}
