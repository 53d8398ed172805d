package handlers

import (
	"context"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/chart"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/outbox"
)

// maxCaptionTitle bounds the ballot title in a chart's caption, which
// Telegram limits to 1024 characters.
const maxCaptionTitle = 200

// resultChart is the chart of a closed ballot's result in lang. A secret
// ballot whose counts are withheld (Ballot.Disclosed) gets its turnout
// against the quorum only, and a note saying why: no per-option count
// reaches the picture.
func (h *resultHandlers) resultChart(lang string, c domain.Committee, b domain.Ballot, r domain.Result) chart.Chart {
	t := func(id string, data i18n.Data) string { return plain(h.cat.T(lang, id, data)) }
	valid := "result_valid"
	if !r.Valid {
		valid = "result_void"
	}
	ch := chart.Chart{
		Title:      t("chart_title", i18n.Data{"Title": b.Title, "ID": b.ID}),
		Subtitle:   []string{t(valid, i18n.Data{"Turnout": r.Turnout, "Total": r.Electorate, "Need": r.QuorumNeed})},
		Electorate: r.Electorate, Turnout: r.Turnout, QuorumNeed: r.QuorumNeed,
		Labels: chart.Labels{
			Turnout: t("chart_turnout", nil),
			Quorum:  t("chart_quorum", i18n.Data{"Need": r.QuorumNeed, "Total": r.Electorate}),
			Axis:    t("chart_axis", i18n.Data{"Total": r.Electorate}),
			Decimal: t("min_decimal", nil),
		},
	}
	if !b.Closed.IsZero() {
		at := b.Closed.In(c.Location()).Format("15:04 02/01/2006")
		ch.Subtitle = append([]string{t("result_closed_at", i18n.Data{"At": at})}, ch.Subtitle...)
	}
	if !b.Disclosed(r) {
		ch.Notes = []string{t("chart_withheld", i18n.Data{"Min": domain.MinDisclosedSecret})}
		return ch
	}
	for i, qr := range r.Questions {
		q := b.Questions[i]
		opts := optionMap(q)
		cq := chart.Question{
			Text:   documentText(q),
			Needed: qr.Needed,
			NeededLabel: t("chart_needed", i18n.Data{"Need": qr.Needed, "Total": r.Electorate,
				"Threshold": h.shareText(lang, q.Threshold)}),
			Outcome: plain(h.outcomeText(lang, b, qr, opts)),
		}
		if len(b.Questions) > 1 {
			cq.Text = fmt.Sprintf("%d. %s", i+1, cq.Text)
		}
		for _, cnt := range qr.Counts {
			cq.Options = append(cq.Options, chart.Option{Label: h.core.optionLabel(lang, opts[cnt.Key]), Votes: cnt.Votes,
				Winner: qr.Outcome == domain.OutcomePassed && qr.Winner == cnt.Key})
		}
		ch.Questions = append(ch.Questions, cq)
	}
	return ch
}

// sendResultChart sends the chart of a closed ballot's result to a chat
// as a photo with a caption in lang, placed by opts like the result's
// text. A chart that cannot be drawn is logged and left out: the result
// text, sent before it, is what counts, and failing here would make a job
// post that text again.
func (h *resultHandlers) sendResultChart(ctx context.Context, chatID int64, lang string, c domain.Committee, b domain.Ballot, r domain.Result, opts ...outbox.SendOption) error {
	png, err := chart.PNG(h.resultChart(lang, c, b, r))
	if err != nil {
		h.log.ErrorContext(ctx, "result chart not drawn", "ballot", b.ID, "err", err.Error())
		return nil
	}
	data := i18n.Data{"Title": truncate(b.Title, maxCaptionTitle), "ID": b.ID, "Total": r.Electorate, "Min": domain.MinDisclosedSecret}
	caption := h.cat.T(lang, "chart_caption", data)
	if !b.Disclosed(r) {
		caption = h.cat.T(lang, "chart_caption_withheld", data)
	}
	photo := tgbotapi.NewPhoto(chatID, tgbotapi.FileBytes{Name: fmt.Sprintf("ket-qua-%s-%s.png", c.ID, b.ID), Bytes: png})
	photo.Caption, photo.ParseMode = caption, tgbotapi.ModeHTML
	return h.send.Send(ctx, photo, opts...)
}
