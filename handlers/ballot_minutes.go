package handlers

import (
	"context"
	"fmt"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/minutes"
)

// minutesOf fills the minutes of a count (biên bản kiểm phiếu) in lang,
// with what the secretariat recorded in info (/minutes_info).
func (h *resultHandlers) minutesOf(lang string, c domain.Committee, b domain.Ballot, r domain.Result, info domain.MinutesInfo) minutes.Minutes {
	t := func(id string) string { return plain(h.cat.T(lang, id, nil)) }
	td := func(id string, data i18n.Data) string { return plain(h.cat.T(lang, id, data)) }
	m := minutes.Minutes{
		Labels: minutes.Labels{
			Title: t("min_title"), Committee: t("min_committee"), Ballot: t("min_ballot"), Kind: t("min_kind"),
			Mode: t("min_mode"), Place: t("min_place"), Opened: t("min_opened"), Closed: t("min_closed"),
			Electorate: t("min_electorate"), Turnout: t("min_turnout"), Absent: t("min_absent"),
			QuorumNeed: t("min_quorum"), Validity: t("min_validity"), Secret: t("min_secret"), Open: t("min_open"),
			Valid: t("min_valid"), Invalid: t("min_invalid"), Results: t("min_results"), Question: t("min_question"),
			Option: t("min_option"), Votes: t("min_votes"), Share: t("min_share"), Needed: t("min_needed"),
			Threshold: t("min_threshold"), Outcome: t("min_outcome"), Receipts: t("min_receipts"),
			ReceiptsNote: t("min_receipts_note"), Code: t("min_code"), Roll: t("min_roll"), Voter: t("min_voter"),
			CastAt: t("min_cast_at"), Answers: t("min_answers"), SignHint: t("min_sign_hint"),
			Generated: t("min_generated"), Page: t("min_page"), TimeLayout: "15:04 02/01/2006",
			Decimal: t("min_decimal"), Chair: t("min_chair"), Secretary: t("min_secretary"),
			Counters: t("min_counters"), Opinions: t("min_opinions"), NoOpinions: t("min_no_opinions"),
			Issued: t("min_issued"), Returned: t("min_returned"), GoodPapers: t("min_good_papers"),
			BadPapers: t("min_bad_papers"), Conclusion: t("min_conclusion"),
		},
		Committee: c.Name, Ballot: b.Title, Kind: plain(h.core.ballotKindName(lang, b.Kind)),
		Place: t("min_place_value"), Secret: b.Secret, Opened: b.Opened, Closed: b.Closed, Location: c.Location(),
		Chair: info.Chair, Secretary: info.Secretary, Counters: info.Counters, Opinions: info.Opinions,
		Electorate: r.Electorate, Turnout: r.Turnout, QuorumNeed: r.QuorumNeed, Valid: r.Valid,
		// In the bot every elector is issued a ballot, and every cast
		// vote is a returned, valid one (an abstention is a valid vote).
		Issued: r.Electorate, Returned: r.Turnout, GoodPapers: r.Turnout,
		Notes:     []string{t("min_note_draft")},
		Generated: h.now(),
	}
	if info.Place != "" {
		m.Place = info.Place
	}
	m.Signers = []minutes.Signer{
		{Role: t("min_signer_chair"), Name: info.Chair}, {Role: t("min_signer_secretary"), Name: info.Secretary},
		{Role: t("min_signer_counting"), Name: first(info.Counters)},
	}
	for _, name := range info.Counters[min(1, len(info.Counters)):] {
		m.Signers = append(m.Signers, minutes.Signer{Role: t("min_signer_counter"), Name: name})
	}
	if !r.Valid {
		m.Conclusion = []string{td("min_conclusion_invalid", i18n.Data{"Turnout": r.Turnout, "Electorate": r.Electorate, "Need": r.QuorumNeed})}
	}
	disclosed := b.Disclosed(r)
	if !disclosed {
		m.Notes = append(m.Notes, plain(h.cat.T(lang, "min_note_withheld", i18n.Data{"Min": domain.MinDisclosedSecret})))
	}
	labels := map[string]map[string]string{}
	for _, q := range b.Questions {
		labels[q.ID] = map[string]string{}
		for _, o := range q.Options {
			labels[q.ID][o.Key] = h.core.optionLabel(lang, o)
		}
	}
	for i, qr := range r.Questions {
		q := b.Questions[i]
		mq := minutes.Question{Text: documentText(q), Needed: qr.Needed, Threshold: h.shareText(lang, q.Threshold),
			Outcome: strings.TrimSpace(strings.TrimPrefix(plain(h.outcomeText(lang, b, qr, optionMap(q))), "→"))}
		if r.Valid {
			line := mq.Outcome
			if len(b.Questions) > 1 || mq.Text != b.Title {
				line = td("min_conclusion_question", i18n.Data{"Question": mq.Text, "Outcome": mq.Outcome})
			}
			m.Conclusion = append(m.Conclusion, line)
		}
		for _, cnt := range qr.Counts {
			if !disclosed {
				break
			}
			mq.Rows = append(mq.Rows, minutes.Row{Option: labels[q.ID][cnt.Key], Votes: cnt.Votes, Percent: cnt.Percent,
				Winner: qr.Outcome == domain.OutcomePassed && qr.Winner == cnt.Key})
		}
		m.Questions = append(m.Questions, mq)
	}
	answers := func(ch domain.Choice) []string {
		var out []string
		for _, q := range b.Questions {
			if disclosed {
				out = append(out, labels[q.ID][ch[q.ID]])
			} else {
				out = append(out, "—")
			}
		}
		return out
	}
	for _, rc := range r.Receipts {
		m.Receipts = append(m.Receipts, minutes.ReceiptRow{Code: rc.Code, Answers: answers(rc.Choice)})
	}
	for _, v := range r.Votes {
		who := v.Voter
		if v.Name != "" && v.Name != v.Voter {
			who = v.Voter + " (" + v.Name + ")"
		}
		m.Votes = append(m.Votes, minutes.VoteRow{Voter: who, At: v.At.In(c.Location()), Answers: answers(v.Choice)})
	}
	return m
}

// documentText is a question as printed in a document: without the chat
// command a nomination's question carries ("— /nomination 6").
func documentText(q domain.Question) string {
	if q.Nomination == "" {
		return q.Text
	}
	return strings.TrimSpace(strings.TrimSuffix(q.Text, "— /nomination "+q.Nomination))
}

// first is the first of names, or "".
func first(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

func optionMap(q domain.Question) map[string]domain.Option {
	m := map[string]domain.Option{}
	for _, o := range q.Options {
		m[o.Key] = o
	}
	return m
}

// sendMinutes sends the minutes of a closed ballot as a PDF and a CSV
// document to the chat of the request.
func (h *resultHandlers) sendMinutes(ctx context.Context, r *bot.Request, c domain.Committee, b domain.Ballot, res domain.Result) error {
	chat, ok := r.Chat()
	if !ok {
		return nil
	}
	info, err := h.ballots.MinutesInfo(ctx, c.ID, b.ID)
	if err != nil {
		return fmt.Errorf("minutes of ballot %s: %w", b.ID, err)
	}
	m := h.minutesOf(r.Lang, c, b, res, info)
	pdf, err := minutes.PDF(m)
	if err != nil {
		return fmt.Errorf("minutes of ballot %s: %w", b.ID, err)
	}
	csv, err := minutes.CSV(m)
	if err != nil {
		return fmt.Errorf("minutes of ballot %s: %w", b.ID, err)
	}
	name := fmt.Sprintf("bien-ban-kiem-phieu-%s-%s", c.ID, b.ID)
	for _, f := range []struct {
		ext       string
		data      []byte
		captionID string
	}{{"pdf", pdf, "min_caption_pdf"}, {"csv", csv, "min_caption_csv"}} {
		doc := tgbotapi.NewDocument(chat.ID, tgbotapi.FileBytes{Name: name + "." + f.ext, Bytes: f.data})
		doc.Caption = plain(h.cat.T(r.Lang, f.captionID, i18n.Data{"Title": b.Title, "ID": b.ID}))
		if err := h.send.Send(ctx, doc, answerTo(r)...); err != nil {
			return err
		}
	}
	return nil
}
