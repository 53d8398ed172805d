package storage

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Users keeps per-user and per-chat preferences: today the language a user
// chose with /lang, and the language of a group chat. Which codes are valid
// is the i18n package's business; this store keeps any non-empty code.
//
// Languages are read for every update. While Watch runs, a process keeps
// the languages it read: every change of a language is published on the
// channel <p>:langs in the same script that makes it, and Watch drops what
// it hears of; the kept languages are forgotten whenever the subscription
// is lost (nothing heard meanwhile could be trusted), and after
// langKeepFor in any case.
type Users struct {
	store
	kept  *keptLangs
	topic string
	// self marks this store's own messages, which Watch skips: setLang
	// dropped the language already.
	self string
}

// NewUsers returns the preference store.
func NewUsers(c redis.UniversalClient, k Keys, opts ...Option) *Users {
	s := newSettings(opts)
	return &Users{store: newStore(c, k, s), kept: newKeptLangs(), topic: k.prefix + ":langs", self: " " + rand.Text()}
}

// fieldLang is the profile hash field holding a language code.
const fieldLang = "lang"

// fieldTelegramLang holds the language Telegram last reported for the
// user's app (language_code), for messages to them outside their own
// updates (reminders, notices) until they choose one with /lang.
const fieldTelegramLang = "tg_lang"

// Language returns the language userID chose with /lang, else the one
// their Telegram app was last seen to use (SetTelegramLanguage). It
// returns ErrNotFound if neither is known (the caller then uses the
// configured default).
func (u *Users) Language(ctx context.Context, userID int64) (string, error) {
	chosen, seen, err := u.Languages(ctx, userID)
	switch {
	case err != nil:
		return "", err
	case chosen != "":
		return chosen, nil
	case seen != "":
		return seen, nil
	}
	return "", fmt.Errorf("language of user %d: %w", userID, ErrNotFound)
}

// Languages returns the language userID chose with /lang and the one their
// Telegram app was last seen to use, each "" when unknown, in one read (or
// none, while Watch runs and this process read them lately).
func (u *Users) Languages(ctx context.Context, userID int64) (chosen, seen string, err error) {
	name := "u:" + strconv.FormatInt(userID, 10)
	if l, ok := u.kept.get(name, u.now()); ok {
		return l.chosen, l.seen, nil
	}
	gen := u.kept.generation()
	v, err := u.c.HMGet(ctx, u.k.UserProfile(userID), fieldLang, fieldTelegramLang).Result()
	if err != nil {
		return "", "", fmt.Errorf("language of user %d: %w", userID, err)
	}
	chosen, _ = v[0].(string)
	seen, _ = v[1].(string)
	u.kept.put(name, keptLang{chosen: chosen, seen: seen, until: u.now().Add(langKeepFor)}, gen)
	return chosen, seen, nil
}

// SetTelegramLanguage records the language Telegram reports for userID's
// app. An empty lang is ErrInvalid.
func (u *Users) SetTelegramLanguage(ctx context.Context, userID int64, lang string) error {
	return u.setLang(ctx, u.k.UserProfile(userID), fieldTelegramLang, lang, "telegram language of user", userID, "u:")
}

// SetLanguage records lang as userID's language. An empty lang is
// ErrInvalid.
func (u *Users) SetLanguage(ctx context.Context, userID int64, lang string) error {
	return u.setLang(ctx, u.k.UserProfile(userID), fieldLang, lang, "language of user", userID, "u:")
}

// setLangScript sets a language and tells every process that keeps
// languages (Users.Watch), in one step: no process keeps the old one
// after the change is made unless it lost its subscription, and then it
// keeps nothing.
//
// KEYS[1] -> the user's or chat's profile hash
// ARGV[1] -> field
// ARGV[2] -> language
// ARGV[3] -> channel <p>:langs
// ARGV[4] -> what changed, "u:<user id>" or "c:<chat id>", and a space and
//
//	the changing store's mark
var setLangScript = redis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
-- A Redis user the ACL denies pub/sub keeps nothing (Watch cannot
-- subscribe either): the change stands all the same.
redis.pcall('PUBLISH', ARGV[3], ARGV[4])
return 1
`)

// setLang sets field of the profile hash key to lang (ErrInvalid when
// empty) and publishes the change of kind ("u:" or "c:") id.
func (u *Users) setLang(ctx context.Context, key, field, lang, what string, id int64, kind string) error {
	if lang == "" {
		return fmt.Errorf("set %s %d: empty language: %w", what, id, ErrInvalid)
	}
	name := kind + strconv.FormatInt(id, 10)
	_, err := runScript(ctx, u.c, setLangScript, []string{key}, field, lang, u.topic, name+u.self)
	u.kept.drop(name)
	if err != nil {
		return fmt.Errorf("set %s %d: %w", what, id, err)
	}
	return nil
}

// setField sets field of the profile hash key to value, which must not
// be empty (ErrInvalid, with emptyName saying what is empty). Errors name
// what is set and of whom (what and id: "current committee of user", 7).
func (u *Users) setField(ctx context.Context, key, field, value, what string, id int64, emptyName string) error {
	if value == "" {
		return fmt.Errorf("set %s %d: empty %s: %w", what, id, emptyName, ErrInvalid)
	}
	if err := u.c.HSet(ctx, key, field, value).Err(); err != nil {
		return fmt.Errorf("set %s %d: %w", what, id, err)
	}
	return nil
}

// ChatLanguage returns the language set for a (group) chat, or ErrNotFound
// if none was set.
func (u *Users) ChatLanguage(ctx context.Context, chatID int64) (string, error) {
	name := "c:" + strconv.FormatInt(chatID, 10)
	l, ok := u.kept.get(name, u.now())
	if !ok {
		gen := u.kept.generation()
		lang, err := u.c.HGet(ctx, u.k.ChatProfile(chatID), fieldLang).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return "", fmt.Errorf("language of chat %d: %w", chatID, err)
		}
		l = keptLang{chosen: lang, until: u.now().Add(langKeepFor)}
		u.kept.put(name, l, gen)
	}
	if l.chosen == "" {
		return "", fmt.Errorf("language of chat %d: %w", chatID, ErrNotFound)
	}
	return l.chosen, nil
}

// SetChatLanguage records lang as the language of a (group) chat. An empty
// lang is ErrInvalid.
func (u *Users) SetChatLanguage(ctx context.Context, chatID int64, lang string) error {
	return u.setLang(ctx, u.k.ChatProfile(chatID), fieldLang, lang, "language of chat", chatID, "c:")
}

// Watch keeps the languages this process reads, until ctx ends: it
// subscribes to the changes of languages (see Users) and, while
// subscribed, lets Languages and ChatLanguage answer from what was read
// before. A lost subscription forgets everything kept and reads again
// until it is back (go-redis reconnects it).
func (u *Users) Watch(ctx context.Context) {
	ps := u.c.Subscribe(ctx, u.topic)
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	defer u.kept.reset(false)
	// A lost subscription is tried again at once, then less and less often
	// (a Redis user the ACL denies pub/sub is refused every time).
	retry := langRetryMin
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, langPingEvery)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Nothing heard for a while: make sure the connection
				// still carries messages (the answer comes as a Pong).
				if ps.Ping(ctx) == nil {
					continue
				}
			}
			u.kept.reset(false)
			select {
			case <-ctx.Done():
			case <-time.After(retry):
			}
			retry = min(2*retry, langRetryMax)
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				u.kept.reset(true)
				retry = langRetryMin
			}
		case *redis.Message:
			if !strings.HasSuffix(m.Payload, u.self) {
				name, _, _ := strings.Cut(m.Payload, " ")
				u.kept.drop(name)
			}
		}
	}
}

// How long a language is kept at most, how often a quiet subscription is
// checked, and how many languages a process keeps (all are forgotten when
// there would be more).
const (
	langKeepFor   = time.Hour
	langPingEvery = 15 * time.Second
	langRetryMin  = 100 * time.Millisecond
	langRetryMax  = 30 * time.Second
	langKeepMax   = 100_000
)

// keptLang is a language (a user's chosen and seen, a chat's chosen) as
// read from Redis.
type keptLang struct {
	chosen, seen string
	until        time.Time
}

// keptLangs are the languages a process keeps while it hears of every
// change. gen moves on with every change heard (and every loss of the
// subscription), so that a read made before a change is not kept after
// it.
type keptLangs struct {
	mu      sync.Mutex
	active  bool
	gen     uint64
	entries map[string]keptLang
}

func newKeptLangs() *keptLangs { return &keptLangs{entries: map[string]keptLang{}} }

func (k *keptLangs) get(name string, now time.Time) (keptLang, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l, ok := k.entries[name]
	if !ok || !k.active || now.After(l.until) {
		return keptLang{}, false
	}
	return l, true
}

// generation is taken before a read; put keeps the read only if nothing
// changed since.
func (k *keptLangs) generation() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.gen
}

func (k *keptLangs) put(name string, l keptLang, gen uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.active || gen != k.gen {
		return
	}
	if len(k.entries) >= langKeepMax {
		clear(k.entries)
	}
	k.entries[name] = l
}

func (k *keptLangs) drop(name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gen++
	delete(k.entries, name)
}

// reset forgets everything kept and starts keeping (active: a
// subscription is made) or stops (it is lost).
func (k *keptLangs) reset(active bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gen++
	k.active = active
	clear(k.entries)
}

// fieldCommittee is the profile hash field holding the committee a user
// last acted in, used to pick the committee of a private-chat command.
const fieldCommittee = "committee"

// CurrentCommittee returns the committee userID last acted in, or
// ErrNotFound.
func (u *Users) CurrentCommittee(ctx context.Context, userID int64) (string, error) {
	id, err := u.c.HGet(ctx, u.k.UserProfile(userID), fieldCommittee).Result()
	if err != nil {
		return "", fmt.Errorf("current committee of user %d: %w", userID, notFound(err))
	}
	return id, nil
}

// SetCurrentCommittee records the committee userID acts in from now on.
// An empty id is ErrInvalid.
func (u *Users) SetCurrentCommittee(ctx context.Context, userID int64, committeeID string) error {
	return u.setField(ctx, u.k.UserProfile(userID), fieldCommittee, committeeID, "current committee of user", userID, "id")
}
