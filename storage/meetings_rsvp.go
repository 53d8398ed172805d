package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/domain"
)

// Statuses of rsvpScript.
const (
	rsvpRecorded   = 1
	rsvpUnchanged  = 0
	rsvpNotMember  = -1
	rsvpCancelled  = -2
	rsvpStarted    = -3
	rsvpNoPrevious = -1
)

// rsvpScript records a delegate's answer.
//
// KEYS[1] -> <p>:{c:<id>}:meeting:<mid>
// KEYS[2] -> <p>:{c:<id>}:meeting:<mid>:rsvp
// KEYS[3] -> <p>:{c:<id>}:members
// ARGV[1] -> user id
// ARGV[2] -> the unit the user answers for
// ARGV[3] -> JSON rsvpRecord
// ARGV[4] -> now (unix ms)
// ARGV[5] -> 1 attend, 0 not
//
// Returns {status, previous}: status 1 recorded (or by this very call), 0
// the same answer was recorded before, -1 the user is not a delegate of
// that unit, -2 cancelled, -3 started; previous 1 attend, 0 not, -1 none.
// nil if the meeting does not exist.
var rsvpScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'status', 'start')
if not h[1] then return false end
local member = redis.call('HGET', KEYS[3], ARGV[1])
if not member or cjson.decode(member)['unit'] ~= ARGV[2] then return {-1, -1} end
if h[1] == 'cancelled' then return {-2, -1} end
if tonumber(h[2]) <= tonumber(ARGV[4]) then return {-3, -1} end
local cur = redis.call('HGET', KEYS[2], ARGV[1])
local prev = -1
if cur then
	if cur == ARGV[3] then return {1, tonumber(ARGV[5])} end
	if cjson.decode(cur)['attend'] then prev = 1 else prev = 0 end
	if prev == tonumber(ARGV[5]) then return {0, prev} end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return {1, prev}
`)

// Answer records whether r.UserID, a delegate of r.Unit, attends the
// meeting, at the clock's time. changed is false when the same answer was
// recorded before; previous is the earlier answer, nil if none. Errors:
// ErrNotFound (no such meeting), domain.ErrNotDelegate, domain.ErrMeetingCancelled,
// domain.ErrMeetingStarted.
func (s *Meetings) Answer(ctx context.Context, committeeID, meetingID string, r domain.RSVP) (changed bool, previous *bool, err error) {
	if !validID(committeeID) || !validID(meetingID) {
		return false, nil, fmt.Errorf("answer meeting %q of committee %q: %w", meetingID, committeeID, ErrNotFound)
	}
	now := unixMilli(s.now())
	rec, err := json.Marshal(rsvpRecord{Unit: r.Unit, Name: r.Name, Username: r.Username, Attend: r.Attend, At: now})
	if err != nil {
		return false, nil, fmt.Errorf("answer meeting %s: %w", meetingID, err)
	}
	attend := 0
	if r.Attend {
		attend = 1
	}
	v, err := runScript(ctx, s.c, rsvpScript, []string{
		s.k.Meeting(committeeID, meetingID), s.k.MeetingRSVPs(committeeID, meetingID), s.k.Members(committeeID),
	}, r.UserID, r.Unit, rec, now, attend)
	if err != nil {
		return false, nil, fmt.Errorf("answer meeting %s of committee %s: %w", meetingID, committeeID, err)
	}
	rep, err := asReply(v, 2)
	if err != nil {
		return false, nil, fmt.Errorf("answer meeting %s of committee %s: %w", meetingID, committeeID, err)
	}
	status, _ := rep.int(0)
	prev, _ := rep.int(1)
	switch status {
	case rsvpNotMember:
		return false, nil, fmt.Errorf("answer meeting %s as %d for %s: %w", meetingID, r.UserID, r.Unit, domain.ErrNotDelegate)
	case rsvpCancelled:
		return false, nil, fmt.Errorf("answer meeting %s: %w", meetingID, domain.ErrMeetingCancelled)
	case rsvpStarted:
		return false, nil, fmt.Errorf("answer meeting %s: %w", meetingID, domain.ErrMeetingStarted)
	}
	if prev != rsvpNoPrevious {
		p := prev == 1
		previous = &p
	}
	return status == rsvpRecorded, previous, nil
}

// RSVPs returns the answers to a meeting, earliest first.
func (s *Meetings) RSVPs(ctx context.Context, committeeID, meetingID string) ([]domain.RSVP, error) {
	if !validID(committeeID) || !validID(meetingID) {
		return nil, fmt.Errorf("answers to meeting %q: %w", meetingID, ErrNotFound)
	}
	h, err := s.c.HGetAll(ctx, s.k.MeetingRSVPs(committeeID, meetingID)).Result()
	if err != nil {
		return nil, fmt.Errorf("answers to meeting %s of committee %s: %w", meetingID, committeeID, err)
	}
	out := make([]domain.RSVP, 0, len(h))
	for uid, raw := range h {
		id, err := strconv.ParseInt(uid, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("answers to meeting %s: user id %q: %w", meetingID, uid, err)
		}
		var r rsvpRecord
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return nil, fmt.Errorf("answers to meeting %s: decode answer of %d: %w", meetingID, id, err)
		}
		out = append(out, domain.RSVP{UserID: id, Unit: r.Unit, Name: r.Name, Username: r.Username, Attend: r.Attend, At: fromUnixMilli(r.At)})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].UserID < out[j].UserID
	})
	return out, nil
}

// gateScript takes the edit slot of an announcement.
//
// KEYS[1] -> <p>:{c:<id>}:meeting:<mid>:gate
// ARGV[1] -> now (unix ms)
// ARGV[2] -> interval (ms)
//
// Returns -1 if the slot was free and is now taken until now+interval,
// otherwise the ms until it frees. The key's own expiry only collects it
// once unused; the slot is timed by the callers' clock.
var gateScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]))
if cur and cur > now then return cur - now end
redis.call('SET', KEYS[1], now + tonumber(ARGV[2]), 'PX', math.max(tonumber(ARGV[2]) * 10, 60000))
return -1
`)

// TakeEditSlot throttles edits of a meeting's announcement across
// replicas: it reports true if nobody edited it in the last interval (the
// caller may edit now and holds the slot for interval), otherwise false and
// when the slot frees.
func (s *Meetings) TakeEditSlot(ctx context.Context, committeeID, meetingID string, interval time.Duration) (bool, time.Time, error) {
	if !validID(committeeID) || !validID(meetingID) {
		return false, time.Time{}, fmt.Errorf("edit slot of meeting %q: %w", meetingID, ErrNotFound)
	}
	ok, until, err := takeGate(ctx, s.c, s.k.MeetingGate(committeeID, meetingID), s.now(), interval)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("edit slot of meeting %s of committee %s: %w", meetingID, committeeID, err)
	}
	return ok, until, nil
}

// takeGate runs gateScript on key: true if the slot was free (and is now
// held for interval), else false and when it frees.
func takeGate(ctx context.Context, c redis.Scripter, key string, at time.Time, interval time.Duration) (bool, time.Time, error) {
	now := fromUnixMilli(unixMilli(at))
	v, err := runScript(ctx, c, gateScript, []string{key}, unixMilli(now), interval.Milliseconds())
	if err != nil {
		return false, time.Time{}, err
	}
	n, _ := v.(int64)
	if n == -1 {
		return true, now.Add(interval), nil
	}
	return false, now.Add(time.Duration(n) * time.Millisecond), nil
}
