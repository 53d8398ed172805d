package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// meetingText writes the parts of a meeting's messages that need no
// store: times and spans, counts, agenda, keyboards, and the refusals of
// a bad time or field.
type meetingText struct {
	cat           *i18n.Catalog
	now           func() time.Time
	meetingLength time.Duration
}

// when formats a meeting time in the committee's time zone, with the
// weekday, e.g. "14:00, Thứ Tư 10/04/2024 (GMT+7)". Already HTML.
func (h *meetingText) when(lang string, t time.Time, loc *time.Location) string {
	return h.cat.T(lang, "meeting_when", h.whenData(lang, t, loc))
}

func (h *meetingText) whenData(lang string, t time.Time, loc *time.Location) i18n.Data {
	lt := t.In(loc)
	return i18n.Data{
		"Time": lt.Format("15:04"), "Date": lt.Format("02/01/2006"),
		"Weekday": h.cat.T(lang, fmt.Sprintf("meeting_weekday_%d", int(lt.Weekday())), nil),
		"Zone":    zoneName(t, loc),
	}
}

// whenSpan is when with the meeting's end: "14:00–16:00, Thứ Tư
// 10/04/2024 (GMT+7)", or both moments in full when it ends on another
// day. Already HTML.
func (h *meetingText) whenSpan(lang string, m domain.Meeting, loc *time.Location) string {
	start, end := m.Start.In(loc), m.End(h.meetingLength).In(loc)
	if start.Format("20060102") != end.Format("20060102") {
		return h.cat.T(lang, "meeting_when_until", i18n.Data{
			"When": i18n.Raw(h.when(lang, start, loc)), "End": i18n.Raw(h.when(lang, end, loc)),
		})
	}
	data := h.whenData(lang, start, loc)
	data["End"] = end.Format("15:04")
	return h.cat.T(lang, "meeting_when_span", data)
}

// zoneName is "GMT+7" (or "GMT+5:30") for loc at t.
func zoneName(t time.Time, loc *time.Location) string {
	_, off := t.In(loc).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	if m := off % 3600 / 60; m != 0 {
		return fmt.Sprintf("GMT%s%d:%02d", sign, off/3600, m)
	}
	return fmt.Sprintf("GMT%s%d", sign, off/3600)
}

// span says how long d is in words, with its two largest units:
// "2 ngày 3 giờ", "45 minutes". Already HTML.
func (h *meetingText) span(lang string, d time.Duration) string {
	if d < time.Minute {
		return h.cat.T(lang, "meeting_dur_less_than_minute", nil)
	}
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	for _, p := range []struct {
		id string
		n  int
	}{{"meeting_dur_days", days}, {"meeting_dur_hours", hours}, {"meeting_dur_minutes", mins}} {
		if p.n > 0 && len(parts) < 2 {
			parts = append(parts, h.cat.N(lang, p.id, p.n, nil))
		} else if len(parts) > 0 {
			break
		}
	}
	return strings.Join(parts, " ")
}

// offsetList names reminder offsets: "72 giờ, 24 giờ, 2 giờ trước".
func (h *meetingText) offsetList(lang string, offsets []time.Duration) string {
	if len(offsets) == 0 {
		return h.cat.T(lang, "meeting_no_reminders", nil)
	}
	parts := make([]string, len(offsets))
	for i, o := range offsets {
		if o%(24*time.Hour) == 0 && o > 72*time.Hour {
			parts[i] = h.cat.N(lang, "meeting_dur_days", int(o/(24*time.Hour)), nil)
		} else if o%time.Hour == 0 {
			parts[i] = h.cat.N(lang, "meeting_dur_hours", int(o/time.Hour), nil)
		} else {
			parts[i] = h.span(lang, o)
		}
	}
	return h.cat.T(lang, "meeting_reminders_before", i18n.Data{"Offsets": i18n.Raw(strings.Join(parts, ", "))})
}

// countsLine sums up the answers: people attending, units attending,
// people declining.
func (h *meetingText) countsLine(lang string, c domain.RSVPCounts) string {
	return h.cat.T(lang, "meeting_counts", i18n.Data{
		"Attend": c.Attend, "UnitsAttend": c.UnitsAttend, "Units": c.Units, "Decline": c.Decline,
	})
}

// rsvpState reads the committee's units and the answers to m.
func (h *meetingHandlers) rsvpState(ctx context.Context, c domain.Committee, m domain.Meeting) ([]domain.UnitRSVP, domain.RSVPCounts, error) {
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return nil, domain.RSVPCounts{}, err
	}
	rsvps, err := h.meetings.RSVPs(ctx, c.ID, m.ID)
	if err != nil {
		return nil, domain.RSVPCounts{}, err
	}
	codes := make([]string, len(units))
	for i, u := range units {
		codes[i] = u.Code
	}
	byUnit, counts := domain.CountRSVPs(codes, rsvps)
	return byUnit, counts, nil
}

// announcement renders the group message of a meeting and its buttons.
// The message is edited in place, so it must fit in one message: parts
// are dropped (agenda, then units) until it does.
func (h *meetingHandlers) announcement(ctx context.Context, lang string, c domain.Committee, m domain.Meeting) (string, tgbotapi.InlineKeyboardMarkup, error) {
	byUnit, counts, err := h.rsvpState(ctx, c, m)
	if err != nil {
		return "", tgbotapi.InlineKeyboardMarkup{}, err
	}
	kb := h.text.meetingKeyboard(lang, c, m)
	for _, detail := range []int{2, 1, 0} {
		text := h.text.announcementText(lang, c, m, byUnit, counts, detail)
		if utf16Len(text) <= maxMessage {
			return text, kb, nil
		}
	}
	return truncate(h.text.announcementText(lang, c, m, byUnit, counts, 0), maxMessage/2), kb, nil
}

// announcementText renders with detail 2 (agenda and units), 1 (units)
// or 0 (neither).
func (h *meetingText) announcementText(lang string, c domain.Committee, m domain.Meeting, byUnit []domain.UnitRSVP, counts domain.RSVPCounts, detail int) string {
	var b strings.Builder
	if m.Cancelled() {
		b.WriteString(h.cat.T(lang, "meeting_card_cancelled", i18n.Data{"Title": m.Title}))
	} else {
		b.WriteString(h.cat.T(lang, "meeting_card_title", i18n.Data{"Title": m.Title}))
	}
	b.WriteString("\n" + h.cat.T(lang, "meeting_card_when", i18n.Data{"When": i18n.Raw(h.whenSpan(lang, m, c.Location()))}))
	b.WriteString("\n" + h.cat.T(lang, "meeting_card_where", i18n.Data{"Location": m.Location}))
	if detail >= 2 && len(m.Agenda) > 0 {
		b.WriteString("\n" + h.agendaText(lang, m))
	} else if len(m.Agenda) > 0 {
		b.WriteString("\n" + h.cat.N(lang, "meeting_card_agenda_short", len(m.Agenda), nil))
	}
	if !m.Cancelled() {
		b.WriteString("\n\n" + h.countsLine(lang, counts))
		if detail >= 1 {
			var yes, no, none []string
			for _, u := range byUnit {
				switch {
				case u.Attending():
					yes = append(yes, fmt.Sprintf("%s (%d)", escape(u.Unit), len(u.Attend)))
				case u.Answered:
					no = append(no, escape(u.Unit))
				default:
					none = append(none, escape(u.Unit))
				}
			}
			for _, l := range []struct {
				id    string
				units []string
			}{{"meeting_units_yes", yes}, {"meeting_units_no", no}, {"meeting_units_none", none}} {
				if len(l.units) > 0 {
					b.WriteString("\n" + h.cat.T(lang, l.id, i18n.Data{"Units": i18n.Raw(strings.Join(l.units, ", "))}))
				}
			}
		}
	}
	b.WriteString("\n\n" + h.cat.T(lang, "meeting_open_hint", i18n.Data{"ID": m.ID}))
	return b.String()
}

func (h *meetingText) agendaText(lang string, m domain.Meeting) string {
	var b strings.Builder
	b.WriteString(h.cat.T(lang, "meeting_card_agenda", nil))
	for i, it := range m.Agenda {
		b.WriteString(fmt.Sprintf("\n   %d. %s", i+1, escape(it)))
	}
	return b.String()
}

// meetingKeyboard: answer buttons while the meeting is ahead, and the
// calendar button (also after a cancellation, so calendars drop it).
func (h *meetingText) meetingKeyboard(lang string, c domain.Committee, m domain.Meeting) tgbotapi.InlineKeyboardMarkup {
	var rows [][]tgbotapi.InlineKeyboardButton
	if !m.Cancelled() && !m.Started(h.now()) {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(
			tgbotapi.NewInlineKeyboardButtonData(h.cat.T(lang, "btn_rsvp_yes", nil), routeRSVP.data(c.ID, m.ID, "1")),
			tgbotapi.NewInlineKeyboardButtonData(h.cat.T(lang, "btn_rsvp_no", nil), routeRSVP.data(c.ID, m.ID, "0")),
		))
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(lang, "btn_calendar", nil), routeICS.data(c.ID, m.ID)),
	))
	return tgbotapi.NewInlineKeyboardMarkup(rows...)
}

// meetingDetails renders /meeting <id>: the card plus, per unit, who
// attends and who does not.
func (h *meetingHandlers) meetingDetails(ctx context.Context, lang string, c domain.Committee, m domain.Meeting, admin bool) (string, error) {
	byUnit, counts, err := h.rsvpState(ctx, c, m)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if m.Cancelled() {
		b.WriteString(h.cat.T(lang, "meeting_card_cancelled", i18n.Data{"Title": m.Title}))
	} else {
		b.WriteString(h.cat.T(lang, "meeting_card_title", i18n.Data{"Title": m.Title}))
	}
	b.WriteString(" · <code>/meeting " + escape(m.ID) + "</code>")
	b.WriteString("\n" + h.cat.T(lang, "meeting_card_when", i18n.Data{"When": i18n.Raw(h.text.whenSpan(lang, m, c.Location()))}))
	now := h.now()
	if !m.Cancelled() && now.Before(m.Start) {
		b.WriteString("\n" + h.cat.T(lang, "meeting_starts_in", i18n.Data{"Left": i18n.Raw(h.text.span(lang, m.Start.Sub(now)))}))
	}
	b.WriteString("\n" + h.cat.T(lang, "meeting_card_where", i18n.Data{"Location": m.Location}))
	if len(m.Agenda) > 0 {
		b.WriteString("\n" + h.text.agendaText(lang, m))
	}
	if !m.Cancelled() {
		b.WriteString("\n\n" + h.text.countsLine(lang, counts))
		for _, u := range byUnit {
			b.WriteString("\n<b>" + escape(u.Unit) + "</b>: ")
			var parts []string
			if len(u.Attend) > 0 {
				parts = append(parts, "✅ "+escape(names(u.Attend)))
			}
			if len(u.Decline) > 0 {
				parts = append(parts, "❌ "+escape(names(u.Decline)))
			}
			if len(parts) == 0 {
				parts = append(parts, h.cat.T(lang, "meeting_unit_no_answer", nil))
			}
			b.WriteString(strings.Join(parts, " · "))
		}
	}
	switch {
	case admin && (m.Cancelled() || m.Started(now)):
		// Read-only: only the attendance is left to see.
		b.WriteString("\n\n" + h.cat.T(lang, "meeting_admin_hint_past", i18n.Data{"ID": m.ID}))
	case admin:
		b.WriteString("\n\n" + h.cat.T(lang, "meeting_admin_hint", i18n.Data{"ID": m.ID}))
	}
	return b.String(), nil
}

func names(rs []domain.RSVP) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return strings.Join(out, ", ")
}

// listLine is one entry of /meetings, ending with the command that opens
// the meeting.
func (h *meetingHandlers) listLine(ctx context.Context, lang string, c domain.Committee, m domain.Meeting) (string, error) {
	_, counts, err := h.rsvpState(ctx, c, m)
	if err != nil {
		return "", err
	}
	key := "meetings_line"
	if m.Cancelled() {
		key = "meetings_line_cancelled"
	}
	return h.cat.T(lang, key, i18n.Data{
		"ID": m.ID, "Title": m.Title, "Location": m.Location, "Attend": counts.Attend,
		"When": i18n.Raw(h.text.when(lang, m.Start, c.Location())),
	}), nil
}

// statusNextMeeting is the /status section of the next meeting: when,
// how long until, where, answers.
func (h *meetingHandlers) statusNextMeeting(ctx context.Context, lang string, c domain.Committee) (string, error) {
	if h.meetings == nil {
		return "", nil
	}
	m, err := h.meetings.Next(ctx, c.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	_, counts, err := h.rsvpState(ctx, c, m)
	if err != nil {
		return "", err
	}
	return h.cat.T(lang, "status_next_meeting", i18n.Data{
		"ID": m.ID, "Title": m.Title, "Location": m.Location,
		"When":   i18n.Raw(h.text.when(lang, m.Start, c.Location())),
		"Left":   i18n.Raw(h.text.span(lang, m.Start.Sub(h.now()))),
		"Counts": i18n.Raw(h.text.countsLine(lang, counts)),
	}), nil
}

// timeProblem explains a date or time of day that was refused: the value
// as typed and the form expected, or the moment that has passed.
func (h *meetingText) timeProblem(lang string, err error, date, clock string, start time.Time, loc *time.Location) string {
	switch {
	case errors.Is(err, domain.ErrMeetingDate):
		return h.cat.T(lang, "meeting_bad_date", i18n.Data{"Date": truncate(strings.TrimSpace(date), 30)})
	case errors.Is(err, domain.ErrMeetingPast):
		return h.cat.T(lang, "meeting_past", i18n.Data{"When": i18n.Raw(h.when(lang, start, loc))})
	}
	return h.cat.T(lang, "meeting_bad_time", i18n.Data{"Time": truncate(strings.TrimSpace(clock), 30)})
}

// fieldProblem explains a title, place or agenda that was refused: a
// missing one, or one over its limit, with the limit and by how much.
func (h *meetingText) fieldProblem(lang string, err error) string {
	var le *domain.LengthError
	if errors.As(err, &le) {
		data := i18n.Data{"Len": le.Len, "Max": le.Max, "Item": le.Item}
		switch {
		case errors.Is(err, domain.ErrTooMany):
			return h.cat.T(lang, "meeting_agenda_too_many", data)
		case errors.Is(err, domain.ErrMeetingAgenda):
			return h.cat.T(lang, "meeting_agenda_item_too_long", data)
		case errors.Is(err, domain.ErrMeetingLocation):
			return h.cat.T(lang, "meeting_location_too_long", data)
		}
		return h.cat.T(lang, "meeting_title_too_long", data)
	}
	switch {
	case errors.Is(err, domain.ErrMeetingLocation):
		return h.cat.T(lang, "meeting_location_missing", nil)
	case errors.Is(err, domain.ErrMeetingAgenda):
		return h.cat.T(lang, "meeting_agenda_empty_item", nil)
	}
	return h.cat.T(lang, "meeting_title_missing", nil)
}

// durationProblem explains a duration that was refused, with the form
// and the bounds.
func (h *meetingText) durationProblem(lang, value string) string {
	return h.cat.T(lang, "meeting_bad_duration", i18n.Data{
		"Value": truncate(strings.TrimSpace(value), 30),
		"Min":   i18n.Raw(h.span(lang, domain.MinMeetingDuration)), "Max": i18n.Raw(h.span(lang, domain.MaxMeetingDuration)),
	})
}

// readOnly answers an edit or a cancellation of a meeting that has begun.
func (h *meetingText) readOnly(lang string, c domain.Committee, m domain.Meeting) string {
	return h.cat.T(lang, "meeting_read_only", i18n.Data{
		"ID": m.ID, "Title": m.Title, "When": i18n.Raw(h.when(lang, m.Start, c.Location())),
	})
}

// meetingUsage shows the accepted forms of /meeting_new.
func (h *meetingText) meetingUsage(lang string, c domain.Committee) string {
	return h.cat.T(lang, "meeting_new_usage", i18n.Data{"Zone": zoneName(h.now(), c.Location())})
}

// meetingDays offers today and the next week as buttons.
func (h *meetingText) meetingDays(_ context.Context, lang string, c domain.Committee, _ map[string]string) ([]formChoice, error) {
	day := h.now().In(c.Location())
	out := make([]formChoice, 0, 9)
	for i := range 9 {
		d := day.AddDate(0, 0, i)
		label := h.cat.T(lang, fmt.Sprintf("meeting_weekday_short_%d", int(d.Weekday())), nil) + " " + d.Format("02/01")
		out = append(out, formChoice{label: label, value: d.Format("2006-01-02")})
	}
	return out, nil
}

// durationPrompt asks how long the meeting lasts, naming the default that
// Skip keeps.
func (h *meetingText) durationPrompt(lang string, _ map[string]string) (string, i18n.Data) {
	return "mform_duration", i18n.Data{"Default": i18n.Raw(h.span(lang, h.meetingLength))}
}

// meetingDurations offers the usual durations as buttons.
func (h *meetingText) meetingDurations(_ context.Context, lang string, _ domain.Committee, _ map[string]string) ([]formChoice, error) {
	out := make([]formChoice, len(mfDurations))
	for i, d := range mfDurations {
		out[i] = formChoice{label: h.span(lang, d), value: domain.FormatDuration(d)}
	}
	return out, nil
}

// icsDescription is the committee, the agenda and the command to open
// the meeting, in the default language (a calendar file has one).
func (h *meetingText) icsDescription(c domain.Committee, m domain.Meeting) string {
	lang := h.cat.Default()
	var b strings.Builder
	b.WriteString(c.Name)
	if len(m.Agenda) > 0 {
		b.WriteString("\n\n" + h.cat.T(lang, "ics_agenda", nil))
		for i, it := range m.Agenda {
			fmt.Fprintf(&b, "\n%d. %s", i+1, it)
		}
	}
	b.WriteString("\n\n/meeting " + m.ID)
	return b.String()
}
