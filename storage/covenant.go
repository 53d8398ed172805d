package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/domain"
)

// signatureRecord is a signature as stored in a covenant's signed hash (the
// unit code is the field).
type signatureRecord struct {
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
	At     int64  `json:"at"` // unix ms
}

// Fields of a covenant hash.
const (
	covTitle  = "title"
	covOpened = "opened"
	covBy     = "by"
)

// openCovenantScript opens a year's covenant.
//
// KEYS[1] -> <p>:{c:<id>}:meta
// KEYS[2] -> <p>:{c:<id>}:covenant:<year>
// KEYS[3] -> <p>:{c:<id>}:covenants
// ARGV[1] -> year
// ARGV[2] -> title
// ARGV[3] -> by (user id)
// ARGV[4] -> now (unix ms)
//
// Returns 1 if opened (or opened already by this very call: same title, by
// and time), 0 if the year has a covenant, nil if the committee does not
// exist.
var openCovenantScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('EXISTS', KEYS[2]) == 1 then
	local h = redis.call('HMGET', KEYS[2], 'title', 'by', 'opened')
	if h[1] == ARGV[2] and h[2] == ARGV[3] and h[3] == ARGV[4] then return 1 end
	return 0
end
redis.call('HSET', KEYS[2], 'title', ARGV[2], 'by', ARGV[3], 'opened', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[1])
return 1
`)

// OpenCovenant opens the covenant of year in committee id for signing.
// Errors: domain.ErrYear or domain.ErrCovenantText wrapped; ErrNotFound if
// the committee does not exist; ErrConflict if the year has a covenant
// already, which is then returned with the error.
func (s *Committees) OpenCovenant(ctx context.Context, id string, year int, title string, by int64) (domain.Covenant, error) {
	title = strings.TrimSpace(title)
	if err := domain.ValidYear(year); err != nil {
		return domain.Covenant{}, fmt.Errorf("open covenant %d of committee %s: %w", year, id, err)
	}
	if err := domain.ValidCovenantTitle(title); err != nil {
		return domain.Covenant{}, fmt.Errorf("open covenant %d of committee %s: %w", year, id, err)
	}
	if !validID(id) {
		return domain.Covenant{}, fmt.Errorf("open covenant %d of committee %q: %w", year, id, ErrNotFound)
	}
	v, err := runScript(ctx, s.c, openCovenantScript,
		[]string{s.k.CommitteeMeta(id), s.k.Covenant(id, year), s.k.Covenants(id)},
		year, title, by, unixMilli(s.now()))
	if err != nil {
		return domain.Covenant{}, fmt.Errorf("open covenant %d of committee %s: %w", year, id, err)
	}
	c, err := s.readCovenant(ctx, id, year)
	if err != nil {
		return domain.Covenant{}, fmt.Errorf("open covenant %d of committee %s: %w", year, id, err)
	}
	if n, ok := v.(int64); !ok || n != 1 {
		return c, fmt.Errorf("open covenant %d of committee %s: already open: %w", year, id, ErrConflict)
	}
	return c, nil
}

// Covenant returns the covenant of the latest year that has one in
// committee id: Signed in signing order, Pending the units that exist now
// and have not signed, in the order units were added. ErrNotFound if the
// committee has no covenant.
func (s *Committees) Covenant(ctx context.Context, id string) (domain.Covenant, error) {
	if !validID(id) {
		return domain.Covenant{}, fmt.Errorf("covenant of committee %q: %w", id, ErrNotFound)
	}
	years, err := s.c.ZRevRange(ctx, s.k.Covenants(id), 0, 0).Result()
	if err != nil {
		return domain.Covenant{}, fmt.Errorf("covenant of committee %s: %w", id, err)
	}
	if len(years) == 0 {
		return domain.Covenant{}, fmt.Errorf("covenant of committee %s: %w", id, ErrNotFound)
	}
	year, err := strconv.Atoi(years[0])
	if err != nil {
		return domain.Covenant{}, fmt.Errorf("covenant of committee %s: year %q: %w", id, years[0], err)
	}
	c, err := s.readCovenant(ctx, id, year)
	if err != nil {
		return domain.Covenant{}, fmt.Errorf("covenant of committee %s: %w", id, err)
	}
	return c, nil
}

// CovenantOf returns the covenant of year in committee id, as Covenant
// does for the latest year; ErrNotFound if that year has none.
func (s *Committees) CovenantOf(ctx context.Context, id string, year int) (domain.Covenant, error) {
	if !validID(id) {
		return domain.Covenant{}, fmt.Errorf("covenant %d of committee %q: %w", year, id, ErrNotFound)
	}
	c, err := s.readCovenant(ctx, id, year)
	if err != nil {
		return domain.Covenant{}, fmt.Errorf("covenant %d of committee %s: %w", year, id, err)
	}
	return c, nil
}

// readCovenant reads one year's covenant, its signatures and the current
// units in one transaction, so Signed and Pending agree.
func (s *Committees) readCovenant(ctx context.Context, id string, year int) (domain.Covenant, error) {
	var cov, signed *redis.MapStringStringCmd
	var order, units *redis.StringSliceCmd
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		cov = p.HGetAll(ctx, s.k.Covenant(id, year))
		signed = p.HGetAll(ctx, s.k.CovenantSigned(id, year))
		order = p.LRange(ctx, s.k.CovenantOrder(id, year), 0, -1)
		units = p.ZRange(ctx, s.k.UnitOrder(id), 0, -1)
		return nil
	})
	if err != nil {
		return domain.Covenant{}, err
	}
	h := cov.Val()
	if len(h) == 0 {
		return domain.Covenant{}, ErrNotFound
	}
	opened, _ := strconv.ParseInt(h[covOpened], 10, 64)
	by, _ := strconv.ParseInt(h[covBy], 10, 64)
	c := domain.Covenant{Year: year, Title: h[covTitle], Opened: fromUnixMilli(opened), By: by}
	seen := make(map[string]bool, len(order.Val()))
	for _, unit := range order.Val() {
		raw, ok := signed.Val()[unit]
		if !ok || seen[unit] {
			continue
		}
		seen[unit] = true
		var r signatureRecord
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return domain.Covenant{}, fmt.Errorf("decode signature of %s: %w", unit, err)
		}
		c.Signed = append(c.Signed, domain.Signature{Unit: unit, UserID: r.UserID, Name: r.Name, At: fromUnixMilli(r.At)})
	}
	for _, unit := range units.Val() {
		if _, ok := signed.Val()[unit]; !ok {
			c.Pending = append(c.Pending, unit)
		}
	}
	return c, nil
}

// Statuses returned by signScript.
const (
	signNoCovenant = 0
	signNoUnit     = -1
	signDone       = 1
	signAlready    = 2
)

// signScript records a unit's signature of a covenant.
//
// KEYS[1] -> <p>:{c:<id>}:unit
// KEYS[2] -> <p>:{c:<id>}:units
// KEYS[3] -> <p>:{c:<id>}:covenant:<year>
// KEYS[4] -> <p>:{c:<id>}:covenant:<year>:signed
// KEYS[5] -> <p>:{c:<id>}:covenant:<year>:order
// ARGV[1] -> unit code
// ARGV[2] -> JSON signatureRecord
// ARGV[3] -> now (unix ms)
//
// Returns {status, complete}: status 1 signed now (or by this very call,
// when the stored record is ARGV[2]), 2 signed before, 0 no covenant that
// year, -1 no such unit; complete 1 for the one signature that made every
// current unit signed (reported again only to a repeat of that same call).
var signScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[3]) == 0 then return {0, 0} end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {-1, 0} end
local cur = redis.call('HGET', KEYS[4], ARGV[1])
if cur then
	if cur ~= ARGV[2] then return {2, 0} end
	local h = redis.call('HMGET', KEYS[3], 'completed_by', 'completed_at')
	if h[1] == ARGV[1] and h[2] == ARGV[3] then return {1, 1} end
	return {1, 0}
end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[5], ARGV[1])
if redis.call('HEXISTS', KEYS[3], 'completed_by') == 1 then return {1, 0} end
for _, code in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
	if redis.call('HEXISTS', KEYS[4], code) == 0 then return {1, 0} end
end
redis.call('HSET', KEYS[3], 'completed_by', ARGV[1], 'completed_at', ARGV[3])
return {1, 1}
`)

// Sign records sig.Unit's signature of the covenant of year in committee id,
// by sig.UserID and sig.Name at the clock's time (sig.At is ignored), and
// returns the covenant after it. It is idempotent: a unit that signed
// already gets already=true and nothing changes. complete is true exactly
// once per covenant, for the signature that made every current unit signed,
// so the group is told once even when units sign concurrently. (A covenant
// completed by removing the last unsigned unit reports complete to no one.)
// The caller decides which unit a user signs for. ErrNotFound if the
// committee, the year's covenant or the unit does not exist.
func (s *Committees) Sign(ctx context.Context, id string, year int, sig domain.Signature) (c domain.Covenant, already bool, complete bool, err error) {
	if !validID(id) || domain.ValidUnitCode(sig.Unit) != nil {
		return domain.Covenant{}, false, false, fmt.Errorf("sign covenant %d of committee %q for %q: %w", year, id, sig.Unit, ErrNotFound)
	}
	now := unixMilli(s.now())
	rec, err := json.Marshal(signatureRecord{UserID: sig.UserID, Name: sig.Name, At: now})
	if err != nil {
		return domain.Covenant{}, false, false, fmt.Errorf("sign covenant %d of committee %s for %s: %w", year, id, sig.Unit, err)
	}
	v, err := runScript(ctx, s.c, signScript, []string{
		s.k.UnitRecords(id), s.k.UnitOrder(id),
		s.k.Covenant(id, year), s.k.CovenantSigned(id, year), s.k.CovenantOrder(id, year),
	}, sig.Unit, rec, now)
	if err != nil {
		return domain.Covenant{}, false, false, fmt.Errorf("sign covenant %d of committee %s for %s: %w", year, id, sig.Unit, err)
	}
	r, err := asReply(v, 2)
	if err != nil {
		return domain.Covenant{}, false, false, fmt.Errorf("sign covenant %d of committee %s for %s: %w", year, id, sig.Unit, err)
	}
	status, err := r.int(0)
	if err != nil {
		return domain.Covenant{}, false, false, fmt.Errorf("sign covenant %d of committee %s for %s: %w", year, id, sig.Unit, err)
	}
	done, err := r.int(1)
	if err != nil {
		return domain.Covenant{}, false, false, fmt.Errorf("sign covenant %d of committee %s for %s: %w", year, id, sig.Unit, err)
	}
	switch status {
	case signDone, signAlready:
	case signNoUnit:
		return domain.Covenant{}, false, false, fmt.Errorf("sign covenant %d of committee %s: unit %s: %w", year, id, sig.Unit, ErrNotFound)
	default:
		return domain.Covenant{}, false, false, fmt.Errorf("sign covenant %d of committee %s: no covenant: %w", year, id, ErrNotFound)
	}
	c, err = s.readCovenant(ctx, id, year)
	if err != nil {
		return domain.Covenant{}, false, false, fmt.Errorf("sign covenant %d of committee %s for %s: %w", year, id, sig.Unit, err)
	}
	return c, status == signAlready, done == 1, nil
}
