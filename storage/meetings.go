package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/domain"
)

// Meetings stores a committee's meetings and the delegates' answers
// (RSVPs), under the committee's hash tag:
//
//	<p>:{c:<id>}:seq:meeting            string  INCR counter of meeting ids
//	<p>:{c:<id>}:meetings               zset    meeting id -> start (unix ms)
//	<p>:{c:<id>}:meeting:<mid>          hash    id, title, loc, agenda (JSON list), start, dur
//	                                            (seconds; absent in meetings stored before it),
//	                                            status, seq, created, by, updated, offsets (JSON
//	                                            list of seconds), chat, msg (the group announcement)
//	<p>:{c:<id>}:meeting:<mid>:rsvp     hash    user id -> JSON {unit, name, username, attend, at}
//	<p>:{c:<id>}:meeting:<mid>:gate     string  throttle of announcement edits, PX the interval
type Meetings struct{ store }

// NewMeetings returns the meeting store. Accepts WithClock.
func NewMeetings(c redis.UniversalClient, k Keys, opts ...Option) *Meetings {
	return &Meetings{newStore(c, k, newSettings(opts))}
}

// Meeting returns the hash of one meeting: <p>:{c:<id>}:meeting:<mid>.
func (k Keys) Meeting(committeeID, meetingID string) string {
	return k.Committee(committeeID, "meeting", meetingID)
}

// MeetingIndex returns the committee's meetings by start time:
// <p>:{c:<id>}:meetings.
func (k Keys) MeetingIndex(committeeID string) string { return k.Committee(committeeID, "meetings") }

// MeetingRSVPs returns the answers to one meeting:
// <p>:{c:<id>}:meeting:<mid>:rsvp.
func (k Keys) MeetingRSVPs(committeeID, meetingID string) string {
	return k.Committee(committeeID, "meeting", meetingID, "rsvp")
}

// MeetingGate returns the throttle key of one meeting's announcement
// edits: <p>:{c:<id>}:meeting:<mid>:gate.
func (k Keys) MeetingGate(committeeID, meetingID string) string {
	return k.Committee(committeeID, "meeting", meetingID, "gate")
}

// rsvpRecord is an answer as stored (the user id is the field).
type rsvpRecord struct {
	Unit     string `json:"unit"`
	Name     string `json:"name"`
	Username string `json:"username,omitempty"`
	Attend   bool   `json:"attend"`
	At       int64  `json:"at"` // unix ms
}

// NextID returns a new meeting id of the committee ("1", "2", …).
func (s *Meetings) NextID(ctx context.Context, committeeID string) (string, error) {
	if !validID(committeeID) {
		return "", fmt.Errorf("new meeting id of committee %q: %w", committeeID, ErrNotFound)
	}
	n, err := s.c.Incr(ctx, s.k.Committee(committeeID, "seq", "meeting")).Result()
	if err != nil {
		return "", fmt.Errorf("new meeting id of committee %s: %w", committeeID, err)
	}
	return strconv.FormatInt(n, 10), nil
}

// createMeetingScript stores a new meeting.
//
// KEYS[1] -> <p>:{c:<id>}:meta
// KEYS[2] -> <p>:{c:<id>}:meeting:<mid>
// KEYS[3] -> <p>:{c:<id>}:meetings
// ARGV[1] -> meeting id
// ARGV[2] -> start (unix ms)
// ARGV[3] -> created (unix ms)
// ARGV[4] -> by
// ARGV[5…] -> field, value pairs of the other fields
//
// Returns 1 created (or created by this very call: same created and by),
// 0 the id is taken, nil no such committee.
var createMeetingScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('EXISTS', KEYS[2]) == 1 then
	local h = redis.call('HMGET', KEYS[2], 'created', 'by')
	if h[1] == ARGV[3] and h[2] == ARGV[4] then return 1 end
	return 0
end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'start', ARGV[2], 'created', ARGV[3], 'by', ARGV[4],
	'updated', ARGV[3], 'seq', 0, 'status', 'scheduled', unpack(ARGV, 5))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1
`)

// Create stores meeting m (its ID from NextID) in committee m.Committee,
// created by m.By at the clock's time, scheduled, sequence 0. Errors: the
// domain validation errors wrapped; ErrNotFound if the committee does not
// exist; ErrConflict if the id is taken.
func (s *Meetings) Create(ctx context.Context, m domain.Meeting) (domain.Meeting, error) {
	if err := m.Validate(); err != nil {
		return domain.Meeting{}, fmt.Errorf("create meeting: %w", err)
	}
	if !validID(m.Committee) || !validID(m.ID) {
		return domain.Meeting{}, fmt.Errorf("create meeting %q of committee %q: %w", m.ID, m.Committee, ErrNotFound)
	}
	now := fromUnixMilli(unixMilli(s.now()))
	fields, err := meetingFields(m)
	if err != nil {
		return domain.Meeting{}, fmt.Errorf("create meeting %s of committee %s: %w", m.ID, m.Committee, err)
	}
	args := append([]any{m.ID, unixMilli(m.Start), unixMilli(now), m.By}, fields...)
	v, err := runScript(ctx, s.c, createMeetingScript,
		[]string{s.k.CommitteeMeta(m.Committee), s.k.Meeting(m.Committee, m.ID), s.k.MeetingIndex(m.Committee)}, args...)
	if err != nil {
		return domain.Meeting{}, fmt.Errorf("create meeting %s of committee %s: %w", m.ID, m.Committee, err)
	}
	if n, _ := v.(int64); n != 1 {
		return domain.Meeting{}, fmt.Errorf("create meeting %s of committee %s: id taken: %w", m.ID, m.Committee, ErrConflict)
	}
	return s.Get(ctx, m.Committee, m.ID)
}

// meetingFields are the hash fields of m other than those the scripts set.
func meetingFields(m domain.Meeting) ([]any, error) {
	agenda, err := json.Marshal(nonNil(m.Agenda))
	if err != nil {
		return nil, err
	}
	offsets, err := encodeOffsets(m.Reminders)
	if err != nil {
		return nil, err
	}
	fields := []any{"title", m.Title, "loc", m.Location, "agenda", string(agenda), "offsets", offsets}
	if m.Duration > 0 {
		fields = append(fields, "dur", int64(m.Duration/time.Second))
	}
	return fields, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func encodeOffsets(ds []time.Duration) (string, error) {
	secs := make([]int64, len(ds))
	for i, d := range ds {
		secs[i] = int64(d / time.Second)
	}
	b, err := json.Marshal(secs)
	return string(b), err
}

// Get returns meeting meetingID of committee committeeID, or ErrNotFound.
func (s *Meetings) Get(ctx context.Context, committeeID, meetingID string) (domain.Meeting, error) {
	m, _, err := s.GetWithAnnouncement(ctx, committeeID, meetingID)
	return m, err
}

// GetWithAnnouncement returns meeting meetingID of committee committeeID
// and its announcement in the group (the zero Post if none was posted), in
// one read; ErrNotFound if there is no such meeting.
func (s *Meetings) GetWithAnnouncement(ctx context.Context, committeeID, meetingID string) (domain.Meeting, Post, error) {
	if !validID(committeeID) || !validID(meetingID) {
		return domain.Meeting{}, Post{}, fmt.Errorf("get meeting %q of committee %q: %w", meetingID, committeeID, ErrNotFound)
	}
	h, err := s.c.HGetAll(ctx, s.k.Meeting(committeeID, meetingID)).Result()
	if err != nil {
		return domain.Meeting{}, Post{}, fmt.Errorf("get meeting %s of committee %s: %w", meetingID, committeeID, err)
	}
	if len(h) == 0 {
		return domain.Meeting{}, Post{}, fmt.Errorf("get meeting %s of committee %s: %w", meetingID, committeeID, ErrNotFound)
	}
	m, ann, err := decodeMeeting(committeeID, h)
	if err != nil {
		return domain.Meeting{}, Post{}, fmt.Errorf("get meeting %s of committee %s: %w", meetingID, committeeID, err)
	}
	return m, ann, nil
}

// decodeMeeting builds a meeting from its hash, and its announcement from
// the chat and msg fields.
func decodeMeeting(committeeID string, h map[string]string) (domain.Meeting, Post, error) {
	var errs []error
	num := func(f string) int64 { return hashInt(h, f, &errs) }
	m := domain.Meeting{
		ID: h["id"], Committee: committeeID, Title: h["title"], Location: h["loc"],
		Start: fromUnixMilli(num("start")), Duration: time.Duration(num("dur")) * time.Second,
		Status: h["status"], Sequence: int(num("seq")),
		Created: fromUnixMilli(num("created")), By: num("by"), Updated: fromUnixMilli(num("updated")),
	}
	ann := Post{Chat: num("chat"), Message: int(num("msg"))}
	if a := h["agenda"]; a != "" {
		if err := json.Unmarshal([]byte(a), &m.Agenda); err != nil {
			errs = append(errs, fmt.Errorf("agenda: %w", err))
		}
		if len(m.Agenda) == 0 {
			m.Agenda = nil
		}
	}
	if o := h["offsets"]; o != "" {
		var secs []int64
		if err := json.Unmarshal([]byte(o), &secs); err != nil {
			errs = append(errs, fmt.Errorf("offsets: %w", err))
		}
		for _, sec := range secs {
			m.Reminders = append(m.Reminders, time.Duration(sec)*time.Second)
		}
	}
	return m, ann, errors.Join(errs...)
}

// Statuses of editMeetingScript.
const (
	editApplied   = 1
	editRepeated  = 2
	editConflict  = 0
	editCancelled = -1
	editStarted   = -2
)

// editMeetingScript changes fields of a meeting if nobody changed it since
// the caller read it.
//
// KEYS[1] -> <p>:{c:<id>}:meeting:<mid>
// KEYS[2] -> <p>:{c:<id>}:meetings
// ARGV[1] -> meeting id
// ARGV[2] -> sequence the caller read
// ARGV[3] -> now (unix ms)
// ARGV[4…] -> field, value pairs ("start" also moves the meeting in the index)
//
// Returns 1 applied (sequence now ARGV[2]+1), 2 applied already by this
// very change (a retried call), 0 changed by someone else since, -1
// cancelled, -2 started (the stored start is not after now: a meeting
// that has begun is read-only), nil no such meeting.
var editMeetingScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local h = redis.call('HMGET', KEYS[1], 'seq', 'status', 'start')
local seq = tonumber(h[1]) or 0
local want = tonumber(ARGV[2])
if seq == want + 1 then
	for i = 4, #ARGV, 2 do
		if redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i+1] then return 0 end
	end
	return 2
end
if seq ~= want then return 0 end
if h[2] == 'cancelled' then return -1 end
if tonumber(h[3]) <= tonumber(ARGV[3]) then return -2 end
for i = 4, #ARGV, 2 do
	redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1])
	if ARGV[i] == 'start' then redis.call('ZADD', KEYS[2], ARGV[i+1], ARGV[1]) end
end
redis.call('HSET', KEYS[1], 'seq', want + 1, 'updated', ARGV[3])
return 1
`)

// Update stores the title, location, agenda, start and reminder offsets
// of m over the meeting as it was when read with sequence m.Sequence, and
// bumps its sequence. It returns the meeting after the change and its
// announcement (read in the same step; the zero Post if none). Errors:
// domain validation errors wrapped; ErrNotFound; domain.ErrMeetingCancelled;
// domain.ErrMeetingStarted if the meeting has begun (by the clock); ErrConflict
// if the meeting changed since it was read (read it again and retry).
func (s *Meetings) Update(ctx context.Context, m domain.Meeting) (domain.Meeting, Post, error) {
	if err := m.Validate(); err != nil {
		return domain.Meeting{}, Post{}, fmt.Errorf("update meeting: %w", err)
	}
	if !validID(m.Committee) || !validID(m.ID) {
		return domain.Meeting{}, Post{}, fmt.Errorf("update meeting %q of committee %q: %w", m.ID, m.Committee, ErrNotFound)
	}
	fields, err := meetingFields(m)
	if err != nil {
		return domain.Meeting{}, Post{}, fmt.Errorf("update meeting %s of committee %s: %w", m.ID, m.Committee, err)
	}
	args := append([]any{m.ID, m.Sequence, unixMilli(s.now()), "start", unixMilli(m.Start)}, fields...)
	v, err := runScript(ctx, s.c, editMeetingScript,
		[]string{s.k.Meeting(m.Committee, m.ID), s.k.MeetingIndex(m.Committee)}, args...)
	if err != nil {
		return domain.Meeting{}, Post{}, fmt.Errorf("update meeting %s of committee %s: %w", m.ID, m.Committee, err)
	}
	switch n, _ := v.(int64); n {
	case editApplied, editRepeated:
	case editCancelled:
		return domain.Meeting{}, Post{}, fmt.Errorf("update meeting %s of committee %s: %w", m.ID, m.Committee, domain.ErrMeetingCancelled)
	case editStarted:
		return domain.Meeting{}, Post{}, fmt.Errorf("update meeting %s of committee %s: %w", m.ID, m.Committee, domain.ErrMeetingStarted)
	default:
		return domain.Meeting{}, Post{}, fmt.Errorf("update meeting %s of committee %s: changed since read: %w", m.ID, m.Committee, ErrConflict)
	}
	return s.GetWithAnnouncement(ctx, m.Committee, m.ID)
}

// cancelMeetingScript cancels a meeting.
//
// KEYS[1] -> <p>:{c:<id>}:meeting:<mid>
// ARGV[1] -> by
// ARGV[2] -> now (unix ms)
//
// Returns 1 cancelled now (or by this very call), 2 cancelled before, 3
// started (the start is not after now: a meeting that has begun is
// read-only), nil no such meeting.
var cancelMeetingScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local h = redis.call('HMGET', KEYS[1], 'status', 'cancelled_by', 'cancelled_at', 'start')
if h[1] == 'cancelled' then
	if h[2] == ARGV[1] and h[3] == ARGV[2] then return 1 end
	return 2
end
if tonumber(h[4]) <= tonumber(ARGV[2]) then return 3 end
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'cancelled_by', ARGV[1], 'cancelled_at', ARGV[2], 'updated', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'seq', 1)
return 1
`)

// Cancel cancels a meeting by user by and returns it and its announcement
// (the zero Post if none); already reports that it was cancelled before
// (nothing changed). ErrNotFound if the
// meeting does not exist; domain.ErrMeetingStarted if it has begun (by the
// clock), with the meeting as it is.
func (s *Meetings) Cancel(ctx context.Context, committeeID, meetingID string, by int64) (m domain.Meeting, ann Post, already bool, err error) {
	if !validID(committeeID) || !validID(meetingID) {
		return domain.Meeting{}, Post{}, false, fmt.Errorf("cancel meeting %q of committee %q: %w", meetingID, committeeID, ErrNotFound)
	}
	v, err := runScript(ctx, s.c, cancelMeetingScript, []string{s.k.Meeting(committeeID, meetingID)}, by, unixMilli(s.now()))
	if err != nil {
		return domain.Meeting{}, Post{}, false, fmt.Errorf("cancel meeting %s of committee %s: %w", meetingID, committeeID, err)
	}
	m, ann, err = s.GetWithAnnouncement(ctx, committeeID, meetingID)
	if err != nil {
		return domain.Meeting{}, Post{}, false, fmt.Errorf("cancel meeting %s of committee %s: %w", meetingID, committeeID, err)
	}
	n, _ := v.(int64)
	if n == 3 {
		return m, ann, false, fmt.Errorf("cancel meeting %s of committee %s: %w", meetingID, committeeID, domain.ErrMeetingStarted)
	}
	return m, ann, n == 2, nil
}

// setAnnouncementScript records where a meeting was announced.
//
// KEYS[1] -> <p>:{c:<id>}:meeting:<mid>
// ARGV[1] -> chat id
// ARGV[2] -> message id
//
// Returns 1, or nil if the meeting does not exist.
var setAnnouncementScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'chat', ARGV[1], 'msg', ARGV[2])
return 1
`)

// SetAnnouncement records the group message that announces a meeting and
// shows its answers (GetWithAnnouncement, Update and Cancel return it).
// ErrNotFound if the meeting does not exist.
func (s *Meetings) SetAnnouncement(ctx context.Context, committeeID, meetingID string, chatID int64, messageID int) error {
	if !validID(committeeID) || !validID(meetingID) {
		return fmt.Errorf("set announcement of meeting %q: %w", meetingID, ErrNotFound)
	}
	if _, err := runScript(ctx, s.c, setAnnouncementScript, []string{s.k.Meeting(committeeID, meetingID)}, chatID, messageID); err != nil {
		return fmt.Errorf("set announcement of meeting %s of committee %s: %w", meetingID, committeeID, err)
	}
	return nil
}

// Upcoming returns up to limit scheduled meetings that start after now,
// soonest first.
func (s *Meetings) Upcoming(ctx context.Context, committeeID string, limit int) ([]domain.Meeting, error) {
	return s.list(ctx, committeeID, limit, false)
}

// Past returns up to limit meetings that started before now (cancelled
// ones included), latest first.
func (s *Meetings) Past(ctx context.Context, committeeID string, limit int) ([]domain.Meeting, error) {
	return s.list(ctx, committeeID, limit, true)
}

// list pages through the index; cancelled meetings are skipped from the
// upcoming list.
func (s *Meetings) list(ctx context.Context, committeeID string, limit int, past bool) ([]domain.Meeting, error) {
	if !validID(committeeID) {
		return nil, fmt.Errorf("list meetings of committee %q: %w", committeeID, ErrNotFound)
	}
	now := strconv.FormatInt(unixMilli(s.now()), 10)
	var out []domain.Meeting
	const page = 50
	for offset := int64(0); len(out) < limit && offset < 1000; offset += page {
		var ids []string
		var err error
		if past {
			ids, err = s.c.ZRevRangeByScore(ctx, s.k.MeetingIndex(committeeID), &redis.ZRangeBy{
				Max: "(" + now, Min: "-inf", Offset: offset, Count: page}).Result()
		} else {
			ids, err = s.c.ZRangeByScore(ctx, s.k.MeetingIndex(committeeID), &redis.ZRangeBy{
				Min: "(" + now, Max: "+inf", Offset: offset, Count: page}).Result()
		}
		if err != nil {
			return nil, fmt.Errorf("list meetings of committee %s: %w", committeeID, err)
		}
		ms, err := s.getMany(ctx, committeeID, ids)
		if err != nil {
			return nil, fmt.Errorf("list meetings of committee %s: %w", committeeID, err)
		}
		for _, m := range ms {
			if !past && m.Cancelled() {
				continue
			}
			if len(out) < limit {
				out = append(out, m)
			}
		}
		if len(ids) < page {
			break
		}
	}
	return out, nil
}

func (s *Meetings) getMany(ctx context.Context, committeeID string, ids []string) ([]domain.Meeting, error) {
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.k.Meeting(committeeID, id))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]domain.Meeting, 0, len(ids))
	for _, c := range cmds {
		if len(c.Val()) == 0 {
			continue // removed meanwhile
		}
		m, _, err := decodeMeeting(committeeID, c.Val())
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Next returns the first scheduled meeting that starts after now;
// ErrNotFound if there is none.
func (s *Meetings) Next(ctx context.Context, committeeID string) (domain.Meeting, error) {
	ms, err := s.Upcoming(ctx, committeeID, 1)
	if err != nil {
		return domain.Meeting{}, err
	}
	if len(ms) == 0 {
		return domain.Meeting{}, fmt.Errorf("next meeting of committee %s: %w", committeeID, ErrNotFound)
	}
	return ms[0], nil
}
