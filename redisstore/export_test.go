package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/go-singlesession/singlesession"
)

// BulkLogin signs one user in once for each of tokens, with no limit,
// through the store's own login plan, 2,000 logins to a script (and on
// Cluster the tokens' pointers first, in pipelines): what as many calls of
// Login do, much faster, for the tests that build a pile of 100,000
// sessions. Its scripts may run long; they build, they are not measured.
func BulkLogin(ctx context.Context, s *Store, user string, tokens []string, data []byte, expiry time.Time, ip, userAgent string) error {
	p, x := escape(user), ms(expiry)
	for _, batch := range chunks(tokens, 2000) {
		if s.cluster {
			ops := make([]op, len(batch))
			for i, t := range batch {
				ops[i] = op{args: []any{"set", s.ptrKey(singlesession.SessionID(t)), p, "pxat", x}}
			}
			if _, err := all(s.pipeline(ctx, ops...)); err != nil {
				return err
			}
		}
		args := append([]any{s.prefix, p, data, x, ip, userAgent, b01(!s.cluster)}, pairs(batch)...)
		if err := scriptBulk.Run(ctx, s.client, []string{s.metaKey(p)}, args...).Err(); err != nil {
			return fmt.Errorf("bulk login: %w", err)
		}
	}
	return nil
}

// scriptBulk: KEYS the user's meta; ARGV prefix, escaped user, data,
// expiry, IP, User-Agent, write pointers ('1' on a single Redis), then an ID
// and a token for each login.
var scriptBulk = newScript(`
for i = 8, #ARGV - 1, 2 do
	local a = {p = ARGV[2], tok = ARGV[i + 1], id = ARGV[i], data = ARGV[3], x = tonumber(ARGV[4]),
		max = 0, reject = false, ip = ARGV[5], ua = ARGV[6], verified = {}, dead = {}, rep = {}}
	local apply, kind = login_plan(a, now_us(), false)
	if kind ~= 'ok' then return redis.error_reply('login: ' .. kind) end
	apply()
	if ARGV[7] == '1' then redis.call('SET', ptr(a.id), a.p, 'PXAT', num(a.x)) end
end
return 1
`)

// ScriptHashes are the SHA-1 digests of some scripts, for the tests that
// inject faults into them.
var ScriptHashes = map[string]string{
	"clean":      scriptClean.Hash(),
	"take":       scriptTake.Hash(),
	"logoutUser": scriptLogoutUser.Hash(),
}
