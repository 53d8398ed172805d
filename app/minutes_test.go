package app_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/bot/telegramtest"
)

// The secretariat records the chair, secretary, vote counters and written
// opinions once per ballot; the minutes carry them with every fact of
// RULES.md, a conclusion kept on the page of the signatures, no chat
// commands and no missing glyphs.
func TestMinutesCarryTheSecretariatsFacts(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("renders PDFs")
	}
	h, payload := flagBallot(t)

	if m := h.Say(groupID, aliceID, "/minutes_info 1"); strings.Count(m.Text, "chưa ghi") != 3 || !strings.Contains(m.Text, "/minutes_info 1 chair=") {
		t.Errorf("/minutes_info before anything is recorded: %q", m.Text)
	}
	for _, tc := range []struct {
		who  int64
		cmd  string
		want string
	}{
		{aliceID, "/minutes_info 1 chủ tọa Nguyễn Văn An", "Không hiểu «chủ tọa Nguyễn Văn An»"},
		{aliceID, "/minutes_info 1 chair=Nguyễn Văn An | signer=Trần", "Không hiểu «signer=Trần»"},
		{aliceID, "/minutes_info 1 chair=" + strings.Repeat("A", 101), "tối đa 100 ký tự"},
		{aliceID, "/minutes_info 1 counters=A, B, C, D, E, F, G, H", "tối đa 7 người"},
		{aliceID, "/minutes_info 9 chair=Nguyễn Văn An", "Không có cuộc bỏ phiếu số «9»"},
		{bobID, "/minutes_info 1 chair=Bob", "Chỉ thư ký khối"},
	} {
		h.Expect(groupID, tc.who, tc.cmd, tc.want)
	}
	if m := h.Say(groupID, aliceID, "/minutes_info 1"); strings.Count(m.Text, "chưa ghi") != 3 {
		t.Errorf("refused /minutes_info changed something: %q", m.Text)
	}
	m := h.Say(groupID, aliceID, "/minutes_info 1 chair=Nguyễn Văn An | secretary=Trần Thị Bình | counters=Lê Hoàng Cường; Phạm Minh Đức | opinions=BTP: tán thành (công văn ngày 9/4)")
	apptest.HasAll(t, "/minutes_info", m.Text, "Đã lưu", "Chủ tọa: Nguyễn Văn An", "Ban kiểm phiếu: Lê Hoàng Cường, Phạm Minh Đức", "khi kết thúc")
	// A later change names one field; the others stay.
	h.Expect(groupID, aliceID, "/minutes_info 1 place=Hội trường TANDTC, 48 Lý Thường Kiệt", "Thư ký: Trần Thị Bình", "Hội trường TANDTC")

	for _, u := range []int64{bobID, carolID, daveID} {
		apptest.CastVote(t, h, u, payload, "Đồng ý")
	}
	waitMessage(t, h, groupID, "📋 Kết quả")
	h.Expect(groupID, aliceID, "/minutes_info 1", "/results 1")
	pdf := minutesPDF(t, h, "1")
	text := pdfText(t, pdf.Data)
	for _, want := range []string{
		"Chủ tọa", "Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường, Phạm Minh Đức", "BTP: tán thành (công văn ngày 9/4)",
		"Hội trường TANDTC", "Số phiếu phát ra", "Số phiếu thu vào", "Số phiếu hợp lệ", "Số phiếu không hợp lệ",
		"KẾT LUẬN", "THÀNH VIÊN BAN KIỂM", "✓ thông qua",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the minutes lack %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"/nomination", "\uFFFD"} {
		if strings.Contains(text, bad) {
			t.Errorf("the minutes hold %q:\n%s", bad, text)
		}
	}
	pages := strings.Split(strings.TrimRight(text, "\f"), "\f")
	if last := pages[len(pages)-1]; !strings.Contains(last, "KẾT LUẬN") || !strings.Contains(last, "CHỦ TỌA") {
		t.Errorf("the conclusion and the signatures are not on one page; last page:\n%s", last)
	}
}

// minutesPDF asks /results for ballot id and returns the PDF sent.
func minutesPDF(t *testing.T, h *apptest.Harness, id string) *telegramtest.Document {
	t.Helper()
	before := len(h.TG.BotMessages(groupID))
	h.Say(groupID, aliceID, "/results "+id)
	var pdf *telegramtest.Document
	apptest.WaitFor(t, func() bool {
		for _, m := range h.TG.BotMessages(groupID)[before:] {
			if d := m.Document; d != nil && strings.HasSuffix(d.FileName, ".pdf") {
				pdf = d
			}
		}
		return pdf != nil
	})
	return pdf
}

// pdfText is the text of a PDF as pdftotext reads it, pages separated by
// form feeds.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext (poppler-utils; scripts/test installs it): %v", err)
	}
	return string(out)
}
