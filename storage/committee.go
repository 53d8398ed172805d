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

	"github.com/committeebot/committeebot/domain"
)

// Committees stores committees and everything that belongs to one: its
// binding to a Telegram group, member units, delegates, head and deputy per
// year, invites (invites.go) and covenants (covenant.go).
//
// A committee's own data lives under its hash tag {c:<id>}, so every check
// and change inside one committee is a single script. Three things cross
// tags and are therefore written in steps, ordered so that an interrupted
// call leaves either the old or the new state as readers see it, and
// repeating the call completes it:
//
//   - The chat binding: a global key chat -> id plus the committee's
//     meta.chat. A chat is bound to a committee only while both agree, so
//     a binding key left behind by an interrupted call is stale, and is
//     ignored by readers and overwritten by the next bind.
//   - The user index {u:<id>}:committees, updated after the committee's
//     members hash; UserCommittees checks every id it lists.
//   - Invite tokens: a global token -> committee key, and the invite itself
//     in the committee's invites hash.
type Committees struct{ store }

// NewCommittees returns the committee store. Accepts WithClock.
func NewCommittees(c redis.UniversalClient, k Keys, opts ...Option) *Committees {
	return &Committees{newStore(c, k, newSettings(opts))}
}

// Fields of the committee meta hash.
const (
	metaID       = "id"
	metaChat     = "chat"
	metaTitle    = "title"
	metaName     = "name"
	metaTimezone = "tz"
	metaLanguage = "lang"
	metaYear     = "year"
	metaCreated  = "created"
	metaBy       = "by"
	metaThread   = "thread"
)

// idRE matches committee ids that may appear inside a key. Ids come from a
// counter, but handlers may pass ids typed by users: anything else is
// simply not found.
var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

func validID(id string) bool { return idRE.MatchString(id) }

// bindChatScript binds a group chat to a committee in the global slot.
//
// KEYS[1] -> <p>:{g}:chat:<chatID>:committee
// ARGV[1] -> committee id to bind
// ARGV[2] -> id of a stale binding the caller found and may replace ("" if none)
//
// Returns {1, ARGV[1]} when the chat is now bound to ARGV[1] (also when it
// already was: a retried call), {0, other id} when another committee holds
// the chat.
var bindChatScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] or (ARGV[2] ~= '' and cur == ARGV[2]) then
	redis.call('SET', KEYS[1], ARGV[1])
	return {1, ARGV[1]}
end
return {0, cur}
`)

// unbindChatScript removes a chat binding if it still names a committee.
//
// KEYS[1] -> <p>:{g}:chat:<chatID>:committee
// ARGV[1] -> committee id
//
// Returns 1 if the binding named ARGV[1] and was removed, 0 otherwise.
var unbindChatScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	redis.call('DEL', KEYS[1])
	return 1
end
return 0
`)

// swapChatScript moves a committee's meta.chat from one chat to another
// (0 = none).
//
// KEYS[1] -> <p>:{c:<id>}:meta
// ARGV[1] -> expected current chat
// ARGV[2] -> new chat
//
// Returns 1 if meta.chat is now ARGV[2] (changed, or already so), 0 if it
// held neither value (changed concurrently), nil if the committee does not
// exist.
var swapChatScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local cur = redis.call('HGET', KEYS[1], 'chat')
if cur == ARGV[2] then return 1 end
if cur == ARGV[1] then
	redis.call('HSET', KEYS[1], 'chat', ARGV[2])
	return 1
end
return 0
`)

// setMetaScript sets one field of an existing committee.
//
// KEYS[1] -> <p>:{c:<id>}:meta
// ARGV[1] -> field
// ARGV[2] -> value
//
// Returns 1, or nil if the committee does not exist.
var setMetaScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// Create makes a new committee bound to group chatID, with the next id of
// the global committee sequence ("1", "2", …). If the chat is bound already
// (including by a concurrent Create) it returns that committee and
// domain.ErrAlreadyBound. name must pass domain.ValidName and year domain.ValidYear
// (their errors are returned wrapped); timezone must be a loadable IANA zone
// and language non-empty (ErrInvalid).
//
// The committee is written before the chat is bound to it; the loser of a
// race deletes its unbound committee again, so racing Creates leave one
// committee (and skip an id or two of the sequence).
func (s *Committees) Create(ctx context.Context, chatID int64, title, name, timezone, language string, year int, by int64) (domain.Committee, error) {
	name = strings.TrimSpace(name)
	if err := errors.Join(domain.ValidName(name), domain.ValidYear(year)); err != nil {
		return domain.Committee{}, fmt.Errorf("create committee for chat %d: %w", chatID, err)
	}
	if err := validTimezone(timezone); err != nil {
		return domain.Committee{}, fmt.Errorf("create committee for chat %d: %w", chatID, err)
	}
	if language == "" {
		return domain.Committee{}, fmt.Errorf("create committee for chat %d: empty language: %w", chatID, ErrInvalid)
	}
	if chatID == 0 {
		return domain.Committee{}, fmt.Errorf("create committee for chat 0: %w", ErrInvalid)
	}
	b, err := s.lookupChat(ctx, chatID)
	if err != nil {
		return domain.Committee{}, fmt.Errorf("create committee for chat %d: %w", chatID, err)
	}
	if b.valid {
		return b.c, fmt.Errorf("create committee for chat %d: bound to committee %s: %w", chatID, b.id, domain.ErrAlreadyBound)
	}

	n, err := s.c.Incr(ctx, s.k.Sequence("committee")).Result()
	if err != nil {
		return domain.Committee{}, fmt.Errorf("create committee for chat %d: next id: %w", chatID, err)
	}
	now := s.now()
	c := domain.Committee{
		ID: strconv.FormatInt(n, 10), ChatID: chatID, Title: title, Name: name,
		Timezone: timezone, Language: language, Year: year,
		Created: fromUnixMilli(unixMilli(now)), By: by,
	}
	if err := s.c.HSet(ctx, s.k.CommitteeMeta(c.ID),
		metaID, c.ID, metaChat, chatID, metaTitle, title, metaName, name,
		metaTimezone, timezone, metaLanguage, language, metaYear, year,
		metaCreated, unixMilli(now), metaBy, by).Err(); err != nil {
		return domain.Committee{}, fmt.Errorf("create committee for chat %d: %w", chatID, err)
	}
	holder, err := s.bindChat(ctx, chatID, c.ID, b.staleID())
	if err != nil {
		return domain.Committee{}, fmt.Errorf("create committee for chat %d: %w", chatID, err)
	}
	if holder != c.ID {
		// Lost a race: nobody knows this id yet, so it can go.
		if err := s.c.Del(ctx, s.k.CommitteeMeta(c.ID)).Err(); err != nil {
			return domain.Committee{}, fmt.Errorf("create committee for chat %d: drop unbound committee %s: %w", chatID, c.ID, err)
		}
		other, err := s.Get(ctx, holder)
		if err != nil {
			return domain.Committee{}, fmt.Errorf("create committee for chat %d: %w", chatID, err)
		}
		return other, fmt.Errorf("create committee for chat %d: bound to committee %s: %w", chatID, holder, domain.ErrAlreadyBound)
	}
	return c, nil
}

// Get returns committee id, with Head and Deputy of its current Year, or
// ErrNotFound.
func (s *Committees) Get(ctx context.Context, id string) (domain.Committee, error) {
	if !validID(id) {
		return domain.Committee{}, fmt.Errorf("get committee %q: %w", id, ErrNotFound)
	}
	var meta, roles *redis.MapStringStringCmd
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		meta = p.HGetAll(ctx, s.k.CommitteeMeta(id))
		roles = p.HGetAll(ctx, s.k.Roles(id))
		return nil
	})
	if err != nil {
		return domain.Committee{}, fmt.Errorf("get committee %s: %w", id, err)
	}
	if len(meta.Val()) == 0 {
		return domain.Committee{}, fmt.Errorf("get committee %s: %w", id, ErrNotFound)
	}
	c, err := decodeCommittee(meta.Val(), roles.Val())
	if err != nil {
		return domain.Committee{}, fmt.Errorf("get committee %s: %w", id, err)
	}
	return c, nil
}

// ByChat returns the committee bound to group chatID, or ErrNotFound.
func (s *Committees) ByChat(ctx context.Context, chatID int64) (domain.Committee, error) {
	b, err := s.lookupChat(ctx, chatID)
	if err != nil {
		return domain.Committee{}, fmt.Errorf("committee of chat %d: %w", chatID, err)
	}
	if !b.valid {
		return domain.Committee{}, fmt.Errorf("committee of chat %d: %w", chatID, ErrNotFound)
	}
	return b.c, nil
}

// Migrate moves the binding of group fromChat to toChat, for a group that
// became a supergroup (Telegram's migrate_to_chat_id). It is idempotent:
// when fromChat is unbound and toChat is bound it does nothing and returns
// nil, so both migration messages Telegram sends may call it. It returns
// ErrNotFound if neither chat is bound and domain.ErrAlreadyBound if toChat is
// bound to another committee.
func (s *Committees) Migrate(ctx context.Context, fromChat, toChat int64) error {
	if fromChat == toChat {
		return nil
	}
	from, err := s.lookupChat(ctx, fromChat)
	if err != nil {
		return fmt.Errorf("migrate chat %d to %d: %w", fromChat, toChat, err)
	}
	to, err := s.lookupChat(ctx, toChat)
	if err != nil {
		return fmt.Errorf("migrate chat %d to %d: %w", fromChat, toChat, err)
	}
	if !from.valid {
		if !to.valid {
			return fmt.Errorf("migrate chat %d to %d: %w", fromChat, toChat, ErrNotFound)
		}
		if from.id == to.id {
			// An earlier call stopped before its last step.
			if err := s.unbindChat(ctx, fromChat, from.id); err != nil {
				return fmt.Errorf("migrate chat %d to %d: %w", fromChat, toChat, err)
			}
		}
		return nil
	}
	if to.valid {
		return fmt.Errorf("migrate chat %d to %d: target bound to committee %s: %w", fromChat, toChat, to.id, domain.ErrAlreadyBound)
	}
	id := from.id
	// 1. Bind the new chat (stale until meta.chat says so).
	holder, err := s.bindChat(ctx, toChat, id, to.staleID())
	if err != nil {
		return fmt.Errorf("migrate chat %d to %d: %w", fromChat, toChat, err)
	}
	if holder != id {
		return fmt.Errorf("migrate chat %d to %d: target bound to committee %s: %w", fromChat, toChat, holder, domain.ErrAlreadyBound)
	}
	// 2. Switch the committee over: from now on toChat is the bound one.
	if err := s.swapChat(ctx, id, fromChat, toChat); err != nil {
		return errors.Join(fmt.Errorf("migrate chat %d to %d: %w", fromChat, toChat, err),
			s.unbindChat(ctx, toChat, id))
	}
	// 3. Drop the old binding, now stale.
	if err := s.unbindChat(ctx, fromChat, id); err != nil {
		return fmt.Errorf("migrate chat %d to %d: %w", fromChat, toChat, err)
	}
	return nil
}

// Detach unbinds group chatID from its committee, for when the bot is
// removed from the group. The committee and its data stay, with ChatID 0;
// the returned committee is as it is after detaching. ErrNotFound if the
// chat is not bound.
func (s *Committees) Detach(ctx context.Context, chatID int64) (domain.Committee, error) {
	b, err := s.lookupChat(ctx, chatID)
	if err != nil {
		return domain.Committee{}, fmt.Errorf("detach chat %d: %w", chatID, err)
	}
	if !b.valid {
		return domain.Committee{}, fmt.Errorf("detach chat %d: %w", chatID, ErrNotFound)
	}
	// meta.chat first: once it is 0 the chat counts as unbound, and the
	// global key left behind (should the second step fail) is stale.
	if err := s.swapChat(ctx, b.id, chatID, 0); err != nil {
		return domain.Committee{}, fmt.Errorf("detach chat %d: %w", chatID, err)
	}
	if err := s.unbindChat(ctx, chatID, b.id); err != nil {
		return domain.Committee{}, fmt.Errorf("detach chat %d: %w", chatID, err)
	}
	// Remember the committee, so that adding the bot back brings it back.
	if err := s.c.Set(ctx, s.k.FormerCommittee(chatID), b.id, formerTTL).Err(); err != nil {
		return domain.Committee{}, fmt.Errorf("detach chat %d: %w", chatID, err)
	}
	c := b.c
	c.ChatID = 0
	return c, nil
}

// formerTTL is how long a group remembers the committee it was bound to
// after the bot left it.
const formerTTL = 366 * 24 * time.Hour

// FormerCommittee returns the id of the committee chatID was bound to
// before the bot was removed from it, or ErrNotFound.
func (s *Committees) FormerCommittee(ctx context.Context, chatID int64) (string, error) {
	id, err := s.c.Get(ctx, s.k.FormerCommittee(chatID)).Result()
	if err != nil {
		return "", fmt.Errorf("former committee of chat %d: %w", chatID, notFound(err))
	}
	return id, nil
}

// Reattach binds committee id to group chatID again (the bot was added back
// to the group, or to a new one). It is a no-op if already so bound. It
// returns ErrNotFound if the committee does not exist, domain.ErrAlreadyBound if
// the chat is bound to another committee, and ErrConflict if the committee
// is bound to another chat (Detach that one first).
func (s *Committees) Reattach(ctx context.Context, id string, chatID int64) error {
	c, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("reattach committee %s to chat %d: %w", id, chatID, err)
	}
	if chatID == 0 {
		return fmt.Errorf("reattach committee %s to chat 0: %w", id, ErrInvalid)
	}
	if c.ChatID != 0 && c.ChatID != chatID {
		cur, err := s.lookupChat(ctx, c.ChatID)
		if err != nil {
			return fmt.Errorf("reattach committee %s to chat %d: %w", id, chatID, err)
		}
		if cur.valid && cur.id == id {
			return fmt.Errorf("reattach committee %s to chat %d: bound to chat %d: %w", id, chatID, c.ChatID, ErrConflict)
		}
	}
	b, err := s.lookupChat(ctx, chatID)
	if err != nil {
		return fmt.Errorf("reattach committee %s to chat %d: %w", id, chatID, err)
	}
	if b.valid {
		if b.id == id {
			return nil
		}
		return fmt.Errorf("reattach committee %s to chat %d: bound to committee %s: %w", id, chatID, b.id, domain.ErrAlreadyBound)
	}
	stale := b.staleID()
	if b.id == id {
		stale = ""
	}
	holder, err := s.bindChat(ctx, chatID, id, stale)
	if err != nil {
		return fmt.Errorf("reattach committee %s to chat %d: %w", id, chatID, err)
	}
	if holder != id {
		return fmt.Errorf("reattach committee %s to chat %d: bound to committee %s: %w", id, chatID, holder, domain.ErrAlreadyBound)
	}
	if err := s.swapChat(ctx, id, c.ChatID, chatID); err != nil {
		return errors.Join(fmt.Errorf("reattach committee %s to chat %d: %w", id, chatID, err),
			s.unbindChat(ctx, chatID, id))
	}
	return nil
}

// SetLanguage sets the committee's language (/lang in its group). An empty
// language is ErrInvalid; ErrNotFound if the committee does not exist.
func (s *Committees) SetLanguage(ctx context.Context, id, language string) error {
	if language == "" {
		return fmt.Errorf("set language of committee %s: empty: %w", id, ErrInvalid)
	}
	return s.setMeta(ctx, id, "language", metaLanguage, language)
}

// SetTimezone sets the committee's time zone, an IANA name such as
// Asia/Ho_Chi_Minh (ErrInvalid if it cannot be loaded); ErrNotFound if the
// committee does not exist.
func (s *Committees) SetTimezone(ctx context.Context, id, timezone string) error {
	if err := validTimezone(timezone); err != nil {
		return fmt.Errorf("set time zone of committee %s: %w", id, err)
	}
	return s.setMeta(ctx, id, "time zone", metaTimezone, timezone)
}

// SetYear sets the committee's current emulation year, which selects the
// Head and Deputy that Get reports. It returns domain.ErrYear (wrapped) for
// a year out of range and ErrNotFound if the committee does not exist.
func (s *Committees) SetYear(ctx context.Context, id string, year int) error {
	if err := domain.ValidYear(year); err != nil {
		return fmt.Errorf("set year of committee %s: %w", id, err)
	}
	return s.setMeta(ctx, id, "year", metaYear, strconv.Itoa(year))
}

// turnYearScript moves a committee's year forward to ARGV[1] unless it is
// there or later already (a /year correction, or another replica).
//
// KEYS[1] -> <p>:{c:<id>}:meta
// ARGV[1] -> the new year
//
// Returns 1 turned, 0 already there or later, false no committee.
var turnYearScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if (tonumber(redis.call('HGET', KEYS[1], 'year')) or 0) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'year', ARGV[1])
return 1
`)

// TurnYear moves the committee's year forward to year, atomically and
// only forward: it reports whether this call turned it (false when the
// year is year or later already). ErrNotFound if there is no committee.
func (s *Committees) TurnYear(ctx context.Context, id string, year int) (bool, error) {
	if err := domain.ValidYear(year); err != nil {
		return false, fmt.Errorf("turn year of committee %s: %w", id, err)
	}
	if !validID(id) {
		return false, fmt.Errorf("turn year of committee %q: %w", id, ErrNotFound)
	}
	v, err := runScript(ctx, s.c, turnYearScript, []string{s.k.CommitteeMeta(id)}, year)
	if err != nil {
		return false, fmt.Errorf("turn year of committee %s: %w", id, err)
	}
	n, _ := v.(int64)
	return n == 1, nil
}

// IDs lists the ids of every committee ever created that still exists,
// in creation order.
func (s *Committees) IDs(ctx context.Context) ([]string, error) {
	last, err := s.c.Get(ctx, s.k.Sequence("committee")).Int64()
	if err != nil {
		if errors.Is(err, redis.Nil) {
			return nil, nil
		}
		return nil, fmt.Errorf("committee ids: %w", err)
	}
	// One round trip for all: EXISTS of every id ever made.
	exists := make([]*redis.IntCmd, last)
	if _, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for n := int64(1); n <= last; n++ {
			exists[n-1] = p.Exists(ctx, s.k.CommitteeMeta(strconv.FormatInt(n, 10)))
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("committee ids: %w", err)
	}
	var out []string
	for i, e := range exists {
		if e.Val() == 1 {
			out = append(out, strconv.FormatInt(int64(i+1), 10))
		}
	}
	return out, nil
}

// SetThread makes forum topic thread of the committee's group (0:
// General) the one its announcements and reminders go to. ErrNotFound if
// there is no such committee; ErrInvalid for a negative thread.
func (s *Committees) SetThread(ctx context.Context, id string, thread int) error {
	if thread < 0 {
		return fmt.Errorf("set topic of committee %s to %d: %w", id, thread, ErrInvalid)
	}
	return s.setMeta(ctx, id, "topic", metaThread, strconv.Itoa(thread))
}

func (s *Committees) setMeta(ctx context.Context, id, what, field, value string) error {
	if !validID(id) {
		return fmt.Errorf("set %s of committee %q: %w", what, id, ErrNotFound)
	}
	if _, err := runScript(ctx, s.c, setMetaScript, []string{s.k.CommitteeMeta(id)}, field, value); err != nil {
		return fmt.Errorf("set %s of committee %s: %w", what, id, err)
	}
	return nil
}

func validTimezone(tz string) error {
	if tz == "" {
		return fmt.Errorf("empty time zone: %w", ErrInvalid)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Errorf("time zone %q: %w", tz, ErrInvalid)
	}
	return nil
}

// binding is what lookupChat found for a chat.
type binding struct {
	id    string           // committee id in the global binding key, "" if none
	c     domain.Committee // that committee, if it exists
	valid bool             // the committee exists and its meta.chat agrees
}

// staleID is the id of a binding that may be overwritten, "" if none.
func (b binding) staleID() string {
	if b.valid {
		return ""
	}
	return b.id
}

// lookupChat reads the binding of chatID and checks it against the
// committee it names.
func (s *Committees) lookupChat(ctx context.Context, chatID int64) (binding, error) {
	id, err := s.c.Get(ctx, s.k.ChatCommittee(chatID)).Result()
	if errors.Is(err, redis.Nil) {
		return binding{}, nil
	}
	if err != nil {
		return binding{}, err
	}
	c, err := s.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return binding{id: id}, nil
	}
	if err != nil {
		return binding{}, err
	}
	return binding{id: id, c: c, valid: c.ChatID == chatID}, nil
}

// bindChat runs bindChatScript and returns the id now holding the chat.
func (s *Committees) bindChat(ctx context.Context, chatID int64, id, stale string) (string, error) {
	v, err := runScript(ctx, s.c, bindChatScript, []string{s.k.ChatCommittee(chatID)}, id, stale)
	if err != nil {
		return "", fmt.Errorf("bind chat: %w", err)
	}
	r, err := asReply(v, 2)
	if err != nil {
		return "", fmt.Errorf("bind chat: %w", err)
	}
	holder, err := r.str(1)
	if err != nil {
		return "", fmt.Errorf("bind chat: %w", err)
	}
	return holder, nil
}

func (s *Committees) unbindChat(ctx context.Context, chatID int64, id string) error {
	if _, err := runScript(ctx, s.c, unbindChatScript, []string{s.k.ChatCommittee(chatID)}, id); err != nil {
		return fmt.Errorf("unbind chat %d: %w", chatID, err)
	}
	return nil
}

func (s *Committees) swapChat(ctx context.Context, id string, from, to int64) error {
	v, err := runScript(ctx, s.c, swapChatScript, []string{s.k.CommitteeMeta(id)}, from, to)
	if err != nil {
		return fmt.Errorf("switch chat of committee %s: %w", id, err)
	}
	if n, ok := v.(int64); !ok || n != 1 {
		return fmt.Errorf("switch chat of committee %s from %d: changed concurrently: %w", id, from, ErrConflict)
	}
	return nil
}

// roleField is the roles hash field of a role in a year.
func roleField(year int, role string) string { return strconv.Itoa(year) + ":" + role }

// decodeCommittee builds a committee from its meta and roles hashes.
func decodeCommittee(meta, roles map[string]string) (domain.Committee, error) {
	var errs []error
	num := func(field string) int64 { return hashInt(meta, field, &errs) }
	c := domain.Committee{
		ID:       meta[metaID],
		ChatID:   num(metaChat),
		Title:    meta[metaTitle],
		Name:     meta[metaName],
		Timezone: meta[metaTimezone],
		Language: meta[metaLanguage],
		Year:     int(num(metaYear)),
		Created:  fromUnixMilli(num(metaCreated)),
		By:       num(metaBy),
		Thread:   int(num(metaThread)),
	}
	c.Head = roles[roleField(c.Year, domain.RoleHead)]
	c.Deputy = roles[roleField(c.Year, domain.RoleDeputy)]
	return c, errors.Join(errs...)
}
