package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
)

// isAdmin reports whether the caller is a global admin, or a Telegram
// administrator of the group the request comes from.
func (h *core) isAdmin(ctx context.Context, r *bot.Request) (bool, error) {
	user, ok := r.Sender()
	if !ok {
		return false, nil
	}
	if h.admins[user.ID] {
		return true, nil
	}
	chat, ok := r.Chat()
	if !ok || !chat.IsGroup() {
		return false, nil
	}
	return h.isGroupAdmin(ctx, chat.ID, user.ID)
}

// isGroupAdmin asks Telegram (getChatMember) whether userID administers
// chatID, caching the answer briefly so a burst of commands costs one call.
func (h *core) isGroupAdmin(ctx context.Context, chatID, userID int64) (bool, error) {
	if v, ok := h.groupAdmins.get(chatID, userID); ok {
		return v, nil
	}
	resp, err := h.send.Request(ctx, tgbotapi.GetChatMemberConfig{
		ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: chatID, UserID: userID},
	})
	if err != nil {
		return false, fmt.Errorf("get chat member: %w", err)
	}
	var m tgbotapi.ChatMember
	if err := json.Unmarshal(resp.Result, &m); err != nil {
		return false, fmt.Errorf("get chat member: decode: %w", err)
	}
	admin := m.IsCreator() || m.IsAdministrator()
	h.groupAdmins.put(chatID, userID, admin)
	return admin, nil
}

// adminCache remembers getChatMember answers for a short time.
type adminCache struct {
	now func() time.Time
	ttl time.Duration

	mu sync.Mutex
	m  map[[2]int64]adminEntry
}

type adminEntry struct {
	admin   bool
	expires time.Time
}

func newAdminCache(now func() time.Time, ttl time.Duration) *adminCache {
	return &adminCache{now: now, ttl: ttl, m: make(map[[2]int64]adminEntry)}
}

func (c *adminCache) get(chatID, userID int64) (bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[[2]int64{chatID, userID}]
	if !ok || c.now().After(e.expires) {
		return false, false
	}
	return e.admin, true
}

func (c *adminCache) put(chatID, userID int64, admin bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) > 10000 {
		for k, e := range c.m {
			if now.After(e.expires) {
				delete(c.m, k)
			}
		}
	}
	c.m[[2]int64{chatID, userID}] = adminEntry{admin: admin, expires: now.Add(c.ttl)}
}

// forget drops cached answers for a chat, e.g. when Telegram reports a
// change of its members.
func (c *adminCache) forget(chatID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k[0] == chatID {
			delete(c.m, k)
		}
	}
}
