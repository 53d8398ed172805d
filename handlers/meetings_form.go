package handlers

import (
	"context"
	"strings"
	"time"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
)

// formMeetingNew is the dialogue of /meeting_new without arguments.
const formMeetingNew = "meeting_new"

// mfTimes are the start times offered as buttons (any other can be typed).
var mfTimes = []string{"07:30", "08:00", "08:30", "09:00", "13:30", "14:00", "14:30", "15:00"}

// mfDurations are the durations offered as buttons (any other can be
// typed; Skip takes meetings.default_duration).
var mfDurations = []time.Duration{time.Hour, 90 * time.Minute, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 8 * time.Hour}

// mfZone is the answer holding the committee's time zone, given when the
// dialogue starts so that questions can name it.
const mfZone = "tz"

// startMeetingForm asks for a new meeting step by step, in a private chat.
func (h *meetingHandlers) startMeetingForm(ctx context.Context, r *bot.Request, c domain.Committee) error {
	return h.forms.startFormWith(ctx, r, formMeetingNew, c, map[string]string{mfZone: c.Timezone})
}

// meetingForm: date (buttons for the coming days), time (common times),
// duration (common ones; skipped: the default), title, location, agenda
// (may be skipped), then a review to confirm.
func (h *meetingHandlers) meetingForm() form {
	zonePrompt := func(id string) func(lang string, a map[string]string) (string, i18n.Data) {
		return func(lang string, a map[string]string) (string, i18n.Data) {
			return id, i18n.Data{"Zone": zoneName(h.now(), zoneOf(a))}
		}
	}
	return form{
		steps: []formStep{
			{key: "date", prompt: zonePrompt("mform_date"), checkIn: h.checkMeetingDate, choices: h.text.meetingDays},
			{key: "time", prompt: zonePrompt("mform_time"), checkIn: h.checkMeetingClock, choices: meetingTimes},
			{key: "duration", prompt: h.text.durationPrompt, optional: true, checkIn: h.checkMeetingDuration, choices: h.text.meetingDurations},
			{key: "title", promptID: "mform_title", checkIn: h.textStep(domain.ValidMeetingTitle)},
			{key: "location", promptID: "mform_location", checkIn: h.textStep(domain.ValidMeetingLocation)},
			{key: "agenda", promptID: "mform_agenda", optional: true, checkIn: h.checkMeetingAgenda},
		},
		review: h.meetingReview,
		finish: func(ctx context.Context, r *bot.Request, c domain.Committee, a map[string]string) error {
			return h.createMeeting(ctx, r, c, draftOf(a))
		},
	}
}

func draftOf(a map[string]string) meetingDraft {
	return meetingDraft{date: a["date"], clock: a["time"], title: a["title"], location: a["location"], agenda: a["agenda"], duration: a["duration"]}
}

// zoneOf is the time zone kept in a dialogue's answers.
func zoneOf(a map[string]string) *time.Location {
	return domain.Committee{Timezone: a[mfZone]}.Location()
}

// checkMeetingDuration accepts a duration within the bounds.
func (h *meetingHandlers) checkMeetingDuration(_ context.Context, lang string, _ domain.Committee, _ map[string]string, answer string) (string, string, error) {
	d, err := domain.ParseMeetingDuration(answer)
	if err != nil {
		return "", h.text.durationProblem(lang, answer), nil
	}
	return domain.FormatDuration(d), "", nil
}

func meetingTimes(context.Context, string, domain.Committee, map[string]string) ([]formChoice, error) {
	out := make([]formChoice, len(mfTimes))
	for i, t := range mfTimes {
		out[i] = formChoice{label: t, value: t}
	}
	return out, nil
}

// checkMeetingDate accepts a date that exists and is not before today.
func (h *meetingHandlers) checkMeetingDate(_ context.Context, lang string, c domain.Committee, _ map[string]string, answer string) (string, string, error) {
	loc := c.Location()
	y, mo, d, err := domain.ParseDate(answer)
	if err != nil {
		return "", h.cat.T(lang, "meeting_bad_date", i18n.Data{"Date": truncate(strings.TrimSpace(answer), 30)}), nil
	}
	date := time.Date(y, mo, d, 0, 0, 0, 0, loc)
	today := h.now().In(loc)
	if date.Before(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)) {
		return "", h.cat.T(lang, "mform_date_past", i18n.Data{"Date": date.Format("02/01/2006")}), nil
	}
	return date.Format("2006-01-02"), "", nil
}

// checkMeetingClock accepts a time that, on the chosen day, is ahead.
func (h *meetingHandlers) checkMeetingClock(_ context.Context, lang string, c domain.Committee, a map[string]string, answer string) (string, string, error) {
	loc := c.Location()
	start, err := domain.ParseMeetingTime(a["date"], answer, loc, h.now())
	if err != nil {
		return "", h.text.timeProblem(lang, err, a["date"], answer, start, loc), nil
	}
	return start.Format("15:04"), "", nil
}

func (h *meetingHandlers) checkMeetingAgenda(_ context.Context, lang string, _ domain.Committee, _ map[string]string, answer string) (string, string, error) {
	if err := domain.ValidAgenda(domain.ParseAgenda(answer)); err != nil {
		return "", h.text.fieldProblem(lang, err), nil
	}
	return strings.TrimSpace(answer), "", nil
}

// textStep checks a free-text answer with valid (a title, a place).
func (h *meetingHandlers) textStep(valid func(string) error) func(context.Context, string, domain.Committee, map[string]string, string) (string, string, error) {
	return func(_ context.Context, lang string, _ domain.Committee, _ map[string]string, answer string) (string, string, error) {
		if err := valid(answer); err != nil {
			return "", h.text.fieldProblem(lang, err), nil
		}
		return strings.TrimSpace(answer), "", nil
	}
}

// meetingReview shows the meeting as it will be created.
func (h *meetingHandlers) meetingReview(_ context.Context, lang string, c domain.Committee, a map[string]string) (string, error) {
	m, problem := h.checkDraft(lang, c, draftOf(a))
	if problem != "" {
		return problem, nil
	}
	var b strings.Builder
	b.WriteString(h.cat.T(lang, "mform_review", nil))
	b.WriteString("\n\n" + h.cat.T(lang, "meeting_card_title", i18n.Data{"Title": m.Title}))
	b.WriteString("\n" + h.cat.T(lang, "meeting_card_when", i18n.Data{"When": i18n.Raw(h.text.whenSpan(lang, m, c.Location()))}))
	b.WriteString("\n" + h.cat.T(lang, "meeting_card_where", i18n.Data{"Location": m.Location}))
	if len(m.Agenda) > 0 {
		b.WriteString("\n" + h.text.agendaText(lang, m))
	}
	b.WriteString("\n" + h.text.offsetList(lang, h.futureOffsets(m.Start)))
	return b.String(), nil
}
