package storage

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Users keeps per-user and per-chat preferences: today the language a user
// chose with /lang, and the language of a group chat. Which codes are valid
// is the i18n package's business; this store keeps any non-empty code.
type Users struct {
	c redis.UniversalClient
	k Keys
}

// NewUsers returns the preference store.
func NewUsers(c redis.UniversalClient, k Keys) *Users {
	return &Users{c: c, k: k}
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
// Telegram app was last seen to use, each "" when unknown, in one read.
func (u *Users) Languages(ctx context.Context, userID int64) (chosen, seen string, err error) {
	v, err := u.c.HMGet(ctx, u.k.UserProfile(userID), fieldLang, fieldTelegramLang).Result()
	if err != nil {
		return "", "", fmt.Errorf("language of user %d: %w", userID, err)
	}
	chosen, _ = v[0].(string)
	seen, _ = v[1].(string)
	return chosen, seen, nil
}

// SetTelegramLanguage records the language Telegram reports for userID's
// app. An empty lang is ErrInvalid.
func (u *Users) SetTelegramLanguage(ctx context.Context, userID int64, lang string) error {
	return u.setField(ctx, u.k.UserProfile(userID), fieldTelegramLang, lang, "telegram language of user", userID, "language")
}

// SetLanguage records lang as userID's language. An empty lang is
// ErrInvalid.
func (u *Users) SetLanguage(ctx context.Context, userID int64, lang string) error {
	return u.setField(ctx, u.k.UserProfile(userID), fieldLang, lang, "language of user", userID, "language")
}

// setField sets field of the profile hash key to value, which must not
// be empty (ErrInvalid, with emptyName saying what is empty). Errors name
// what is set and of whom (what and id: "language of user", 7).
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
	lang, err := u.c.HGet(ctx, u.k.ChatProfile(chatID), fieldLang).Result()
	if err != nil {
		return "", fmt.Errorf("language of chat %d: %w", chatID, notFound(err))
	}
	return lang, nil
}

// SetChatLanguage records lang as the language of a (group) chat. An empty
// lang is ErrInvalid.
func (u *Users) SetChatLanguage(ctx context.Context, chatID int64, lang string) error {
	return u.setField(ctx, u.k.ChatProfile(chatID), fieldLang, lang, "language of chat", chatID, "language")
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
