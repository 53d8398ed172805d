package telegramtest

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// Telegram's documented flood limits for sending messages.
const (
	globalRate  = 30.0 // messages per second, all chats together
	globalBurst = 30.0
	chatRate    = 1.0 // messages per second in one chat
	chatBurst   = 3.0 // the real server tolerates short bursts
	groupLimit  = 20  // messages per minute in one group
	groupWindow = time.Minute
)

// bucket is a token bucket driven by the injected clock.
type bucket struct {
	tokens float64
	last   time.Time
	init   bool
}

func (b *bucket) refill(now time.Time, rate, burst float64) {
	if !b.init {
		b.tokens, b.last, b.init = burst, now, true
		return
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(burst, b.tokens+el*rate)
	}
	b.last = now
}

// wait is how long until one token is available.
func (b *bucket) wait(now time.Time, rate, burst float64) time.Duration {
	b.refill(now, rate, burst)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// limiter holds the flood-control state. Guarded by Server.mu.
type limiter struct {
	global bucket
	chats  map[int64]*bucket
	groups map[int64][]time.Time
}

func newLimiter() limiter {
	return limiter{chats: map[int64]*bucket{}, groups: map[int64][]time.Time{}}
}

// CountsAsMessage reports whether a Bot API method sends a message: the
// calls Telegram's flood limits apply to (load tools count them the same).
func CountsAsMessage(method string) bool {
	switch method {
	case "sendChatAction":
		return false
	case "copyMessage", "copyMessages", "forwardMessage", "forwardMessages":
		return true
	}
	return strings.HasPrefix(method, "send")
}

// checkRateLimit answers 429 "Too Many Requests: retry after N" when the
// call would exceed a limit; otherwise it counts the call.
func (s *Server) checkRateLimit(c *call) error {
	if !s.rateLimits || !CountsAsMessage(c.method.Name) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.st.resolveChatLocked(c.str("chat_id"))
	if err != nil {
		return nil // the handler reports the unknown chat
	}
	now := s.now()
	l := &s.limiter
	cb, ok := l.chats[ch.chat.ID]
	if !ok {
		cb = &bucket{}
		l.chats[ch.chat.ID] = cb
	}
	wait := max(l.global.wait(now, globalRate, globalBurst), cb.wait(now, chatRate, chatBurst))
	isGroup := ch.chat.Type != ChatPrivate
	if isGroup {
		recent := l.groups[ch.chat.ID][:0]
		for _, t := range l.groups[ch.chat.ID] {
			if now.Sub(t) < groupWindow {
				recent = append(recent, t)
			}
		}
		l.groups[ch.chat.ID] = recent
		if len(recent) >= groupLimit {
			wait = max(wait, recent[0].Add(groupWindow).Sub(now))
		}
	}
	if wait > 0 {
		secs := max(int(math.Ceil(wait.Seconds())), 1)
		return &apiError{code: http.StatusTooManyRequests,
			desc: fmt.Sprintf("Too Many Requests: retry after %d", secs), retryAfter: secs}
	}
	l.global.tokens--
	cb.tokens--
	if isGroup {
		l.groups[ch.chat.ID] = append(l.groups[ch.chat.ID], now)
	}
	return nil
}
