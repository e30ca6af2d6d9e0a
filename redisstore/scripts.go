package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts of the store. Redis runs a script whole, with nothing else
// in between: a script that touches one user's keys is that user's lock.
//
// Every script reads (and so type-checks) every key it is going to write
// before its first write, and writes only in ways that cannot fail: Redis
// does not roll a script back, so a script that fails (a key of the wrong
// type, a bug) must fail before it has changed anything. The scripts that
// change sessions are therefore written as a plan, which reads and decides,
// and an apply function, which writes. (Redis refuses a script for lack of
// memory only before its first write, too.)
//
// Every script is bounded: it looks at no more than a fixed number of
// sessions (B, E and the limit), whatever the user's pile, so that no script
// holds Redis for long. Big work (ending 100,000 sessions) is a cut, one
// bounded script, followed by bounded cleanup steps that the Go side runs
// and that stay correct if they are interrupted.
//
// Every script receives the key prefix as ARGV[1]. A user's keys all share
// the hash tag {<escaped user ID>}, so on Redis Cluster every script that
// touches one user touches one hash slot; the scripts named ...Single touch
// several users or tokens and run only on a single Redis (see Store).
//
// Numbers: times are microseconds since the epoch (created, last seen, a
// generation, the At of endings), expiries milliseconds (PXAT); both fit a
// Lua double exactly, and num formats them without an exponent.
//
// The keys (see the package documentation): under the user's base
// P..'u:{'..U..'}': ':m' the meta hash (g: the current generation), ':s:'..ID
// a session hash (d data, t token, x expiry, c created, l last seen, g its
// generation, ip, ua), ':x:'..G and ':l:'..G the generation's indexes (ID by
// expiry, ID by last seen), ':e:'..ID why a session ended (a record, or
// '@'..G for its generation's grave), ':c:'..G the grave of a generation
// that was cut (a record), ':o' the generations left to clean. In the
// token's slot {ID}: 'a:{'..ID..'}:'..token an anonymous session,
// 't:{'..ID..'}' the pointer to the escaped user.

// lib is the prelude of every script.
const lib = `
local P = ARGV[1]
local B = 500 -- sessions per batch: pruning, cleaning, walking
local E = 100 -- up to this many sessions end one by one; more: a cut
local floor = math.floor

local function now_us()
	local t = redis.call('TIME')
	return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function num(n) return string.format('%.0f', n) end
local function ptr(id) return P .. 't:{' .. id .. '}' end
local function anon(id, tok) return P .. 'a:{' .. id .. '}:' .. tok end

-- unescape is redisstore's escape undone: the user ID of an escaped one.
local codes = {['25'] = '%', ['7B'] = '{', ['7D'] = '}'}
local function unescape(p) return (string.gsub(p, '%%(%x%x)', codes)) end

-- before reports whether a sorts before b byte by byte, as Go and Redis's
-- sorted sets compare strings (Lua's < follows the server's locale).
local function before(a, b)
	for i = 1, math.min(#a, #b) do
		local x, y = string.byte(a, i), string.byte(b, i)
		if x ~= y then return x < y end
	end
	return #a < #b
end

local function words(s)
	local t = {}
	for w in string.gmatch(s, '%S+') do t[w] = true end
	return t
end

-- user reads a user's meta: its current generation and, when a script
-- writes (write), type-checks every key of the user a script may write but
-- sessions. A generation whose two indexes disagree lost one to eviction:
-- it is broken, and every session of it is ended (fail closed).
local function user(p, write)
	local b = P .. 'u:{' .. p .. '}'
	local u = {p = p, raw = unescape(p), b = b, m = b .. ':m', o = b .. ':o', n = 0, broken = false}
	u.gen = redis.call('HGET', u.m, 'g')
	if write then redis.call('SCARD', u.o) end
	if u.gen then
		u.x, u.l = b .. ':x:' .. u.gen, b .. ':l:' .. u.gen
		if write then
			u.n = redis.call('ZCARD', u.x)
			u.broken = u.n ~= redis.call('ZCARD', u.l)
		end
	end
	return u
end
local function skey(u, id) return u.b .. ':s:' .. id end

-- keep makes key live at least until x (ms), and never shortens it.
local function keep(key, x)
	if redis.call('PEXPIREAT', key, num(x), 'GT') == 0 and redis.call('PTTL', key) == -1 then
		redis.call('PEXPIREAT', key, num(x))
	end
end

-- publish tells every process that listens that sessions of u ended: ids,
-- or nil for some of them, unnamed (a cut).
local function publish(u, ids, reason, ua, now)
	local n = {u = u.raw, r = reason, a = num(now)}
	if ua ~= '' then n.ua = ua end
	if ids then n.i = ids end
	redis.call('PUBLISH', P .. 'ended', cjson.encode(n))
end

-- An ending record: reason, at (µs) and user agent, one per line.
local function record(reason, now, ua) return reason .. '\n' .. num(now) .. '\n' .. ua end
local function parse(v)
	local r, a, ua = string.match(v, '^([^\n]*)\n([^\n]*)\n(.*)$')
	if r then return {2, r, a, ua} end
	return {0}
end

-- ended_reply is why the session id of u ended, from its own ending or
-- from the grave of its generation g (when it was cut and not yet
-- cleaned).
local function ended_reply(u, id, g)
	local v
	if g then
		v = redis.call('GET', u.b .. ':c:' .. g)
	else
		v = redis.call('GET', u.b .. ':e:' .. id)
		if v and string.sub(v, 1, 1) == '@' then v = redis.call('GET', u.b .. ':c:' .. string.sub(v, 2)) end
	end
	if v then return parse(v) end
	return {0}
end

-- newgen returns the generation that replaces u's: Redis's time, strictly
-- after the current one, with its indexes type-checked.
local function newgen(u, now)
	local g = now
	if u.gen and tonumber(u.gen) >= g then g = tonumber(u.gen) + 1 end
	g = num(g)
	redis.call('ZCARD', u.b .. ':x:' .. g)
	redis.call('ZCARD', u.b .. ':l:' .. g)
	return g
end

-- cut ends every session of u's current generation but the survivors
-- ({id, x, l}, read and verified by the caller) by moving the survivors to
-- a new generation g: what is left in the old one is ended at once (Find
-- compares a session's g with its user's), and deleted later by clean, in
-- bounded steps. With a reason, the old generation's grave records it until
-- its last session would have expired. It returns how many live sessions
-- it ended.
local function cut(u, survivors, reason, ua, now, nowms, g)
	local nx, nl = u.b .. ':x:' .. g, u.b .. ':l:' .. g
	local ended, latest = 0, 0
	if u.gen then
		for _, s in ipairs(survivors) do
			redis.call('ZREM', u.x, s.id)
			redis.call('ZREM', u.l, s.id)
		end
		ended = redis.call('ZCOUNT', u.x, '(' .. num(nowms), '+inf')
		local top = redis.call('ZRANGE', u.x, 0, 0, 'REV', 'WITHSCORES')
		local ex = math.max(redis.call('PEXPIRETIME', u.x), redis.call('PEXPIRETIME', u.l))
		if ex > 0 then
			redis.call('SADD', u.o, u.gen)
			keep(u.o, ex)
			if reason ~= '' and ended > 0 and top[2] then
				redis.call('SET', u.b .. ':c:' .. u.gen, record(reason, now, ua), 'PXAT', num(tonumber(top[2])))
			end
			publish(u, nil, reason, ua, now)
		end
	end
	for _, s in ipairs(survivors) do
		redis.call('HSET', skey(u, s.id), 'g', g)
		redis.call('ZADD', nx, num(s.x), s.id)
		redis.call('ZADD', nl, num(s.l), s.id)
		latest = math.max(latest, s.x)
	end
	redis.call('HSET', u.m, 'g', g)
	if latest > 0 then
		keep(u.m, latest)
		keep(nx, latest)
		keep(nl, latest)
	end
	u.gen, u.x, u.l, u.n, u.broken = g, nx, nl, #survivors, false
	return ended
end

-- drop deletes the session id of the generation whose indexes are xk and
-- lk (its hash when it exists, its index entries), and reports whether it
-- was live; with rec, it records why it ended until its expiry x.
local function drop(u, xk, lk, id, x, exists, nowms, rec)
	if exists then redis.call('DEL', skey(u, id)) end
	redis.call('ZREM', xk, id)
	redis.call('ZREM', lk, id)
	local live = exists and x > nowms
	if live and rec then redis.call('SET', u.b .. ':e:' .. id, rec, 'PXAT', num(x)) end
	return live
end

-- drop_all drops each session of list ({id, x, exists}) of u's current
-- generation, recording reason (unless ''), and tells the listeners of the
-- live ones; it returns how many were live.
local function drop_all(u, list, reason, ua, now, nowms)
	local rec
	if reason ~= '' then rec = record(reason, now, ua) end
	local ids = {}
	for _, m in ipairs(list) do
		if drop(u, u.x, u.l, m.id, m.x, m.exists, nowms, rec) then ids[#ids + 1] = m.id end
	end
	if #ids > 0 then publish(u, ids, reason, ua, now) end
	return #ids
end

-- plan_end_all plans the end of every session of u's current generation
-- but the survivors and those in skip (which the caller deletes itself
-- first): one by one when there are at most E, otherwise by a cut. It
-- returns the function that applies it and returns how many live sessions
-- ended, and how many sessions (expired ones included) it deletes at once.
local function plan_end_all(u, survivors, skip, nskip, reason, ua, now, nowms)
	if not u.gen then return function() return 0 end, 0 end
	if u.broken or u.n - #survivors - nskip > E then
		local g = newgen(u, now)
		local n = u.n
		if u.broken then survivors = {} end
		return function() return cut(u, survivors, reason, ua, now, nowms, g) end, n - #survivors
	end
	local keepset = {}
	for _, s in ipairs(survivors) do keepset[s.id] = true end
	local list = {}
	local z = redis.call('ZRANGE', u.x, 0, -1, 'WITHSCORES')
	for i = 1, #z, 2 do
		local id = z[i]
		if not keepset[id] and not skip[id] then
			list[#list + 1] = {id = id, x = tonumber(z[i + 1]), exists = redis.call('EXISTS', skey(u, id)) == 1}
		end
	end
	return function() return drop_all(u, list, reason, ua, now, nowms) end, #list
end

-- candidate reads the session id, met in u's current generation, and
-- tells whether a browser can still reach it: 'good' (its hash is there,
-- of this generation, and on a single Redis, check_ptr, its pointer leads
-- to u; on Cluster, the caller verified its pointer: verified), 'check' (on
-- Cluster: its pointer is to be verified), 'dead' (evicted: its hash, or
-- its pointer, is gone) or 'expired'. It returns the session's id, expiry
-- and last seen.
local function candidate(u, id, nowms, a, check_ptr)
	local s = {id = id}
	local f = redis.call('HMGET', skey(u, id), 'g', 'x', 'l', 't')
	if f[1] ~= u.gen or not f[4] then return 'dead', s end
	s.x, s.l = tonumber(f[2]), tonumber(f[3])
	if a.dead[id] then return 'dead', s end
	if s.x <= nowms then return 'expired', s end
	if check_ptr then
		if redis.call('GET', ptr(id)) ~= u.p then return 'dead', s end
		return 'good', s
	end
	if a.verified[id] then return 'good', s end
	return 'check', s
end

-- walk reads u's current generation from the most recently used session
-- down, skipping those in skip, until want of them are good or to check,
-- or it has met cap sessions. It returns the good, dead, expired and
-- to-check sessions it met, and whether it stopped at the cap.
local function walk(u, want, skip, nowms, a, check_ptr, cap)
	local got = {good = {}, dead = {}, expired = {}, check = {}}
	local seen, start = 0, 0
	while #got.good + #got.check < want do
		local ids = redis.call('ZRANGE', u.l, start, start + 99, 'REV')
		if #ids == 0 then return got, false end
		start = start + #ids
		for _, id in ipairs(ids) do
			if not skip[id] then
				local k, s = candidate(u, id, nowms, a, check_ptr)
				table.insert(got[k], s)
				seen = seen + 1
				if #got.good + #got.check >= want then return got, false end
				if seen >= cap then return got, true end
			end
		end
	end
	return got, false
end

-- repair deletes sessions of u's current generation that a browser can no
-- longer reach (evicted hash or pointer) and expired ones; it publishes the
-- former with the reason 'expired' (an eviction is an early expiry, no
-- one's action; '' would tell the page that its browser signed out).
local function repair(u, dead, expired, now, nowms)
	local ids = {}
	for _, s in ipairs(dead) do
		if redis.call('ZSCORE', u.x, s.id) then ids[#ids + 1] = s.id end
		drop(u, u.x, u.l, s.id, 0, s.x ~= nil, nowms, nil)
	end
	for _, s in ipairs(expired) do drop(u, u.x, u.l, s.id, 0, true, nowms, nil) end
	if #ids > 0 then publish(u, ids, 'expired', '', now) end
	return #ids
end

-- find_user reads a signed-in session of the escaped user p, or why it
-- ended. A session is served only when it is of its user's current
-- generation and in both its indexes: anything else an eviction left is
-- ended (fail closed). It is every signed-in request's read, so it does
-- only that: no user table, and one reading of the clock, Redis's, which
-- stamped the last seen: the caller compares the age with its staleAfter,
-- whatever its own clock says. Replies {0}, {1, data, p, age of the last
-- seen (µs), expiry (ms)} or {2, reason, at, user agent}.
local function find_user(p, id, tok)
	local b = P .. 'u:{' .. p .. '}'
	local f = redis.call('HMGET', b .. ':s:' .. id, 'd', 't', 'x', 'l', 'g')
	if f[1] and f[2] == tok then
		local g = redis.call('HGET', b .. ':m', 'g')
		if f[5] == g and redis.call('ZSCORE', b .. ':x:' .. g, id) and redis.call('ZSCORE', b .. ':l:' .. g, id) then
			return {1, f[1], p, num(now_us() - tonumber(f[4] or 0)), f[3]}
		end
		if f[5] ~= g then return ended_reply({b = b}, id, f[5]) end
		return {0}
	end
	if f[1] then return {0} end
	return ended_reply({b = b}, id, nil)
end

-- served reads the keys of session id of the escaped user p when it is
-- served (its token tok, of its user's current generation, in both
-- indexes), and so type-checks each before a write: the session's key and
-- fields t, g and x, the meta's key, and the generation's indexes; or nil.
local function served(p, id, tok)
	local b = P .. 'u:{' .. p .. '}'
	local s = {k = b .. ':s:' .. id, m = b .. ':m'}
	local f = redis.call('HMGET', s.k, 't', 'g', 'x')
	if f[1] ~= tok or not f[2] then return nil end
	if redis.call('HGET', s.m, 'g') ~= f[2] then return nil end
	s.x, s.l, s.exp = b .. ':x:' .. f[2], b .. ':l:' .. f[2], f[3]
	if not redis.call('ZSCORE', s.x, id) or not redis.call('ZSCORE', s.l, id) then return nil end
	return s
end

-- update_user saves a signed-in session that is served, and never creates
-- one. Replies 0 (not served), 1 (saved) or 2 (saved with a new expiry x:
-- the session's keys then live until x). A save that keeps the expiry (no
-- IdleTimeout) writes the data alone.
local function update_user(p, id, tok, data, x, touch)
	local s = served(p, id, tok)
	if not s then return 0 end
	if touch then
		local now = num(now_us())
		redis.call('HSET', s.k, 'd', data, 'x', x, 'l', now)
		redis.call('ZADD', s.l, 'XX', now, id)
	else
		redis.call('HSET', s.k, 'd', data, 'x', x)
	end
	if s.exp == x then return 1 end
	redis.call('PEXPIREAT', s.k, x)
	redis.call('ZADD', s.x, 'XX', x, id)
	keep(s.x, x)
	keep(s.l, x)
	keep(s.m, x)
	return 2
end

local function touch_user(p, id, tok)
	local s = served(p, id, tok)
	if s then
		local now = num(now_us())
		redis.call('HSET', s.k, 'l', now)
		redis.call('ZADD', s.l, 'XX', now, id)
	end
	return 1
end

-- retire deletes a browser's own sessions of u ({id, xk, lk, live}: its
-- previous ones at a login, its current one at a logout) and tells the
-- listeners of the live ones, with no reason.
local function retire(u, list, now)
	local gone = {}
	for _, s in ipairs(list) do
		redis.call('DEL', skey(u, s.id))
		redis.call('ZREM', s.xk, s.id)
		redis.call('ZREM', s.lk, s.id)
		if s.live then gone[#gone + 1] = s.id end
	end
	if #gone > 0 then publish(u, gone, '', '', now) end
end

-- login_args reads the ARGV of the login scripts: prefix, escaped user,
-- token, ID, data, expiry, Max, RejectNew, IP, User-Agent, the IDs whose
-- pointers the caller verified and those it found gone (Cluster), then an
-- ID and a token for each session the browser held before.
local function login_args()
	local a = {p = ARGV[2], tok = ARGV[3], id = ARGV[4], data = ARGV[5], x = tonumber(ARGV[6]),
		max = tonumber(ARGV[7]), reject = ARGV[8] == '1', ip = ARGV[9], ua = ARGV[10],
		verified = words(ARGV[11]), dead = words(ARGV[12]), rep = {}}
	for i = 13, #ARGV - 1, 2 do a.rep[#a.rep + 1] = {id = ARGV[i], tok = ARGV[i + 1]} end
	return a
end

-- login_plan reads what a login of a.p needs and decides. It returns the
-- function that applies it and its reply, and the kind of the reply:
-- 'ok' (the login), 'again' (a bounded step of pruning or repair was
-- needed first: call again), or 'check' and 'full', which change nothing.
-- check_ptr: a single Redis, where the script reads pointers itself.
local function login_plan(a, now, check_ptr)
	local nowms = floor(now / 1000)
	local u = user(a.p, true)
	local sk = skey(u, a.id)
	local cur = redis.call('HMGET', sk, 't', 'g')
	if cur[1] == a.tok then
		-- a retry of a login that was applied: apply nothing twice
		return function() return {'ok', 0, num(now), 0} end, 'ok'
	end
	-- the browser's previous sessions of this user
	local reps, skip, nskip = {}, {}, 0
	for _, r in ipairs(a.rep) do
		local f = redis.call('HMGET', skey(u, r.id), 't', 'g', 'x')
		if f[1] == r.tok then
			local s = {id = r.id, g = f[2], tok = r.tok}
			s.xk, s.lk = u.b .. ':x:' .. f[2], u.b .. ':l:' .. f[2]
			redis.call('ZCARD', s.xk)
			redis.call('ZCARD', s.lk)
			s.here = f[2] == u.gen and not u.broken and redis.call('ZSCORE', u.x, r.id) ~= false
			s.live = s.here and tonumber(f[3]) > nowms
			reps[#reps + 1] = s
			if s.here then skip[r.id] = true; nskip = nskip + 1 end
		end
	end
	-- the login is the user's latest event, whatever the clock says
	local at = now
	if u.gen and not u.broken then
		local top = redis.call('ZRANGE', u.l, 0, 0, 'REV', 'WITHSCORES')
		if top[2] and at <= tonumber(top[2]) then at = tonumber(top[2]) + 1 end
	end

	local expired, dead, ends, survivors = {}, {}, nil, {}
	if u.broken then
		ends = plan_end_all(u, {}, skip, nskip, '', '', now, nowms)
	elseif a.max > 0 and u.gen then
		for _, id in ipairs(redis.call('ZRANGE', u.x, '-inf', num(nowms), 'BYSCORE', 'LIMIT', 0, B)) do
			if not skip[id] then expired[#expired + 1] = {id = id} end
		end
		if #expired >= B then
			-- every expired session of the user goes first, a batch at a time
			return function() repair(u, {}, expired, now, nowms); return {'again'} end, 'again'
		end
		local live = redis.call('ZCOUNT', u.x, '(' .. num(nowms), '+inf')
		for _, s in ipairs(reps) do if s.live then live = live - 1 end end
		if live >= a.max then
			local want = a.max - 1
			if a.reject then want = a.max end
			local got, capped = walk(u, want, skip, nowms, a, check_ptr, want + B)
			for _, s in ipairs(got.expired) do expired[#expired + 1] = s end
			dead = got.dead
			if #got.check > 0 then
				local out = {'check'}
				for _, s in ipairs(got.check) do out[#out + 1] = s.id end
				return function() return out end, 'check'
			end
			if capped then
				return function() repair(u, dead, expired, now, nowms); return {'again'} end, 'again'
			end
			if a.reject and #got.good >= a.max then
				return function() return {'full', #got.good} end, 'full'
			end
			if not a.reject then
				survivors = got.good
				for _, s in ipairs(dead) do skip[s.id] = true; nskip = nskip + 1 end
				ends = plan_end_all(u, survivors, skip, nskip, 'login', a.ua, at, nowms)
			end
		end
	end
	local g = u.gen
	if not g then g = newgen(u, now) end

	return function()
		retire(u, reps, now)
		repair(u, dead, expired, now, nowms)
		local ended = 0
		if ends then ended = ends() end
		if not u.gen then
			redis.call('HSET', u.m, 'g', g)
			u.gen, u.x, u.l = g, u.b .. ':x:' .. g, u.b .. ':l:' .. g
		end
		if cur[1] then redis.call('DEL', sk) end
		redis.call('HSET', sk, 'd', a.data, 't', a.tok, 'x', num(a.x), 'c', num(at), 'l', num(at),
			'g', u.gen, 'ip', a.ip, 'ua', a.ua)
		redis.call('PEXPIREAT', sk, num(a.x))
		redis.call('ZADD', u.x, num(a.x), a.id)
		redis.call('ZADD', u.l, num(at), a.id)
		keep(u.x, a.x)
		keep(u.l, a.x)
		keep(u.m, a.x)
		local pending = 0
		if redis.call('SCARD', u.o) > 0 then pending = 1 end
		local out = {'ok', ended, num(at), pending}
		for _, s in ipairs(reps) do out[#out + 1] = s.id end
		return out
	end, 'ok'
end

-- logout_plan reads what a logout needs of one user: the browser's
-- sessions toks ({id, tok}), and, by mode, the user's other sessions
-- ('none': leave them; 'ifany': end them when one of toks was a session of
-- this user's current generation; 'always'). It returns the function that
-- applies it and returns how many sessions it deleted and how many other
-- live ones it ended.
local function logout_plan(u, toks, mode, ua, now)
	local nowms = floor(now / 1000)
	local own, skip, nskip, any = {}, {}, 0, false
	for _, t in ipairs(toks) do
		local f = redis.call('HMGET', skey(u, t.id), 't', 'g', 'x')
		if f[1] == t.tok then
			local s = {id = t.id, xk = u.b .. ':x:' .. f[2], lk = u.b .. ':l:' .. f[2]}
			redis.call('ZCARD', s.xk)
			redis.call('ZCARD', s.lk)
			s.here = f[2] == u.gen and not u.broken and redis.call('ZSCORE', u.x, t.id) ~= false
			s.live = s.here and tonumber(f[3]) > nowms
			any = any or s.here
			own[#own + 1] = s
			if s.here then skip[t.id] = true; nskip = nskip + 1 end
		end
	end
	local ends, n = nil, 0
	if mode == 'always' or (mode == 'ifany' and any) then
		ends, n = plan_end_all(u, {}, skip, nskip, 'logout', ua, now, nowms)
	end
	return function()
		retire(u, own, now)
		local ended = 0
		if ends then ended = ends() end
		return #own + n, ended
	end
end

-- clean deletes a batch of at most B sessions of u's old generation g (one
-- that was cut, or left behind by an eviction), records for each live one
-- the reason of g's grave, and forgets g once it is empty. It returns how
-- many expired sessions it deleted and whether g has more.
local function clean(u, g, now)
	local nowms = floor(now / 1000)
	local xk, lk = u.b .. ':x:' .. g, u.b .. ':l:' .. g
	redis.call('ZCARD', xk)
	redis.call('ZCARD', lk)
	local grave = redis.call('GET', u.b .. ':c:' .. g)
	local list = {}
	local z = redis.call('ZRANGE', xk, 0, B - 1, 'WITHSCORES')
	if #z == 0 then
		for _, id in ipairs(redis.call('ZRANGE', lk, 0, B - 1)) do z[#z + 1] = id; z[#z + 1] = '0' end
	end
	for i = 1, #z, 2 do
		local f = redis.call('HMGET', skey(u, z[i]), 'g', 'x')
		list[#list + 1] = {id = z[i], mine = f[1] == g, x = tonumber(f[2]) or tonumber(z[i + 1])}
	end
	local expired = 0
	for _, s in ipairs(list) do
		if s.mine then
			redis.call('DEL', skey(u, s.id))
			if s.x > nowms then
				if grave then redis.call('SET', u.b .. ':e:' .. s.id, '@' .. g, 'PXAT', num(s.x)) end
			else
				expired = expired + 1
			end
		end
		redis.call('ZREM', xk, s.id)
		redis.call('ZREM', lk, s.id)
	end
	if redis.call('EXISTS', xk, lk) == 0 then
		redis.call('SREM', u.o, g)
		return expired, false
	end
	return expired, true
end

-- prune deletes a batch of at most B expired sessions of u's current
-- generation. It returns how many and whether there are more.
local function prune(u, now)
	local nowms = floor(now / 1000)
	local ids = redis.call('ZRANGE', u.x, '-inf', num(nowms), 'BYSCORE', 'LIMIT', 0, B)
	local n = 0
	for _, id in ipairs(ids) do
		n = n + redis.call('DEL', skey(u, id))
		redis.call('ZREM', u.x, id)
		redis.call('ZREM', u.l, id)
	end
	return n, #ids == B
end
`

var (
	// scriptFindSingle: KEYS anonymous session, pointer; ARGV prefix,
	// token, ID. Replies {0} (none), {1, data, escaped user or '', last
	// seen (µs) or '', expiry} or {2, reason, at, user agent}.
	scriptFindSingle = newScript(`
local d = redis.call('GET', KEYS[1])
if d then return {1, d, '', '', redis.call('PEXPIRETIME', KEYS[1])} end
local p = redis.call('GET', KEYS[2])
if not p then return {0} end
return find_user(p, ARGV[3], ARGV[2])
`)

	// scriptFindKnown: a single Redis, for a token whose user this process
	// knows (see pointerCache). KEYS pointer, the user's meta; ARGV prefix,
	// escaped user, token, ID. Replies as scriptFindSingle, or {3} when the
	// pointer is gone (the caller asks scriptFindSingle).
	scriptFindKnown = newScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {3} end
return find_user(ARGV[2], ARGV[4], ARGV[3])
`)

	// scriptFindToken: the token's slot. KEYS anonymous session, pointer.
	// Replies {0}, {1, data, '', '', expiry} or {3, escaped user}.
	scriptFindToken = newScript(`
local d = redis.call('GET', KEYS[1])
if d then return {1, d, '', '', redis.call('PEXPIRETIME', KEYS[1])} end
local p = redis.call('GET', KEYS[2])
if p then return {3, p} end
return {0}
`)

	// scriptFindUser: the user's slot. KEYS the user's meta; ARGV prefix,
	// escaped user, token, ID.
	scriptFindUser = newScript(`
return find_user(ARGV[2], ARGV[4], ARGV[3])
`)

	// scriptUpdateSingle: KEYS anonymous session, pointer; ARGV prefix,
	// token, ID, data, expiry (ms), touch. Replies 1 or 2 (saved) or 0 (no
	// session).
	scriptUpdateSingle = newScript(`
if redis.call('SET', KEYS[1], ARGV[4], 'XX', 'PXAT', ARGV[5]) then return 1 end
local p = redis.call('GET', KEYS[2])
if not p then return 0 end
local r = update_user(p, ARGV[3], ARGV[2], ARGV[4], ARGV[5], ARGV[6] == '1')
if r == 2 then redis.call('PEXPIREAT', KEYS[2], ARGV[5], 'GT') end
return r
`)

	// scriptUpdateKnown: a single Redis, for a token whose user this
	// process knows. KEYS pointer; ARGV prefix, escaped user, token, ID,
	// data, expiry (ms), touch. Replies as scriptUpdateSingle, or 3 when
	// the pointer is gone (the caller asks scriptUpdateSingle).
	scriptUpdateKnown = newScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 3 end
local r = update_user(ARGV[2], ARGV[4], ARGV[3], ARGV[5], ARGV[6], ARGV[7] == '1')
if r == 2 then redis.call('PEXPIREAT', KEYS[1], ARGV[6], 'GT') end
return r
`)

	// scriptUpdateToken: the token's slot. KEYS anonymous session, pointer;
	// ARGV prefix, data, expiry (ms). Replies {1} (saved), {0} (no session)
	// or {2, escaped user} (a signed-in session: save it in the user's slot;
	// its pointer is extended to the new expiry).
	scriptUpdateToken = newScript(`
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

	// scriptUpdateUser: the user's slot. KEYS the user's meta; ARGV
	// prefix, escaped user, token, ID, data, expiry (ms), touch. Replies as
	// update_user.
	scriptUpdateUser = newScript(`
return update_user(ARGV[2], ARGV[4], ARGV[3], ARGV[5], ARGV[6], ARGV[7] == '1')
`)

	// scriptTouchSingle: KEYS pointer; ARGV prefix, token, ID.
	scriptTouchSingle = newScript(`
local p = redis.call('GET', KEYS[1])
if p then touch_user(p, ARGV[3], ARGV[2]) end
return 1
`)

	// scriptTouchUser: the user's slot. KEYS the user's meta; ARGV prefix,
	// escaped user, token, ID.
	scriptTouchUser = newScript(`
return touch_user(ARGV[2], ARGV[4], ARGV[3])
`)

	// scriptLoginSingle: KEYS the user's meta; ARGV see login_args. It also
	// deletes the browser's previous sessions that were anonymous or
	// another user's, and writes the new token's pointer. Replies {'ok',
	// ended, at, pending cleanup, IDs of the replaced sessions of the
	// user}, {'full', live sessions}, or {'again'}.
	scriptLoginSingle = newScript(`
local a = login_args()
local now = now_us()
local elsewhere = {}
for _, r in ipairs(a.rep) do
	redis.call('STRLEN', anon(r.id, r.tok))
	local q = redis.call('GET', ptr(r.id))
	if q and q ~= a.p then
		local other = user(q, true)
		elsewhere[#elsewhere + 1] = {u = other, apply = logout_plan(other, {r}, 'none', '', now)}
	end
end
local apply, kind = login_plan(a, now, true)
if kind ~= 'ok' then return apply() end
for _, r in ipairs(a.rep) do redis.call('DEL', anon(r.id, r.tok)) end
for _, e in ipairs(elsewhere) do e.apply() end
redis.call('SET', ptr(a.id), a.p, 'PXAT', num(a.x))
return apply()
`)

	// scriptLoginUser: the user's slot. KEYS the user's meta; ARGV see
	// login_args. The caller has written the new token's pointer. Replies
	// as scriptLoginSingle, or {'check', IDs}: the pointers of those
	// sessions are to be verified before the login can decide.
	scriptLoginUser = newScript(`
local apply = login_plan(login_args(), now_us(), false)
return apply()
`)

	// scriptLogoutSingle: KEYS the user's meta (or any key); ARGV prefix,
	// escaped user ('' for none), mode, user agent, then an ID and a token
	// for each of the browser's sessions. Replies {deleted, ended, now, then
	// the users with generations left to clean}.
	scriptLogoutSingle = newScript(`
local myp, mode, ua = ARGV[2], ARGV[3], ARGV[4]
local toks = {}
for i = 5, #ARGV - 1, 2 do toks[#toks + 1] = {id = ARGV[i], tok = ARGV[i + 1]} end
local now = now_us()
local groups, order = {}, {}
for _, t in ipairs(toks) do
	redis.call('STRLEN', anon(t.id, t.tok))
	local q = redis.call('GET', ptr(t.id)) or myp
	if q ~= '' then
		if not groups[q] then groups[q] = {}; order[#order + 1] = q end
		table.insert(groups[q], t)
	end
end
if myp ~= '' and not groups[myp] then groups[myp] = {}; order[#order + 1] = myp end
local plans = {}
for _, q in ipairs(order) do
	local m = 'none'
	if q == myp then m = mode end
	plans[#plans + 1] = logout_plan(user(q, true), groups[q], m, ua, now)
end
local deleted, ended = 0, 0
for _, t in ipairs(toks) do
	deleted = deleted + redis.call('DEL', anon(t.id, t.tok))
	redis.call('DEL', ptr(t.id))
end
for _, apply in ipairs(plans) do
	local d, e = apply()
	deleted = deleted + d; ended = ended + e
end
local out = {deleted, ended, num(now)}
for _, q in ipairs(order) do
	if redis.call('SCARD', P .. 'u:{' .. q .. '}:o') > 0 then out[#out + 1] = q end
end
return out
`)

	// scriptTake: the token's slot. KEYS anonymous session, pointer.
	// Deletes the anonymous session; replies {deleted, escaped user or '',
	// now}. The pointer stays: it may only disappear with its session (an
	// expiry or an eviction), so that a missing pointer always means an
	// unreachable session.
	scriptTake = newScript(`
redis.call('STRLEN', KEYS[1])
local q = redis.call('GET', KEYS[2])
local d = redis.call('DEL', KEYS[1])
return {d, q or '', num(now_us())}
`)

	// scriptLogoutUser: the user's slot. KEYS the user's meta; ARGV prefix,
	// escaped user, mode, user agent, then an ID and a token for each of
	// the browser's sessions. Replies {deleted, ended, now, pending}.
	scriptLogoutUser = newScript(`
local toks = {}
for i = 5, #ARGV - 1, 2 do toks[#toks + 1] = {id = ARGV[i], tok = ARGV[i + 1]} end
local now = now_us()
local u = user(ARGV[2], true)
local d, e = logout_plan(u, toks, ARGV[3], ARGV[4], now)()
local pending = 0
if redis.call('SCARD', u.o) > 0 then pending = 1 end
return {d, e, num(now), pending}
`)

	// scriptEndUsers: KEYS the first user's meta; ARGV prefix, reason, user
	// agent, escaped users. Replies {now, then ended and pending for each
	// user}. On Cluster it is called with one user at a time.
	scriptEndUsers = newScript(`
local now = now_us()
local nowms = floor(now / 1000)
local plans = {}
for i = 4, #ARGV do
	local u = user(ARGV[i], true)
	plans[#plans + 1] = {u = u, apply = plan_end_all(u, {}, {}, 0, ARGV[2], ARGV[3], now, nowms)}
end
local out = {num(now)}
for _, p in ipairs(plans) do
	out[#out + 1] = p.apply()
	local pending = 0
	if redis.call('SCARD', p.u.o) > 0 then pending = 1 end
	out[#out + 1] = pending
end
return out
`)

	// scriptEndSessions: the user's slot. KEYS the user's meta; ARGV
	// prefix, escaped user, mode ('ids' or 'keep'), the asking session's ID
	// and token ('' for operators), reason, user agent, check pointers
	// ('1' on a single Redis), IDs. Replies {ended, now, pending}, or {-1,
	// now, 0} when the asking session is not a live session of the user
	// that a browser can reach.
	scriptEndSessions = newScript(`
local u = user(ARGV[2], true)
local now = now_us()
local nowms = floor(now / 1000)
local byid, bytok, reason, ua = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local survivors = {}
if bytok ~= '' then
	local f = redis.call('HMGET', skey(u, byid), 't', 'g', 'x', 'l')
	local ok = f[1] == bytok and u.gen ~= false and f[2] == u.gen and not u.broken and
		tonumber(f[3]) > nowms and redis.call('ZSCORE', u.x, byid) ~= false
	if ok and ARGV[8] == '1' then ok = redis.call('GET', ptr(byid)) == u.p end
	if not ok then return {-1, num(now), 0} end
	survivors[1] = {id = byid, x = tonumber(f[3]), l = tonumber(f[4])}
end
local apply
if ARGV[3] == 'ids' then
	local list = {}
	if u.gen and not u.broken then
		for i = 9, #ARGV do
			local x = redis.call('ZSCORE', u.x, ARGV[i])
			if x then
				list[#list + 1] = {id = ARGV[i], x = tonumber(x), exists = redis.call('EXISTS', skey(u, ARGV[i])) == 1}
			end
		end
	end
	apply = function() return drop_all(u, list, reason, ua, now, nowms) end
else
	apply = plan_end_all(u, survivors, {}, 0, reason, ua, now, nowms)
end
local n = apply()
local pending = 0
if redis.call('SCARD', u.o) > 0 then pending = 1 end
return {n, num(now), pending}
`)

	// scriptSessions: the user's slot. KEYS the user's meta; ARGV prefix,
	// escaped user, the position after which the page starts (last seen in
	// µs, or '' for the start, and ID), limit, check pointers ('1' on a
	// single Redis), the IDs whose pointers the caller found gone. Replies
	// {'again'} after a bounded step of repair, or {total, then ID,
	// created, expiry, last seen, IP and user agent of each session of the
	// page}.
	scriptSessions = newScript(`
local u = user(ARGV[2], true)
local now = now_us()
local nowms = floor(now / 1000)
local afterl, afterid, limit = ARGV[3], ARGV[4], tonumber(ARGV[5])
local a = {dead = words(ARGV[7]), verified = {}}
if not u.gen or u.broken then return {0} end
local page, dead, expired = {}, {}, {}
local met = 0
local function consider(id)
	local k, s = candidate(u, id, nowms, a, ARGV[6] == '1')
	met = met + 1
	if k == 'dead' then dead[#dead + 1] = s
	elseif k == 'expired' then expired[#expired + 1] = s
	else page[#page + 1] = id end
	return #page >= limit or met >= limit + B
end
local done = limit <= 0
-- from_rank considers the sessions from the rank start down
local function from_rank(start)
	while not done do
		local ids = redis.call('ZRANGE', u.l, start, start + limit + 9, 'REV')
		if #ids == 0 then return end
		start = start + #ids
		for _, id in ipairs(ids) do
			done = consider(id)
			if done then return end
		end
	end
end
if done then
elseif afterl == '' then
	from_rank(0)
elseif tonumber(redis.call('ZSCORE', u.l, afterid) or '-1') == tonumber(afterl) then
	-- the position's session is still there: the page starts right after it
	from_rank(redis.call('ZREVRANK', u.l, afterid) + 1)
else
	-- the sessions last seen at the position's time with a smaller ID
	-- (ties of a microsecond: a handful at most), then those last seen
	-- before it
	for _, id in ipairs(redis.call('ZRANGE', u.l, afterl, afterl, 'BYSCORE', 'REV', 'LIMIT', 0, limit + B)) do
		if not done and before(id, afterid) then done = consider(id) end
	end
	local offset = 0
	while not done do
		local ids = redis.call('ZRANGE', u.l, '(' .. afterl, '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, limit + 10)
		if #ids == 0 then break end
		offset = offset + #ids
		for _, id in ipairs(ids) do
			done = consider(id)
			if done then break end
		end
	end
end
repair(u, dead, expired, now, nowms)
if #page < limit and met >= limit + B then return {'again'} end
local out = {redis.call('ZCOUNT', u.x, '(' .. num(nowms), '+inf')}
for _, id in ipairs(page) do
	local f = redis.call('HMGET', skey(u, id), 'c', 'x', 'l', 'ip', 'ua')
	out[#out + 1] = id
	for j = 1, 5 do out[#out + 1] = f[j] or '' end
end
return out
`)

	// scriptCount: KEYS the first user's meta; ARGV prefix, check pointers
	// ('1' on a single Redis), escaped users. Replies, for each user, how
	// many live sessions it holds and how many IDs follow: for a user with
	// at most E, every session is verified (its hash, its generation and,
	// on a single Redis, its pointer; unreachable ones are ended), and on
	// Cluster the IDs whose pointers the caller must verify follow. On
	// Cluster it is called with one user at a time.
	scriptCount = newScript(`
local now = now_us()
local nowms = floor(now / 1000)
local check_ptr = ARGV[2] == '1'
local out = {}
local plans = {}
for i = 3, #ARGV do
	local u = user(ARGV[i], true)
	local n, ids, dead = 0, {}, {}
	if u.gen and not u.broken then
		n = redis.call('ZCOUNT', u.x, '(' .. num(nowms), '+inf')
		if n <= E then
			for _, id in ipairs(redis.call('ZRANGE', u.x, '(' .. num(nowms), '+inf', 'BYSCORE')) do
				local k, s = candidate(u, id, nowms, {dead = {}, verified = {}}, check_ptr)
				if k == 'dead' then dead[#dead + 1] = s
				elseif k == 'check' then ids[#ids + 1] = id end
			end
		end
	end
	plans[#plans + 1] = {u = u, n = n, ids = ids, dead = dead}
end
for _, p in ipairs(plans) do
	if #p.dead > 0 then repair(p.u, p.dead, {}, now, nowms) end
	out[#out + 1] = p.n - #p.dead
	out[#out + 1] = #p.ids
	for _, id in ipairs(p.ids) do out[#out + 1] = id end
end
return out
`)

	// scriptEndDead: the user's slot. KEYS the user's meta; ARGV prefix,
	// escaped user, IDs whose pointers are gone. Ends those of them that
	// are sessions of the user's current generation (fail closed: no
	// browser can reach them). Replies how many.
	scriptEndDead = newScript(`
local u = user(ARGV[2], true)
local now = now_us()
if not u.gen or u.broken then return 0 end
local dead = {}
for i = 3, #ARGV do
	local f = redis.call('HMGET', skey(u, ARGV[i]), 'g')
	if redis.call('ZSCORE', u.x, ARGV[i]) then
		local s = {id = ARGV[i]}
		if f[1] == u.gen then s.x = 0 end
		dead[#dead + 1] = s
	end
end
return repair(u, dead, {}, now, floor(now / 1000))
`)

	// scriptClean: the user's slot. KEYS the user's meta; ARGV prefix,
	// escaped user. Cleans a batch of one of the user's old generations.
	// Replies {expired sessions deleted, 1 when there is more to clean}.
	scriptClean = newScript(`
local u = user(ARGV[2], true)
local now = now_us()
local g = redis.call('SRANDMEMBER', u.o)
if not g then return {0, 0} end
if g == u.gen then
	redis.call('SREM', u.o, g)
	return {0, 1}
end
local n = clean(u, g, now)
local more = 0
if redis.call('SCARD', u.o) > 0 then more = 1 end
return {n, more}
`)

	// scriptTidy: the user's slot, for DeleteExpired. KEYS the user's
	// meta; ARGV prefix, escaped user, a generation. Prunes a batch of
	// expired sessions of the current generation, or cleans a batch of an
	// old one. Replies {expired sessions deleted, 1 when there is more}.
	scriptTidy = newScript(`
local u = user(ARGV[2], true)
local now = now_us()
local g = ARGV[3]
local n, more
if g == u.gen and not u.broken then
	n, more = prune(u, now)
else
	if g ~= u.gen then
		redis.call('ZCARD', u.b .. ':x:' .. g)
		redis.call('ZCARD', u.b .. ':l:' .. g)
	end
	n, more = clean(u, g, now)
end
if more then return {n, 1} end
return {n, 0}
`)
)
