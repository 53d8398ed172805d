package app_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

// nominationBloc sets up the group's bloc with three units: Bob and Carol
// delegates of TANDTC, Dave of KTNN. The global admin has acted in the
// group, so his private commands are about this bloc.
func nominationBloc(t *testing.T, h *apptest.Harness) {
	t.Helper()
	apptest.BlocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước", "BTP Bộ Tư pháp"}, []apptest.Seat{{User: bobID, Unit: "TANDTC"}, {User: carolID, Unit: "TANDTC"}, {User: daveID, Unit: "KTNN"}})
	h.Say(groupID, adminID, "/status")
}

// nominationBot starts the bot with ho and sets up nominationBloc.
func nominationBot(t *testing.T, ho apptest.Options) *apptest.Harness {
	t.Helper()
	h := apptest.StartBot(t, ho)
	nominationBloc(t, h)
	return h
}

// lastBotMessage is the bot's latest message in chat, if any.
func lastBotMessage(h *apptest.Harness, chat int64) (telegramtest.Message, bool) {
	msgs := h.TG.BotMessages(chat)
	if len(msgs) == 0 {
		return telegramtest.Message{}, false
	}
	return msgs[len(msgs)-1], true
}

// waitText waits until the bot's latest message in chat contains want.
func waitText(t *testing.T, h *apptest.Harness, chat int64, want string) telegramtest.Message {
	t.Helper()
	var m telegramtest.Message
	apptest.WaitFor(t, func() bool {
		var ok bool
		m, ok = lastBotMessage(h, chat)
		return ok && strings.Contains(m.Text, want)
	}, func() string { return fmt.Sprintf("last message in %d: %q, want %q", chat, m.Text, want) })
	return m
}

func TestNominationLifecycleTellsTheUnitsDelegates(t *testing.T) {
	t.Parallel()
	h := nominationBot(t, apptest.Options{})

	m := h.Say(bobID, bobID, "/nominate CTD_CP | TANDTC | Dẫn đầu phong trào thi đua")
	if !strings.Contains(m.Text, "đề nghị #1") || !strings.Contains(m.Text, "/nomination 1") {
		t.Fatalf("/nominate answered %q", m.Text)
	}
	// Carol, the unit's other delegate, is told; Bob, who nominated, is not
	// told twice.
	waitText(t, h, carolID, "đã lập đề nghị #1")

	// Dave (KTNN) may not withdraw TANDTC's nomination; he is not told.
	h.Expect(daveID, daveID, "/withdraw 1", "chỉ đại diện của TANDTC")
	h.TG.BlockBot(carolID)
	steps := []struct {
		status string
		want   string
	}{
		{"under_review Hồ sơ đầy đủ", "đang xem xét"},
		{"voting", "đang biểu quyết"},
		{"approved 8/8 tán thành", "được thông qua"},
		{"forwarded", "đã trình cấp trên"},
		{"awarded", "đã được khen thưởng"},
	}
	for _, st := range steps {
		before := len(h.TG.BotMessages(bobID))
		m := h.Say(groupID, aliceID, "/nomination_status 1 "+st.status)
		if !strings.Contains(m.Text, "✅ Đề nghị #1") || !strings.Contains(m.Text, st.want) {
			t.Fatalf("/nomination_status 1 %s answered %q", st.status, m.Text)
		}
		// Bob and Carol are told privately; Carol blocked the bot: the
		// outbox records the refusal, the change stands.
		apptest.HasAll(t, "the answer", m.Text, "Đang báo riêng cho 2 đại diện")
		apptest.WaitFor(t, func() bool { return len(h.TG.BotMessages(bobID)) > before })
		if got, _ := lastBotMessage(h, bobID); !strings.Contains(got.Text, "🔔 Đề nghị #1") || !strings.Contains(got.Text, st.want) {
			t.Errorf("Bob was told %q", got.Text)
		}
	}
	card := h.Say(groupID, daveID, "/nomination 1")
	apptest.HasAll(t, "the card", card.Text, "đã được khen thưởng", "Hồ sơ đầy đủ", "8/8 tán thành", "Bob", "Alice")
	if n := strings.Count(card.Text, "•"); n != 6 {
		t.Errorf("the history has %d entries, want 6 (submitted and five changes):\n%s", n, card.Text)
	}
	// Final: nothing moves any more, and the answer says so.
	h.Expect(groupID, aliceID, "/nomination_status 1 withdrawn", "trạng thái cuối")
}

func TestIllegalMovesAreRefusedWithTheAllowedOnes(t *testing.T) {
	t.Parallel()
	h := nominationBot(t, apptest.Options{})
	h.Say(bobID, bobID, "/nominate CTD_CP | TANDTC")
	tests := []struct {
		args string
		want []string
	}{
		{"1 approved", []string{"Không thể chuyển", "under_review", "withdrawn"}},
		{"1 awarded", []string{"Không thể chuyển", "under_review"}},
		{"1 done", []string{"Không có trạng thái «done»", "under_review"}},
		{"1", []string{"có thể chuyển sang", "under_review", "Cách dùng"}},
		{"99 voting", []string{"Không có đề nghị #99"}},
		{"abc voting", []string{"Cách dùng"}},
		{"1 under_review " + strings.Repeat("x", 501), []string{"Ghi chú tối đa 500"}},
	}
	for _, tt := range tests {
		m := h.Say(groupID, aliceID, "/nomination_status "+tt.args)
		for _, w := range tt.want {
			if !strings.Contains(m.Text, w) {
				t.Errorf("/nomination_status %.20s answered %q, want %q", tt.args, m.Text, w)
			}
		}
	}
	h.Expect(groupID, bobID, "/nomination_status 1 under_review", "Chỉ thư ký khối")
	if card := h.Say(groupID, carolID, "/nomination 1"); !strings.Contains(card.Text, "đã nộp") || strings.Count(card.Text, "•") != 1 {
		t.Errorf("refused moves changed the nomination:\n%s", card.Text)
	}
}

func TestTwoAdminsMovingOneNominationAtOnce(t *testing.T) {
	t.Parallel()
	h := nominationInVoting(t)

	// Alice and the global admin, each in their private chat (handled by
	// different workers), record opposite results at the same moment.
	// Whichever comes second is refused: told the status changed if both
	// read "voting" (the script decides), or that the move is no longer
	// possible if the first had finished.
	var wg sync.WaitGroup
	for _, who := range []struct {
		id   int64
		move string
	}{{aliceID, "approved Biểu quyết tại hội nghị"}, {adminID, "rejected Không đạt số phiếu tại hội nghị"}} {
		wg.Go(func() {
			h.TG.SendText(who.id, who.id, "/nomination_status 1 "+who.move)
		})
	}
	wg.Wait()
	var answers []string
	apptest.WaitFor(t, func() bool {
		answers = answers[:0]
		for _, u := range []int64{aliceID, adminID} {
			if m, ok := lastBotMessage(h, u); ok && strings.Contains(m.Text, "#1") {
				answers = append(answers, m.Text)
			}
		}
		return len(answers) == 2
	})
	won, told := 0, 0
	for _, a := range answers {
		switch {
		case strings.Contains(a, "✅ Đề nghị #1"):
			won++
		case strings.Contains(a, "vừa được người khác đổi"), strings.Contains(a, "trạng thái cuối"), strings.Contains(a, "Không thể chuyển"):
			told++
		default:
			t.Errorf("unexpected answer %q", a)
		}
	}
	if won != 1 || told != 1 {
		t.Fatalf("%d moves won and %d were told the state changed, want 1 and 1: %q", won, told, answers)
	}
	card := h.Say(groupID, carolID, "/nomination 1")
	if n := strings.Count(card.Text, "•"); n != 4 {
		t.Errorf("history has %d entries, want 4:\n%s", n, card.Text)
	}
	if strings.Contains(card.Text, "→ ✅ được thông qua") == strings.Contains(card.Text, "→ ❌ không được thông qua") {
		t.Errorf("the card shows both moves or neither:\n%s", card.Text)
	}
}

func TestNominationsOfAnotherBlocAreInvisible(t *testing.T) {
	t.Parallel()
	const otherGroup = -1001700
	h := nominationBot(t, apptest.Options{})
	h.Say(bobID, bobID, "/nominate CTD_CP | TANDTC | Bí mật của khối A")
	secondBloc(t, h, otherGroup, daveID, bobID)
	h.Expect(otherGroup, bobID, "/nomination 1", "Không có đề nghị #1")
	h.Expect(otherGroup, bobID, "/nominations", "Chưa có đề nghị")
	h.Expect(otherGroup, daveID, "/nomination_status 1 under_review", "Không có đề nghị #1")
	// Forged buttons naming bloc A, pressed by bloc B's admin in bloc B's
	// group, and by Dave in his private chat.
	anchor := h.Say(otherGroup, daveID, "/nominations")
	h.PressData(otherGroup, daveID, anchor.MessageID, "nmv:1:1:submitted:under_review")
	if m := h.Say(groupID, carolID, "/nomination 1"); !strings.Contains(m.Text, "đã nộp") || strings.Count(m.Text, "•") != 1 {
		t.Errorf("a forged button moved bloc A's nomination:\n%s", m.Text)
	}
}

func TestBadNominationInputIsRefusedAndNothingStored(t *testing.T) {
	t.Parallel()
	h := nominationBot(t, apptest.Options{})
	h.ExpectEach(t, []apptest.Exchange{
		apptest.Step("unknown award", bobID, bobID, "/nominate NOPE | TANDTC", "Không có danh hiệu «NOPE»"),
		apptest.Step("individual award with a unit code", bobID, bobID, "/nominate CSTD_BO | KTNN", "danh hiệu cá nhân"),
		apptest.Step("individual award with a unit's name", bobID, bobID, "/nominate CSTD_BO | kiểm toán  nhà nước", "danh hiệu cá nhân"),
		apptest.Step("empty nominee", bobID, bobID, "/nominate CTD_CP |   | Thành tích", "Chưa có tên"),
		apptest.Step("achievements of 5000 characters", bobID, bobID, "/nominate CTD_CP | TANDTC | "+strings.Repeat("x", 5000), "dài 5000 ký tự; tối đa 2000"),
		apptest.Step("nominee too long", bobID, bobID, "/nominate TTLDXS | "+strings.Repeat("a", 201), "tối đa 200"),
		apptest.Step("no bar and too many words", bobID, bobID, "/nominate A B C", "Cách dùng"),
		apptest.Step("another unit", bobID, bobID, "/nominate KTNN CTD_CP | KTNN", "chỉ đề nghị được cho đơn vị của mình"),
	})
	h.Require(groupID, carolID, "/nominations", "Chưa có đề nghị")
	// HTML in names is stored as typed and shown escaped.
	raw := `Tổ <b>Hành chính</b> & "Văn thư"`
	m := h.Say(bobID, bobID, "/nominate TTLDXS | "+raw+" | <i>tốt</i> & đẹp")
	if !strings.Contains(m.Text, raw) || !strings.Contains(m.HTML, "Tổ &lt;b&gt;Hành chính&lt;/b&gt; &amp;") {
		t.Errorf("the nominee is not shown as typed, escaped: text %q, HTML %q", m.Text, m.HTML)
	}
	card := h.Say(groupID, carolID, "/nomination 1")
	apptest.HasAll(t, "the card", card.Text, raw, "<i>tốt</i> & đẹp")
	// The same nominee again (case and spaces aside) points at it.
	h.Expect(carolID, carolID, "/nominate TTLDXS | tổ <B>hành chính</B>  & \"văn thư\"", "/nomination 1", "đã được đề nghị")
}

func TestIdenticalNominationsAtOnceStoreOne(t *testing.T) {
	t.Parallel()
	h := nominationBot(t, apptest.Options{})
	users := []int64{bobID, carolID, daveID}
	h.SendAtOnce(users, "/nominate CSTD_TQ | Nguyễn Văn An")
	got := h.WaitOutcomes(users, 3, func(text string) string {
		switch {
		case strings.Contains(text, "Đã ghi nhận đề nghị"):
			return "stored"
		case strings.Contains(text, "đã được đề nghị") && strings.Contains(text, "/nomination "):
			// Concurrent attempts may use up an id, so the stored
			// nomination is not always number 1; the refusals must
			// point at it, checked below.
			return "refused"
		}
		return ""
	})
	if got["stored"] != 1 || got["refused"] != 2 {
		t.Errorf("%d stored, %d refused; want 1 and 2", got["stored"], got["refused"])
	}
	var storedID string
	for _, u := range []int64{bobID, carolID, daveID} {
		for _, m := range h.TG.BotMessages(u) {
			if strings.Contains(m.Text, "Đã ghi nhận đề nghị") {
				storedID = regexp.MustCompile(`/nomination \d+`).FindString(m.Text)
			}
		}
	}
	for _, u := range []int64{bobID, carolID, daveID} {
		for _, m := range h.TG.BotMessages(u) {
			if strings.Contains(m.Text, "đã được đề nghị") && !strings.Contains(m.Text, storedID) {
				t.Errorf("a refusal points elsewhere than %s: %q", storedID, m.Text)
			}
		}
	}
	if m := h.Say(groupID, aliceID, "/nominations"); strings.Count(m.Text, "/nomination ") != 1 {
		t.Errorf("/nominations lists %q", m.Text)
	}
}

func TestNominateStepByStepWithButtonsAndADocument(t *testing.T) {
	t.Parallel()
	h := nominationBot(t, apptest.Options{})
	h.Require(groupID, bobID, "/nominate", "nhắn riêng")
	ask := waitText(t, h, bobID, "Đề nghị danh hiệu nào")
	// A forged answer for this very step is checked like a typed one.
	if a := h.PressData(bobID, bobID, ask.MessageID, "form:nominate:1:NOPE"); !strings.Contains(a.Text, "NOPE") {
		t.Errorf("a forged award NOPE was answered %q", a.Text)
	}
	apptest.Press(t, h, bobID, bobID, ask, "CTD_BO · Cờ thi đua cấp bộ, ngành")
	if got := apptest.Current(h, bobID, ask); len(got.ReplyMarkup) != 0 || !strings.Contains(got.Text, "→ CTD_BO") {
		t.Errorf("after the press the question reads %q with %d button rows", got.Text, len(got.ReplyMarkup))
	}
	nominee := waitText(t, h, bobID, "Tập thể nào")
	h.Require(bobID, bobID, "Vụ Tổng hợp", "Tóm tắt thành tích")
	// The old nominee buttons are stale now.
	h.PressData(bobID, bobID, nominee.MessageID, nominee.ReplyMarkup[0][0].CallbackData)
	doc := h.TG.SendDocumentFrom(bobID, bobID, "báo cáo thành tích.pdf", []byte("%PDF-1.4 report"), "")
	if m := h.WaitReply(bobID, doc.MessageID); !strings.Contains(m.Text, "Đã nhận tệp «báo cáo thành tích.pdf» (1 tệp)") {
		t.Errorf("the document answered %q", m.Text)
	}
	achievements, _ := lastBotMessage(h, bobID)
	if !strings.Contains(achievements.Text, "Đã nhận tệp") {
		t.Fatalf("unexpected last message %q", achievements.Text)
	}
	h.Expect(bobID, bobID, strings.Repeat("y", 2001), "tối đa 2000")
	skip := waitText(t, h, bobID, "Tóm tắt thành tích")
	apptest.Press(t, h, bobID, bobID, skip, "Bỏ qua ⏭")
	review := waitText(t, h, bobID, "Kiểm tra đề nghị")
	apptest.HasAll(t, "the review", review.Text, "Cờ thi đua cấp bộ, ngành", "Vụ Tổng hợp", "TANDTC", "báo cáo thành tích.pdf")
	apptest.Press(t, h, bobID, bobID, review, "✅ Xác nhận")
	done := waitText(t, h, bobID, "Đã ghi nhận đề nghị #1")
	apptest.HasAll(t, "the confirmation", done.Text, "Kèm 1 tệp", "/nomination 1")
	if got := apptest.Current(h, bobID, review); len(got.ReplyMarkup) != 0 {
		t.Error("the review still has its buttons after confirming")
	}
	card := h.Say(bobID, bobID, "/nomination 1")
	apptest.HasAll(t, "the card", card.Text, "báo cáo thành tích.pdf", "Vụ Tổng hợp")
	// Out of a dialogue, documents are not taken.
	doc = h.TG.SendDocumentFrom(bobID, bobID, "khác.pdf", []byte("x"), "")
	if m := h.WaitReply(bobID, doc.MessageID); !strings.Contains(m.Text, "chỉ nhận tệp trong lúc lập đề nghị") {
		t.Errorf("a document outside a dialogue answered %q", m.Text)
	}
	// Cancel from the buttons leaves nothing behind.
	h.Say(bobID, bobID, "/nominate TTLDXS")
	ask = waitText(t, h, bobID, "Tập thể nào")
	apptest.Press(t, h, bobID, bobID, ask, "Huỷ")
	h.Expect(bobID, bobID, "Vụ Pháp chế", "chỉ hiểu các lệnh")
}

func TestAdminNominatesForAUnitStepByStep(t *testing.T) {
	t.Parallel()
	h := nominationBot(t, apptest.Options{})
	// The global admin is no unit's delegate: he names the unit.
	h.Expect(adminID, adminID, "/nominate CTD_CP | KTNN", "ghi mã đơn vị")
	ask := h.Say(adminID, adminID, "/nominate")
	if !strings.Contains(ask.Text, "Đơn vị nào đề nghị") {
		t.Fatalf("the admin's dialogue starts with %q", ask.Text)
	}
	apptest.Press(t, h, adminID, adminID, ask, "KTNN")
	award := waitText(t, h, adminID, "Đề nghị danh hiệu nào")
	apptest.Press(t, h, adminID, adminID, award, "CTD_CP · Cờ thi đua của Chính phủ")
	nominee := waitText(t, h, adminID, "Tập thể nào")
	apptest.Press(t, h, adminID, adminID, nominee, "Đơn vị KTNN")
	h.Require(adminID, adminID, "Hoàn thành xuất sắc", "Kiểm tra đề nghị")
	review, _ := lastBotMessage(h, adminID)
	apptest.Press(t, h, adminID, adminID, review, "✅ Xác nhận")
	waitText(t, h, adminID, "Đã ghi nhận đề nghị #1")
	// KTNN's delegate hears of it.
	waitText(t, h, daveID, "đã lập đề nghị #1")
	h.Expect(adminID, adminID, "/nominate KTNN CTD_CP | KTNN", "/nomination 1")
}

func TestWithdrawAndStatusSection(t *testing.T) {
	t.Parallel()
	h := nominationBot(t, apptest.Options{})
	h.Say(bobID, bobID, "/nominate CTD_CP | TANDTC")
	h.Say(daveID, daveID, "/nominate CSTD_BO | Trần Văn Bình")
	h.Say(groupID, aliceID, "/nomination_status 2 under_review")
	// The unit by its full name is the same nominee as by its code.
	h.Expect(carolID, carolID, "/nominate CTD_CP | Tòa án nhân dân tối cao", "đã được đề nghị", "/nomination 1")
	st := h.Say(groupID, carolID, "/status")
	apptest.HasAll(t, "/status", st.Text, "Đề nghị khen thưởng năm", "đã nộp: 1", "đang xem xét: 1")
	h.Expect(carolID, carolID, "/withdraw 1 Bổ sung hồ sơ", "đã rút", "Đang báo riêng cho 1 đại diện")
	waitText(t, h, bobID, "Bổ sung hồ sơ")
	// Withdrawn, the nominee may be nominated again.
	h.Expect(bobID, bobID, "/nominate CTD_CP | TANDTC", "đề nghị #3")
}

// nominationStore is the group's committee and the nominations
// repository on the bot's Redis, for tests that store nominations
// directly.
func nominationStore(t *testing.T, h *apptest.Harness) (domain.Committee, *storage.Nominations) {
	t.Helper()
	keys := storage.NewKeys(h.Redis.Prefix())
	c, err := storage.NewCommittees(h.Redis.Client(), keys).ByChat(context.Background(), groupID)
	if err != nil {
		t.Fatal(err)
	}
	return c, storage.NewNominations(h.Redis.Client(), keys)
}

// seedNominations stores n nominations in the group's bloc directly, with
// long names, markup and every status, for the listing tests.
func seedNominations(t *testing.T, h *apptest.Harness, n int) {
	t.Helper()
	ctx := context.Background()
	c, s := nominationStore(t, h)
	awards := domain.DefaultAwards()
	paths := [][]domain.Status{
		nil,
		{domain.StatusUnderReview},
		{domain.StatusUnderReview, domain.StatusVoting},
		{domain.StatusWithdrawn},
	}
	for i := range n {
		nominee := fmt.Sprintf("Tập thể <số> %d & cộng sự", i+1)
		if i%7 == 0 {
			nominee += " " + strings.Repeat("dài ", 40)
		}
		nm, err := s.Create(ctx, domain.Nomination{Committee: c.ID, Unit: "TANDTC", Award: awards[i%len(awards)].Code,
			Nominee: nominee, Year: c.Year, By: bobID, ByName: "Bob"})
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range paths[i%len(paths)] {
			if nm, err = s.Transition(ctx, c.ID, nm.ID, domain.Change{From: nm.Status, To: to, By: aliceID, ByName: "Alice"}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

var listedCommand = regexp.MustCompile(`/nomination (\d+)`)

// A nomination in voting is approved or rejected by a ballot; by hand only
// as an override with its reason, which the card and the unit's notice
// show.
func TestApprovalByHandNeedsABallotOrAReason(t *testing.T) {
	t.Parallel()
	h := nominationInVoting(t)
	for _, tc := range []struct {
		command string
		want    []string
	}{
		{"/nomination_status 1 approved", []string{"kết quả bỏ phiếu", "/ballot_nominations CTD_CP", "/nomination_status 1 approved LÝ DO"}},
		{"/nomination_status 1 rejected", []string{"kết quả bỏ phiếu", "/nomination_status 1 rejected LÝ DO"}},
		{"/nomination_status 1 approved đủ phiếu", []string{"ít nhất 10 ký tự"}},
	} {
		if m := h.Say(groupID, aliceID, tc.command); !containsAll(m.Text, tc.want) {
			t.Errorf("%s answered %q, want %q", tc.command, m.Text, tc.want)
		}
	}
	if card := h.Say(groupID, carolID, "/nomination 1"); !strings.Contains(card.Text, "đang biểu quyết") || strings.Count(card.Text, "•") != 3 {
		t.Fatalf("refused approvals changed the nomination:\n%s", card.Text)
	}
	m := h.Say(groupID, aliceID, "/nomination_status 1 approved Biểu quyết giơ tay tại hội nghị 10/4")
	if !strings.Contains(m.Text, "✅ Đề nghị #1") {
		t.Fatalf("an override with its reason answered %q", m.Text)
	}
	waitText(t, h, bobID, "Biểu quyết giơ tay tại hội nghị 10/4")
	h.Expect(groupID, carolID, "/nomination 1", "quyết định ngoài bỏ phiếu trên bot")
}

// nominationInVoting starts the bot with nominationBloc and Bob's
// nomination #1 of TANDTC for CTD_CP, moved by Alice to voting.
func nominationInVoting(t *testing.T) *apptest.Harness {
	t.Helper()
	h := nominationBot(t, apptest.Options{})
	h.Say(bobID, bobID, "/nominate CTD_CP | TANDTC")
	h.Say(groupID, aliceID, "/nomination_status 1 under_review")
	h.Say(groupID, aliceID, "/nomination_status 1 voting")
	return h
}

// containsAll reports whether s holds every one of subs.
func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
