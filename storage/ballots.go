package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/domain"
)

// Ballot keys, all under the committee's hash tag so that casting is one
// script on one slot:
//
//	<p>:{c:<id>}:ballots                  zset   ballot ids by opening time
//	<p>:{c:<id>}:seq:ballot               string INCR for ballot ids
//	<p>:{c:<id>}:ballot:<b>               hash   doc (JSON), status, deadline, closed, opened (unix ms),
//	                                             electorate (size of the electors set), post_chat,
//	                                             post_msg, gate (the group post's edit slot: until when
//	                                             it may not be edited, "|p" once the trailing edit is
//	                                             planned), nvoted (how many electors have voted: the
//	                                             voted hash's size, kept by the cast)
//	<p>:{c:<id>}:ballot:<b>:electors      set    voter keys fixed at opening (unit codes or user ids)
//	<p>:{c:<id>}:ballot:<b>:voted         hash   voter key -> cast id (who voted; never what)
//	<p>:{c:<id>}:ballot:<b>:box           hash   random slot -> sealed {receipt, choice} (secret ballots)
//	<p>:{c:<id>}:ballot:<b>:votes         hash   voter key -> JSON open vote (open ballots)
//	<p>:{c:<id>}:ballot:<b>:result        string JSON tally, written once at close
//
// A secret ballot's voted hash and box are separate: nothing in Redis pairs
// a voter with a sealed ballot, and the box holds no voter id.

// BallotIndex is the sorted set of a committee's ballots.
func (k Keys) BallotIndex(committeeID string) string { return k.Committee(committeeID, "ballots") }

// BallotSeq is the counter of a committee's ballot ids.
func (k Keys) BallotSeq(committeeID string) string { return k.Committee(committeeID, "seq", "ballot") }

// Ballot is the hash of one ballot.
func (k Keys) Ballot(committeeID, ballotID string) string {
	return k.Committee(committeeID, "ballot", ballotID)
}

// BallotPrefix is what Ballot puts before a ballot id, for scripts that
// build ballot keys from the ids in the index (open_ballots).
func (k Keys) BallotPrefix(committeeID string) string {
	return k.Committee(committeeID, "ballot", "")
}

// BallotPart is one of a ballot's other keys: electors, voted, box,
// votes, result.
func (k Keys) BallotPart(committeeID, ballotID, part string) string {
	return k.Committee(committeeID, "ballot", ballotID, part)
}

// Ballots stores ballots, casts votes atomically and keeps results.
type Ballots struct {
	store
	sealer *Sealer // WithSealer; needed by CastSecret, CastOpen and OpenBox

	// docs caches decoded ballot documents. A document is written once,
	// when the ballot opens, and holds the whole roll, so decoding it on
	// every press was most of a vote's CPU; Get still reads it from Redis
	// and reuses the decoded value only when the bytes are the same.
	mu   sync.Mutex
	docs map[string]cachedDoc
}

type cachedDoc struct {
	raw string
	b   domain.Ballot
}

// maxCachedDocs bounds the cache; past it, it starts afresh.
const maxCachedDocs = 512

// NewBallots returns the ballot store. Accepts WithClock.
func NewBallots(c redis.UniversalClient, k Keys, opts ...Option) *Ballots {
	s := newSettings(opts)
	return &Ballots{store: newStore(c, k, s), sealer: s.sealer, docs: make(map[string]cachedDoc)}
}

// decode returns the ballot a document describes, from the cache when the
// same document was decoded before. The ballot's slices are shared between
// callers: they are read, never modified.
func (s *Ballots) decode(key, doc string) (domain.Ballot, error) {
	s.mu.Lock()
	c, ok := s.docs[key]
	s.mu.Unlock()
	if ok && c.raw == doc {
		return c.b, nil
	}
	var b domain.Ballot
	if err := json.Unmarshal([]byte(doc), &b); err != nil {
		return b, err
	}
	s.mu.Lock()
	if len(s.docs) >= maxCachedDocs {
		clear(s.docs)
	}
	s.docs[key] = cachedDoc{raw: doc, b: b}
	s.mu.Unlock()
	return b, nil
}

// openBallotsLua defines, for scripts of a committee's slot, the Lua
// function open_ballots(index, prefix): the committee's open ballots, read
// from its ballot index (KEYS) and their keys (prefix .. id, the same hash
// tag), as {id = …, key = …, doc = decoded document or {}}. Scripts that
// must not change what an open ballot counts (removing a unit, moving a
// nomination) prepend it.
const openBallotsLua = `
local function open_ballots(index, prefix)
	local out = {}
	for _, bid in ipairs(redis.call('ZRANGE', index, 0, -1)) do
		local bk = prefix .. bid
		local st = redis.call('HMGET', bk, 'status', 'doc')
		if st[1] == 'open' then
			local ok, doc = pcall(cjson.decode, st[2] or '')
			if not ok or type(doc) ~= 'table' then doc = {} end
			if type(doc.Questions) ~= 'table' then doc.Questions = {} end
			out[#out + 1] = {id = bid, key = bk, doc = doc}
		end
	end
	return out
end
`

// openBallotScript stores a new ballot.
//
// KEYS[1] -> ballot hash
// KEYS[2] -> electors set
// KEYS[3] -> ballot index zset
// ARGV[1] -> ballot id
// ARGV[2] -> doc JSON
// ARGV[3] -> deadline (unix ms, 0 none)
// ARGV[4] -> opened (unix ms)
// ARGV[5..] -> voter keys
// KEYS[4] -> (a second round only) the first round's hash: its field
//
//	"runoff" names the one second round it may have
//
// Returns 1 when stored, 0 when the ballot existed (a retried run), or the
// id of the second round the first round already has.
var openBallotScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if KEYS[4] then
  if redis.call('HSETNX', KEYS[4], 'runoff', ARGV[1]) == 0 then
    return redis.call('HGET', KEYS[4], 'runoff')
  end
end
for i = 5, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'status', 'open', 'deadline', ARGV[3], 'closed', 0,
  'opened', ARGV[4], 'electorate', redis.call('SCARD', KEYS[2]), 'nvoted', 0)
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return 1
`)

// Open stores b as a new open ballot with the next id of its committee and
// returns it. The electorate (b.Voters) is fixed from now on. A second
// round (b.Parent set) is opened once per first round, atomically: a
// second attempt returns domain.ErrRunoffExists with the existing round's
// id in the returned ballot.
func (s *Ballots) Open(ctx context.Context, b domain.Ballot) (domain.Ballot, error) {
	if err := b.Validate(); err != nil {
		return b, fmt.Errorf("open ballot: %w", err)
	}
	if len(b.Voters) == 0 {
		return b, fmt.Errorf("open ballot: empty electorate: %w", ErrInvalid)
	}
	n, err := s.c.Incr(ctx, s.k.BallotSeq(b.Committee)).Result()
	if err != nil {
		return b, fmt.Errorf("open ballot: %w", err)
	}
	b.ID = strconv.FormatInt(n, 10)
	b.Status = domain.BallotOpen
	b.Opened = s.now()
	if b.Round == 0 {
		b.Round = 1
	}
	doc, err := json.Marshal(b)
	if err != nil {
		return b, fmt.Errorf("open ballot: %w", err)
	}
	deadline := int64(0)
	if !b.Deadline.IsZero() {
		deadline = unixMilli(b.Deadline)
	}
	args := []any{b.ID, doc, deadline, unixMilli(b.Opened)}
	for _, v := range b.Voters {
		args = append(args, v)
	}
	keys := []string{s.k.Ballot(b.Committee, b.ID), s.k.BallotPart(b.Committee, b.ID, "electors"), s.k.BallotIndex(b.Committee)}
	if b.Parent != "" {
		if !validID(b.Parent) {
			return b, fmt.Errorf("open ballot: parent %q: %w", b.Parent, ErrInvalid)
		}
		keys = append(keys, s.k.Ballot(b.Committee, b.Parent))
	}
	v, err := runScript(ctx, s.c, openBallotScript, keys, args...)
	if err != nil {
		return b, fmt.Errorf("open ballot: %w", err)
	}
	if existing, ok := v.(string); ok {
		b.ID = existing
		return b, fmt.Errorf("open ballot: second round of %s: %w", b.Parent, domain.ErrRunoffExists)
	}
	return b, nil
}

// ForVoting returns the ballot for a vote: the document this store decoded
// before, without a read, when it has one (a document never changes once
// the ballot is open; Cast checks the copy against Redis and reads it again
// if it is stale), else Get. Status and Closed are those of the last read;
// Cast reports the current post (CastResult.PostChat, PostMessage).
func (s *Ballots) ForVoting(ctx context.Context, committeeID, ballotID string) (domain.Ballot, error) {
	key := s.k.Ballot(committeeID, ballotID)
	s.mu.Lock()
	c, ok := s.docs[key]
	s.mu.Unlock()
	if ok && !c.b.Opened.IsZero() {
		return c.b, nil
	}
	return s.Get(ctx, committeeID, ballotID)
}

// Get returns a ballot with its current status; ErrNotFound if none.
func (s *Ballots) Get(ctx context.Context, committeeID, ballotID string) (domain.Ballot, error) {
	b, _, err := s.GetWithPost(ctx, committeeID, ballotID)
	return b, err
}

// GetWithPost returns a ballot with its current status, and its group post
// (the zero Post if none), in one read; ErrNotFound if none.
func (s *Ballots) GetWithPost(ctx context.Context, committeeID, ballotID string) (domain.Ballot, Post, error) {
	key := s.k.Ballot(committeeID, ballotID)
	vals, err := s.c.HMGet(ctx, key, ballotFields...).Result()
	if err != nil {
		return domain.Ballot{}, Post{}, fmt.Errorf("get ballot %s: %w", ballotID, err)
	}
	return s.fromFields(key, ballotID, vals)
}

// ballotFields are the fields of a ballot's hash that fromFields reads;
// the first three (ballotOnly) are the ballot, the other two its post.
var (
	ballotFields = []string{"doc", "status", "closed", "post_chat", "post_msg"}
	ballotOnly   = ballotFields[:3:3]
)

// fromFields builds a ballot and its group post from its hash's
// ballotFields (the zero Post from ballotOnly). A document stored before
// the post left the domain type holds "PostChat" and "PostMessage" too:
// decoding ignores them, the hash's fields are the post.
func (s *Ballots) fromFields(key, ballotID string, vals []any) (domain.Ballot, Post, error) {
	doc, ok := vals[0].(string)
	if !ok {
		return domain.Ballot{}, Post{}, fmt.Errorf("get ballot %s: %w", ballotID, ErrNotFound)
	}
	b, err := s.decode(key, doc)
	if err != nil {
		return b, Post{}, fmt.Errorf("get ballot %s: %w", ballotID, err)
	}
	b.Status, _ = vals[1].(string)
	if ms := atoi64(vals[2]); ms > 0 {
		b.Closed = fromUnixMilli(ms)
	}
	if len(vals) < len(ballotFields) {
		return b, Post{}, nil
	}
	return b, Post{Chat: atoi64(vals[3]), Message: int(atoi64(vals[4]))}, nil
}

func atoi64(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// VoterView is what a press on a personal ballot needs: the committee,
// the presser's delegation (nil if they are no delegate) and the ballot.
type VoterView struct {
	Committee domain.Committee
	Delegate  *domain.Delegate
	Ballot    domain.Ballot
}

// GetForVoter reads the committee, userID's delegation and the ballot in
// one round trip. Errors: ErrNotFound if the committee or the ballot does
// not exist.
func (s *Ballots) GetForVoter(ctx context.Context, committeeID, ballotID string, userID int64) (VoterView, error) {
	if !validID(committeeID) || !validID(ballotID) {
		return VoterView{}, fmt.Errorf("ballot %q of committee %q: %w", ballotID, committeeID, ErrNotFound)
	}
	key := s.k.Ballot(committeeID, ballotID)
	var meta, roles *redis.MapStringStringCmd
	var member *redis.StringCmd
	var ballot *redis.SliceCmd
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		meta = p.HGetAll(ctx, s.k.CommitteeMeta(committeeID))
		roles = p.HGetAll(ctx, s.k.Roles(committeeID))
		member = p.HGet(ctx, s.k.Members(committeeID), itoa(userID))
		ballot = p.HMGet(ctx, key, ballotOnly...)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return VoterView{}, fmt.Errorf("ballot %s of committee %s: %w", ballotID, committeeID, err)
	}
	if len(meta.Val()) == 0 {
		return VoterView{}, fmt.Errorf("committee %s: %w", committeeID, ErrNotFound)
	}
	var v VoterView
	if v.Committee, err = decodeCommittee(meta.Val(), roles.Val()); err != nil {
		return VoterView{}, fmt.Errorf("committee %s: %w", committeeID, err)
	}
	if raw, err := member.Result(); err == nil {
		d, err := decodeMember(userID, raw)
		if err != nil {
			return VoterView{}, fmt.Errorf("delegate %d of committee %s: %w", userID, committeeID, err)
		}
		v.Delegate = &d
	} else if !errors.Is(err, redis.Nil) {
		return VoterView{}, fmt.Errorf("delegate %d of committee %s: %w", userID, committeeID, err)
	}
	if v.Ballot, _, err = s.fromFields(key, ballotID, ballot.Val()); err != nil {
		return VoterView{}, err
	}
	return v, nil
}

// List returns the committee's ballots, newest first.
func (s *Ballots) List(ctx context.Context, committeeID string) ([]domain.Ballot, error) {
	ids, err := s.c.ZRevRange(ctx, s.k.BallotIndex(committeeID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list ballots: %w", err)
	}
	out := make([]domain.Ballot, 0, len(ids))
	for _, id := range ids {
		b, err := s.Get(ctx, committeeID, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// ballotGateScript takes the edit slot of a ballot's group post.
//
// KEYS[1] -> ballot hash (field "gate", as castScript keeps it)
// ARGV[1] -> now (unix ms)
// ARGV[2] -> interval (ms)
//
// Returns -1 when the slot was free (and is now held for the interval),
// else the ms until it frees.
var ballotGateScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local gm = string.match(redis.call('HGET', KEYS[1], 'gate') or '', '^(%d+)')
local cur = gm and tonumber(gm)
if cur and cur > now then return cur - now end
redis.call('HSET', KEYS[1], 'gate', tostring(now + tonumber(ARGV[2])))
return -1
`)

// TakeEditSlot throttles edits of a ballot's group post across replicas,
// like Meetings.TakeEditSlot for announcements: true if nobody edited it
// in the last interval (the caller may edit now), else false and when the
// slot frees. It is the slot votes take in Cast (Cast.PostEvery).
func (s *Ballots) TakeEditSlot(ctx context.Context, committeeID, ballotID string, interval time.Duration) (bool, time.Time, error) {
	if !validID(committeeID) || !validID(ballotID) {
		return false, time.Time{}, fmt.Errorf("edit slot of ballot %q: %w", ballotID, ErrNotFound)
	}
	now := fromUnixMilli(unixMilli(s.now()))
	v, err := runScript(ctx, s.c, ballotGateScript, []string{s.k.Ballot(committeeID, ballotID)}, unixMilli(now), interval.Milliseconds())
	if err != nil {
		return false, time.Time{}, fmt.Errorf("edit slot of ballot %s: %w", ballotID, err)
	}
	if n, _ := v.(int64); n != -1 {
		return false, now.Add(time.Duration(n) * time.Millisecond), nil
	}
	return true, now.Add(interval), nil
}

// SetPost records the group message that shows the ballot's turnout
// (GetWithPost and CastResult return it).
func (s *Ballots) SetPost(ctx context.Context, committeeID, ballotID string, chatID int64, messageID int) error {
	if err := s.c.HSet(ctx, s.k.Ballot(committeeID, ballotID), "post_chat", chatID, "post_msg", messageID).Err(); err != nil {
		return fmt.Errorf("set ballot post: %w", err)
	}
	return nil
}

// Cast is one elector's vote.
type Cast struct {
	UserID int64
	// Voter is the elector: the unit code (units electorate) or the user id
	// (members electorate). "" on a units ballot casts for the unit the
	// user is a delegate of, as the cast finds it (CastResult.Voter).
	Voter string
	// CastID identifies this attempt, so a retried run is not a second vote.
	CastID string
	// Sealed is the sealed {receipt, choice} of a secret ballot.
	Sealed []byte
	// Vote is the open vote of an open ballot.
	Vote *domain.OpenVote
	// PostEvery, if set, takes the group post's edit slot in the same
	// step (at most one edit per PostEvery, and one trailing edit planned
	// per slot); the outcome is CastResult.Post.
	PostEvery time.Duration
}

// CastResult says what a cast did.
type CastResult struct {
	Changed bool // an open vote replaced the elector's earlier one
	// Again says this cast id was recorded before (a retried or repeated
	// run): nothing changed now.
	Again      bool
	Voted      int // electors who have voted, after this cast
	Electorate int
	// Post is the group post's edit slot, when Cast.PostEvery asked for
	// it: Free means edit now; otherwise Plan means this caller must
	// schedule the trailing edit for Until.
	Post PostSlot
	// Voter is the elector the vote was cast for (the unit found, when
	// Cast.Voter was "").
	Voter string
	// PostChat and PostMessage are the ballot's group post as the cast
	// found it (0 if none): the vote needs no other read for it.
	PostChat    int64
	PostMessage int
}

// GroupPost is the ballot's group post as the cast found it.
func (r CastResult) GroupPost() Post { return Post{Chat: r.PostChat, Message: r.PostMessage} }

// PostSlot is the outcome of taking a post's edit slot.
type PostSlot struct {
	Asked, Free, Plan bool
	Until             time.Time
}

// castScript records one vote after checking, atomically, everything that
// makes it valid — in as few Redis commands as a vote can take (the common
// path: HMGET, HGET, HSETNX, HSET of the box or votes, HSET of the count
// and the post's edit slot), because every vote of a burst waits for it.
//
// KEYS[1] -> ballot hash
// KEYS[2] -> electors set
// KEYS[3] -> voted hash
// KEYS[4] -> box hash (secret) or votes hash (open)
// KEYS[5] -> committee members hash (user id -> JSON with "unit")
// ARGV[1] -> now (unix ms)
// ARGV[2] -> user id
// ARGV[3] -> voter key; "" on a units ballot: the unit the member hash
//
//	gives the user
//
// ARGV[4] -> cast id
// ARGV[5] -> "units" or "members"
// ARGV[6] -> "secret" or "open"
// ARGV[7] -> sealed ballot (secret) or open vote JSON (open)
// ARGV[8] -> random box slot (secret)
// ARGV[9] -> least interval between two edits of the group post (ms); 0
//
//	leaves its edit slot alone
//
// ARGV[10] -> when the caller's copy of the ballot's document says it
//
//	opened (unix ms): another value in the hash means the copy is stale
//
// ARGV[11] -> the electors, "|"-separated with a "|" at both ends, when
//
//	ARGV[3] is "" (the caller could not check the voter against them)
//
// The electorate is fixed when the ballot opens (its size is kept in the
// ballot hash), so the caller checks a known voter against the ballot's
// document; the electors set is consulted only for a ballot opened before
// the hash kept the size.
//
// The group post's edit slot is the hash's "gate" field: "<until>" while
// the post may not be edited again, "<until>|p" once the trailing edit of
// that period is planned.
//
// Returns {code, voted, electorate, slot, plan, voter, post chat, post
// message}; code: "ok", "again" (the same cast id ran before), "changed"
// (open vote replaced), "closed", "deadline", "stale" (ARGV[10] differs
// from the hash: nothing done), "not_elector", "not_delegate", "already".
// After a recorded vote, slot is -1 if the post may be edited now (the
// slot is taken for the interval), else the ms until the slot frees, with
// plan 1 for the first caller to find it taken (who schedules the trailing
// edit); both 0 otherwise. Taking the slot here saves the vote a round
// trip.
var castScript = redis.NewScript(`
local st = redis.call('HMGET', KEYS[1], 'status', 'deadline', 'electorate', 'gate', 'opened', 'post_chat', 'post_msg', 'nvoted')
local pc, pm = st[6] or '0', st[7] or '0'
-- How many have voted: the hash's count, or (a ballot opened before the
-- hash kept it) the voted hash's size.
local nv = tonumber(st[8])
local function votedSoFar()
  return nv or redis.call('HLEN', KEYS[3])
end
-- The post's edit slot, read before anything is written.
local g = st[4] or ''
local gm = string.match(g, '^(%d+)')
local cur = gm and tonumber(gm)
if st[1] ~= 'open' then return {'closed', 0, 0, 0, 0, '', pc, pm} end
if st[5] and ARGV[10] ~= st[5] then return {'stale', 0, 0, 0, 0, '', pc, pm} end
local now = tonumber(ARGV[1])
local deadline = tonumber(st[2]) or 0
if deadline > 0 and now >= deadline then return {'deadline', 0, 0, 0, 0, '', pc, pm} end
local total = tonumber(st[3]) or 0
local voter = ARGV[3]
local m = redis.call('HGET', KEYS[5], ARGV[2])
if not m then return {'not_delegate', 0, total, 0, 0, voter, pc, pm} end
if ARGV[5] == 'units' then
  local ok, d = pcall(cjson.decode, m)
  if not ok or type(d) ~= 'table' or type(d['unit']) ~= 'string' then return {'not_delegate', 0, total, 0, 0, voter, pc, pm} end
  if voter == '' then
    voter = d['unit']
    if not string.find(ARGV[11], '|' .. voter .. '|', 1, true) then return {'not_elector', 0, total, 0, 0, voter, pc, pm} end
  elseif d['unit'] ~= voter then
    return {'not_delegate', 0, total, 0, 0, voter, pc, pm}
  end
end
if not tonumber(st[3]) then
  -- A ballot opened before its hash kept the electorate's size.
  total = redis.call('SCARD', KEYS[2])
  if redis.call('SISMEMBER', KEYS[2], voter) == 0 then return {'not_elector', 0, total, 0, 0, voter, pc, pm} end
end
local mark = ARGV[4] .. '|' .. ARGV[2]
local code = 'ok'
if redis.call('HSETNX', KEYS[3], voter, mark) == 0 then
  local prev = redis.call('HGET', KEYS[3], voter) or ''
  local pcast, puser = string.match(prev, '^([^|]*)|(.*)$')
  if pcast == ARGV[4] then
    return {'again', votedSoFar(), total, 0, 0, voter, pc, pm}
  end
  if ARGV[6] == 'secret' or puser ~= ARGV[2] then
    return {'already', votedSoFar(), total, 0, 0, voter, pc, pm}
  end
  code = 'changed'
  redis.call('HSET', KEYS[3], voter, mark)
end
if ARGV[6] == 'secret' then
  redis.call('HSET', KEYS[4], ARGV[8], ARGV[7])
else
  redis.call('HSET', KEYS[4], voter, ARGV[7])
end
-- The count and the post's edit slot are written by one HSET.
local fields = {}
local voted = nv
if not voted then
  voted = redis.call('HLEN', KEYS[3])
  fields[#fields + 1], fields[#fields + 2] = 'nvoted', voted
elseif code == 'ok' then
  voted = nv + 1
  fields[#fields + 1], fields[#fields + 2] = 'nvoted', voted
end
local slot, plan = 0, 0
local interval = tonumber(ARGV[9]) or 0
if interval > 0 and pc ~= '0' and pc ~= '' then
  if cur and cur > now then
    slot = cur - now
    if not string.find(g, '|p', 1, true) then
      plan = 1
      fields[#fields + 1], fields[#fields + 2] = 'gate', cur .. '|p'
    end
  else
    slot = -1
    fields[#fields + 1], fields[#fields + 2] = 'gate', tostring(now + interval)
  end
end
if #fields > 0 then redis.call('HSET', KEYS[1], unpack(fields)) end
return {code, voted, total, slot, plan, voter, pc, pm}
`)

// Cast records a vote in one atomic step that re-checks the ballot is
// open, its deadline (by the caller's clock) not passed, the voter an
// elector and still a delegate (of that unit, for a units electorate), and
// that the elector has not voted — or, on an open ballot, that the same
// person is changing their vote. A retried cast (same CastID) is reported
// as done, never counted twice. b may be the copy ForVoting keeps: a
// stale copy is read again and the cast made once more.
//
// Errors: ErrNotFound; the rule errors domain.ErrBallotClosed,
// ErrDeadlinePassed, ErrNotEligible, ErrAlreadyVoted.
func (s *Ballots) Cast(ctx context.Context, b domain.Ballot, v Cast) (CastResult, error) {
	res, err := s.cast(ctx, b, v)
	if errors.Is(err, errStaleBallot) {
		if b, err = s.Get(ctx, b.Committee, b.ID); err != nil {
			return CastResult{}, fmt.Errorf("cast: %w", err)
		}
		res, err = s.cast(ctx, b, v)
	}
	return res, err
}

// errStaleBallot: the ballot's document the caller holds is not the one
// in Redis (a ballot of that key opened again).
var errStaleBallot = errors.New("stale ballot document")

func (s *Ballots) cast(ctx context.Context, b domain.Ballot, v Cast) (CastResult, error) {
	part := "votes"
	mode := "open"
	var payload []byte
	slot := ""
	if b.Secret {
		part, mode, payload = "box", "secret", v.Sealed
		var err error
		if slot, err = NewCastID(); err != nil {
			return CastResult{}, err
		}
	} else {
		if v.Vote == nil {
			return CastResult{}, fmt.Errorf("cast: open ballot without a vote: %w", ErrInvalid)
		}
		var err error
		if payload, err = json.Marshal(v.Vote); err != nil {
			return CastResult{}, fmt.Errorf("cast: %w", err)
		}
	}
	if v.CastID == "" || len(payload) == 0 {
		return CastResult{}, fmt.Errorf("cast: empty cast: %w", ErrInvalid)
	}
	electors := ""
	switch {
	case v.Voter != "" && !slices.Contains(b.Voters, v.Voter):
		// The electorate is fixed at opening: b.Voters is the electors set.
		return CastResult{Electorate: len(b.Voters), Voter: v.Voter}, domain.ErrNotEligible
	case v.Voter == "" && b.Electorate != domain.ElectorateUnits:
		return CastResult{}, fmt.Errorf("cast: no voter on a members ballot: %w", ErrInvalid)
	case v.Voter == "":
		electors = "|" + strings.Join(b.Voters, "|") + "|"
	}
	keys := []string{
		s.k.Ballot(b.Committee, b.ID), s.k.BallotPart(b.Committee, b.ID, "electors"),
		s.k.BallotPart(b.Committee, b.ID, "voted"), s.k.BallotPart(b.Committee, b.ID, part),
		s.k.Members(b.Committee),
	}
	now := fromUnixMilli(unixMilli(s.now()))
	res, err := runScript(ctx, s.c, castScript, keys,
		unixMilli(now), v.UserID, v.Voter, v.CastID, b.Electorate, mode, payload, slot,
		v.PostEvery.Milliseconds(), unixMilli(b.Opened), electors)
	if err != nil {
		return CastResult{}, fmt.Errorf("cast: %w", err)
	}
	r, err := asReply(res, 8)
	if err != nil {
		return CastResult{}, fmt.Errorf("cast: %w", err)
	}
	code, _ := r.str(0)
	voted, _ := r.int(1)
	total, _ := r.int(2)
	slotMS, _ := r.int(3)
	plan, _ := r.int(4)
	voter, _ := r.str(5)
	postChat, _ := r.str(6)
	postMsg, _ := r.str(7)
	out := CastResult{Voted: int(voted), Electorate: int(total), Voter: voter,
		PostChat: atoi64(postChat), PostMessage: int(atoi64(postMsg))}
	if v.PostEvery > 0 {
		switch {
		case slotMS == -1:
			out.Post = PostSlot{Asked: true, Free: true, Until: now.Add(v.PostEvery)}
		case slotMS > 0:
			out.Post = PostSlot{Asked: true, Plan: plan == 1, Until: now.Add(time.Duration(slotMS) * time.Millisecond)}
		}
	}
	switch code {
	case "ok":
		return out, nil
	case "again":
		out.Again = true
		return out, nil
	case "changed":
		out.Changed = true
		return out, nil
	case "stale":
		return out, errStaleBallot
	case "closed":
		return out, domain.ErrBallotClosed
	case "deadline":
		return out, domain.ErrDeadlinePassed
	case "not_elector", "not_delegate":
		return out, domain.ErrNotEligible
	case "already":
		return out, domain.ErrAlreadyVoted
	}
	return out, fmt.Errorf("cast: unexpected reply %q", code)
}

// Voted returns the electors who have voted (never what they chose).
func (s *Ballots) Voted(ctx context.Context, committeeID, ballotID string) ([]string, error) {
	keys, err := s.c.HKeys(ctx, s.k.BallotPart(committeeID, ballotID, "voted")).Result()
	if err != nil {
		return nil, fmt.Errorf("voted: %w", err)
	}
	sort.Strings(keys)
	return keys, nil
}

// closeScript closes an open ballot.
//
// KEYS[1] -> ballot hash
// ARGV[1] -> now (unix ms)
//
// Returns 1 if this call closed it, 0 if it was closed already, -1 if
// there is no such ballot.
var closeScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return -1 end
if st ~= 'open' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'closed', 'closed', ARGV[1])
return 1
`)

// Close closes the ballot; no vote is accepted afterwards. It reports
// whether this call closed it (exactly one caller does, however many
// replicas close at once). ErrNotFound if there is no such ballot.
func (s *Ballots) Close(ctx context.Context, committeeID, ballotID string) (bool, error) {
	v, err := runScript(ctx, s.c, closeScript, []string{s.k.Ballot(committeeID, ballotID)}, unixMilli(s.now()))
	if err != nil {
		return false, fmt.Errorf("close ballot %s: %w", ballotID, err)
	}
	switch n, _ := v.(int64); n {
	case 1:
		return true, nil
	case 0:
		return false, nil
	}
	return false, fmt.Errorf("close ballot %s: %w", ballotID, ErrNotFound)
}

// Box returns the sealed ballots of a secret ballot, in no meaningful
// order.
func (s *Ballots) Box(ctx context.Context, committeeID, ballotID string) ([][]byte, error) {
	vals, err := s.c.HVals(ctx, s.k.BallotPart(committeeID, ballotID, "box")).Result()
	if err != nil {
		return nil, fmt.Errorf("ballot box: %w", err)
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = []byte(v)
	}
	return out, nil
}

// OpenVotes returns the votes of an open ballot, by voter key.
func (s *Ballots) OpenVotes(ctx context.Context, committeeID, ballotID string) ([]domain.OpenVote, error) {
	m, err := s.c.HGetAll(ctx, s.k.BallotPart(committeeID, ballotID, "votes")).Result()
	if err != nil {
		return nil, fmt.Errorf("open votes: %w", err)
	}
	out := make([]domain.OpenVote, 0, len(m))
	for voter, raw := range m {
		var v domain.OpenVote
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, fmt.Errorf("open votes: %w", err)
		}
		if v.Voter == "" {
			v.Voter = voter // cast for the unit the cast found (Cast.Voter "")
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Voter < out[j].Voter })
	return out, nil
}

// OpenVoteOf returns the open vote elector voter cast on an open ballot;
// ErrNotFound if none.
func (s *Ballots) OpenVoteOf(ctx context.Context, committeeID, ballotID, voter string) (domain.OpenVote, error) {
	raw, err := s.c.HGet(ctx, s.k.BallotPart(committeeID, ballotID, "votes"), voter).Result()
	if err != nil {
		return domain.OpenVote{}, fmt.Errorf("open vote of %s: %w", voter, notFound(err))
	}
	var v domain.OpenVote
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return domain.OpenVote{}, fmt.Errorf("open vote of %s: %w", voter, err)
	}
	if v.Voter == "" {
		v.Voter = voter
	}
	return v, nil
}

// SaveResult stores the tally once: the first result saved wins, and the
// stored one is returned (replicas tallying the same box agree anyway).
func (s *Ballots) SaveResult(ctx context.Context, committeeID, ballotID string, r domain.Result) (domain.Result, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return r, fmt.Errorf("save result: %w", err)
	}
	key := s.k.BallotPart(committeeID, ballotID, "result")
	if err := s.c.SetNX(ctx, key, raw, 0).Err(); err != nil {
		return r, fmt.Errorf("save result: %w", err)
	}
	return s.Result(ctx, committeeID, ballotID)
}

// Result returns the stored tally; ErrNotFound before it is saved.
func (s *Ballots) Result(ctx context.Context, committeeID, ballotID string) (domain.Result, error) {
	raw, err := s.c.Get(ctx, s.k.BallotPart(committeeID, ballotID, "result")).Result()
	if err != nil {
		return domain.Result{}, fmt.Errorf("result: %w", notFound(err))
	}
	var r domain.Result
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return r, fmt.Errorf("result: %w", err)
	}
	return r, nil
}
