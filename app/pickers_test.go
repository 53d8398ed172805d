package app_test

import (
	"strings"
	"testing"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/bot/telegramtest"
)

// A command that needs a ballot, a meeting, a nomination or an award and
// gets none offers buttons; a button runs the command with its choice,
// through the same checks as typing it. With nothing to pick the answer
// says so.
func TestPickersRunTheCommandWithTheChoice(t *testing.T) {
	t.Parallel()
	h := apptest.DelegatesBot(t, apptest.Options{}) // Bob TANDTC, Carol KTNN, Dave BTP

	for _, tc := range []struct {
		chat, user int64
		cmd, want  string
	}{
		{groupID, aliceID, "/close", "Không có cuộc bỏ phiếu nào đang mở"},
		{groupID, aliceID, "/results", "Chưa có cuộc bỏ phiếu nào kết thúc"},
		{bobID, bobID, "/rsvp", "Không có cuộc họp nào sắp tới"},
		{bobID, bobID, "/withdraw", "Không có đề nghị nào để chọn"},
		{groupID, aliceID, "/ballot_nominations", "Không có hồ sơ nào đang xem xét"},
	} {
		if m := h.Say(tc.chat, tc.user, tc.cmd); !strings.Contains(m.Text, tc.want) || len(m.ReplyMarkup) != 0 {
			t.Errorf("%s with nothing to pick answered %q (%d button rows)", tc.cmd, m.Text, len(m.ReplyMarkup))
		}
	}

	h.Say(groupID, aliceID, "/meeting_new 10/04/2027 14:00 | Hội nghị tổng kết | Hà Nội")
	h.Say(bobID, bobID, "/nominate CTD_CP | TANDTC | Dẫn đầu")
	h.Say(bobID, bobID, "/nominate TTLDXS | Phòng Tổng hợp")
	h.Say(groupID, aliceID, "/nomination_status 1 under_review")
	apptest.OpenBallot(t, h, "/elect Đơn vị dẫn đầu TANDTC,KTNN")

	// pickAndRun sends cmd, checks the picker, presses the button whose
	// label starts with choice and returns the first answer after it.
	pickAndRun := func(chat, user int64, cmd, title, choice string) telegramtest.Message {
		t.Helper()
		picker := h.Say(chat, user, cmd)
		if !strings.Contains(picker.Text, title) {
			t.Fatalf("%s answered %q, want a picker %q", cmd, picker.Text, title)
		}
		for _, row := range picker.ReplyMarkup {
			if b := row[0]; strings.HasPrefix(b.Text, choice) {
				before := len(h.TG.BotMessages(chat))
				apptest.Press(t, h, chat, user, picker, b.Text)
				msgs := h.TG.BotMessages(chat)
				if len(msgs) == before {
					t.Fatalf("%s: pressing %q sent nothing", cmd, b.Text)
				}
				return msgs[before]
			}
		}
		t.Fatalf("%s: no choice %q among %+v", cmd, choice, picker.ReplyMarkup)
		return telegramtest.Message{}
	}
	for _, tc := range []struct {
		chat, user         int64
		cmd, title, choice string
		want               string
		document           bool
	}{
		{groupID, aliceID, "/remind_voters", "Chọn cuộc bỏ phiếu cho /remind_voters", "#1 · Đơn vị dẫn đầu", "Đã nhắc", false},
		{bobID, bobID, "/vote", "Chọn cuộc bỏ phiếu cho /vote", "#1", "Bỏ phiếu thay mặt: <b>TANDTC", false},
		{groupID, aliceID, "/minutes_info", "Chọn cuộc bỏ phiếu cho /minutes_info", "#1", "Thông tin biên bản của cuộc bỏ phiếu số 1", false},
		{bobID, bobID, "/rsvp", "Chọn cuộc họp cho /rsvp", "#1 · 14:00 10/04", "Hội nghị tổng kết", false},
		{bobID, bobID, "/ics", "Chọn cuộc họp cho /ics", "#1", "Tệp lịch của cuộc họp 1", true},
		{groupID, aliceID, "/attendance", "Chọn cuộc họp cho /attendance", "#1", "Điểm danh dự họp", false},
		{groupID, aliceID, "/meeting_cancel", "Chọn cuộc họp cho /meeting_cancel", "#1", "Huỷ cuộc họp <b>Hội nghị tổng kết", false},
		{bobID, bobID, "/nomination", "Chọn đề nghị cho /nomination", "#2 · TTLDXS", "Đề nghị #2", false},
		{bobID, bobID, "/withdraw", "Chọn đề nghị cho /withdraw", "#2", "✅ Đề nghị #2", false},
		{groupID, aliceID, "/ballot_nominations", "Chọn danh hiệu", "CTD_CP · Cờ thi đua của Chính phủ (1)", "Cờ thi đua của Chính phủ", false},
		{groupID, aliceID, "/close", "Chọn cuộc bỏ phiếu cho /close", "#1", "Kết thúc cuộc bỏ phiếu «Đơn vị dẫn đầu»", false},
	} {
		got := pickAndRun(tc.chat, tc.user, tc.cmd, tc.title, tc.choice)
		text := got.HTML + got.Text
		if tc.document {
			if got.Document == nil {
				t.Errorf("%s: the choice sent %q, want a document", tc.cmd, text)
				continue
			}
			text = got.Document.Caption
		}
		if !strings.Contains(text, tc.want) {
			t.Errorf("%s: the choice answered %q, want %q", tc.cmd, text, tc.want)
		}
	}
	// #1 is on the open ballot now, #2 withdrawn: nothing to withdraw.
	h.Expect(bobID, bobID, "/withdraw", "Không có đề nghị nào để chọn")
	// Closed, the ballot is offered to /results and /runoff.
	apptest.CloseAndWaitResult(t, h, "1")
	if got := pickAndRun(groupID, aliceID, "/results", "Chọn cuộc bỏ phiếu cho /results", "#1"); !strings.Contains(got.Text, "📋 Kết quả: Đơn vị dẫn đầu") {
		t.Errorf("/results: the choice answered %q", got.Text)
	}
	if got := pickAndRun(groupID, aliceID, "/runoff", "Chọn cuộc bỏ phiếu cho /runoff", "#1"); !strings.Contains(got.Text, "vòng 2") {
		t.Errorf("/runoff: the choice answered %q", got.Text)
	}
	// The picker's button goes through the command's checks: Bob, not an
	// admin, pressing a /minutes_info choice is refused; a button naming another
	// command, or another bloc, is stale.
	picker := h.Say(groupID, aliceID, "/minutes_info")
	apptest.Press(t, h, groupID, bobID, picker, picker.ReplyMarkup[0][0].Text)
	if m, _ := lastBotMessage(h, groupID); !strings.Contains(m.Text, "Chỉ thư ký khối") {
		t.Errorf("Bob's press of a /minutes_info choice answered %q", m.Text)
	}
	for _, data := range []string{"pk:1:unit_add:XX", "pk:2:close:1", "pk:1:close:"} {
		if a := h.PressData(groupID, aliceID, picker.MessageID, data); a.Text == "" {
			t.Errorf("a forged %q was answered silently", data)
		}
	}
}
