package storage

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/domain"
)

// unitRecord is a unit as stored in the committee's unit hash (the code is
// the field).
type unitRecord struct {
	Name  string `json:"name"`
	Added int64  `json:"added"` // unix ms
}

// memberRecord is a delegate as stored in the committee's members hash (the
// user id is the field). Unit is omitted when empty so that redeemScript can
// prepend it to a record Go encoded without it.
type memberRecord struct {
	Unit     string `json:"unit,omitempty"`
	Name     string `json:"name"`
	Username string `json:"username"`
	Joined   int64  `json:"joined"` // unix ms
}

// roleChangeRecord is a role change as stored in the role log. Scripts
// write it by concatenation (every field is a number or a unit code).
type roleChangeRecord struct {
	Year     int    `json:"year"`
	Role     string `json:"role"`
	Unit     string `json:"unit"`
	Previous string `json:"previous"`
	By       int64  `json:"by"`
	At       int64  `json:"at"` // unix ms
}

// addUnitScript adds a unit to a committee.
//
// KEYS[1] -> <p>:{c:<id>}:meta
// KEYS[2] -> <p>:{c:<id>}:unit
// KEYS[3] -> <p>:{c:<id>}:units
// ARGV[1] -> unit code
// ARGV[2] -> JSON unitRecord
//
// Returns 1 if added (or already added by this very call: the same record),
// 0 if the code exists, nil if the committee does not exist.
var addUnitScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur then
	if cur == ARGV[2] then return 1 end
	return 0
end
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
local ord = 1
if last[2] then ord = tonumber(last[2]) + 1 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ord, ARGV[1])
return 1
`)

// removeUnitScript removes a unit with its delegates, its head or deputy
// role in the current and later years, and its invites.
//
// KEYS[1] -> <p>:{c:<id>}:meta
// KEYS[2] -> <p>:{c:<id>}:unit
// KEYS[3] -> <p>:{c:<id>}:units
// KEYS[4] -> <p>:{c:<id>}:members
// KEYS[5] -> <p>:{c:<id>}:roles
// KEYS[6] -> <p>:{c:<id>}:rolelog
// KEYS[7] -> <p>:{c:<id>}:invites
// KEYS[8] -> <p>:{c:<id>}:ballots (the ballot index)
// KEYS[9] -> <p>:{c:<id>}:memberlog
// ARGV[1] -> unit code
// ARGV[2] -> now (unix ms)
// ARGV[3] -> prefix of a ballot's key, <p>:{c:<id>}:ballot: (the ballots
//
//	found in the index share the committee's tag)
//
// ARGV[4] -> who removes the unit (user id), for the member log
//
// Returns {{userID, JSON memberRecord, …}, {token, …}}: the removed
// delegates and invite tokens; nil if the unit does not exist; {"ballot",
// id} (nothing removed) while an open ballot has the unit, or one of its
// delegates, as an elector, or the unit as a candidate.
var removeUnitScript = redis.NewScript(openBallotsLua + memberChangeLua + `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return false end
local m = redis.call('HGETALL', KEYS[4])
local mine = {}
for i = 1, #m, 2 do
	local ok, rec = pcall(cjson.decode, m[i+1])
	if ok and type(rec) == 'table' and rec.unit == ARGV[1] then mine[#mine+1] = m[i] end
end
for _, b in ipairs(open_ballots(KEYS[8], ARGV[3])) do
	if redis.call('SISMEMBER', b.key .. ':electors', ARGV[1]) == 1 then return {'ballot', b.id} end
	for _, uid in ipairs(mine) do
		if redis.call('SISMEMBER', b.key .. ':electors', uid) == 1 then return {'ballot', b.id} end
	end
	for _, q in ipairs(b.doc.Questions) do
		for _, o in ipairs(type(q.Options) == 'table' and q.Options or {}) do
			if o.Key == ARGV[1] then return {'ballot', b.id} end
		end
	end
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
local removed = {}
for i = 1, #m, 2 do
	local ok, rec = pcall(cjson.decode, m[i+1])
	if ok and type(rec) == 'table' and rec.unit == ARGV[1] then
		redis.call('HDEL', KEYS[4], m[i])
		removed[#removed+1] = m[i]
		removed[#removed+1] = m[i+1]
		redis.call('RPUSH', KEYS[9], member_change('unit_removed', m[i], rec, ARGV[4], ARGV[2]))
	end
end
local year = tonumber(redis.call('HGET', KEYS[1], 'year')) or 0
local r = redis.call('HGETALL', KEYS[5])
for i = 1, #r, 2 do
	if r[i+1] == ARGV[1] then
		local y, role = string.match(r[i], '^(%d+):(%a+)$')
		if y and tonumber(y) >= year then
			redis.call('HDEL', KEYS[5], r[i])
			redis.call('RPUSH', KEYS[6], '{"year":' .. y .. ',"role":"' .. role ..
				'","unit":"","previous":"' .. ARGV[1] .. '","by":0,"at":' .. ARGV[2] .. '}')
		end
	end
end
local tokens = {}
local inv = redis.call('HGETALL', KEYS[7])
for i = 1, #inv, 2 do
	if not string.find(inv[i], ':', 1, true) then
		local ok, rec = pcall(cjson.decode, inv[i+1])
		if ok and type(rec) == 'table' and rec.unit == ARGV[1] then
			redis.call('HDEL', KEYS[7], inv[i], inv[i] .. ':used')
			tokens[#tokens+1] = inv[i]
		end
	end
end
return {removed, tokens}
`)

// AddUnit adds unit u to committee id, stamping u.Added from the clock. It
// returns u.Validate's error wrapped (domain.ErrUnitCode, domain.ErrName)
// with nothing stored, ErrConflict if the code exists, ErrNotFound if the
// committee does not exist. The name is stored trimmed.
func (s *Committees) AddUnit(ctx context.Context, id string, u domain.Unit) error {
	u.Name = strings.TrimSpace(u.Name)
	if err := u.Validate(); err != nil {
		return fmt.Errorf("add unit %q to committee %s: %w", u.Code, id, err)
	}
	if !validID(id) {
		return fmt.Errorf("add unit %s to committee %q: %w", u.Code, id, ErrNotFound)
	}
	rec, err := json.Marshal(unitRecord{Name: u.Name, Added: unixMilli(s.now())})
	if err != nil {
		return fmt.Errorf("add unit %s to committee %s: %w", u.Code, id, err)
	}
	v, err := runScript(ctx, s.c, addUnitScript,
		[]string{s.k.CommitteeMeta(id), s.k.UnitRecords(id), s.k.UnitOrder(id)}, u.Code, rec)
	if err != nil {
		return fmt.Errorf("add unit %s to committee %s: %w", u.Code, id, err)
	}
	if n, ok := v.(int64); !ok || n != 1 {
		return fmt.Errorf("add unit %s to committee %s: code exists: %w", u.Code, id, ErrConflict)
	}
	return nil
}

// RemoveUnit removes unit code from committee id in one step, together with
// its delegates (returned, in the order of Delegates), its open and used
// invites, and its head or deputy role in the current and later years
// (each cleared role is recorded in the role history with By 0). Past
// years' roles stay. Each delegate's removal is logged with by
// (MemberHistory). ErrNotFound if the unit does not exist.
//
// The removed delegates' user index entries are cleaned up afterwards, best
// effort: UserCommittees ignores stale entries, so a failure there does not
// make the removal fail.
func (s *Committees) RemoveUnit(ctx context.Context, id, code string, by int64) ([]domain.Delegate, error) {
	if !validID(id) || domain.ValidUnitCode(code) != nil {
		return nil, fmt.Errorf("remove unit %q of committee %q: %w", code, id, ErrNotFound)
	}
	v, err := runScript(ctx, s.c, removeUnitScript, []string{
		s.k.CommitteeMeta(id), s.k.UnitRecords(id), s.k.UnitOrder(id), s.k.Members(id),
		s.k.Roles(id), s.k.RoleLog(id), s.k.Invites(id), s.k.BallotIndex(id), s.k.MemberLog(id),
	}, code, unixMilli(s.now()), s.k.BallotPrefix(id), by)
	if err != nil {
		return nil, fmt.Errorf("remove unit %s of committee %s: %w", code, id, err)
	}
	if pair, ok := v.([]any); ok && len(pair) == 2 {
		if kind, _ := pair[0].(string); kind == "ballot" {
			bid, _ := pair[1].(string)
			return nil, &domain.UnitOnBallotError{Unit: code, Ballot: bid}
		}
	}
	r, err := asReply(v, 2)
	if err != nil {
		return nil, fmt.Errorf("remove unit %s of committee %s: %w", code, id, err)
	}
	flat, _ := r[0].([]any)
	fields := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		k, _ := flat[i].(string)
		v, _ := flat[i+1].(string)
		fields[k] = v
	}
	removed, err := decodeMembers(fields)
	if err != nil {
		return nil, fmt.Errorf("remove unit %s of committee %s: %w", code, id, err)
	}
	sortDelegates(removed, nil)
	for _, d := range removed {
		s.unindexUser(ctx, id, d.UserID)
	}
	tokens, _ := r[1].([]any)
	s.forgetTokens(ctx, tokens)
	return removed, nil
}

// Units returns the units of committee id in the order they were added
// (none if the committee does not exist).
func (s *Committees) Units(ctx context.Context, id string) ([]domain.Unit, error) {
	if !validID(id) {
		return nil, nil
	}
	var order *redis.StringSliceCmd
	var recs *redis.MapStringStringCmd
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		order = p.ZRange(ctx, s.k.UnitOrder(id), 0, -1)
		recs = p.HGetAll(ctx, s.k.UnitRecords(id))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("units of committee %s: %w", id, err)
	}
	units := make([]domain.Unit, 0, len(order.Val()))
	for _, code := range order.Val() {
		raw, ok := recs.Val()[code]
		if !ok {
			continue
		}
		u, err := decodeUnit(code, raw)
		if err != nil {
			return nil, fmt.Errorf("units of committee %s: %w", id, err)
		}
		units = append(units, u)
	}
	return units, nil
}

// Unit returns unit code of committee id, or ErrNotFound.
func (s *Committees) Unit(ctx context.Context, id, code string) (domain.Unit, error) {
	if !validID(id) || domain.ValidUnitCode(code) != nil {
		return domain.Unit{}, fmt.Errorf("unit %q of committee %q: %w", code, id, ErrNotFound)
	}
	raw, err := s.c.HGet(ctx, s.k.UnitRecords(id), code).Result()
	if err != nil {
		return domain.Unit{}, fmt.Errorf("unit %s of committee %s: %w", code, id, notFound(err))
	}
	u, err := decodeUnit(code, raw)
	if err != nil {
		return domain.Unit{}, fmt.Errorf("unit %s of committee %s: %w", code, id, err)
	}
	return u, nil
}

func decodeUnit(code, raw string) (domain.Unit, error) {
	var r unitRecord
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return domain.Unit{}, fmt.Errorf("decode unit %s: %w", code, err)
	}
	return domain.Unit{Code: code, Name: r.Name, Added: fromUnixMilli(r.Added)}, nil
}

// Delegates returns the delegates of committee id, sorted by unit (in the
// order units were added), then by when they joined.
func (s *Committees) Delegates(ctx context.Context, id string) ([]domain.Delegate, error) {
	ds, _, err := s.delegates(ctx, id, "")
	if err != nil {
		return nil, fmt.Errorf("delegates of committee %s: %w", id, err)
	}
	return ds, nil
}

// UnitDelegates returns the delegates of unit code, by when they joined;
// ErrNotFound if the unit does not exist.
func (s *Committees) UnitDelegates(ctx context.Context, id, code string) ([]domain.Delegate, error) {
	if domain.ValidUnitCode(code) != nil {
		return nil, fmt.Errorf("delegates of unit %q of committee %s: %w", code, id, ErrNotFound)
	}
	ds, order, err := s.delegates(ctx, id, code)
	if err != nil {
		return nil, fmt.Errorf("delegates of unit %s of committee %s: %w", code, id, err)
	}
	if !slices.Contains(order, code) {
		return nil, fmt.Errorf("delegates of unit %s of committee %s: %w", code, id, ErrNotFound)
	}
	return ds, nil
}

// delegates reads the delegates (of one unit, if unit is not "") and the
// unit order, sorted.
func (s *Committees) delegates(ctx context.Context, id, unit string) ([]domain.Delegate, []string, error) {
	if !validID(id) {
		return nil, nil, nil
	}
	var members *redis.MapStringStringCmd
	var order *redis.StringSliceCmd
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		members = p.HGetAll(ctx, s.k.Members(id))
		order = p.ZRange(ctx, s.k.UnitOrder(id), 0, -1)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	ds, err := decodeMembers(members.Val())
	if err != nil {
		return nil, nil, err
	}
	if unit != "" {
		ds = slices.DeleteFunc(ds, func(d domain.Delegate) bool { return d.Unit != unit })
	}
	sortDelegates(ds, order.Val())
	return ds, order.Val(), nil
}

// DelegateOf returns userID's delegate record in committee id, or
// ErrNotFound if the user is not a delegate there.
func (s *Committees) DelegateOf(ctx context.Context, id string, userID int64) (domain.Delegate, error) {
	if !validID(id) {
		return domain.Delegate{}, fmt.Errorf("delegate %d of committee %q: %w", userID, id, ErrNotFound)
	}
	raw, err := s.c.HGet(ctx, s.k.Members(id), itoa(userID)).Result()
	if err != nil {
		return domain.Delegate{}, fmt.Errorf("delegate %d of committee %s: %w", userID, id, notFound(err))
	}
	d, err := decodeMember(userID, raw)
	if err != nil {
		return domain.Delegate{}, fmt.Errorf("delegate %d of committee %s: %w", userID, id, err)
	}
	return d, nil
}

// memberChangeLua defines, for scripts that remove delegates, the Lua
// function member_change(event, user, rec, by, at): the JSON member log
// entry of a removal, from the removed delegate's decoded memberRecord.
// Numbers and unit codes are concatenated as they came (strings from
// ARGV and fields); the name, user text, is encoded by cjson.
const memberChangeLua = `
local function member_change(event, user, rec, by, at)
	local unit, name = '', '""'
	if type(rec) == 'table' then
		if type(rec.unit) == 'string' then unit = rec.unit end
		if type(rec.name) == 'string' then name = cjson.encode(rec.name) end
	end
	return '{"event":"' .. event .. '","user":' .. user .. ',"name":' .. name .. ',"from":"' .. unit ..
		'","to":"","by":' .. by .. ',"at":' .. at .. '}'
end
`

// removeMemberScript removes one delegate and logs it.
//
// KEYS[1] -> <p>:{c:<id>}:members
// KEYS[2] -> <p>:{c:<id>}:memberlog
// ARGV[1] -> user id
// ARGV[2] -> who removes them (user id; the user themself for /leave)
// ARGV[3] -> now (unix ms)
// ARGV[4] -> the log's event: leave or remove
//
// Returns the removed JSON memberRecord, or nil if the user is not a
// delegate (nothing is logged then, so a repeated call logs once).
var removeMemberScript = redis.NewScript(memberChangeLua + `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
local ok, rec = pcall(cjson.decode, cur)
if not ok then rec = nil end
redis.call('RPUSH', KEYS[2], member_change(ARGV[4], ARGV[1], rec, ARGV[2], ARGV[3]))
return cur
`)

// RemoveDelegate removes userID from the delegates of committee id and
// returns what they were; ErrNotFound if they were not a delegate. by is
// who removes them: the user themself (/leave) or an admin
// (/delegate_remove); the removal is logged (MemberHistory). The user
// index is cleaned up afterwards, best effort (see RemoveUnit).
func (s *Committees) RemoveDelegate(ctx context.Context, id string, userID, by int64) (domain.Delegate, error) {
	if !validID(id) {
		return domain.Delegate{}, fmt.Errorf("remove delegate %d of committee %q: %w", userID, id, ErrNotFound)
	}
	event := domain.MemberRemoved
	if by == userID {
		event = domain.MemberLeft
	}
	v, err := runScript(ctx, s.c, removeMemberScript, []string{s.k.Members(id), s.k.MemberLog(id)},
		userID, by, unixMilli(s.now()), event)
	if err != nil {
		return domain.Delegate{}, fmt.Errorf("remove delegate %d of committee %s: %w", userID, id, err)
	}
	raw, _ := v.(string)
	d, err := decodeMember(userID, raw)
	if err != nil {
		return domain.Delegate{}, fmt.Errorf("remove delegate %d of committee %s: %w", userID, id, err)
	}
	s.unindexUser(ctx, id, userID)
	return d, nil
}

// UserCommittees returns the ids of the committees where userID is a
// delegate, in id order. It reads the user's index and keeps only the ids
// whose committee lists the user: the index is written after the
// committee, so it may hold stale ids (never missing ones) while a change
// is under way or after a failed cleanup.
func (s *Committees) UserCommittees(ctx context.Context, userID int64) ([]string, error) {
	ids, err := s.c.SMembers(ctx, s.k.UserCommittees(userID)).Result()
	if err != nil {
		return nil, fmt.Errorf("committees of user %d: %w", userID, err)
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return !validID(id) })
	checks := make([]*redis.BoolCmd, len(ids))
	_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			checks[i] = p.HExists(ctx, s.k.Members(id), itoa(userID))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("committees of user %d: %w", userID, err)
	}
	out := make([]string, 0, len(ids))
	for i, id := range ids {
		if checks[i].Val() {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, compareIDs)
	return out, nil
}

// indexUser records in the user index that userID is a delegate of
// committee id. Call it after the committee's members hash has the user.
func (s *Committees) indexUser(ctx context.Context, id string, userID int64) error {
	if err := s.c.SAdd(ctx, s.k.UserCommittees(userID), id).Err(); err != nil {
		return fmt.Errorf("index committee %s for user %d: %w", id, userID, err)
	}
	return nil
}

// unindexUser drops committee id from userID's index after the user left
// its members hash. It checks again afterwards and puts the id back if the
// user rejoined meanwhile, so that a concurrent join (members hash, then
// index) never ends up missing from the index. Errors are ignored: a stale
// entry is harmless (see UserCommittees).
func (s *Committees) unindexUser(ctx context.Context, id string, userID int64) {
	key := s.k.UserCommittees(userID)
	if err := s.c.SRem(ctx, key, id).Err(); err != nil {
		return
	}
	if member, err := s.c.HExists(ctx, s.k.Members(id), itoa(userID)).Result(); err != nil || member {
		_ = s.c.SAdd(ctx, key, id).Err()
	}
}

// compareIDs orders committee ids numerically when they are numbers.
func compareIDs(a, b string) int {
	return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
}

func decodeMember(userID int64, raw string) (domain.Delegate, error) {
	var r memberRecord
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return domain.Delegate{}, fmt.Errorf("decode delegate %d: %w", userID, err)
	}
	return domain.Delegate{UserID: userID, Unit: r.Unit, Name: r.Name, Username: r.Username, Joined: fromUnixMilli(r.Joined)}, nil
}

func decodeMembers(fields map[string]string) ([]domain.Delegate, error) {
	ds := make([]domain.Delegate, 0, len(fields))
	for f, raw := range fields {
		uid, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("delegate field %q is not a user id", f)
		}
		d, err := decodeMember(uid, raw)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// sortDelegates sorts by the unit's position in order (units not in it
// last, by code), then join time, then user id.
func sortDelegates(ds []domain.Delegate, order []string) {
	rank := make(map[string]int, len(order))
	for i, c := range order {
		rank[c] = i
	}
	pos := func(code string) int {
		if r, ok := rank[code]; ok {
			return r
		}
		return len(order)
	}
	slices.SortFunc(ds, func(a, b domain.Delegate) int {
		return cmp.Or(
			cmp.Compare(pos(a.Unit), pos(b.Unit)),
			strings.Compare(a.Unit, b.Unit),
			a.Joined.Compare(b.Joined),
			cmp.Compare(a.UserID, b.UserID),
		)
	})
}

// setRoleScript gives a unit a role for a year, or takes its roles away.
//
// KEYS[1] -> <p>:{c:<id>}:meta
// KEYS[2] -> <p>:{c:<id>}:unit
// KEYS[3] -> <p>:{c:<id>}:roles
// KEYS[4] -> <p>:{c:<id>}:rolelog
// ARGV[1] -> year
// ARGV[2] -> unit code
// ARGV[3] -> role: head, deputy or member
// ARGV[4] -> by (user id)
// ARGV[5] -> now (unix ms)
//
// Returns the JSON role changes made, in order (empty if nothing changed,
// as when the call is repeated); nil if the committee or unit does not
// exist.
var setRoleScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then return false end
local changes = {}
local function set(role, unit)
	local f = ARGV[1] .. ':' .. role
	local prev = redis.call('HGET', KEYS[3], f) or ''
	if prev == unit then return end
	if unit == '' then
		redis.call('HDEL', KEYS[3], f)
	else
		redis.call('HSET', KEYS[3], f, unit)
	end
	local rec = '{"year":' .. ARGV[1] .. ',"role":"' .. role .. '","unit":"' .. unit ..
		'","previous":"' .. prev .. '","by":' .. ARGV[4] .. ',"at":' .. ARGV[5] .. '}'
	redis.call('RPUSH', KEYS[4], rec)
	changes[#changes+1] = rec
end
local other = {head = 'deputy', deputy = 'head'}
if ARGV[3] == 'member' then
	for _, r in ipairs({'head', 'deputy'}) do
		if redis.call('HGET', KEYS[3], ARGV[1] .. ':' .. r) == ARGV[2] then set(r, '') end
	end
else
	local o = other[ARGV[3]]
	if redis.call('HGET', KEYS[3], ARGV[1] .. ':' .. o) == ARGV[2] then set(o, '') end
	set(ARGV[3], ARGV[2])
end
return changes
`)

// SetRole sets the role of unit code in committee id for year. role head or
// deputy makes the unit hold it, taking it from the previous holder and,
// since one unit cannot be both, clearing the unit's other role; role
// member clears whatever role the unit held. It returns the changes made
// (none when the unit already had that role) and records each in the role
// history. Committee.Head and Deputy show the roles of the committee's
// current Year only. Errors: domain.ErrRole or domain.ErrYear wrapped,
// ErrNotFound if the committee or unit does not exist.
func (s *Committees) SetRole(ctx context.Context, id string, year int, code, role string, by int64) ([]domain.RoleChange, error) {
	if err := domain.ValidRole(role); err != nil {
		return nil, fmt.Errorf("set role of unit %s in committee %s: %w", code, id, err)
	}
	if err := domain.ValidYear(year); err != nil {
		return nil, fmt.Errorf("set role of unit %s in committee %s: %w", code, id, err)
	}
	if !validID(id) || domain.ValidUnitCode(code) != nil {
		return nil, fmt.Errorf("set role of unit %q in committee %q: %w", code, id, ErrNotFound)
	}
	v, err := runScript(ctx, s.c, setRoleScript, []string{
		s.k.CommitteeMeta(id), s.k.UnitRecords(id), s.k.Roles(id), s.k.RoleLog(id),
	}, year, code, role, by, unixMilli(s.now()))
	if err != nil {
		return nil, fmt.Errorf("set role of unit %s in committee %s: %w", code, id, err)
	}
	raw, _ := v.([]any)
	changes := make([]domain.RoleChange, 0, len(raw))
	for _, x := range raw {
		str, _ := x.(string)
		c, err := decodeRoleChange(str)
		if err != nil {
			return nil, fmt.Errorf("set role of unit %s in committee %s: %w", code, id, err)
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// RoleHistory returns every role change of committee id, oldest first.
func (s *Committees) RoleHistory(ctx context.Context, id string) ([]domain.RoleChange, error) {
	out, err := readLog(ctx, s, id, s.k.RoleLog, decodeRoleChange)
	if err != nil {
		return nil, fmt.Errorf("role history of committee %s: %w", id, err)
	}
	return out, nil
}

// memberChangeRecord is an entry of the member log. Scripts write it by
// concatenation (see memberChangeLua); Event is missing from the moves
// logged before joins and removals were.
type memberChangeRecord struct {
	Event string `json:"event"`
	User  int64  `json:"user"`
	Name  string `json:"name"`
	From  string `json:"from"`
	To    string `json:"to"`
	By    int64  `json:"by"`
	At    int64  `json:"at"` // unix ms
}

// MemberHistory returns every change of committee id's delegates — joins,
// moves, leaves and removals — oldest first. Delegates who joined before
// joins were logged appear only from their next change on.
func (s *Committees) MemberHistory(ctx context.Context, id string) ([]domain.MemberChange, error) {
	out, err := readLog(ctx, s, id, s.k.MemberLog, decodeMemberChange)
	if err != nil {
		return nil, fmt.Errorf("member history of committee %s: %w", id, err)
	}
	return out, nil
}

// readLog decodes every entry of one of committee id's log lists, oldest
// first; none for an id that cannot exist.
func readLog[T any](ctx context.Context, s *Committees, id string, key func(string) string, decode func(string) (T, error)) ([]T, error) {
	if !validID(id) {
		return nil, nil
	}
	raw, err := s.c.LRange(ctx, key(id), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(raw))
	for _, r := range raw {
		v, err := decode(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func decodeMemberChange(raw string) (domain.MemberChange, error) {
	var r memberChangeRecord
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return domain.MemberChange{}, fmt.Errorf("decode member change: %w", err)
	}
	if r.Event == "" {
		r.Event = domain.MemberMoved
	}
	return domain.MemberChange{Event: r.Event, UserID: r.User, Name: r.Name, From: r.From, To: r.To, By: r.By,
		At: fromUnixMilli(r.At)}, nil
}

func decodeRoleChange(raw string) (domain.RoleChange, error) {
	var r roleChangeRecord
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return domain.RoleChange{}, fmt.Errorf("decode role change: %w", err)
	}
	return domain.RoleChange{Year: r.Year, Role: r.Role, Unit: r.Unit, Previous: r.Previous, By: r.By, At: fromUnixMilli(r.At)}, nil
}
