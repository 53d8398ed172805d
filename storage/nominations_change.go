package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/domain"
)

// Statuses returned by transitionScript.
const (
	moveNotFound = -1
	moveConflict = 0
	moveDone     = 1
	moveOnBallot = 2
)

// transitionScript changes a nomination's status if it is still the one
// the caller saw.
//
// KEYS[1] -> <p>:{c:<id>}:nomination:<n>
// KEYS[2] -> <p>:{c:<id>}:nomination:<n>:history
// KEYS[3] -> <p>:{c:<id>}:nominations:index
// ARGV[1] -> expected current status
// ARGV[2] -> new status
// ARGV[3] -> JSON changeRecord to append to the history
// ARGV[4] -> now (unix ms)
// ARGV[5] -> "1" if the new status frees the nominee's duplicate slot
// KEYS[4] -> <p>:{c:<id>}:ballots (the ballot index)
// ARGV[6] -> "1" to refuse the move while an open nominations ballot has
//
//	the nomination (a person's move out of voting); "0" otherwise
//
// ARGV[7] -> prefix of a ballot's key, <p>:{c:<id>}:ballot:
// ARGV[8] -> the nomination id
//
// Returns {status, current}: 1 changed (or changed by this very call
// before: the status is ARGV[2] and the last history entry is ARGV[3]), 0
// the status is not ARGV[1] (current is returned), -1 no such nomination,
// 2 an open ballot has the nomination (its id is returned).
var transitionScript = redis.NewScript(openBallotsLua + `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {-1, ''} end
if cur ~= ARGV[1] then
	if cur == ARGV[2] and redis.call('LINDEX', KEYS[2], -1) == ARGV[3] then return {1, cur} end
	return {0, cur}
end
if ARGV[6] == '1' then
	for _, b in ipairs(open_ballots(KEYS[4], ARGV[7])) do
		if b.doc.Kind == 'nominations' then
			for _, q in ipairs(b.doc.Questions) do
				if tostring(q.ID) == ARGV[8] then return {2, b.id} end
			end
		end
	end
end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'changed', ARGV[4])
redis.call('RPUSH', KEYS[2], ARGV[3])
if ARGV[5] == '1' then
	local dk = redis.call('HGET', KEYS[1], 'dupkey')
	if dk and redis.call('HGET', KEYS[3], dk) == redis.call('HGET', KEYS[1], 'id') then
		redis.call('HDEL', KEYS[3], dk)
	end
end
return {1, ARGV[2]}
`)

// Transition changes the status of nomination id of committee cid from
// ch.From to ch.To, recording ch.By, ch.ByName and ch.Note (white space
// collapsed) with the clock's time in its history, and returns the
// nomination after the change. It is the one way statuses change: by
// admins' commands, and by ballots moving nominations to voting and to
// approved or rejected (By 0 stands for the bot).
//
// The check and the change are one script: of two concurrent transitions
// from the same status, one applies and the other gets ErrConflict with
// the nomination as it now is. A withdrawn nomination frees its nominee,
// award and year for a new nomination.
//
// Errors: domain.ErrIllegalMove if the lifecycle has no such move,
// domain.ErrNote if the note is too long, domain.ErrBallotDecides if a
// person approves or rejects a nomination in voting without an override
// and its reason (see domain.Change.CheckDecision; all wrapped, nothing
// changed);
// ErrNotFound if the nomination does not exist; ErrConflict if its status
// is not ch.From.
func (s *Nominations) Transition(ctx context.Context, cid string, id int64, ch domain.Change) (domain.Nomination, error) {
	ch.Note = domain.OneLine(ch.Note)
	if !domain.CanMove(ch.From, ch.To) {
		return domain.Nomination{}, fmt.Errorf("nomination %d of committee %s: %s -> %s: %w", id, cid, ch.From, ch.To, domain.ErrIllegalMove)
	}
	if err := domain.ValidNote(ch.Note); err != nil {
		return domain.Nomination{}, fmt.Errorf("nomination %d of committee %s: %w", id, cid, err)
	}
	if err := ch.CheckDecision(); err != nil {
		return domain.Nomination{}, fmt.Errorf("nomination %d of committee %s: %w", id, cid, err)
	}
	if !validID(cid) || id <= 0 {
		return domain.Nomination{}, fmt.Errorf("nomination %d of committee %q: %w", id, cid, ErrNotFound)
	}
	now := unixMilli(s.now())
	rec, err := json.Marshal(changeRecord{From: string(ch.From), To: string(ch.To), By: ch.By, ByName: ch.ByName, At: now, Note: ch.Note, Override: ch.Override})
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("nomination %d of committee %s: %w", id, cid, err)
	}
	frees := "0"
	if ch.To == domain.StatusWithdrawn {
		frees = "1"
	}
	// A person's move out of voting waits for the ballot: only its result
	// (By 0, the bot) decides while it is open.
	guard := "0"
	if ch.From == domain.StatusVoting && ch.By != 0 {
		guard = "1"
	}
	v, err := runScript(ctx, s.c, transitionScript, []string{
		s.k.Nomination(cid, id), s.k.NominationHistory(cid, id), s.k.NominationIndex(cid), s.k.BallotIndex(cid),
	}, string(ch.From), string(ch.To), rec, now, frees, guard, s.k.BallotPrefix(cid), strconv.FormatInt(id, 10))
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("nomination %d of committee %s: %s -> %s: %w", id, cid, ch.From, ch.To, err)
	}
	r, err := asReply(v, 2)
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("nomination %d of committee %s: %w", id, cid, err)
	}
	status, err := r.int(0)
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("nomination %d of committee %s: %w", id, cid, err)
	}
	if status == moveNotFound {
		return domain.Nomination{}, fmt.Errorf("nomination %d of committee %s: %w", id, cid, ErrNotFound)
	}
	if status == moveOnBallot {
		bid, _ := r.str(1)
		n, _ := s.Get(ctx, cid, id)
		return n, &domain.NominationOnBallotError{Nomination: id, Ballot: bid}
	}
	n, err := s.Get(ctx, cid, id)
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("nomination %d of committee %s: %w", id, cid, err)
	}
	if status == moveConflict {
		return n, fmt.Errorf("nomination %d of committee %s: %s -> %s: status is %s: %w", id, cid, ch.From, ch.To, n.Status, ErrConflict)
	}
	return n, nil
}

// Statuses returned by addAttachmentScript.
const (
	attachNotFound = -1
	attachFull     = 0
	attachDone     = 1
)

// addAttachmentScript appends an attachment unless the list is full.
//
// KEYS[1] -> <p>:{c:<id>}:nomination:<n>
// KEYS[2] -> <p>:{c:<id>}:nomination:<n>:files
// ARGV[1] -> JSON attachmentRecord
// ARGV[2] -> most attachments allowed
//
// Returns 1 added (or already there: the same record), 0 full, -1 no such
// nomination.
var addAttachmentScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local files = redis.call('LRANGE', KEYS[2], 0, -1)
for _, f in ipairs(files) do
	if f == ARGV[1] then return 1 end
end
if #files >= tonumber(ARGV[2]) then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
`)

// AddAttachment adds document a to the dossier of nomination id of
// committee cid and returns the nomination after it. Adding the same
// document (file id and name) again changes nothing.
//
// Errors: domain.ErrAttachment (wrapped) for an invalid attachment;
// ErrNotFound if the nomination does not exist; domain.ErrAttachments
// (wrapped) when it has domain.MaxAttachments already.
func (s *Nominations) AddAttachment(ctx context.Context, cid string, id int64, a domain.Attachment) (domain.Nomination, error) {
	if err := a.Validate(); err != nil {
		return domain.Nomination{}, fmt.Errorf("attach to nomination %d of committee %s: %w", id, cid, err)
	}
	if !validID(cid) || id <= 0 {
		return domain.Nomination{}, fmt.Errorf("attach to nomination %d of committee %q: %w", id, cid, ErrNotFound)
	}
	rec, err := json.Marshal(attachmentRecord{FileID: a.FileID, Name: a.Name})
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("attach to nomination %d of committee %s: %w", id, cid, err)
	}
	v, err := runScript(ctx, s.c, addAttachmentScript,
		[]string{s.k.Nomination(cid, id), s.k.NominationFiles(cid, id)}, rec, domain.MaxAttachments)
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("attach to nomination %d of committee %s: %w", id, cid, err)
	}
	switch n, _ := v.(int64); n {
	case attachDone:
	case attachFull:
		return domain.Nomination{}, fmt.Errorf("attach to nomination %d of committee %s: %w", id, cid, domain.ErrAttachments)
	case attachNotFound:
		return domain.Nomination{}, fmt.Errorf("attach to nomination %d of committee %s: %w", id, cid, ErrNotFound)
	default:
		return domain.Nomination{}, fmt.Errorf("attach to nomination %d of committee %s: unexpected reply %v", id, cid, v)
	}
	n, err := s.Get(ctx, cid, id)
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("attach to nomination %d of committee %s: %w", id, cid, err)
	}
	return n, nil
}
