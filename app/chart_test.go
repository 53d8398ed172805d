package app_test

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/committeebot/committeebot/app/apptest"

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
	h, payload := chartElection(t)
	apptest.CastVote(t, h, bobID, payload, "TANDTC")
	apptest.CastVote(t, h, carolID, payload, "TANDTC")
	apptest.CastVote(t, h, daveID, payload, "KTNN") // the last vote closes the ballot
	photo, again := resultCharts(t, h)
	img := checkChart(t, photo)
	if n := charttest.Pixels(img, chart.WinnerColor); n == 0 {
		t.Error("the chart shows no elected candidate's bar")
	}
	apptest.HasAll(t, "caption", photo.Photo.Caption, "Biểu đồ kết quả cuộc bỏ phiếu số 1", "Bầu Khối trưởng năm", "trên tổng số 3 cử tri")
	checkChart(t, again)
	var pdf telegramtest.Message
	apptest.WaitFor(t, func() bool {
		for _, m := range h.TG.BotMessages(groupID) {
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
	h, payload := chartElection(t)
	apptest.CastVote(t, h, bobID, payload, "KTNN")
	apptest.CloseAndWaitResult(t, h, "1")
	photo, again := resultCharts(t, h)
	for _, m := range []telegramtest.Message{photo, again} {
		img := checkChart(t, m)
		if n := charttest.OptionBars(img); n != 0 {
			t.Errorf("the chart of a one-ballot secret election shows option bars (%d pixels)", n)
		}
		if charttest.Pixels(img, chart.TurnoutColor) == 0 {
			t.Error("the chart shows no turnout")
		}
		apptest.HasAll(t, "caption", m.Photo.Caption, "không công bố số phiếu từng phương án")
	}
}

// chartElection starts a bot that draws charts, sets up the bloc of
// BlocWithDelegates and opens the election of its head, returning the
// Vote payload; short tests skip it.
func chartElection(t *testing.T) (*apptest.Harness, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("draws charts")
	}
	h, _, payload := apptest.BallotBot(t, apptest.Options{Charts: true}, "/elect head")
	return h, payload
}

// resultCharts waits for the chart posted after the result of ballot 1,
// then has Carol ask for /results 1 and waits for the chart sent again.
func resultCharts(t *testing.T, h *apptest.Harness) (posted, again telegramtest.Message) {
	t.Helper()
	result := waitMessage(t, h, groupID, "📋 Kết quả")
	posted = waitPhoto(t, h, groupID, result.MessageID)
	before := h.Say(groupID, carolID, "/results 1")
	return posted, waitPhoto(t, h, groupID, before.MessageID)
}

// waitPhoto waits for the bot's first photo in chat after message id.
func waitPhoto(t *testing.T, h *apptest.Harness, chat int64, after int) telegramtest.Message {
	t.Helper()
	return h.WaitFirst(chat, func(m telegramtest.Message) bool { return m.MessageID > after && m.Photo != nil })
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
