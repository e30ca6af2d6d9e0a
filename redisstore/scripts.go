package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts of the store. Redis runs a script whole, with nothing else
// in between: a script that touches one user's keys is that user's lock.
//
// Every script reads (and so type-checks) every key it is going to write
// before its first write, and writes only in ways that cannot fail: Redis
// does not roll a script back, so a script that fails (a key of the wrong
// type, a bug) must fail before it has changed anything.
//
// Every script receives the key prefix as ARGV[1]. A user's keys all share
// the hash tag {<escaped user ID>}, so on Redis Cluster every script that
// touches one user touches one hash slot; the scripts named ...Single touch
// several users or tokens and run only on a single Redis (see Store).
//
// Numbers: times are microseconds since the epoch (created, last seen, the
// ends' At), expiries milliseconds (PXAT); both fit a Lua double exactly, and
// num formats them without an exponent.

// lib is the prelude of every script.
const lib = `
local P = ARGV[1]
local function now_us()
	local t = redis.call('TIME')
	return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function num(n) return string.format('%.0f', n) end
local function ubase(p) return P .. 'u:{' .. p .. '}' end

-- members reads a user's index and the fields of each indexed session.
local function members(ub, nowms)
	local list = {}
	for _, tok in ipairs(redis.call('ZRANGE', ub .. ':i', 0, -1)) do
		local f = redis.call('HMGET', ub .. ':s:' .. tok, 'x', 'l', 'c', 'id', 'e')
		local m = {tok = tok, exists = f[1] ~= false, live = false, l = 0, c = 0}
		if m.exists then
			m.x = tonumber(f[1]); m.l = tonumber(f[2]) or 0; m.c = tonumber(f[3]) or 0
			m.id = f[4]; m.e = f[5]
			m.live = m.x > nowms
		end
		list[#list + 1] = m
	end
	return list
end

-- drop deletes a session and its index entry and, when the session was
-- live and reason is not empty, records why it ended until it would have
-- expired. It returns 1 for a live session, 0 otherwise.
local function drop(ub, m, reason, ua, now)
	redis.call('DEL', ub .. ':s:' .. m.tok)
	redis.call('ZREM', ub .. ':i', m.tok)
	if not m.live then return 0 end
	if reason ~= '' and m.e then
		local ek = ub .. ':e:' .. m.e
		redis.call('DEL', ek)
		redis.call('HSET', ek, 'r', reason, 'a', num(now), 'ua', ua)
		redis.call('PEXPIREAT', ek, num(m.x))
	end
	return 1
end

-- keep_index makes a user's index outlive its latest session, and no more:
-- an index whose sessions all expired goes away by itself.
local function keep_index(ub, x)
	local idx = ub .. ':i'
	if redis.call('PTTL', idx) == -1 then
		redis.call('PEXPIREAT', idx, x)
	else
		redis.call('PEXPIREAT', idx, x, 'GT')
	end
end

-- find_user reads a linked session, or why it ended.
local function find_user(p, tok, eh, stale, now)
	local ub = ubase(p)
	local f = redis.call('HMGET', ub .. ':s:' .. tok, 'd', 'u', 'x', 'l')
	if f[1] and tonumber(f[3]) > math.floor(now / 1000) then
		local st = 0
		if now - (tonumber(f[4]) or 0) >= stale then st = 1 end
		return {1, f[1], f[2], st, f[3]}
	end
	local e = redis.call('HMGET', ub .. ':e:' .. eh, 'r', 'a', 'ua')
	if e[1] then return {2, e[1], e[2], e[3]} end
	return {0}
end

-- update_user saves a linked session that exists, and never creates one.
local function update_user(p, tok, data, x, touch, now)
	local ub = ubase(p)
	local sk = ub .. ':s:' .. tok
	if redis.call('HEXISTS', sk, 'd') == 0 then return 0 end
	redis.call('ZSCORE', ub .. ':i', tok)
	redis.call('PTTL', ub .. ':i')
	if touch then
		redis.call('HSET', sk, 'd', data, 'x', x, 'l', num(now))
	else
		redis.call('HSET', sk, 'd', data, 'x', x)
	end
	redis.call('PEXPIREAT', sk, x)
	redis.call('ZADD', ub .. ':i', 'XX', x, tok)
	keep_index(ub, x)
	return 1
end

local function touch_user(p, tok, now)
	local sk = ubase(p) .. ':s:' .. tok
	if redis.call('HEXISTS', sk, 'd') == 1 then redis.call('HSET', sk, 'l', num(now)) end
	return 1
end

-- login_args reads the ARGV of both login scripts.
local function login_args()
	local a = {p = ARGV[2], user = ARGV[3], tok = ARGV[4], data = ARGV[5], x = ARGV[6],
		max = tonumber(ARGV[7]), reject = ARGV[8] == '1', ip = ARGV[9], ua = ARGV[10],
		eh = ARGV[11], id = ARGV[12], rep = {}, reps = {}}
	for i = 13, #ARGV do a.rep[ARGV[i]] = true; a.reps[#a.reps + 1] = ARGV[i] end
	return a
end

-- login_plan reads what a login needs and decides. It returns nil and the
-- refusal, or the function that applies the login and returns its reply.
local function login_plan(a, now)
	local ub = ubase(a.p)
	local sk = ub .. ':s:' .. a.tok
	if redis.call('EXISTS', sk) == 1 then
		-- a retry of a login that was applied: apply nothing twice
		return function() return {'ok', 0, num(now)} end
	end
	local nowms = math.floor(now / 1000)
	local replaced, dead, live = {}, {}, {}
	local latest = 0
	for _, m in ipairs(members(ub, nowms)) do
		if a.rep[m.tok] then
			replaced[#replaced + 1] = m
		elseif m.live then
			live[#live + 1] = m
			latest = math.max(latest, m.l, m.c)
		else
			dead[#dead + 1] = m
		end
	end
	redis.call('PTTL', ub .. ':i')
	if a.reject and a.max > 0 and #live >= a.max then
		return nil, {'full', #live}
	end
	return function()
		-- the login is the user's latest event, whatever the clock says
		if now <= latest then now = latest + 1 end
		for _, m in ipairs(replaced) do m.live = false; drop(ub, m, '', '', now) end
		for _, m in ipairs(dead) do drop(ub, m, '', '', now) end
		local ended = 0
		if a.max > 0 and #live >= a.max then
			table.sort(live, function(x, y)
				if x.l ~= y.l then return x.l > y.l end
				if x.c ~= y.c then return x.c > y.c end
				return x.tok > y.tok
			end)
			for i = a.max, #live do ended = ended + drop(ub, live[i], 'login', a.ua, now) end
		end
		redis.call('HSET', sk, 'd', a.data, 'u', a.user, 'id', a.id, 'ip', a.ip, 'ua', a.ua,
			'c', num(now), 'l', num(now), 'x', a.x, 'e', a.eh)
		redis.call('PEXPIREAT', sk, a.x)
		redis.call('ZADD', ub .. ':i', a.x, a.tok)
		keep_index(ub, a.x)
		local out = {'ok', ended, num(now)}
		for _, m in ipairs(replaced) do out[#out + 1] = m.tok end
		return out
	end
end

-- logout_plan reads what a logout needs of one user: the browser's tokens
-- toks, and, by mode, the user's other sessions ('none': leave them;
-- 'ifany': end them when one of toks was a session of this user; 'always').
-- It returns the function that applies it and returns how many sessions it
-- deleted and how many other live ones it ended.
local function logout_plan(ub, toks, mode, ua, now)
	local mine = {}
	for _, t in ipairs(toks) do mine[t] = true end
	local own, others = {}, {}
	local any = false
	for _, m in ipairs(members(ub, math.floor(now / 1000))) do
		if mine[m.tok] then
			own[#own + 1] = m
			any = any or m.exists
		else
			others[#others + 1] = m
		end
	end
	return function()
		local deleted, ended = 0, 0
		for _, m in ipairs(own) do
			if m.exists then deleted = deleted + 1 end
			m.live = false
			drop(ub, m, '', '', now)
		end
		if mode == 'always' or (mode == 'ifany' and any) then
			for _, m in ipairs(others) do
				if m.exists then deleted = deleted + 1 end
				ended = ended + drop(ub, m, 'logout', ua, now)
			end
		end
		return deleted, ended
	end
end

-- end_plan reads a user's sessions, and returns the function that ends them
-- all and returns how many live ones ended.
local function end_plan(ub, reason, ua, now)
	local ms = members(ub, math.floor(now / 1000))
	return function()
		local n = 0
		for _, m in ipairs(ms) do n = n + drop(ub, m, reason, ua, now) end
		redis.call('DEL', ub .. ':i')
		return n
	end
end
`

var (
	// scriptFindSingle: KEYS anonymous session, pointer; ARGV prefix,
	// token, ending hash, stale after (µs). Replies {0} (none), {1, data,
	// user, stale} or {2, reason, at, user agent}.
	scriptFindSingle = redis.NewScript(lib + `
local d = redis.call('GET', KEYS[1])
if d then return {1, d, '', 0, redis.call('PEXPIRETIME', KEYS[1])} end
local p = redis.call('GET', KEYS[2])
if not p then return {0} end
return find_user(p, ARGV[2], ARGV[3], tonumber(ARGV[4]), now_us())
`)

	// scriptFindToken: the token's slot. KEYS anonymous session, pointer.
	// Replies {0}, {1, data, '', 0} or {3, escaped user}.
	scriptFindToken = redis.NewScript(lib + `
local d = redis.call('GET', KEYS[1])
if d then return {1, d, '', 0, redis.call('PEXPIRETIME', KEYS[1])} end
local p = redis.call('GET', KEYS[2])
if p then return {3, p} end
return {0}
`)

	// scriptFindUser: the user's slot. KEYS session; ARGV prefix, escaped
	// user, token, ending hash, stale after (µs).
	scriptFindUser = redis.NewScript(lib + `
return find_user(ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), now_us())
`)

	// scriptUpdateSingle: KEYS anonymous session, pointer; ARGV prefix,
	// token, data, expiry (ms), touch. Replies 1 (saved) or 0 (no session).
	scriptUpdateSingle = redis.NewScript(lib + `
if redis.call('SET', KEYS[1], ARGV[3], 'XX', 'PXAT', ARGV[4]) then return 1 end
local p = redis.call('GET', KEYS[2])
if not p then return 0 end
local r = update_user(p, ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1', now_us())
if r == 1 then redis.call('PEXPIREAT', KEYS[2], ARGV[4], 'GT') end
return r
`)

	// scriptUpdateToken: the token's slot. KEYS anonymous session, pointer;
	// ARGV prefix, data, expiry (ms). Replies {1} (saved), {0} (no session)
	// or {2, escaped user} (a linked session: save it in the user's slot).
	scriptUpdateToken = redis.NewScript(lib + `
if redis.call('SET', KEYS[1], ARGV[2], 'XX', 'PXAT', ARGV[3]) then return {1} end
local p = redis.call('GET', KEYS[2])
if not p then return {0} end
redis.call('PEXPIREAT', KEYS[2], ARGV[3], 'GT')
return {2, p}
`)

	// scriptSlide: the token's slot. KEYS pointer; ARGV expiry (ms).
	// Extends the pointer of a signed-in session to the session's expiry
	// (never shortens it); replies 1, or 0 when there is no pointer.
	scriptSlide = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('PEXPIREAT', KEYS[1], ARGV[1], 'GT')
return 1
`)

	// scriptUpdateUser: the user's slot. KEYS session; ARGV prefix, escaped
	// user, token, data, expiry (ms), touch. Replies 1 or 0.
	scriptUpdateUser = redis.NewScript(lib + `
return update_user(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6] == '1', now_us())
`)

	// scriptTouchSingle: KEYS pointer; ARGV prefix, token.
	scriptTouchSingle = redis.NewScript(lib + `
local p = redis.call('GET', KEYS[1])
if p then touch_user(p, ARGV[2], now_us()) end
return 1
`)

	// scriptTouchUser: the user's slot. KEYS session; ARGV prefix, escaped
	// user, token.
	scriptTouchUser = redis.NewScript(lib + `
return touch_user(ARGV[2], ARGV[3], now_us())
`)

	// scriptLoginSingle: KEYS the new token's pointer, then the anonymous
	// session and pointer of each replaced token; ARGV see login_args.
	// Replies {'ok', ended, now} or {'full', live sessions}.
	scriptLoginSingle = redis.NewScript(lib + `
local a = login_args()
local now = now_us()
local elsewhere = {}
for i, r in ipairs(a.reps) do
	redis.call('STRLEN', KEYS[2 * i])
	local q = redis.call('GET', KEYS[2 * i + 1])
	if q and q ~= a.p then
		local ub = ubase(q)
		redis.call('HEXISTS', ub .. ':s:' .. r, 'd')
		redis.call('ZSCORE', ub .. ':i', r)
		elsewhere[#elsewhere + 1] = {ub, r}
	end
end
local apply, refusal = login_plan(a, now)
if not apply then return refusal end
for i = 1, #a.reps do redis.call('DEL', KEYS[2 * i]) end
for _, e in ipairs(elsewhere) do
	redis.call('DEL', e[1] .. ':s:' .. e[2])
	redis.call('ZREM', e[1] .. ':i', e[2])
end
redis.call('SET', KEYS[1], a.p, 'PXAT', a.x)
return apply()
`)

	// scriptLoginUser: the user's slot. KEYS the user's index; ARGV see
	// login_args. The caller has written the new token's pointer. Replies
	// as scriptLoginSingle, followed by the replaced tokens that were the
	// user's sessions (nothing of them is left in other slots).
	scriptLoginUser = redis.NewScript(lib + `
local apply, refusal = login_plan(login_args(), now_us())
if not apply then return refusal end
return apply()
`)

	// scriptLogoutSingle: KEYS the anonymous session and pointer of each of
	// the browser's tokens; ARGV prefix, escaped user ('' for none), mode,
	// user agent, tokens. Replies {deleted, ended, now}.
	scriptLogoutSingle = redis.NewScript(lib + `
local myp, mode, ua = ARGV[2], ARGV[3], ARGV[4]
local toks = {}
for i = 5, #ARGV do toks[#toks + 1] = ARGV[i] end
local now = now_us()
local groups, order = {}, {}
for i, t in ipairs(toks) do
	redis.call('STRLEN', KEYS[2 * i - 1])
	local q = redis.call('GET', KEYS[2 * i])
	if q then
		if not groups[q] then groups[q] = {}; order[#order + 1] = q end
		table.insert(groups[q], t)
	end
end
if myp ~= '' and not groups[myp] then groups[myp] = {}; order[#order + 1] = myp end
local plans = {}
for _, q in ipairs(order) do
	local m = 'none'
	if q == myp then m = mode end
	plans[#plans + 1] = logout_plan(ubase(q), groups[q], m, ua, now)
end
local deleted, ended = 0, 0
for i = 1, #toks do deleted = deleted + redis.call('DEL', KEYS[2 * i - 1]) end
for _, apply in ipairs(plans) do
	local d, e = apply()
	deleted = deleted + d; ended = ended + e
end
return {deleted, ended, num(now)}
`)

	// scriptTake: the token's slot. KEYS anonymous session, pointer.
	// Deletes the anonymous session; replies {deleted, escaped user or '',
	// now}. The pointer stays: a stale pointer means "not found", and it
	// expires with the session.
	scriptTake = redis.NewScript(lib + `
redis.call('STRLEN', KEYS[1])
local q = redis.call('GET', KEYS[2])
local d = redis.call('DEL', KEYS[1])
return {d, q or '', num(now_us())}
`)

	// scriptLogoutUser: the user's slot. KEYS the user's index; ARGV
	// prefix, escaped user, mode, user agent, tokens. Replies {deleted,
	// ended, now}.
	scriptLogoutUser = redis.NewScript(lib + `
local toks = {}
for i = 5, #ARGV do toks[#toks + 1] = ARGV[i] end
local now = now_us()
local d, e = logout_plan(ubase(ARGV[2]), toks, ARGV[3], ARGV[4], now)()
return {d, e, num(now)}
`)

	// scriptEnd: KEYS the first user's index; ARGV prefix, reason, user
	// agent, escaped users. Replies {now, ended of each user}. On Cluster
	// it is called with one user at a time.
	scriptEnd = redis.NewScript(lib + `
local now = now_us()
local plans = {}
for i = 4, #ARGV do plans[#plans + 1] = end_plan(ubase(ARGV[i]), ARGV[2], ARGV[3], now) end
local out = {num(now)}
for _, apply in ipairs(plans) do out[#out + 1] = apply() end
return out
`)

	// scriptRevoke: the user's slot. KEYS the user's index; ARGV prefix,
	// escaped user, mode ('ids' or 'keep'), the asking token ('' for
	// operators), reason, user agent, IDs. Replies {ended, now}, or {-1,
	// now} when the asking session is not a live session of the user.
	scriptRevoke = redis.NewScript(lib + `
local ub = ubase(ARGV[2])
local now = now_us()
if ARGV[4] ~= '' then
	local x = redis.call('HGET', ub .. ':s:' .. ARGV[4], 'x')
	if not x or tonumber(x) <= math.floor(now / 1000) then return {-1, num(now)} end
end
local ids = {}
for i = 7, #ARGV do ids[ARGV[i]] = true end
local chosen = {}
for _, m in ipairs(members(ub, math.floor(now / 1000))) do
	local c
	if ARGV[3] == 'ids' then c = m.exists and ids[m.id] else c = m.tok ~= ARGV[4] end
	if c then chosen[#chosen + 1] = m end
end
local n = 0
for _, m in ipairs(chosen) do n = n + drop(ub, m, ARGV[5], ARGV[6], now) end
return {n, num(now)}
`)

	// scriptSessions: the user's slot. KEYS the user's index; ARGV prefix,
	// escaped user. Replies id, created, expiry, last seen, IP, user agent
	// of each live session, one after the other.
	scriptSessions = redis.NewScript(lib + `
local ub = ubase(ARGV[2])
local nowms = math.floor(now_us() / 1000)
local out = {}
for _, tok in ipairs(redis.call('ZRANGEBYSCORE', ub .. ':i', '(' .. num(nowms), '+inf')) do
	local f = redis.call('HMGET', ub .. ':s:' .. tok, 'id', 'c', 'x', 'l', 'ip', 'ua')
	if f[1] and tonumber(f[3]) > nowms then
		for j = 1, 6 do out[#out + 1] = f[j] or '' end
	end
end
return out
`)

	// scriptCount: KEYS the first user's index; ARGV prefix, escaped users.
	// Replies the count of each. On Cluster it is called with one user at a
	// time.
	scriptCount = redis.NewScript(lib + `
local nowms = math.floor(now_us() / 1000)
local out = {}
for i = 2, #ARGV do
	out[#out + 1] = redis.call('ZCOUNT', ubase(ARGV[i]) .. ':i', '(' .. num(nowms), '+inf')
end
return out
`)

	// scriptPrune: the user's slot. KEYS the user's index; ARGV prefix,
	// escaped user. Deletes the user's expired sessions and the index
	// entries of sessions that are gone; replies how many sessions it
	// deleted.
	scriptPrune = redis.NewScript(lib + `
local ub = ubase(ARGV[2])
local now = now_us()
local dead = {}
for _, m in ipairs(members(ub, math.floor(now / 1000))) do
	if not m.live then dead[#dead + 1] = m end
end
local n = 0
for _, m in ipairs(dead) do
	if m.exists then n = n + 1 end
	drop(ub, m, '', '', now)
end
return n
`)
)
