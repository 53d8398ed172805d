package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/domain"
)

// Nominations stores award nominations, each under its committee's hash
// tag: a hash of fields, its history and attachments as lists, the
// committee's ids in a sorted set and a duplicate index (see keys.go).
// Every check-and-write is one script, so two concurrent identical
// nominations store one, and two concurrent status changes from the same
// state apply one.
type Nominations struct{ store }

// NewNominations returns the nomination store. Accepts WithClock.
func NewNominations(c redis.UniversalClient, k Keys, opts ...Option) *Nominations {
	return &Nominations{newStore(c, k, newSettings(opts))}
}

// Nomination returns the hash of one nomination:
// <p>:{c:<id>}:nomination:<n>.
func (k Keys) Nomination(committeeID string, id int64) string {
	return k.Committee(committeeID, "nomination", itoa(id))
}

// NominationHistory returns the list of a nomination's changes, oldest
// first: <p>:{c:<id>}:nomination:<n>:history.
func (k Keys) NominationHistory(committeeID string, id int64) string {
	return k.Committee(committeeID, "nomination", itoa(id), "history")
}

// NominationFiles returns the list of a nomination's attachments:
// <p>:{c:<id>}:nomination:<n>:files.
func (k Keys) NominationFiles(committeeID string, id int64) string {
	return k.Committee(committeeID, "nomination", itoa(id), "files")
}

// NominationIDs returns the sorted set of a committee's nomination ids:
// <p>:{c:<id>}:nominations.
func (k Keys) NominationIDs(committeeID string) string {
	return k.Committee(committeeID, "nominations")
}

// NominationIndex returns the duplicate index of a committee's
// nominations, "<award>|<year>|<nominee key>" -> id:
// <p>:{c:<id>}:nominations:index.
func (k Keys) NominationIndex(committeeID string) string {
	return k.Committee(committeeID, "nominations", "index")
}

// NominationSequence returns the counter of a committee's nomination ids:
// <p>:{c:<id>}:seq:nomination.
func (k Keys) NominationSequence(committeeID string) string {
	return k.Committee(committeeID, "seq", "nomination")
}

// Fields of a nomination hash.
const (
	nomID           = "id"
	nomUnit         = "unit"
	nomAward        = "award"
	nomNominee      = "nominee"
	nomNomineeUnit  = "nominee_unit"
	nomAchievements = "achievements"
	nomYear         = "year"
	nomStatus       = "status"
	nomCreated      = "created"
	nomBy           = "by"
	nomByName       = "by_name"
	nomDupKey       = "dupkey"
	nomChanged      = "changed"
)

// changeRecord is a history entry as stored (JSON encoded by Go; scripts
// only compare it).
type changeRecord struct {
	From   string `json:"from,omitempty"`
	To     string `json:"to"`
	By     int64  `json:"by"`
	ByName string `json:"by_name,omitempty"`
	At     int64  `json:"at"` // unix ms
	Note   string `json:"note,omitempty"`
	// Override: approved or rejected by a person instead of a ballot.
	Override bool `json:"override,omitempty"`
}

// attachmentRecord is an attachment as stored.
type attachmentRecord struct {
	FileID string `json:"file_id"`
	Name   string `json:"name"`
}

// Statuses returned by createNominationScript.
const (
	createNoCommittee = -1
	createNoUnit      = -2
	createDuplicate   = 0
	createDone        = 1
)

// createNominationScript stores a new nomination unless its duplicate key
// is taken.
//
// KEYS[1] -> <p>:{c:<id>}:meta
// KEYS[2] -> <p>:{c:<id>}:unit
// KEYS[3] -> <p>:{c:<id>}:nominations:index
// KEYS[4] -> <p>:{c:<id>}:nominations
// KEYS[5] -> <p>:{c:<id>}:nomination:<n>
// KEYS[6] -> <p>:{c:<id>}:nomination:<n>:history
// KEYS[7] -> <p>:{c:<id>}:nomination:<n>:files
// ARGV[1] -> duplicate key "<award>|<year>|<nominee key>"
// ARGV[2] -> id n
// ARGV[3] -> nominating unit code
// ARGV[4] -> nominated unit code, "" if the nominee is not a unit
// ARGV[5] -> JSON changeRecord of the submission
// ARGV[6] -> number k of attachments
// ARGV[7 .. 6+k] -> JSON attachmentRecords
// ARGV[7+k ..] -> field, value pairs of the nomination hash
//
// Returns {status, id}: 1 stored (or stored by this very call before: the
// index names ARGV[2]), 0 duplicate (id of the existing nomination), -1 no
// such committee, -2 no such unit.
var createNominationScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 0 then return {-2, 0} end
if ARGV[4] ~= '' and redis.call('HEXISTS', KEYS[2], ARGV[4]) == 0 then return {-2, 0} end
local cur = redis.call('HGET', KEYS[3], ARGV[1])
if cur then
	if cur == ARGV[2] then return {1, cur} end
	return {0, cur}
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
local k = tonumber(ARGV[6])
for i = 7, 6 + k do redis.call('RPUSH', KEYS[7], ARGV[i]) end
redis.call('HSET', KEYS[5], unpack(ARGV, 7 + k))
redis.call('RPUSH', KEYS[6], ARGV[5])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[2])
return {1, ARGV[2]}
`)

// Create stores a new nomination n in committee n.Committee with the next
// id of the committee's counter, status submitted and a first history
// entry for the submission by n.By / n.ByName at the clock's time. The
// nominee is kept with its white space collapsed and the achievements
// trimmed; n.ID, n.Status, n.Created and n.History are ignored.
//
// Errors: n.Validate's (wrapped, nothing stored); ErrNotFound if the
// committee or a unit (nominating or nominated) does not exist;
// domain.ErrDuplicateNomination if the same nominee (compared with
// domain.NomineeKey) has a nomination for the award in the year that was
// not withdrawn, which is then returned with the error.
func (s *Nominations) Create(ctx context.Context, n domain.Nomination) (domain.Nomination, error) {
	n.Nominee = domain.OneLine(n.Nominee)
	n.Achievements = strings.TrimSpace(n.Achievements)
	if err := n.Validate(); err != nil {
		return domain.Nomination{}, fmt.Errorf("create nomination in committee %s: %w", n.Committee, err)
	}
	cid := n.Committee
	if !validID(cid) {
		return domain.Nomination{}, fmt.Errorf("create nomination in committee %q: %w", cid, ErrNotFound)
	}
	dup := dupKey(n.Award, n.Year, n.Nominee)
	// A duplicate found here costs no id (ids stay consecutive); the script
	// below still decides, for nominations racing past this check.
	if other, err := s.c.HGet(ctx, s.k.NominationIndex(cid), dup).Int64(); err == nil {
		return s.duplicate(ctx, cid, other)
	} else if !errors.Is(err, redis.Nil) {
		return domain.Nomination{}, fmt.Errorf("create nomination in committee %s: %w", cid, err)
	}
	id, err := s.c.Incr(ctx, s.k.NominationSequence(cid)).Result()
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("create nomination in committee %s: next id: %w", cid, err)
	}
	now := unixMilli(s.now())
	first, err := json.Marshal(changeRecord{To: string(domain.StatusSubmitted), By: n.By, ByName: n.ByName, At: now})
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("create nomination in committee %s: %w", cid, err)
	}
	args := []any{dup, id, n.Unit, n.NomineeUnit, first, len(n.Attachments)}
	for _, a := range n.Attachments {
		rec, err := json.Marshal(attachmentRecord{FileID: a.FileID, Name: a.Name})
		if err != nil {
			return domain.Nomination{}, fmt.Errorf("create nomination in committee %s: %w", cid, err)
		}
		args = append(args, rec)
	}
	args = append(args,
		nomID, id, nomUnit, n.Unit, nomAward, n.Award, nomNominee, n.Nominee, nomNomineeUnit, n.NomineeUnit,
		nomAchievements, n.Achievements, nomYear, n.Year, nomStatus, string(domain.StatusSubmitted),
		nomCreated, now, nomBy, n.By, nomByName, n.ByName, nomDupKey, dup, nomChanged, now)
	v, err := runScript(ctx, s.c, createNominationScript, []string{
		s.k.CommitteeMeta(cid), s.k.UnitRecords(cid), s.k.NominationIndex(cid), s.k.NominationIDs(cid),
		s.k.Nomination(cid, id), s.k.NominationHistory(cid, id), s.k.NominationFiles(cid, id),
	}, args...)
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("create nomination in committee %s: %w", cid, err)
	}
	status, other, err := statusAndID(v)
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("create nomination in committee %s: %w", cid, err)
	}
	switch status {
	case createDone:
	case createDuplicate:
		return s.duplicate(ctx, cid, other)
	case createNoUnit:
		return domain.Nomination{}, fmt.Errorf("create nomination in committee %s: unit %s or %q: %w", cid, n.Unit, n.NomineeUnit, ErrNotFound)
	default:
		return domain.Nomination{}, fmt.Errorf("create nomination in committee %s: %w", cid, ErrNotFound)
	}
	created, err := s.Get(ctx, cid, id)
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("create nomination in committee %s: %w", cid, err)
	}
	return created, nil
}

// duplicate returns the nomination a new one duplicates, with
// domain.ErrDuplicateNomination.
func (s *Nominations) duplicate(ctx context.Context, cid string, id int64) (domain.Nomination, error) {
	existing, err := s.Get(ctx, cid, id)
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("create nomination in committee %s: read duplicate %d: %w", cid, id, err)
	}
	return existing, fmt.Errorf("create nomination in committee %s: same as nomination %d: %w", cid, id, domain.ErrDuplicateNomination)
}

// dupKey is the duplicate index field of a nominee for an award and year.
func dupKey(award string, year int, nominee string) string {
	return award + "|" + strconv.Itoa(year) + "|" + domain.NomineeKey(nominee)
}

// statusAndID decodes a {status, id} script reply.
func statusAndID(v any) (int64, int64, error) {
	r, err := asReply(v, 2)
	if err != nil {
		return 0, 0, err
	}
	status, err := r.int(0)
	if err != nil {
		return 0, 0, err
	}
	id, err := r.int(1)
	if err != nil {
		return 0, 0, err
	}
	return status, id, nil
}

// Get returns nomination id of committee cid with its history and
// attachments, or ErrNotFound.
func (s *Nominations) Get(ctx context.Context, cid string, id int64) (domain.Nomination, error) {
	if !validID(cid) || id <= 0 {
		return domain.Nomination{}, fmt.Errorf("get nomination %d of committee %q: %w", id, cid, ErrNotFound)
	}
	ns, err := s.read(ctx, cid, []int64{id})
	if err != nil {
		return domain.Nomination{}, fmt.Errorf("get nomination %d of committee %s: %w", id, cid, err)
	}
	if len(ns) == 0 {
		return domain.Nomination{}, fmt.Errorf("get nomination %d of committee %s: %w", id, cid, ErrNotFound)
	}
	return ns[0], nil
}

// List returns every nomination of committee cid, oldest first, with
// history and attachments (none if the committee has none or does not
// exist). Callers filter in Go: a committee has tens of nominations a
// year, not thousands.
func (s *Nominations) List(ctx context.Context, cid string) ([]domain.Nomination, error) {
	if !validID(cid) {
		return nil, nil
	}
	raw, err := s.c.ZRange(ctx, s.k.NominationIDs(cid), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list nominations of committee %s: %w", cid, err)
	}
	ids := make([]int64, 0, len(raw))
	for _, r := range raw {
		id, err := strconv.ParseInt(r, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("list nominations of committee %s: id %q: %w", cid, r, err)
		}
		ids = append(ids, id)
	}
	ns, err := s.read(ctx, cid, ids)
	if err != nil {
		return nil, fmt.Errorf("list nominations of committee %s: %w", cid, err)
	}
	return ns, nil
}

// read reads nominations in one transaction, skipping ids that do not
// exist.
func (s *Nominations) read(ctx context.Context, cid string, ids []int64) ([]domain.Nomination, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	type cmds struct {
		fields        *redis.MapStringStringCmd
		history, file *redis.StringSliceCmd
	}
	cs := make([]cmds, len(ids))
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cs[i].fields = p.HGetAll(ctx, s.k.Nomination(cid, id))
			cs[i].history = p.LRange(ctx, s.k.NominationHistory(cid, id), 0, -1)
			cs[i].file = p.LRange(ctx, s.k.NominationFiles(cid, id), 0, -1)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]domain.Nomination, 0, len(ids))
	for i, id := range ids {
		if len(cs[i].fields.Val()) == 0 {
			continue
		}
		n, err := decodeNomination(cid, cs[i].fields.Val(), cs[i].history.Val(), cs[i].file.Val())
		if err != nil {
			return nil, fmt.Errorf("decode nomination %d: %w", id, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// decodeNomination builds a nomination from its hash and lists.
func decodeNomination(cid string, h map[string]string, history, files []string) (domain.Nomination, error) {
	var errs []error
	num := func(field string) int64 { return hashInt(h, field, &errs) }
	n := domain.Nomination{
		ID:           num(nomID),
		Committee:    cid,
		Unit:         h[nomUnit],
		Award:        h[nomAward],
		Nominee:      h[nomNominee],
		NomineeUnit:  h[nomNomineeUnit],
		Achievements: h[nomAchievements],
		Year:         int(num(nomYear)),
		Status:       domain.Status(h[nomStatus]),
		Created:      fromUnixMilli(num(nomCreated)),
		By:           num(nomBy),
		ByName:       h[nomByName],
	}
	for _, raw := range history {
		var r changeRecord
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			errs = append(errs, fmt.Errorf("history entry: %w", err))
			continue
		}
		n.History = append(n.History, domain.Change{
			From: domain.Status(r.From), To: domain.Status(r.To), By: r.By, ByName: r.ByName,
			At: fromUnixMilli(r.At), Note: r.Note, Override: r.Override,
		})
	}
	for _, raw := range files {
		var r attachmentRecord
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			errs = append(errs, fmt.Errorf("attachment: %w", err))
			continue
		}
		n.Attachments = append(n.Attachments, domain.Attachment{FileID: r.FileID, Name: r.Name})
	}
	return n, errors.Join(errs...)
}
