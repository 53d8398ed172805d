package apptest

import (
	"regexp"
	"strings"
	"testing"

	"github.com/committeebot/committeebot/bot/telegramtest"
)

// BlocWithDelegates sets up the bloc with three units, Bob for TANDTC,
// Carol for KTNN and Dave for BTP.
func BlocWithDelegates(t *testing.T, h *Harness) {
	t.Helper()
	BlocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước", "BTP Bộ Tư pháp"}, []Seat{{BobID, "TANDTC"}, {CarolID, "KTNN"}, {DaveID, "BTP"}})
}

// BallotBot starts the bot with ho, sets up the bloc of BlocWithDelegates
// and opens a ballot with cmd as Alice: it returns the harness, the group
// post and the /start payload of its Vote button.
func BallotBot(t *testing.T, ho Options, cmd string) (*Harness, telegramtest.Message, string) {
	t.Helper()
	h := DelegatesBot(t, ho)
	post, payload := OpenBallot(t, h, cmd)
	return h, post, payload
}

// DelegatesBot starts the bot with ho and sets up the bloc of
// BlocWithDelegates.
func DelegatesBot(t *testing.T, ho Options) *Harness {
	t.Helper()
	h := StartBot(t, ho)
	BlocWithDelegates(t, h)
	return h
}

// VoteLink finds the start payload of a "vote in private" link.
var VoteLink = regexp.MustCompile(`\?start=(vote_[0-9]+_[0-9]+)$`)

// OpenBallot runs cmd as Alice in the group and returns the group post and
// the /start payload of its Vote button.
func OpenBallot(t *testing.T, h *Harness, cmd string) (telegramtest.Message, string) {
	t.Helper()
	sent := h.TG.SendText(GroupID, AliceID, cmd)
	// The post, not a result of an earlier ballot posted meanwhile by
	// its job.
	m := h.WaitAfter(GroupID, sent.MessageID, "answer to "+cmd, func(m telegramtest.Message) bool {
		return !strings.HasPrefix(m.Text, "📋")
	})
	h.Settle()
	if len(m.ReplyMarkup) == 0 || m.ReplyMarkup[0][0].URL == "" {
		t.Fatalf("%s: the group post has no Vote button: %q", cmd, m.Text)
	}
	match := VoteLink.FindStringSubmatch(m.ReplyMarkup[0][0].URL)
	if match == nil {
		t.Fatalf("Vote button links to %q", m.ReplyMarkup[0][0].URL)
	}
	return m, match[1]
}

// CastVote follows the Vote link as user, picks the labelled options, reviews
// and submits, and returns the final text of the personal ballot.
func CastVote(t *testing.T, h *Harness, user int64, payload string, picks ...string) string {
	t.Helper()
	card := h.Say(user, user, "/start "+payload)
	for _, p := range picks {
		Press(t, h, user, user, Current(h, user, card), p)
	}
	Press(t, h, user, user, Current(h, user, card), "📝 Xem lại và gửi")
	Press(t, h, user, user, Current(h, user, card), "✅ Gửi phiếu")
	return Current(h, user, card).Text
}

// ReceiptRE matches a secret cast's receipt code.
var ReceiptRE = regexp.MustCompile(`[A-Z2-9]{5}-[A-Z2-9]{5}`)

// CloseAndWaitResult closes ballot id as Alice in the group and returns the
// text of the result post ("📋 …").
func CloseAndWaitResult(t *testing.T, h *Harness, id string) string {
	t.Helper()
	return PressCloseAndWaitResult(t, h, h.Say(GroupID, AliceID, "/close "+id))
}

// PressCloseAndWaitResult presses "close" on m, /close's confirmation,
// and waits for the result in the group.
func PressCloseAndWaitResult(t *testing.T, h *Harness, m telegramtest.Message) string {
	t.Helper()
	Press(t, h, GroupID, AliceID, m, "🔒 Kết thúc")
	var result string
	WaitFor(t, func() bool {
		for _, m := range h.TG.BotMessages(GroupID) {
			if strings.HasPrefix(m.Text, "📋") {
				result = m.Text
			}
		}
		return result != ""
	})
	return result
}
