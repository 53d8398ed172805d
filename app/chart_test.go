package app_test

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/chart"
	"github.com/committeebot/committeebot/chart/charttest"
)

// The result of a ballot is posted with its chart: a photo after the
// text, its caption within Telegram's 1024 characters, a PNG of the
// chart's width that Telegram takes (the stand-in checks the photo, and
// the harness fails on any rejected call). /results sends it again, before
// the minutes.
func TestResultIsPostedWithItsChart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("draws charts")
	}
	h := startBot(t, harnessOpts{charts: true})
	blocWithDelegates(t, h)
	_, payload := openBallot(t, h, "/elect head")
	castVote(t, h, bobID, payload, "TANDTC")
	castVote(t, h, carolID, payload, "TANDTC")
	castVote(t, h, daveID, payload, "KTNN") // the last vote closes the ballot
	result := waitMessage(t, h, groupID, "📋 Kết quả")
	photo := waitPhoto(t, h, groupID, result.MessageID)
	img := checkChart(t, photo)
	if n := charttest.Pixels(img, chart.WinnerColor); n == 0 {
		t.Error("the chart shows no elected candidate's bar")
	}
	for _, want := range []string{"Biểu đồ kết quả cuộc bỏ phiếu số 1", "Bầu Khối trưởng năm", "trên tổng số 3 cử tri"} {
		if !strings.Contains(photo.Photo.Caption, want) {
			t.Errorf("caption %q lacks %q", photo.Photo.Caption, want)
		}
	}

	before := h.say(groupID, carolID, "/results 1")
	again := waitPhoto(t, h, groupID, before.MessageID)
	checkChart(t, again)
	var pdf telegramtest.Message
	waitFor(t, func() bool {
		for _, m := range h.tg.BotMessages(groupID) {
			if m.Document != nil && strings.HasSuffix(m.Document.FileName, ".pdf") {
				pdf = m
			}
		}
		return pdf.MessageID != 0
	})
	if pdf.MessageID < again.MessageID {
		t.Errorf("the minutes (message %d) came before the chart (message %d)", pdf.MessageID, again.MessageID)
	}
}

// A secret ballot with fewer than three ballots publishes no counts: its
// chart shows the turnout against the quorum and no option's bar, in the
// group and by /results.
func TestSmallSecretBallotsChartShowsNoCounts(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("draws charts")
	}
	h := startBot(t, harnessOpts{charts: true})
	blocWithDelegates(t, h)
	_, payload := openBallot(t, h, "/elect head")
	castVote(t, h, bobID, payload, "KTNN")
	closeAndWaitResult(t, h, "1")
	result := waitMessage(t, h, groupID, "📋 Kết quả")
	photo := waitPhoto(t, h, groupID, result.MessageID)
	before := h.say(groupID, carolID, "/results 1")
	again := waitPhoto(t, h, groupID, before.MessageID)
	for _, m := range []telegramtest.Message{photo, again} {
		img := checkChart(t, m)
		if n := charttest.OptionBars(img); n != 0 {
			t.Errorf("the chart of a one-ballot secret election shows option bars (%d pixels)", n)
		}
		if charttest.Pixels(img, chart.TurnoutColor) == 0 {
			t.Error("the chart shows no turnout")
		}
		if !strings.Contains(m.Photo.Caption, "không công bố số phiếu từng phương án") {
			t.Errorf("caption %q does not say the counts are withheld", m.Photo.Caption)
		}
	}
}

// waitPhoto waits for the bot's first photo in chat after message id.
func waitPhoto(t *testing.T, h *harness, chat int64, after int) telegramtest.Message {
	t.Helper()
	return h.waitFirst(chat, func(m telegramtest.Message) bool { return m.MessageID > after && m.Photo != nil })
}

// checkChart checks a chart's photo against Telegram's limits and
// returns its picture.
func checkChart(t *testing.T, m telegramtest.Message) image.Image {
	t.Helper()
	p := m.Photo
	if n := len(utf16.Encode([]rune(p.Caption))); n == 0 || n > 1024 {
		t.Errorf("caption of %d characters: %q", n, p.Caption)
	}
	if p.Format != "png" || len(p.Data) > 200<<10 {
		t.Errorf("a %s photo of %d bytes", p.Format, len(p.Data))
	}
	img, err := png.Decode(bytes.NewReader(p.Data))
	if err != nil {
		t.Fatalf("the chart does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() != chart.Width || b.Dy() < 300 || b.Dy() > chart.MaxHeight || b.Dx() != p.Width || b.Dy() != p.Height {
		t.Errorf("a chart of %v pixels (Telegram read %d×%d)", b.Size(), p.Width, p.Height)
	}
	return img
}
