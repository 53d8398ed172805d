package apptest

import (
	"regexp"
	"strings"
	"testing"

	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/internal/clocktest"
)

// InviteLink finds the token of an invite link the bot sent.
var InviteLink = regexp.MustCompile(`https://t\.me/` + BotName + `\?start=([A-Za-z0-9_-]+)`)

// SetupBloc binds the test group to a bloc with units, as the group's
// administrator Alice would.
func SetupBloc(t *testing.T, h *Harness, units ...string) {
	t.Helper()
	h.Require(GroupID, AliceID, "/setup Khối thi đua Nội chính", "Đã lập khối")
	for _, u := range units {
		h.Require(GroupID, AliceID, "/unit_add "+u, "Đã thêm đơn vị")
	}
}

// Seat is a delegate to be: user, for the unit of code unit.
type Seat struct {
	User int64
	Unit string
}

// BlocOf binds the test group to a bloc with units, as SetupBloc does,
// and has each seat's user join their unit through an invite.
func BlocOf(t *testing.T, h *Harness, units []string, seats []Seat) {
	t.Helper()
	SetupBloc(t, h, units...)
	for _, s := range seats {
		Join(t, h, s.User, Invite(t, h, s.Unit))
	}
}

// Invite makes an invite for unit as Alice, in the group, and returns the
// token the bot sent her privately.
func Invite(t *testing.T, h *Harness, unit string) string {
	t.Helper()
	last := 0
	if msgs := h.TG.BotMessages(AliceID); len(msgs) > 0 {
		last = msgs[len(msgs)-1].MessageID
	}
	h.Require(GroupID, AliceID, "/invite "+unit, "Đã gửi riêng")
	// The private message and the group's answer leave the outbox
	// independently: wait for the private one.
	m := h.WaitReply(AliceID, last)
	match := InviteLink.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no invite link in %q", m.Text)
	}
	return match[1]
}

// Join makes user a delegate with the invite token, and waits for the
// group to be told.
func Join(t *testing.T, h *Harness, user int64, token string) {
	t.Helper()
	before := len(h.TG.BotMessages(GroupID))
	h.Require(user, user, "/start "+token, "Chào mừng")
	WaitFor(t, func() bool {
		msgs := h.TG.BotMessages(GroupID)
		return len(msgs) > before && strings.Contains(msgs[len(msgs)-1].Text, "đã tham gia")
	})
}

// Clock is a clock a test moves by hand.
// Clock is the step clock the bot under test reads.
type Clock = clocktest.Clock

// Press presses the button labelled label on message m and waits for the
// answer.
func Press(t *testing.T, h *Harness, chat, user int64, m telegramtest.Message, label string) {
	t.Helper()
	for _, row := range m.ReplyMarkup {
		for _, b := range row {
			if b.Text == label {
				h.PressData(chat, user, m.MessageID, b.CallbackData)
				h.Settle()
				return
			}
		}
	}
	t.Fatalf("no button %q on %q", label, m.Text)
}

// Current is the message as it is now (after edits).
func Current(h *Harness, chat int64, m telegramtest.Message) telegramtest.Message {
	cur, _ := h.TG.Message(chat, m.MessageID)
	return cur
}
