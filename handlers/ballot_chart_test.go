package handlers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/domain"
)

// nominationsBallot is the largest ballot the bot opens that has several
// questions (maxQuestions nominations), with a title and question texts
// at their longest, full of characters HTML escapes, and emoji.
func nominationsBallot(secret bool, questions int) domain.Ballot {
	b := domain.Ballot{
		ID: "12", Committee: "c1", Kind: domain.KindNominations, Secret: secret,
		Title:      "🏅 " + runes(strings.Repeat("Cờ thi đua <Chính phủ> & “Bằng khen” ", 20), 490),
		Electorate: domain.ElectorateUnits, Quorum: domain.TwoThirds(),
		Closed: time.Date(2026, 11, 15, 9, 30, 0, 0, time.UTC),
	}
	for i := range 12 {
		b.Voters = append(b.Voters, fmt.Sprintf("DV%02d", i))
	}
	for i := range questions {
		b.Questions = append(b.Questions, domain.Question{
			ID: fmt.Sprint(i + 1), Nomination: fmt.Sprint(i + 1), Threshold: domain.TwoThirds(),
			Text:    runes(strings.Repeat("Hồ sơ <đề nghị> & khen thưởng ", 20), 480) + fmt.Sprintf(" — /nomination %d", i+1),
			Options: []domain.Option{{Key: domain.OptApprove}, {Key: domain.OptReject}, {Key: domain.OptAbstain}},
		})
	}
	return b
}

func runes(s string, n int) string { return string([]rune(s)[:n]) }

// The chart of a ballot with the longest texts, in each language, reaches
// Telegram as a photo it takes, its caption within 1024 characters and no
// chat command in it; counts are drawn only where the disclosure rule
// allows. (That the largest ballot's chart — maxQuestions questions —
// stays within Telegram's photo limits is the chart package's
// TestTheLargestBallotsFitTelegramsPhotoLimits: drawing it here again cost
// ten seconds of CPU under the race detector.)
func TestResultChartIsAPhotoTelegramTakes(t *testing.T) {
	t.Parallel()
	h, tg := newTestHandlers(t)
	tg.AddUser(telegramtest.User{ID: 5, FirstName: "An"})
	tg.StartPrivate(5)
	c := domain.Committee{ID: "c1", Name: "Khối thi đua", Timezone: "Asia/Ho_Chi_Minh"}
	for _, tc := range []struct {
		lang    string
		secret  bool
		votes   int
		counted bool
	}{
		{"vi", false, 11, true},
		{"en", true, 10, true},
		{"vi", true, 2, false}, // too few secret ballots: withheld
	} {
		b := nominationsBallot(tc.secret, 3)
		var choices []domain.Choice
		for v := range tc.votes {
			ch := domain.Choice{}
			for _, q := range b.Questions {
				ch[q.ID] = []string{domain.OptApprove, domain.OptReject, domain.OptAbstain}[v%3]
			}
			choices = append(choices, ch)
		}
		r := b.Tally(choices)
		ch := h.results.resultChart(tc.lang, c, b, r)
		if got := len(ch.Questions) > 0; got != tc.counted {
			t.Errorf("%s, secret %v, %d votes: counts drawn %v, want %v", tc.lang, tc.secret, tc.votes, got, tc.counted)
		}
		if tc.counted && strings.Contains(ch.Questions[0].Text, "/nomination") {
			t.Errorf("a chat command in the chart: %q", ch.Questions[0].Text)
		}
		before := len(tg.BotMessages(5))
		if err := h.results.sendResultChart(context.Background(), 5, tc.lang, c, b, r); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		m, err := tg.WaitBotMessage(ctx, 5, func(m telegramtest.Message) bool { return m.Photo != nil && m.MessageID > before })
		cancel()
		if err != nil {
			t.Fatalf("%s: no photo: %v (rejected: %+v)", tc.lang, err, tg.Rejections())
		}
		if n := len(utf16.Encode([]rune(m.Photo.Caption))); n > 1024 || !strings.Contains(m.Photo.Caption, "Cờ thi đua <Chính phủ>") {
			t.Errorf("%s: caption of %d characters: %q", tc.lang, n, m.Photo.Caption)
		}
	}
	if rej := tg.Rejections(); len(rej) != 0 {
		t.Errorf("Telegram rejected %+v", rej)
	}
}
