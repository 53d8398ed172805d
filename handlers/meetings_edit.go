package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/storage"
)

// meetingEdit changes one field of a meeting:
// /meeting_edit <id> time|title|location|agenda|duration <value>. A new
// time moves every pending reminder; a new time or place is announced to
// the group and every delegate. A meeting that has begun is read-only.
func (h *meetingHandlers) meetingEdit(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	c := sc.committee
	m, _, rest, ok, err := h.meetingArg(ctx, r, c, "meeting_edit_usage")
	if !ok {
		return err
	}
	field, value, _ := strings.Cut(rest, " ")
	field, value = strings.ToLower(field), strings.TrimSpace(value)
	if m.Cancelled() {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "meeting_is_cancelled", i18n.Data{"Title": m.Title}), nil)
	}
	if m.Started(h.now()) {
		return h.core.reply(ctx, r, h.text.readOnly(r.Lang, c, m), nil)
	}
	// One retry covers an edit that raced another (ErrConflict).
	for attempt := 0; ; attempt++ {
		edited, problem := h.applyEdit(r.Lang, c, m, field, value)
		if problem != "" {
			return h.core.reply(ctx, r, problem, nil)
		}
		moved := !edited.Start.Equal(m.Start)
		if moved {
			edited.Reminders = h.futureOffsets(edited.Start)
			if err := h.scheduleReminders(ctx, edited); err != nil {
				return err
			}
		}
		updated, ann, err := h.meetings.Update(ctx, edited)
		if errors.Is(err, storage.ErrConflict) && attempt == 0 {
			if m, err = h.meetings.Get(ctx, c.ID, m.ID); err != nil {
				return err
			}
			continue
		}
		if errors.Is(err, domain.ErrMeetingCancelled) {
			return h.core.reply(ctx, r, h.cat.T(r.Lang, "meeting_is_cancelled", i18n.Data{"Title": m.Title}), nil)
		}
		if errors.Is(err, domain.ErrMeetingStarted) {
			return h.core.reply(ctx, r, h.text.readOnly(r.Lang, c, m), nil)
		}
		if err != nil {
			return err
		}
		if moved {
			// The old reminders go once the new time is stored; left behind
			// by a crash, they would find the time changed and do nothing.
			if _, err := h.jobs.Cancel(ctx, reminderJobIDs(m)...); err != nil {
				return err
			}
		}
		return h.afterEdit(ctx, r, c, m, updated, ann, field)
	}
}

// applyEdit returns m with field set from value, or the explanation of
// what is wrong: the value at fault and the form expected (never the
// usage of another command).
func (h *meetingHandlers) applyEdit(lang string, c domain.Committee, m domain.Meeting, field, value string) (domain.Meeting, string) {
	if value == "" {
		return m, h.cat.T(lang, "meeting_edit_usage", nil)
	}
	switch editField(field) {
	case "time":
		loc := c.Location()
		date, clock, ok := strings.Cut(value, " ")
		switch {
		case ok:
		case strings.ContainsAny(value, "/-"):
			// Only a date: same time of day.
			date, clock = value, m.Start.In(loc).Format("15:04")
		default:
			// Only a time: same day.
			date, clock = m.Start.In(loc).Format("2006-01-02"), value
		}
		start, err := domain.ParseMeetingTime(date, strings.TrimSpace(clock), loc, h.now())
		if err != nil {
			return m, h.text.timeProblem(lang, err, date, clock, start, loc)
		}
		m.Start = start
	case "title":
		if err := domain.ValidMeetingTitle(value); err != nil {
			return m, h.text.fieldProblem(lang, err)
		}
		m.Title = value
	case "location":
		if err := domain.ValidMeetingLocation(value); err != nil {
			return m, h.text.fieldProblem(lang, err)
		}
		m.Location = value
	case "agenda":
		items := domain.ParseAgenda(value)
		if err := domain.ValidAgenda(items); err != nil {
			return m, h.text.fieldProblem(lang, err)
		}
		m.Agenda = items
	case "duration":
		d, err := domain.ParseMeetingDuration(value)
		if err != nil {
			return m, h.text.durationProblem(lang, value)
		}
		m.Duration = d
	default:
		return m, h.cat.T(lang, "meeting_edit_usage", nil)
	}
	return m, ""
}

// afterEdit tells who needs to know and keeps the announcement ann current.
func (h *meetingHandlers) afterEdit(ctx context.Context, r *bot.Request, c domain.Committee, before, after domain.Meeting, ann storage.Post, field string) error {
	switch {
	case !after.Start.Equal(before.Start):
		if err := h.scheduleNotice(ctx, after, noticeMoved); err != nil {
			return err
		}
	case after.Location != before.Location:
		if err := h.scheduleNotice(ctx, after, noticeRelocated); err != nil {
			return err
		}
	}
	if err := h.refreshAnnouncement(ctx, c, after, ann); err != nil {
		h.log.WarnContext(ctx, "refreshing an edited meeting's announcement failed", "err", err.Error())
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "meeting_edited", i18n.Data{
		"ID": after.ID, "Title": after.Title, "Field": nameOf(h.cat, r.Lang, fieldIDs, editField(field)),
		"When": i18n.Raw(h.text.whenSpan(r.Lang, after, c.Location())), "Location": after.Location,
		"Reminders": i18n.Raw(h.text.offsetList(r.Lang, after.Reminders)), "Sequence": after.Sequence,
	}), nil)
}

// editField names the field /meeting_edit was given (English or
// Vietnamese), "" for none it knows.
func editField(f string) string {
	switch f {
	case "time", "gio", "giờ", "thoigian", "thời_gian":
		return "time"
	case "title", "ten", "tên":
		return "title"
	case "location", "place", "diadiem", "địa_điểm":
		return "location"
	case "agenda", "chuongtrinh", "chương_trình":
		return "agenda"
	case "duration", "thoiluong", "thời_lượng":
		return "duration"
	}
	return ""
}

// attendance shows who attends, per unit, and sends it as a CSV file:
// /attendance <id> (admins).
func (h *meetingHandlers) attendance(ctx context.Context, r *bot.Request) error {
	c := scopeOf(r).committee
	m, _, _, ok, err := h.meetingArg(ctx, r, c, "attendance_usage")
	if !ok {
		return err
	}
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return err
	}
	delegates, err := h.committees.Delegates(ctx, c.ID)
	if err != nil {
		return err
	}
	rsvps, err := h.meetings.RSVPs(ctx, c.ID, m.ID)
	if err != nil {
		return err
	}
	text := h.attendanceText(r.Lang, c, m, units, delegates, rsvps)
	if err := h.core.reply(ctx, r, text, nil); err != nil {
		return err
	}
	data, err := h.attendanceCSV(r.Lang, c, units, delegates, rsvps)
	if err != nil {
		return err
	}
	chat, _ := r.Chat()
	doc := tgbotapi.NewDocument(chat.ID, tgbotapi.FileBytes{Name: fmt.Sprintf("attendance-%s-%s.csv", c.ID, m.ID), Bytes: data})
	doc.Caption = h.cat.T(r.Lang, "attendance_caption", i18n.Data{"ID": m.ID, "Title": truncate(m.Title, 80)})
	doc.ParseMode = tgbotapi.ModeHTML
	return h.send.Send(ctx, doc, answerTo(r)...)
}

// answerOf is each user's answer by user id.
func answerOf(rsvps []domain.RSVP) map[int64]domain.RSVP {
	out := make(map[int64]domain.RSVP, len(rsvps))
	for _, a := range rsvps {
		out[a.UserID] = a
	}
	return out
}

func (h *meetingHandlers) attendanceText(lang string, c domain.Committee, m domain.Meeting, units []domain.Unit, delegates []domain.Delegate, rsvps []domain.RSVP) string {
	codes := make([]string, len(units))
	for i, u := range units {
		codes[i] = u.Code
	}
	_, counts := domain.CountRSVPs(codes, rsvps)
	answers := answerOf(rsvps)
	byUnit := map[string][]domain.Delegate{}
	for _, d := range delegates {
		byUnit[d.Unit] = append(byUnit[d.Unit], d)
	}
	var b strings.Builder
	b.WriteString(h.cat.T(lang, "attendance_title", i18n.Data{
		"ID": m.ID, "Title": m.Title, "When": i18n.Raw(h.text.when(lang, m.Start, c.Location())),
	}))
	b.WriteString("\n" + h.text.countsLine(lang, counts))
	for _, u := range units {
		b.WriteString("\n\n<b>" + escape(u.Code) + "</b> — " + escape(u.Name))
		ds := byUnit[u.Code]
		if len(ds) == 0 {
			b.WriteString("\n   " + h.cat.T(lang, "attendance_no_delegate", nil))
		}
		for _, d := range ds {
			key := "attendance_none"
			if a, ok := answers[d.UserID]; ok && a.Attend {
				key = "attendance_yes"
			} else if ok {
				key = "attendance_no"
			}
			b.WriteString("\n   " + h.cat.T(lang, key, i18n.Data{"Name": d.Name, "Username": d.Username}))
		}
	}
	return b.String()
}

// attendanceCSV is the attendance as a spreadsheet: one row per delegate.
// It starts with a byte order mark so spreadsheet programs read the
// Vietnamese names as UTF-8.
func (h *meetingHandlers) attendanceCSV(lang string, c domain.Committee, units []domain.Unit, delegates []domain.Delegate, rsvps []domain.RSVP) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	header := []string{"csv_unit", "csv_unit_name", "csv_delegate", "csv_username", "csv_user_id", "csv_answer", "csv_answered_at"}
	for i, id := range header {
		header[i] = h.cat.T(lang, id, nil)
	}
	if err := w.Write(header); err != nil {
		return nil, fmt.Errorf("attendance csv: %w", err)
	}
	names := map[string]string{}
	for _, u := range units {
		names[u.Code] = u.Name
	}
	answers := answerOf(rsvps)
	for _, u := range units {
		for _, d := range delegates {
			if d.Unit != u.Code {
				continue
			}
			answer, at := h.cat.T(lang, "csv_answer_none", nil), ""
			if a, ok := answers[d.UserID]; ok {
				answer = h.cat.T(lang, "csv_answer_no", nil)
				if a.Attend {
					answer = h.cat.T(lang, "csv_answer_yes", nil)
				}
				at = a.At.In(c.Location()).Format("2006-01-02 15:04")
			}
			row := []string{u.Code, names[u.Code], safeCell(d.Name), safeCell(d.Username), fmt.Sprint(d.UserID), answer, at}
			if err := w.Write(row); err != nil {
				return nil, fmt.Errorf("attendance csv: %w", err)
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("attendance csv: %w", err)
	}
	return buf.Bytes(), nil
}

// icsCommand sends a meeting's calendar file: /ics <id>.
func (h *meetingHandlers) icsCommand(ctx context.Context, r *bot.Request) error {
	c := scopeOf(r).committee
	m, _, _, ok, err := h.meetingArg(ctx, r, c, "ics_usage")
	if !ok {
		return err
	}
	chat, _ := r.Chat()
	return h.sendICS(ctx, chat.ID, r.Lang, c, m, answerTo(r)...)
}

// icsButton sends the calendar file privately to whoever pressed "Add to
// calendar" ("mics:<committee>:<meeting>"), so the group is not flooded.
func (h *meetingHandlers) icsButton(ctx context.Context, r *bot.Request) error {
	if err := h.meetingsReady(); err != nil {
		return err
	}
	p, ok := h.core.buttonParts(r, routeICS)
	if !ok {
		return nil
	}
	// Outside the committee's group, only its members may ask: button data
	// can be forged.
	sc, ok, err := h.core.viewerScope(ctx, r, p[0])
	if !ok || err != nil {
		return err
	}
	m, err := h.meetings.Get(ctx, sc.committee.ID, p[1])
	if errors.Is(err, storage.ErrNotFound) {
		h.core.unknownButton(r)
		return nil
	}
	if err != nil {
		return err
	}
	user, _ := r.Sender()
	lang := h.core.userLang(ctx, user.ID)
	err = h.sendICS(ctx, user.ID, lang, sc.committee, m)
	switch {
	case bot.IsBlocked(err) || bot.IsChatNotFound(err):
		r.Answer(plain(h.cat.T(r.Lang, "ics_open_private", i18n.Data{"Bot": h.botUsername})), true)
		return nil
	case err != nil:
		return err
	}
	if chat, _ := r.Chat(); !chat.IsPrivate() {
		r.Answer(plain(h.cat.T(r.Lang, "ics_sent_private", nil)), false)
	}
	return nil
}

func (h *meetingHandlers) sendICS(ctx context.Context, chatID int64, lang string, c domain.Committee, m domain.Meeting, opts ...outbox.SendOption) error {
	data := h.meetingICS(c, m)
	doc := tgbotapi.NewDocument(chatID, tgbotapi.FileBytes{Name: fmt.Sprintf("meeting-%s-%s.ics", c.ID, m.ID), Bytes: data})
	key := "ics_caption"
	if m.Cancelled() {
		key = "ics_caption_cancelled"
	}
	doc.Caption = h.cat.T(lang, key, i18n.Data{"ID": m.ID, "Title": truncate(m.Title, 120)})
	doc.ParseMode = tgbotapi.ModeHTML
	return h.send.Send(ctx, doc, opts...)
}
