package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/internal/clocktest"
)

// telegramLen is a text's length as Telegram counts it.
func telegramLen(s string) int { return len(utf16.Encode([]rune(s))) }

func TestTwoHundredNominationsArePagedWithinLimits(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("two hundred nominations")
	}
	h := nominationBot(t, apptest.Options{})
	seedNominations(t, h, 200)

	first := h.Say(groupID, carolID, "/nominations")
	if len(h.TG.BotMessages(groupID)) == 0 || len(first.ReplyMarkup) == 0 {
		t.Fatalf("200 nominations in one message without page buttons: %d characters", telegramLen(first.Text))
	}
	seen := map[string]bool{}
	pages := 0
	collect := func(m telegramtest.Message) {
		t.Helper()
		pages++
		if n := telegramLen(m.Text); n > 4096 {
			t.Errorf("page %d is %d characters long, over Telegram's 4096", pages, n)
		}
		for _, match := range listedCommand.FindAllStringSubmatch(m.Text, -1) {
			if seen[match[1]] {
				t.Errorf("nomination %s listed twice", match[1])
			}
			seen[match[1]] = true
		}
	}
	collect(first)
	// Turn the pages with ▶ until there is none; the message is edited
	// in place.
	for guard := 0; guard < 100; guard++ {
		cur := apptest.Current(h, groupID, first)
		next := ""
		for _, b := range cur.Buttons() {
			if strings.HasSuffix(b.Text, "▶") {
				next = b.Text
			}
		}
		if next == "" {
			break
		}
		edits := cur.Edits
		apptest.Press(t, h, groupID, carolID, cur, next)
		apptest.WaitFor(t, func() bool { return apptest.Current(h, groupID, first).Edits > edits })
		collect(apptest.Current(h, groupID, first))
	}
	if len(seen) != 200 {
		t.Errorf("the pages list %d distinct nominations, want 200", len(seen))
	}
	if pages < 3 {
		t.Errorf("%d pages, want the list cut into several", pages)
	}
	last := apptest.Current(h, groupID, first)
	if !strings.Contains(last.Text, "Trang") || len(h.TG.BotMessages(groupID)) != countBotMessagesBefore(h, first) {
		t.Errorf("paging sent new messages instead of editing: last page %q", last.Text[:min(80, len(last.Text))])
	}
	// ◀ goes back.
	back := ""
	for _, b := range last.Buttons() {
		if strings.HasPrefix(b.Text, "◀") {
			back = b.Text
		}
	}
	if back == "" {
		t.Fatal("the last page has no ◀ button")
	}
	apptest.Press(t, h, groupID, carolID, last, back)
	if got := apptest.Current(h, groupID, first); got.Text == last.Text {
		t.Error("◀ did not change the page")
	}
	// Filters page too, and say what they filter.
	m := h.Say(groupID, carolID, "/nominations withdrawn")
	if !strings.Contains(m.Text, "(50)") || strings.Contains(m.Text, "đang xem xét") {
		t.Errorf("/nominations withdrawn: %q", m.Text[:min(200, len(m.Text))])
	}
	h.Expect(groupID, carolID, "/nominations nothing", "không phải trạng thái")
	// A forged page button from someone outside the bloc, in private.
	const eveID = 299
	h.TG.AddUser(telegramtest.User{ID: eveID, FirstName: "Eve"})
	h.TG.StartPrivate(eveID)
	outsider := h.Say(eveID, eveID, "/help")
	h.PressData(eveID, eveID, outsider.MessageID, "nl:1:2:*")
	if got := apptest.Current(h, eveID, outsider); got.Text != outsider.Text {
		t.Errorf("a forged page button changed a message: %q", got.Text)
	}
}

// countBotMessagesBefore is the number of bot messages in the group up to
// and including m (paging must not add any).
func countBotMessagesBefore(h *apptest.Harness, m telegramtest.Message) int {
	n := 0
	for _, x := range h.TG.BotMessages(groupID) {
		if x.MessageID <= m.MessageID {
			n++
		}
	}
	return n
}

func TestNominationCardGolden(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2024, 4, 10, 1, 30, 0, 0, time.UTC))
	h := nominationBot(t, apptest.Options{AppOpts: []app.Option{app.WithClock(clock.Now)}})
	h.Say(bobID, bobID, `/nominate CTD_CP | TANDTC | Dẫn đầu Khối thi đua năm 2023; hoàn thành xuất sắc chỉ tiêu <giải quyết án> & "xét xử".`)
	clock.Advance(26 * time.Hour)
	h.Say(groupID, aliceID, "/nomination_status 1 under_review Hồ sơ đầy đủ")
	clock.Advance(3*time.Hour + 15*time.Minute)
	h.Say(groupID, aliceID, "/nomination_status 1 voting")

	// In voting, the ballot decides: no button approves or rejects, and a
	// forged one is refused with the way to record an outside decision.
	voting := h.Say(adminID, adminID, "/nomination 1")
	if len(voting.ReplyMarkup) != 0 || !strings.Contains(voting.Text, "/ballot_nominations CTD_CP") {
		t.Errorf("an admin's card of a nomination in voting: %d button rows, text %q", len(voting.ReplyMarkup), voting.Text)
	}
	if a := h.PressData(adminID, adminID, voting.MessageID, "nmv:1:1:voting:approved"); !strings.Contains(a.Text, "kết quả bỏ phiếu") {
		t.Errorf("a forged approval button was answered %q", a.Text)
	}
	clock.Advance(24 * time.Hour)
	h.Say(adminID, adminID, "/nomination_status 1 approved Biểu quyết giơ tay tại hội nghị")

	vi := h.Say(adminID, adminID, "/nomination 1")
	golden(t, "nomination_card_vi", vi.HTML)
	if len(vi.ReplyMarkup) == 0 {
		t.Error("an admin's card has no status buttons")
	}
	h.Say(adminID, adminID, "/lang en")
	golden(t, "nomination_card_en", h.Say(adminID, adminID, "/nomination 1").HTML)

	// A delegate sees no buttons, and a forged press by him changes
	// nothing; the admin's buttons move it and redraw the card.
	card := h.Say(bobID, bobID, "/nomination 1")
	if len(card.ReplyMarkup) != 0 || !strings.Contains(card.Text, "/withdraw 1") {
		t.Errorf("a delegate's card: %d button rows, text %q", len(card.ReplyMarkup), card.Text)
	}
	if a := h.PressData(bobID, bobID, card.MessageID, "nmv:1:1:approved:forwarded"); !strings.Contains(a.Text, "Chỉ thư ký khối") {
		t.Errorf("a delegate's forged move was answered %q", a.Text)
	}
	h.ExpectNot(groupID, carolID, "/nomination 1", "đã trình cấp trên")
	apptest.Press(t, h, adminID, adminID, vi, "→ 📤 đã trình cấp trên")
	if got := apptest.Current(h, adminID, vi); !strings.Contains(got.Text, "forwarded") && !strings.Contains(got.Text, "đã trình cấp trên") {
		t.Errorf("after the button the card reads %q", got.Text)
	}
	// A stale button (the state moved since) is refused with the news.
	if a := h.PressData(adminID, adminID, vi.MessageID, "nmv:1:1:approved:forwarded"); !strings.Contains(a.Text, "forwarded") {
		t.Errorf("a stale button was answered %q", a.Text)
	}
}

func TestLongestCardIsSentAndEditedWithinLimits(t *testing.T) {
	t.Parallel()
	h := nominationBot(t, apptest.Options{})
	ctx := context.Background()
	c, s := nominationStore(t, h)
	files := make([]domain.Attachment, domain.MaxAttachments)
	for i := range files {
		files[i] = domain.Attachment{FileID: fmt.Sprintf("file-%d", i), Name: strings.Repeat("<&>", 65) + ".pdf"}
	}
	line := strings.Repeat("<b>&amp;</b> ", 6) + "\n"
	n, err := s.Create(ctx, domain.Nomination{
		Committee: c.ID, Unit: "TANDTC", Award: "TTLDXS", Nominee: strings.Repeat("&", domain.MaxNameLen),
		Achievements: strings.Repeat(line, domain.MaxAchievementsLen/len([]rune(line))), Year: c.Year,
		By: bobID, ByName: strings.Repeat("<Bob>", 20), Attachments: files,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []domain.Status{domain.StatusUnderReview, domain.StatusVoting, domain.StatusApproved} {
		note := strings.Repeat("&<", domain.MaxNoteLen/2)
		ch := domain.Change{From: n.Status, To: to, By: aliceID, ByName: "Alice", Note: note, Override: domain.DecidedByBallot(n.Status, to)}
		if n, err = s.Transition(ctx, c.ID, n.ID, ch); err != nil {
			t.Fatal(err)
		}
	}
	before := len(h.TG.BotMessages(adminID))
	h.Say(adminID, adminID, "/nomination 1")
	h.Quiet(adminID)
	parts := h.TG.BotMessages(adminID)[before:]
	var all strings.Builder
	for _, p := range parts {
		if n := telegramLen(p.Text); n > 4096 {
			t.Errorf("a part of the card is %d characters long", n)
		}
		all.WriteString(p.Text)
	}
	if !strings.Contains(all.String(), strings.Repeat("&", domain.MaxNameLen)) || strings.Count(all.String(), "•") != 4 {
		t.Errorf("the card in %d parts lacks the nominee or the history", len(parts))
	}
	last := parts[len(parts)-1]
	apptest.Press(t, h, adminID, adminID, last, "→ 📤 đã trình cấp trên")
	if got := apptest.Current(h, adminID, last); !strings.Contains(got.Text, "đã trình cấp trên") || got.Edits == 0 {
		t.Errorf("after the button the last part reads %q", got.Text[:min(100, len(got.Text))])
	}
}
