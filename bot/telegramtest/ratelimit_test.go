package telegramtest

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

func TestRateLimits(t *testing.T) {
	type send struct {
		chat      int64
		advance   time.Duration // clock step before the send
		wantRetry int           // 0: success; otherwise 429 with this retry_after
	}
	repeat := func(n int, s send) []send {
		out := make([]send, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	concat := func(parts ...[]send) []send {
		var out []send
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name  string
		sends []send
	}{
		{
			name: "one chat: small burst, then one per second",
			sends: []send{
				{chat: alice}, {chat: alice}, {chat: alice},
				{chat: alice, wantRetry: 1},
				{chat: alice, advance: time.Second},
				{chat: alice, wantRetry: 1},
			},
		},
		{
			name: "group: twenty per minute",
			sends: concat(
				repeat(20, send{chat: groupID, advance: time.Second}),
				[]send{{chat: groupID, advance: time.Second, wantRetry: 40}},
				[]send{{chat: groupID, advance: 40 * time.Second}},
			),
		},
		{
			name: "overall: thirty per second",
			sends: func() []send {
				var out []send
				for i := range 30 {
					out = append(out, send{chat: 2000 + int64(i)})
				}
				return append(out, send{chat: 2030, wantRetry: 1}, send{chat: 2030, advance: time.Second})
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s := newServer(t, WithRateLimits(true), WithClock(clock.Now))
			for i := range 31 {
				id := 2000 + int64(i)
				s.AddUser(User{ID: id})
				s.StartPrivate(id)
			}
			for i, sd := range tt.sends {
				clock.Advance(sd.advance)
				status, env := post(t, s, "sendMessage", "chat_id", strconv.FormatInt(sd.chat, 10), "text", "x")
				switch {
				case sd.wantRetry == 0 && status != http.StatusOK:
					t.Fatalf("send %d: %d %q, want success", i, status, env.Description)
				case sd.wantRetry != 0 && (status != http.StatusTooManyRequests || env.Parameters.RetryAfter != sd.wantRetry ||
					env.Description != "Too Many Requests: retry after "+strconv.Itoa(sd.wantRetry)):
					t.Fatalf("send %d: %d %q retry_after %d, want 429 retry after %d", i, status, env.Description, env.Parameters.RetryAfter, sd.wantRetry)
				}
			}
			if r := s.Rejections(); len(r) != 0 {
				t.Errorf("rate-limited sends counted as rejections: %+v", r)
			}
		})
	}
}

func TestRateLimitsOffByDefault(t *testing.T) {
	s := newServer(t)
	for i := range 10 {
		if status, env := post(t, s, "sendMessage", "chat_id", "1001", "text", "x"); status != http.StatusOK {
			t.Fatalf("send %d: %d %q", i, status, env.Description)
		}
	}
}

func TestRateLimitSeenByTgbotapi(t *testing.T) {
	clock := newFakeClock()
	s := newServer(t, WithRateLimits(true), WithClock(clock.Now))
	bot := newBot(t, s)
	var err error
	for range 4 {
		_, err = bot.Send(tgbotapi.NewMessage(alice, "x"))
	}
	if te := apiErr(t, err); te.Code != 429 || te.RetryAfter != 1 {
		t.Errorf("got %d retry_after %d, want 429 retry_after 1", te.Code, te.RetryAfter)
	}
}
