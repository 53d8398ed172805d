package storage

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/domain"
)

// inviteGrace is how long an invite is remembered after it expired, so that
// a late /start is told "expired" (or "used") rather than "unknown".
const inviteGrace = 30 * 24 * time.Hour

// inviteTokenBytes is the entropy of a token: 16 random bytes, 22
// characters of unpadded base64url, well within Telegram's 64-character
// /start payload.
const inviteTokenBytes = 16

// tokenRE matches what a token may be; anything else is refused before it
// gets near a key. It admits the base64url alphabet only.
var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// inviteRecord is an invite as stored in the committee's invites hash (the
// token is the field; "<token>:used" holds "<userID>:<at>" once redeemed).
type inviteRecord struct {
	Unit    string `json:"unit"`
	By      int64  `json:"by"`
	Created int64  `json:"created"` // unix ms
	Expires int64  `json:"expires"` // unix ms
}

// createInviteScript stores a new invite and prunes those expired longer
// than the grace period. The prune index (KEYS[4]) holds each token by
// when it may be pruned, so a new invite costs the same whatever the
// number of invites the committee made: it deletes at most 100 due ones.
// A committee whose invites were kept before the index existed (no index
// key) is indexed once, by reading the whole hash. An invite made by an
// earlier version running beside this one is not indexed until the index
// has emptied and is built again; it stays that long.
//
// KEYS[1] -> <p>:{c:<id>}:meta
// KEYS[2] -> <p>:{c:<id>}:unit
// KEYS[3] -> <p>:{c:<id>}:invites
// KEYS[4] -> <p>:{c:<id>}:inviteprune
// ARGV[1] -> token
// ARGV[2] -> JSON inviteRecord
// ARGV[3] -> unit code
// ARGV[4] -> now (unix ms)
// ARGV[5] -> grace (ms)
// ARGV[6] -> when the new invite may be pruned: its expiry plus grace
//
//	(unix ms)
//
// Returns 1 if stored (or stored already by this very call), 0 if the token
// exists with another record, nil if the committee or unit does not exist.
var createInviteScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 0 then return false end
local now, grace = tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('EXISTS', KEYS[4]) == 1 then
	for _, t in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 100)) do
		redis.call('HDEL', KEYS[3], t, t .. ':used')
		redis.call('ZREM', KEYS[4], t)
	end
else
	local all = redis.call('HGETALL', KEYS[3])
	for i = 1, #all, 2 do
		if not string.find(all[i], ':', 1, true) then
			local ok, r = pcall(cjson.decode, all[i+1])
			if ok and type(r) == 'table' and tonumber(r.expires) then
				local at = tonumber(r.expires) + grace
				if at <= now then
					redis.call('HDEL', KEYS[3], all[i], all[i] .. ':used')
				else
					redis.call('ZADD', KEYS[4], at, all[i])
				end
			end
		end
	end
end
local cur = redis.call('HGET', KEYS[3], ARGV[1])
if cur then
	if cur == ARGV[2] then return 1 end
	return 0
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[6], ARGV[1])
return 1
`)

// CreateInvite makes a one-time invite to unit of committee id, valid for
// domain.InviteTTL. Its random token (22 characters of [A-Za-z0-9_-]) is
// the /start payload of the deep link. ErrNotFound if the committee or
// unit does not exist.
func (s *Committees) CreateInvite(ctx context.Context, id, unit string, by int64) (domain.Invite, error) {
	if !validID(id) || domain.ValidUnitCode(unit) != nil {
		return domain.Invite{}, fmt.Errorf("invite to unit %q of committee %q: %w", unit, id, ErrNotFound)
	}
	token, err := newToken()
	if err != nil {
		return domain.Invite{}, fmt.Errorf("invite to unit %s of committee %s: %w", unit, id, err)
	}
	now := fromUnixMilli(unixMilli(s.now()))
	inv := domain.Invite{Token: token, Committee: id, Unit: unit, By: by, Created: now, Expires: now.Add(domain.InviteTTL)}
	rec, err := json.Marshal(inviteRecord{Unit: unit, By: by, Created: unixMilli(inv.Created), Expires: unixMilli(inv.Expires)})
	if err != nil {
		return domain.Invite{}, fmt.Errorf("invite to unit %s of committee %s: %w", unit, id, err)
	}
	v, err := runScript(ctx, s.c, createInviteScript,
		[]string{s.k.CommitteeMeta(id), s.k.UnitRecords(id), s.k.Invites(id), s.k.InvitePrune(id)},
		token, rec, unit, unixMilli(now), inviteGrace.Milliseconds(), unixMilli(inv.Expires.Add(inviteGrace)))
	if err != nil {
		return domain.Invite{}, fmt.Errorf("invite to unit %s of committee %s: %w", unit, id, err)
	}
	if n, ok := v.(int64); !ok || n != 1 {
		return domain.Invite{}, fmt.Errorf("invite to unit %s of committee %s: token collision: %w", unit, id, ErrConflict)
	}
	// The global key goes second: until it exists the token is simply
	// unknown, which is right for a link nobody has been given yet.
	if err := s.c.Set(ctx, s.k.InviteCommittee(token), id, domain.InviteTTL+inviteGrace).Err(); err != nil {
		return domain.Invite{}, fmt.Errorf("invite to unit %s of committee %s: %w", unit, id, err)
	}
	return inv, nil
}

func newToken() (string, error) {
	b := make([]byte, inviteTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Statuses returned by redeemScript.
const (
	redeemNotFound = 0
	redeemDone     = 1
	redeemAgain    = 2
	redeemMove     = 3
	redeemUsed     = -1
	redeemExpired  = -2
)

// redeemScript consumes an invite and makes its user a delegate of the
// invite's unit (moving them from another unit of the committee).
//
// KEYS[1] -> <p>:{c:<id>}:meta
// KEYS[2] -> <p>:{c:<id>}:unit
// KEYS[3] -> <p>:{c:<id>}:members
// KEYS[4] -> <p>:{c:<id>}:invites
// ARGV[1] -> token
// ARGV[2] -> user id
// ARGV[3] -> JSON memberRecord without its unit
// ARGV[4] -> now (unix ms)
// ARGV[5] -> "1" if the user confirmed moving from another unit
// ARGV[6] -> the user's name as a JSON string (for the member log)
// KEYS[5] -> <p>:{c:<id>}:memberlog
//
// Returns {status, JSON memberRecord or "", previous unit or ""}:
// 1: the user is now a delegate of the unit; the invite is used up (the
// previous unit is named when they moved); the join or move is logged
// 3: the user is a delegate of another unit (named third, the invite's
// unit fourth) and did not confirm the move: nothing changes
// 2: the user is a delegate of the unit already (they redeemed this
// invite before, or another one of the same unit): nothing changes and
// the invite, if unused, stays valid for someone else
// 0: unknown token (revoked, pruned) or the unit or committee is gone
// -1: used by someone else, or by this user who is no longer a delegate of
// the unit
// -2: expired
var redeemScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, ''} end
local inv = redis.call('HGET', KEYS[4], ARGV[1])
if not inv then return {0, ''} end
local ok, rec = pcall(cjson.decode, inv)
if not ok or type(rec) ~= 'table' or type(rec.unit) ~= 'string' then return {0, ''} end
local unit = rec.unit
local cur = redis.call('HGET', KEYS[3], ARGV[2])
local curUnit = ''
if cur then
	local ok2, m = pcall(cjson.decode, cur)
	if ok2 and type(m) == 'table' and type(m.unit) == 'string' then curUnit = m.unit end
end
local used = redis.call('HGET', KEYS[4], ARGV[1] .. ':used')
if used then
	if curUnit == unit and string.match(used, '^(%-?%d+):') == ARGV[2] then return {2, cur} end
	return {-1, ''}
end
if tonumber(rec.expires) <= tonumber(ARGV[4]) then return {-2, ''} end
if redis.call('HEXISTS', KEYS[2], unit) == 0 then return {0, ''} end
if curUnit == unit then return {2, cur} end
if curUnit ~= '' and ARGV[5] ~= '1' then return {3, '', curUnit, unit} end
local member = '{"unit":"' .. unit .. '",' .. string.sub(ARGV[3], 2)
redis.call('HSET', KEYS[3], ARGV[2], member)
redis.call('HSET', KEYS[4], ARGV[1] .. ':used', ARGV[2] .. ':' .. ARGV[4])
local event = 'join'
if curUnit ~= '' then event = 'move' end
redis.call('RPUSH', KEYS[5], '{"event":"' .. event .. '","user":' .. ARGV[2] .. ',"name":' .. ARGV[6] ..
	',"from":"' .. curUnit .. '","to":"' .. unit .. '","at":' .. ARGV[4] .. '}')
return {1, member, curUnit}
`)

// Redemption is what Redeem did.
type Redemption struct {
	Committee domain.Committee
	Delegate  domain.Delegate
	// Previous is the unit the user was a delegate of before, when the
	// invite moved them.
	Previous string
	// Again: the user was a delegate of the invite's unit already (a
	// repeated /start): nothing changed.
	Again bool
}

// RedeemInvite is Redeem with the move confirmed: it makes d.UserID a
// delegate of the unit of invite token, moving them from another unit of
// the committee if they were a delegate of one.
func (s *Committees) RedeemInvite(ctx context.Context, token string, d domain.Delegate) (domain.Committee, domain.Delegate, error) {
	r, err := s.Redeem(ctx, token, d, true)
	return r.Committee, r.Delegate, err
}

// Redeem makes d.UserID a delegate of the unit of invite token, with d's
// Name and Username and Joined from the clock (d.Unit and d.Joined are
// ignored). The join is logged (MemberHistory). A user who is a delegate
// of another unit of that committee is moved only with confirmMove (the
// move is logged); without it Redeem
// returns a *domain.MoveError naming both units and changes nothing.
//
// The invite is used up atomically: of concurrent redeemers exactly one
// succeeds and the others get domain.ErrInviteUsed. Other errors: domain.ErrInviteExpired
// past domain.InviteTTL; ErrNotFound for an unknown, forged or revoked
// token or a unit removed since. A user who already is a delegate of the
// invite's unit (repeating /start, or a retry after "not recorded") gets
// their delegate record with Again set, and an unused invite stays valid.
//
// Steps: the token's committee is read from a global key; one committee
// script checks and consumes the invite and adds the delegate; then the
// user's index is updated (repeating the call redoes that step).
func (s *Committees) Redeem(ctx context.Context, token string, d domain.Delegate, confirmMove bool) (Redemption, error) {
	fail := func(err error) (Redemption, error) { return Redemption{}, err }
	if !tokenRE.MatchString(token) {
		return fail(fmt.Errorf("redeem invite: malformed token: %w", ErrNotFound))
	}
	if d.UserID == 0 {
		return fail(fmt.Errorf("redeem invite: no user: %w", ErrInvalid))
	}
	id, err := s.c.Get(ctx, s.k.InviteCommittee(token)).Result()
	if err != nil {
		return fail(fmt.Errorf("redeem invite: %w", notFound(err)))
	}
	if !validID(id) {
		return fail(fmt.Errorf("redeem invite: %w", ErrNotFound))
	}
	// One time for the delegate's Joined and the member log's entry, so
	// that a join's notice finds its entry by it.
	now := unixMilli(s.now())
	body, err := json.Marshal(memberRecord{Name: d.Name, Username: d.Username, Joined: now})
	if err != nil {
		return fail(fmt.Errorf("redeem invite of committee %s: %w", id, err))
	}
	name, err := json.Marshal(d.Name)
	if err != nil {
		return fail(fmt.Errorf("redeem invite of committee %s: %w", id, err))
	}
	confirm := "0"
	if confirmMove {
		confirm = "1"
	}
	v, err := runScript(ctx, s.c, redeemScript,
		[]string{s.k.CommitteeMeta(id), s.k.UnitRecords(id), s.k.Members(id), s.k.Invites(id), s.k.MemberLog(id)},
		token, d.UserID, body, now, confirm, name)
	if err != nil {
		return fail(fmt.Errorf("redeem invite of committee %s: %w", id, err))
	}
	top, _ := v.([]any)
	if len(top) < 2 {
		return fail(fmt.Errorf("redeem invite of committee %s: unexpected reply %v", id, v))
	}
	r := reply(top)
	status, err := r.int(0)
	if err != nil {
		return fail(fmt.Errorf("redeem invite of committee %s: %w", id, err))
	}
	var out Redemption
	if len(top) > 2 {
		out.Previous, _ = r.str(2)
	}
	switch status {
	case redeemDone:
	case redeemAgain:
		out.Again = true
	case redeemMove:
		to := ""
		if len(top) > 3 {
			to, _ = r.str(3)
		}
		return fail(&domain.MoveError{From: out.Previous, To: to})
	case redeemUsed:
		return fail(fmt.Errorf("redeem invite of committee %s: %w", id, domain.ErrInviteUsed))
	case redeemExpired:
		return fail(fmt.Errorf("redeem invite of committee %s: %w", id, domain.ErrInviteExpired))
	default:
		return fail(fmt.Errorf("redeem invite of committee %s: %w", id, ErrNotFound))
	}
	raw, err := r.str(1)
	if err != nil {
		return fail(fmt.Errorf("redeem invite of committee %s: %w", id, err))
	}
	if out.Delegate, err = decodeMember(d.UserID, raw); err != nil {
		return fail(fmt.Errorf("redeem invite of committee %s: %w", id, err))
	}
	if err := s.indexUser(ctx, id, d.UserID); err != nil {
		return fail(fmt.Errorf("redeem invite of committee %s: %w", id, err))
	}
	if out.Committee, err = s.Get(ctx, id); err != nil {
		return fail(fmt.Errorf("redeem invite of committee %s: %w", id, err))
	}
	return out, nil
}

// revokeInvitesScript deletes the unused invites of a unit.
//
// KEYS[1] -> <p>:{c:<id>}:invites
// ARGV[1] -> unit code
//
// Returns the tokens deleted.
var revokeInvitesScript = redis.NewScript(`
local tokens = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
	local t = all[i]
	if not string.find(t, ':', 1, true) and redis.call('HEXISTS', KEYS[1], t .. ':used') == 0 then
		local ok, r = pcall(cjson.decode, all[i+1])
		if ok and type(r) == 'table' and r.unit == ARGV[1] then
			redis.call('HDEL', KEYS[1], t)
			tokens[#tokens+1] = t
		end
	end
end
return tokens
`)

// RevokeInvites deletes the unused invites of unit in committee id and
// returns how many there were (0 for an unknown committee or unit);
// redeeming a revoked token gives ErrNotFound. RemoveUnit drops a unit's
// invites by itself.
func (s *Committees) RevokeInvites(ctx context.Context, id, unit string) (int, error) {
	if !validID(id) || domain.ValidUnitCode(unit) != nil {
		return 0, nil
	}
	v, err := runScript(ctx, s.c, revokeInvitesScript, []string{s.k.Invites(id)}, unit)
	if err != nil {
		return 0, fmt.Errorf("revoke invites of unit %s of committee %s: %w", unit, id, err)
	}
	tokens, _ := v.([]any)
	s.forgetTokens(ctx, tokens)
	return len(tokens), nil
}

// forgetTokens deletes the global keys of invite tokens whose invites are
// gone, best effort: a token whose invite is gone is not found either way.
func (s *Committees) forgetTokens(ctx context.Context, tokens []any) {
	if len(tokens) == 0 {
		return
	}
	_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, t := range tokens {
			if tok, ok := t.(string); ok && tokenRE.MatchString(tok) {
				p.Del(ctx, s.k.InviteCommittee(tok))
			}
		}
		return nil
	})
}
