package storage

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The outbox holds every message the bot has still to send to Telegram.
// Handlers and jobs Enqueue; sender workers on any replica Claim what
// Telegram's limits allow now, send it, and Complete or Retry it. The
// limits live here, in Redis, so that every replica and every restart
// shares one account of what was sent (see OutboxLimits).
//
// Keys, tag {ob} (one slot: the claim script checks the global limit and a
// chat's queue together):
//
//	<p>:{ob}:i:<id>        hash    a waiting or claimed item: chat, kind, prio, body, ref,
//	                               eref, once, att (claims so far), tok (fencing token of
//	                               the current claim), unc (1: a claim may have sent it),
//	                               qe (its queue entry, when not the bare id); an item with
//	                               a coalescing key has none until its first claim
//	<p>:{ob}:cm:<key>      string  the waiting (unclaimed) item of a coalescing key, as
//	                               "<kind>|<once>|<ref>|<eref>|<body>": a newer item of the
//	                               key only replaces it (SET XX), and the claim moves it
//	                               into the item's hash
//	<p>:{ob}:cb:<key>      string  the same, body only, beside an item hash with "coal"
//	                               (items queued before cm: still claimed, no longer written)
//	<p>:{ob}:q:<chat>      list    the chat's waiting items, oldest first: the id, or
//	                               "<id>|<prio>|<key>" for an item of a coalescing key
//	<p>:{ob}:ready:0       zset    chats whose head item is an answer -> earliest send (ms)
//	<p>:{ob}:ready:1       zset    chats whose head item is fan-out -> earliest send (ms)
//	<p>:{ob}:flight        zset    chats whose head item is being sent -> lease expiry (ms)
//	<p>:{ob}:d:<id>        string  outcome of a finished item ("m:<message id>", "x:<reason>");
//	                               expires after the done TTL, and makes Enqueue of the
//	                               same id a no-op meanwhile
//	<p>:{ob}:refs          hash    reference name -> message id of a delivered message
//	<p>:{ob}:hold          string  unix ms before which nothing is sent (a 429 without chat)
//	<p>:{ob}:seq           string  INCR counter: fencing tokens and unique log members
//	<p>:{ob}:rl:g          zset    sliding log of recent sends and edits, all chats (ms)
//	<p>:{ob}:rl:w:<chat>   zset    sliding log of recent sends to a group (ms)
//	<p>:{ob}:rl:c:<chat>   string  GCRA theoretical arrival time of the chat's next send (ms)
//	<p>:{ob}:rl:e:<chat>   string  the same for edits
//
// A chat has at most one item in flight, so its messages leave in order.

// OutboxKind says which of Telegram's limits an item is subject to.
type OutboxKind string

// Outbox item kinds.
const (
	// OutboxSend posts a message: global, per-chat and per-group limits.
	OutboxSend OutboxKind = "send"
	// OutboxEdit changes a message: global limit and a gentler per-chat one.
	OutboxEdit OutboxKind = "edit"
	// OutboxOther is not a message (a chat action): no limit, queue order only.
	OutboxOther OutboxKind = "other"
)

// Outbox priorities: answers to the person who just acted go before fan-out.
const (
	PriorityAnswer = 0
	PriorityFanOut = 1
)

// DefaultOutboxDoneTTL is how long a finished item's outcome is kept, so
// that enqueueing the same id again (a redelivered update, a job run
// again) sends nothing.
const DefaultOutboxDoneTTL = 7 * 24 * time.Hour

// MaxOutboxBody bounds one item's body (a document included), so that one
// item cannot fill Redis's memory.
const MaxOutboxBody = 20 << 20

// ErrOutboxID means an item id with characters a key may not hold.
var ErrOutboxID = errors.New("outbox id must be 1–200 of A-Z a-z 0-9 . _ - : #")

var outboxIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:#-]{1,200}$`)

// OutboxItem is one call waiting to be made.
type OutboxItem struct {
	// ID names the item. Enqueueing an id that is waiting or finished
	// (within the done TTL) does nothing, so callers derive ids from what
	// causes the message (the update and the reply's number, the job and
	// the delivery key) and a retried handler or job sends nothing twice.
	ID string
	// Chat is the chat_id the call goes to ("123", "-100…", "@channel").
	Chat string
	// Kind selects the limits.
	Kind OutboxKind
	// Priority is PriorityAnswer or PriorityFanOut.
	Priority int
	// Body is the call itself, opaque to the store.
	Body []byte
	// Coalesce, if set, makes a newer item with the same key replace a
	// waiting one's body instead of queueing behind it: only the latest
	// state of an edited message goes out.
	Coalesce string
	// Fresh says the caller knows the id was never enqueued (it follows a
	// change Redis just made for the first time): Enqueue skips looking
	// for it.
	Fresh bool
	// Ref, if set, records the delivered message's id under this name.
	Ref string
	// EditRef, if set, names the Ref of the message this edit changes; it
	// is resolved when the item is claimed (OutboxDelivery.RefMessage).
	EditRef string
	// Once asks for at most one delivery: if a claim of this item may have
	// sent it (the worker vanished mid-call), it is not sent again.
	Once bool
}

// Validate reports what is wrong with the item.
func (it OutboxItem) Validate() error {
	var errs []error
	if !outboxIDPattern.MatchString(it.ID) {
		errs = append(errs, ErrOutboxID)
	}
	if it.Chat == "" || strings.ContainsAny(it.Chat, "{}: ") {
		errs = append(errs, errors.New("outbox item needs a chat id"))
	}
	if strings.Contains(it.Ref, "|") || strings.Contains(it.EditRef, "|") {
		errs = append(errs, errors.New("outbox refs may not hold |"))
	}
	switch it.Kind {
	case OutboxSend, OutboxEdit, OutboxOther:
	default:
		errs = append(errs, fmt.Errorf("outbox kind %q", it.Kind))
	}
	if it.Priority != PriorityAnswer && it.Priority != PriorityFanOut {
		errs = append(errs, fmt.Errorf("outbox priority %d", it.Priority))
	}
	if len(it.Body) == 0 || len(it.Body) > MaxOutboxBody {
		errs = append(errs, fmt.Errorf("outbox body of %d bytes", len(it.Body)))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// OutboxLimits are Telegram's limits as the outbox keeps them, with a
// margin: a sliding log guarantees that no window of Window ever holds
// more than Max sends, whatever the number of replicas, and a window a
// little longer than Telegram's absorbs the jitter between the moment a
// send is booked and the moment it reaches Telegram.
type OutboxLimits struct {
	// GlobalMax messages (sends and edits) in any GlobalWindow, all chats.
	GlobalMax    int
	GlobalWindow time.Duration
	// GroupMax sends in any GroupWindow to one group or channel.
	GroupMax    int
	GroupWindow time.Duration
	// ChatInterval is the spacing of sends to one chat, ChatBurst how many
	// may go at once after a quiet spell (GCRA).
	ChatInterval time.Duration
	ChatBurst    int
	// EditInterval and EditBurst are the same for edits.
	EditInterval time.Duration
	EditBurst    int
}

// DefaultOutboxLimits follow Telegram's published limits — about 30
// messages a second overall, one a second per chat, twenty a minute per
// group — with a 5 % margin on every window.
func DefaultOutboxLimits() OutboxLimits {
	return OutboxLimits{
		GlobalMax: 30, GlobalWindow: 1050 * time.Millisecond,
		GroupMax: 20, GroupWindow: 63 * time.Second,
		ChatInterval: 1050 * time.Millisecond, ChatBurst: 3,
		EditInterval: 525 * time.Millisecond, EditBurst: 5,
	}
}

// args are the limits as the claim script takes them (ARGV[6..13]). A
// zero GlobalMax or GroupMax turns that limit off, and so does a zero
// interval: tests that do not measure pacing use OutboxLimits{}.
func (l OutboxLimits) args() []any {
	ms := func(d time.Duration) int64 { return max(d.Milliseconds(), 0) }
	return []any{l.GlobalMax, ms(l.GlobalWindow), l.GroupMax, ms(l.GroupWindow),
		ms(l.ChatInterval), max(l.ChatBurst, 1), ms(l.EditInterval), max(l.EditBurst, 1)}
}

// OutboxDelivery is a claimed item: the caller must send it and then
// Complete or Retry it with Token.
type OutboxDelivery struct {
	ID    string
	Chat  string
	Kind  OutboxKind
	Body  []byte
	Token int64
	// Attempt counts the claims of the item, this one included.
	Attempt int
	// Uncertain means an earlier claim's lease ran out: that worker may
	// have sent the item before vanishing.
	Uncertain bool
	// Once is the item's Once.
	Once bool
	// EditRef is the item's EditRef; RefMessage the message id recorded
	// under it (0 when nothing is recorded: the message was never
	// delivered).
	EditRef    string
	RefMessage int64
	// Ref is the item's Ref.
	Ref string
}

// Outbox is the Redis store of outgoing messages.
type Outbox struct {
	c       redis.UniversalClient
	p       string // <prefix>:{ob}:
	limits  OutboxLimits
	doneTTL time.Duration
	now     func() time.Time
}

// NewOutbox returns the outbox over c with Telegram's limits l.
func NewOutbox(c redis.UniversalClient, k Keys, l OutboxLimits, opts ...Option) *Outbox {
	s := newSettings(opts)
	return &Outbox{c: c, p: k.prefix + ":{ob}:", limits: l, doneTTL: DefaultOutboxDoneTTL, now: s.now}
}

func (o *Outbox) key(parts ...string) string { return o.p + strings.Join(parts, ":") }

// outboxEnqueueScript adds an item unless it is known.
//
// KEYS[1] -> <p>:{ob}:i:<id>
// KEYS[2] -> <p>:{ob}:d:<id>
// KEYS[3] -> <p>:{ob}:q:<chat>
// KEYS[4] -> <p>:{ob}:ready:<prio>
// KEYS[5] -> <p>:{ob}:cm:<coalescing key> (KEYS[1] again for none)
// ARGV[1] -> id
// ARGV[2] -> chat
// ARGV[3] -> kind
// ARGV[4] -> prio
// ARGV[5] -> body
// ARGV[6] -> coalescing key ("" for none)
// ARGV[7] -> ref ("" for none)
// ARGV[8] -> edit ref ("" for none)
// ARGV[9] -> once ("1" or "0")
// ARGV[10] -> now (unix ms)
// ARGV[11] -> "1": the id is new (OutboxItem.Fresh), no need to look for it
//
// Returns "queued", "known" (waiting or finished already: nothing done) or
// "merged" (a waiting item with the same coalescing key took the body).
//
// An item of a coalescing key is one SET (which merges it into a waiting
// one, or keeps it for its first claim) and its queue entry: a fresh edit
// of a message takes three commands, one when an edit of it waits. The
// chat is marked ready when its queue was empty; a chat whose head is
// claimed meanwhile (a lapsed claim finished by another) is skipped by the
// claim until that head is finished.
var outboxEnqueueScript = redis.NewScript(`
if ARGV[11] ~= '1' and redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 'known' end
local entry = ARGV[1]
if ARGV[6] ~= '' then
  local v = ARGV[3] .. '|' .. ARGV[9] .. '|' .. ARGV[7] .. '|' .. ARGV[8] .. '|' .. ARGV[5]
  if redis.call('SET', KEYS[5], v, 'GET') then return 'merged' end
  entry = ARGV[1] .. '|' .. ARGV[4] .. '|' .. ARGV[6]
else
  redis.call('HSET', KEYS[1], 'chat', ARGV[2], 'kind', ARGV[3], 'prio', ARGV[4], 'body', ARGV[5],
    'ref', ARGV[7], 'eref', ARGV[8], 'once', ARGV[9], 'att', 0)
end
if redis.call('RPUSH', KEYS[3], entry) == 1 then
  redis.call('ZADD', KEYS[4], 'NX', ARGV[10], ARGV[2])
end
return 'queued'
`)

// EnqueueResult says what Enqueue did.
type EnqueueResult string

// Results of Enqueue.
const (
	Queued EnqueueResult = "queued"
	Known  EnqueueResult = "known"
	Merged EnqueueResult = "merged"
)

// Enqueue adds it to its chat's queue: one atomic, idempotent step.
// Errors: ErrInvalid for an item that fails Validate.
func (o *Outbox) Enqueue(ctx context.Context, it OutboxItem) (EnqueueResult, error) {
	if err := it.Validate(); err != nil {
		return "", fmt.Errorf("enqueue: %w", err)
	}
	once := "0"
	if it.Once {
		once = "1"
	}
	body := o.key("i", it.ID)
	fresh := "0"
	if it.Coalesce != "" {
		body = o.key("cm", it.Coalesce)
	}
	if it.Fresh {
		fresh = "1"
	}
	keys := []string{o.key("i", it.ID), o.key("d", it.ID), o.key("q", it.Chat),
		o.key("ready", strconv.Itoa(it.Priority)), body}
	v, err := runScript(ctx, o.c, outboxEnqueueScript, keys, it.ID, it.Chat, string(it.Kind), it.Priority,
		it.Body, it.Coalesce, it.Ref, it.EditRef, once, unixMilli(o.now()), fresh)
	if err != nil {
		return "", fmt.Errorf("enqueue %s: %w", it.ID, err)
	}
	s, _ := v.(string)
	return EnqueueResult(s), nil
}

// claimScript takes the items that may be sent now.
//
// KEYS[1] -> <p>:{ob}:ready:0
// KEYS[2] -> <p>:{ob}:ready:1
// KEYS[3] -> <p>:{ob}:flight
// KEYS[4] -> <p>:{ob}:rl:g
// KEYS[5] -> <p>:{ob}:hold
// KEYS[6] -> <p>:{ob}:seq
// KEYS[7] -> <p>:{ob}:refs
// ARGV[1] -> key prefix <p>:{ob}: (queue, item and limit keys are built
//
//	from the chats and ids found in the sets; they share the tag)
//
// ARGV[2] -> now (unix ms)
// ARGV[3] -> lease (ms)
// ARGV[4] -> at most this many items
// ARGV[5] -> look at most at this many ready chats per priority
// ARGV[6..13] -> limits: global max, global window, group max, group
//
//	window, chat interval, chat burst, edit interval, edit burst (ms)
//
// Returns {items, wait, blocked}: items as {id, chat, kind, body, token,
// attempt, uncertain, once, eref, ref message id, ref}; wait is 0 when items
// were claimed, else the ms until something may be sendable (-1: nothing
// waits); blocked is 1 when a hold or the global limit stopped the claim, so
// that nothing enqueued meanwhile can be sent before wait either.
//
// First, chats whose lease ran out go back to ready with their head item
// marked uncertain. Then answers before fan-out, a chat at most once: a
// chat whose own limit (GCRA per chat, sliding log per group) refuses its
// head is moved to the moment it will be allowed, so the scan never sees
// it again before then; a chat whose head is being sent (claimed, with a
// token) leaves the ready sets, its finish puts it back. An item of a
// coalescing key is taken from cm:<key> into its hash, with its queue
// entry (qe) for the finish. Booked sends enter the logs at now. Work is
// bounded by ARGV[5] per priority.
var outboxClaimScript = redis.NewScript(`
local p = ARGV[1]
local now = tonumber(ARGV[2])
local gmax, gwin = tonumber(ARGV[6]), tonumber(ARGV[7])
local wmax, wwin = tonumber(ARGV[8]), tonumber(ARGV[9])
local cint, cburst = tonumber(ARGV[10]), tonumber(ARGV[11])
local eint, eburst = tonumber(ARGV[12]), tonumber(ARGV[13])

-- A queue entry: the item's id, or "<id>|<prio>|<coalescing key>" for an
-- item kept under cm:<key> until its first claim.
local function parseEntry(e)
  local id, prio, coal = string.match(e, '^([^|]*)|([^|]*)|(.*)$')
  if id then return id, prio, coal end
  return e, nil, nil
end

for _, chat in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 16)) do
  redis.call('ZREM', KEYS[3], chat)
  local head = redis.call('LINDEX', p .. 'q:' .. chat, 0)
  if head then
    local hid, hprio = parseEntry(head)
    local ik = p .. 'i:' .. hid
    local h = redis.call('HMGET', ik, 'prio', 'tok')
    if h[2] then
      redis.call('HSET', ik, 'unc', 1)
      redis.call('HDEL', ik, 'tok')
    end
    local prio = h[1] or hprio or '1'
    redis.call('ZADD', prio == '0' and KEYS[1] or KEYS[2], now, chat)
  end
end

local function nextWait()
  local best = -1
  for i = 1, 2 do
    local f = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    if f[2] then
      local d = math.max(tonumber(f[2]) - now, 1)
      if best < 0 or d < best then best = d end
    end
  end
  return best
end

local hold = tonumber(redis.call('GET', KEYS[5]) or '0')
if hold > now then return {{}, hold - now, 1} end

local gcount = 0
if gmax > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - gwin)
  gcount = redis.call('ZCARD', KEYS[4])
end
local function globalFull()
  return gmax > 0 and gcount >= gmax
end
local function globalWait()
  local f = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  local w = 1
  if f[2] then w = math.max(tonumber(f[2]) + gwin - now, 1) end
  local n = nextWait()
  if n < 0 then return -1 end
  return math.max(w, n)
end

local out = {}
local limit = tonumber(ARGV[4])
-- Fencing tokens (also the members of the logs): one INCRBY reserves a
-- claim's worth.
local base, used = 0, limit
local function nextToken()
  if used >= limit then
    base = redis.call('INCRBY', KEYS[6], limit) - limit
    used = 0
  end
  used = used + 1
  return base + used
end
local gbooked = false
for i = 1, 2 do
  if #out >= limit then break end
  local chats = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
  for _, chat in ipairs(chats) do
    if #out >= limit then break end
    local q = p .. 'q:' .. chat
    local entry = redis.call('LINDEX', q, 0)
    local id, eprio, ecoal
    if entry then id, eprio, ecoal = parseEntry(entry) end
    local ik = id and p .. 'i:' .. id
    local h = ik and redis.call('HMGET', ik, 'kind', 'body', 'att', 'unc', 'once', 'eref', 'coal', 'ref', 'tok')
    local fromcm = false
    if h and not h[1] and ecoal then
      -- An item of a coalescing key waits whole under cm:<key> until its
      -- first claim, so that newer edits of the message could replace it.
      local v = redis.call('GET', p .. 'cm:' .. ecoal)
      if v then
        local kind, once, ref, eref, body = string.match(v, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
        if kind then
          h = {kind, body, '0', false, once, eref, '', ref, false}
          fromcm = true
        end
      end
    end
    if not entry then
      redis.call('ZREM', KEYS[i], chat)
    elseif h[9] then
      -- Its head is being sent (a lapsed claim finished by another let
      -- the chat be marked ready): its finish moves the chat on.
      redis.call('ZREM', KEYS[i], chat)
    else
      if not h[1] then
        redis.call('LPOP', q)
      else
        local fromcb = false
        if not h[2] and h[7] and h[7] ~= '' then
          fromcb = true
          -- An item queued before cm: its body beside it, under cb:<key>.
          h[2] = redis.call('GET', p .. 'cb:' .. h[7]) or ''
        end
        local kind = h[1]
        local allowAt = now
        local tatKey, tat, int
        if kind ~= 'other' then
          if globalFull() then
            if gbooked then redis.call('PEXPIRE', KEYS[4], gwin + 1000) end
            if #out > 0 then return {out, 0, 1} end
            return {out, globalWait(), 1}
          end
          if kind == 'send' then
            tatKey, int = p .. 'rl:c:' .. chat, cint
            tat = math.max(tonumber(redis.call('GET', tatKey) or '0'), now)
            allowAt = math.max(allowAt, tat - (cburst - 1) * cint)
          else
            tatKey, int = p .. 'rl:e:' .. chat, eint
            tat = math.max(tonumber(redis.call('GET', tatKey) or '0'), now)
            allowAt = math.max(allowAt, tat - (eburst - 1) * eint)
          end
          local first = string.sub(chat, 1, 1)
          if kind == 'send' and wmax > 0 and (first == '-' or first == '@') then
            local wk = p .. 'rl:w:' .. chat
            redis.call('ZREMRANGEBYSCORE', wk, '-inf', now - wwin)
            if redis.call('ZCARD', wk) >= wmax then
              local f = redis.call('ZRANGE', wk, 0, 0, 'WITHSCORES')
              allowAt = math.max(allowAt, tonumber(f[2]) + wwin)
            end
          end
        end
        if allowAt > now then
          redis.call('ZADD', KEYS[i], allowAt, chat)
        else
          local tok = nextToken()
          if kind ~= 'other' then
            if int > 0 then
              redis.call('SET', tatKey, tat + int, 'PX', tat + int - now + 1000)
            end
            if gmax > 0 then
              redis.call('ZADD', KEYS[4], now, tok)
              gbooked = true
              gcount = gcount + 1
            end
            local first = string.sub(chat, 1, 1)
            if kind == 'send' and wmax > 0 and (first == '-' or first == '@') then
              local wk = p .. 'rl:w:' .. chat
              redis.call('ZADD', wk, now, tok)
              redis.call('PEXPIRE', wk, wwin + 1000)
            end
          end
          local att = (tonumber(h[3]) or 0) + 1
          if fromcm then
            redis.call('HSET', ik, 'chat', chat, 'kind', kind, 'prio', eprio, 'body', h[2], 'ref', h[8],
              'eref', h[6], 'once', h[5], 'att', att, 'tok', tok, 'qe', entry)
            redis.call('DEL', p .. 'cm:' .. ecoal)
          elseif fromcb then
            redis.call('HSET', ik, 'tok', tok, 'att', att, 'body', h[2])
            redis.call('DEL', p .. 'cb:' .. h[7])
          else
            redis.call('HSET', ik, 'tok', tok, 'att', att)
          end
          redis.call('ZREM', KEYS[i], chat)
          redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), chat)
          local msg = ''
          if h[6] and h[6] ~= '' then msg = redis.call('HGET', KEYS[7], h[6]) or '' end
          out[#out + 1] = {id, chat, kind, h[2], tok, att, tonumber(h[4]) or 0, h[5] or '0', h[6] or '', msg, h[8] or ''}
        end
      end
    end
  end
end
if gbooked then redis.call('PEXPIRE', KEYS[4], gwin + 1000) end
if #out > 0 then return {out, 0, 0} end
return {out, nextWait(), 0}
`)

// OutboxClaim is what one Claim took, and when to claim again.
type OutboxClaim struct {
	// Items are the deliveries now this claim's, at most n.
	Items []OutboxDelivery
	// Wait is how long until anything more may be sendable: 0 when items
	// were claimed (claim again), negative when nothing waits.
	Wait time.Duration
	// Blocked says a hold (a 429 for the whole bot) or the global limit
	// stopped the claim: nothing, not even an item enqueued meanwhile, can
	// be sent before Wait, so a worker need not claim again earlier.
	Blocked bool
}

// Claim books and takes up to n items that Telegram's limits allow now,
// for lease: a chat's item not finished by then is handed to the next
// claim, marked uncertain.
func (o *Outbox) Claim(ctx context.Context, n int, lease time.Duration) (OutboxClaim, error) {
	if n <= 0 || lease <= 0 {
		return OutboxClaim{}, fmt.Errorf("claim outbox: %w: max and lease must be positive", ErrInvalid)
	}
	keys := []string{o.key("ready", "0"), o.key("ready", "1"), o.key("flight"), o.key("rl", "g"),
		o.key("hold"), o.key("seq"), o.key("refs")}
	args := append([]any{o.p, unixMilli(o.now()), lease.Milliseconds(), n, max(4*n, 32)}, o.limits.args()...)
	v, err := runScript(ctx, o.c, outboxClaimScript, keys, args...)
	if err != nil {
		return OutboxClaim{}, fmt.Errorf("claim outbox: %w", err)
	}
	top, err := asReply(v, 3)
	if err != nil {
		return OutboxClaim{}, fmt.Errorf("claim outbox: %w", err)
	}
	waitMS, err := top.int(1)
	if err != nil {
		return OutboxClaim{}, fmt.Errorf("claim outbox: %w", err)
	}
	blocked, err := top.int(2)
	if err != nil {
		return OutboxClaim{}, fmt.Errorf("claim outbox: %w", err)
	}
	res := OutboxClaim{Wait: time.Duration(waitMS) * time.Millisecond, Blocked: blocked == 1}
	if waitMS < 0 {
		res.Wait = -1
	}
	rows, _ := top[0].([]any)
	res.Items = make([]OutboxDelivery, 0, len(rows))
	for _, row := range rows {
		r, err := asReply(row, 11)
		if err != nil {
			return OutboxClaim{}, fmt.Errorf("claim outbox: %w", err)
		}
		var d OutboxDelivery
		var kind, body, once, msg string
		var att, unc int64
		for _, f := range []error{
			scanStr(r, 0, &d.ID), scanStr(r, 1, &d.Chat), scanStr(r, 2, &kind), scanStr(r, 3, &body),
			scanInt(r, 4, &d.Token), scanInt(r, 5, &att), scanInt(r, 6, &unc), scanStr(r, 7, &once),
			scanStr(r, 8, &d.EditRef), scanStr(r, 9, &msg), scanStr(r, 10, &d.Ref),
		} {
			if f != nil {
				return OutboxClaim{}, fmt.Errorf("claim outbox: %w", f)
			}
		}
		d.Kind, d.Body, d.Attempt, d.Uncertain, d.Once = OutboxKind(kind), []byte(body), int(att), unc == 1, once == "1"
		d.RefMessage, _ = strconv.ParseInt(msg, 10, 64)
		res.Items = append(res.Items, d)
	}
	return res, nil
}

func scanStr(r reply, i int, dst *string) error {
	s, err := r.str(i)
	*dst = s
	return err
}

func scanInt(r reply, i int, dst *int64) error {
	n, err := r.int(i)
	*dst = n
	return err
}

// outboxFinishScript ends a claimed item and moves its chat on.
//
// KEYS[1] -> <p>:{ob}:i:<id>
// KEYS[2] -> <p>:{ob}:q:<chat>
// KEYS[3] -> <p>:{ob}:flight
// KEYS[4] -> <p>:{ob}:ready:0
// KEYS[5] -> <p>:{ob}:ready:1
// KEYS[6] -> <p>:{ob}:d:<id>
// KEYS[7] -> <p>:{ob}:refs
// ARGV[1] -> id
// ARGV[2] -> token of the claim
// ARGV[3] -> chat
// ARGV[4] -> outcome ("m:<message id>" or "x:<reason>")
// ARGV[5] -> message id to record under the item's ref ("" for none)
// ARGV[6] -> done TTL (ms)
// ARGV[7] -> now (unix ms)
// ARGV[8] -> item key prefix <p>:{ob}:i:
//
// Returns "ok", "again" (already finished: a retried run) or "fenced" (the
// claim's lease ran out and another claim holds the item; the outcome is
// recorded all the same, so that claim sends nothing if it has not yet).
var outboxFinishScript = redis.NewScript(`
-- A queue entry: the id, or "<id>|<prio>|<coalescing key>".
local function parseEntry(e)
  local id, prio = string.match(e, '^([^|]*)|([^|]*)|')
  if id then return id, prio end
  return e, nil
end
if redis.call('EXISTS', KEYS[6]) == 1 then
  local head = redis.call('LINDEX', KEYS[2], 0)
  if not head or redis.call('HEXISTS', ARGV[8] .. parseEntry(head), 'tok') == 0 then
    redis.call('ZREM', KEYS[3], ARGV[3])
    if head then redis.call('ZADD', KEYS[5], 'NX', ARGV[7], ARGV[3]) end
  end
  return 'again'
end
local h = redis.call('HMGET', KEYS[1], 'tok', 'ref', 'qe')
local res = 'ok'
if h[1] ~= ARGV[2] then res = 'fenced' end
local entry = h[3] or ARGV[1]
redis.call('SET', KEYS[6], ARGV[4], 'PX', ARGV[6])
if h[2] and h[2] ~= '' and ARGV[5] ~= '' then redis.call('HSET', KEYS[7], h[2], ARGV[5]) end
redis.call('DEL', KEYS[1])
if redis.call('LINDEX', KEYS[2], 0) == entry then
  redis.call('LPOP', KEYS[2])
else
  redis.call('LREM', KEYS[2], 1, entry)
end
if res == 'fenced' then return res end
redis.call('ZREM', KEYS[3], ARGV[3])
local nxt = redis.call('LINDEX', KEYS[2], 0)
if nxt then
  local nid, prio = parseEntry(nxt)
  prio = prio or redis.call('HGET', ARGV[8] .. nid, 'prio') or '1'
  redis.call('ZADD', prio == '0' and KEYS[4] or KEYS[5], ARGV[7], ARGV[3])
end
return res
`)

// FinishResult says what Complete or Fail did.
type FinishResult string

// Results of Complete and Fail.
const (
	Finished FinishResult = "ok"
	// FinishedAgain: the item was finished before (a retried call).
	FinishedAgain FinishResult = "again"
	// Fenced: this claim had lost the item to another; the outcome was
	// recorded all the same.
	Fenced FinishResult = "fenced"
)

// Complete records that d was delivered as message messageID (0 for calls
// that return no message) and lets its chat's next item go.
func (o *Outbox) Complete(ctx context.Context, d OutboxDelivery, messageID int64) (FinishResult, error) {
	ref := ""
	if messageID != 0 {
		ref = strconv.FormatInt(messageID, 10)
	}
	return o.finish(ctx, d, "m:"+ref, ref)
}

// Fail records that d cannot be delivered (Telegram refused it for good,
// or it was skipped) and lets its chat's next item go. reason is kept as
// the item's outcome.
func (o *Outbox) Fail(ctx context.Context, d OutboxDelivery, reason string) (FinishResult, error) {
	return o.finish(ctx, d, "x:"+reason, "")
}

func (o *Outbox) finish(ctx context.Context, d OutboxDelivery, outcome, ref string) (FinishResult, error) {
	keys := []string{o.key("i", d.ID), o.key("q", d.Chat), o.key("flight"), o.key("ready", "0"),
		o.key("ready", "1"), o.key("d", d.ID), o.key("refs")}
	v, err := runScript(ctx, o.c, outboxFinishScript, keys, d.ID, d.Token, d.Chat, outcome, ref,
		o.doneTTL.Milliseconds(), unixMilli(o.now()), o.key("i", ""))
	if err != nil {
		return "", fmt.Errorf("finish outbox item %s: %w", d.ID, err)
	}
	s, _ := v.(string)
	return FinishResult(s), nil
}

// outboxRetryScript gives a claimed item back to be sent later.
//
// KEYS[1] -> <p>:{ob}:i:<id>
// KEYS[2] -> <p>:{ob}:flight
// KEYS[3] -> <p>:{ob}:ready:0
// KEYS[4] -> <p>:{ob}:ready:1
// KEYS[5] -> <p>:{ob}:hold
// ARGV[1] -> token of the claim
// ARGV[2] -> chat
// ARGV[3] -> not before (unix ms) for the chat
// ARGV[4] -> hold everything until (unix ms), 0 for no hold
// ARGV[5] -> uncertain ("1": the call may have reached Telegram)
// ARGV[6] -> now (unix ms)
//
// Returns "ok" or "fenced".
var outboxRetryScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'tok') ~= ARGV[1] then return 'fenced' end
redis.call('HDEL', KEYS[1], 'tok')
if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'unc', 1) end
local prio = redis.call('HGET', KEYS[1], 'prio') or '1'
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZADD', prio == '0' and KEYS[3] or KEYS[4], ARGV[3], ARGV[2])
local hold = tonumber(ARGV[4])
if hold > 0 and hold > tonumber(redis.call('GET', KEYS[5]) or '0') then
  redis.call('SET', KEYS[5], hold, 'PX', math.max(hold - tonumber(ARGV[6]), 1) + 1000)
end
return 'ok'
`)

// Retry gives d back to be sent again at notBefore (its chat waits until
// then; the rest of the outbox goes on). holdAll also stops every chat
// until then (a 429 that names no chat). uncertain records that the call
// may have reached Telegram (a timeout), for items sent Once.
// Errors: ErrNotHolder if the claim had lost the item meanwhile.
func (o *Outbox) Retry(ctx context.Context, d OutboxDelivery, notBefore time.Time, holdAll, uncertain bool) error {
	hold := int64(0)
	if holdAll {
		hold = unixMilli(notBefore)
	}
	unc := "0"
	if uncertain {
		unc = "1"
	}
	keys := []string{o.key("i", d.ID), o.key("flight"), o.key("ready", "0"), o.key("ready", "1"), o.key("hold")}
	v, err := runScript(ctx, o.c, outboxRetryScript, keys, d.Token, d.Chat, unixMilli(notBefore), hold, unc, unixMilli(o.now()))
	if err != nil {
		return fmt.Errorf("retry outbox item %s: %w", d.ID, err)
	}
	if s, _ := v.(string); s == "fenced" {
		return fmt.Errorf("retry outbox item %s: %w", d.ID, ErrNotHolder)
	}
	return nil
}

// extendScript renews the lease of a claimed item.
//
// KEYS[1] -> <p>:{ob}:i:<id>
// KEYS[2] -> <p>:{ob}:flight
// ARGV[1] -> token of the claim
// ARGV[2] -> chat
// ARGV[3] -> new lease expiry (unix ms)
//
// Returns 1, or 0 if the claim was lost.
var outboxExtendScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'tok') ~= ARGV[1] then return 0 end
redis.call('ZADD', KEYS[2], 'XX', ARGV[3], ARGV[2])
return 1
`)

// Extend renews d's lease for another lease from now, while a slow call
// is still in flight. Errors: ErrNotHolder if the claim was lost.
func (o *Outbox) Extend(ctx context.Context, d OutboxDelivery, lease time.Duration) error {
	v, err := runScript(ctx, o.c, outboxExtendScript, []string{o.key("i", d.ID), o.key("flight")},
		d.Token, d.Chat, unixMilli(o.now().Add(lease)))
	if err != nil {
		return fmt.Errorf("extend outbox item %s: %w", d.ID, err)
	}
	if n, _ := v.(int64); n != 1 {
		return fmt.Errorf("extend outbox item %s: %w", d.ID, ErrNotHolder)
	}
	return nil
}

// Outcome returns what became of a finished item: "m:<message id>" when
// it was delivered, "x:<reason>" when not. Errors: ErrNotFound if the item
// is waiting or unknown.
func (o *Outbox) Outcome(ctx context.Context, id string) (string, error) {
	s, err := o.c.Get(ctx, o.key("d", id)).Result()
	if err != nil {
		return "", fmt.Errorf("outbox outcome %s: %w", id, notFound(err))
	}
	return s, nil
}

// RefMessage returns the message id recorded under ref. Errors:
// ErrNotFound if none is (yet).
func (o *Outbox) RefMessage(ctx context.Context, ref string) (int64, error) {
	n, err := o.c.HGet(ctx, o.key("refs"), ref).Int64()
	if err != nil {
		return 0, fmt.Errorf("outbox ref %s: %w", ref, notFound(err))
	}
	return n, nil
}

// pendingScript counts the waiting items of every chat in one atomic
// look (a chat moves between the sets as its items go).
//
// KEYS[1] -> <p>:{ob}:ready:0
// KEYS[2] -> <p>:{ob}:ready:1
// KEYS[3] -> <p>:{ob}:flight
// ARGV[1] -> queue key prefix <p>:{ob}:q:
//
// Returns the number of items.
var outboxPendingScript = redis.NewScript(`
local seen, n = {}, 0
for i = 1, 3 do
  for _, chat in ipairs(redis.call('ZRANGE', KEYS[i], 0, -1)) do
    if not seen[chat] then
      seen[chat] = true
      n = n + redis.call('LLEN', ARGV[1] .. chat)
    end
  end
end
return n
`)

// Pending counts the items waiting (or in flight) in every chat; for the
// demo and tests. It looks at every chat with items, so it is O(chats).
func (o *Outbox) Pending(ctx context.Context) (int, error) {
	v, err := runScript(ctx, o.c, outboxPendingScript,
		[]string{o.key("ready", "0"), o.key("ready", "1"), o.key("flight")}, o.key("q", ""))
	if err != nil {
		return 0, fmt.Errorf("outbox pending: %w", err)
	}
	n, _ := v.(int64)
	return int(n), nil
}
