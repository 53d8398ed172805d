package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/storage"
)

// meetingHandlers are the meetings' commands, buttons and jobs
// (meetings*.go).
type meetingHandlers struct {
	core       *core
	forms      *formRunner
	text       *meetingText
	cat        *i18n.Catalog
	committees CommitteeStore
	meetings   MeetingStore
	jobs       JobScheduler
	// meetingOffsets are reminders.meeting_offsets, longest first.
	meetingOffsets []time.Duration
	// meetingLength is how long a meeting lasts when no duration is given.
	meetingLength time.Duration
	log           *slog.Logger
	now           func() time.Time
	send          Sender
	botUsername   string
}

// MeetingStore keeps meetings and the delegates' answers; see
// storage.Meetings for the errors of each method.
type MeetingStore interface {
	NextID(ctx context.Context, committeeID string) (string, error)
	Create(ctx context.Context, m domain.Meeting) (domain.Meeting, error)
	Get(ctx context.Context, committeeID, meetingID string) (domain.Meeting, error)
	// GetWithAnnouncement, Update and Cancel return the meeting's group
	// announcement too, from the same read (the zero Post if none).
	GetWithAnnouncement(ctx context.Context, committeeID, meetingID string) (domain.Meeting, storage.Post, error)
	Update(ctx context.Context, m domain.Meeting) (domain.Meeting, storage.Post, error)
	Cancel(ctx context.Context, committeeID, meetingID string, by int64) (domain.Meeting, storage.Post, bool, error)
	SetAnnouncement(ctx context.Context, committeeID, meetingID string, chatID int64, messageID int) error
	Upcoming(ctx context.Context, committeeID string, limit int) ([]domain.Meeting, error)
	Past(ctx context.Context, committeeID string, limit int) ([]domain.Meeting, error)
	Next(ctx context.Context, committeeID string) (domain.Meeting, error)
	// All is every meeting, past, upcoming and cancelled, by start.
	All(ctx context.Context, committeeID string) ([]domain.Meeting, error)
	Answer(ctx context.Context, committeeID, meetingID string, r domain.RSVP) (bool, *bool, error)
	RSVPs(ctx context.Context, committeeID, meetingID string) ([]domain.RSVP, error)
	TakeEditSlot(ctx context.Context, committeeID, meetingID string, interval time.Duration) (bool, time.Time, error)
}

// JobScheduler stores deferred jobs (storage.Scheduler): scheduling a job
// with the id of a pending one replaces it; Cancel ignores unknown ids.
type JobScheduler interface {
	Schedule(ctx context.Context, job storage.Job) error
	// ScheduleOnce stores job unless one with its id exists, finished
	// ones included (a ballot's result: asked for by every closer).
	ScheduleOnce(ctx context.Context, job storage.Job) error
	Cancel(ctx context.Context, ids ...string) (int, error)
}

var (
	_ MeetingStore = (*storage.Meetings)(nil)
	_ JobScheduler = (*storage.Scheduler)(nil)
)

// errNoMeetings is returned when the handlers were built without a
// meeting store or scheduler (tests of other features).
var errNoMeetings = errors.New("handlers: meetings are not configured")

// listLimit bounds /meetings.
const listLimit = 20

func (h *meetingHandlers) meetingsReady() error {
	if h.meetings == nil || h.jobs == nil {
		return errNoMeetings
	}
	return nil
}

// meetingNew creates a meeting: /meeting_new <date> <time> | <title> |
// <location> [| <agenda; agenda; …>] [duration=2h]. Without arguments it
// asks step by step in a private chat.
func (h *meetingHandlers) meetingNew(ctx context.Context, r *bot.Request) error {
	if err := h.meetingsReady(); err != nil {
		return err
	}
	sc := scopeOf(r)
	if strings.TrimSpace(r.Args) == "" {
		return h.startMeetingForm(ctx, r, sc.committee)
	}
	parts := strings.Split(r.Args, "|")
	var duration string
	for i, p := range parts {
		if rest, d, ok := cutDuration(p); ok {
			parts[i], duration = rest, d
		}
	}
	for len(parts) < 4 {
		parts = append(parts, "")
	}
	date, clock, _ := strings.Cut(strings.TrimSpace(parts[0]), " ")
	draft := meetingDraft{
		date: date, clock: strings.TrimSpace(clock), title: strings.TrimSpace(parts[1]),
		location: strings.TrimSpace(parts[2]), agenda: strings.Join(parts[3:], "|"), duration: duration,
	}
	return h.createMeeting(ctx, r, sc.committee, draft)
}

// durationOption is a duration= option (also thoiluong=, thời_lượng=)
// at the end of a part of /meeting_new.
var durationOption = regexp.MustCompile(`(?i)(?:^|\s)(?:duration|thoiluong|thời_lượng)=(\S*)\s*$`)

// cutDuration takes the duration options off the end of s and returns
// the value of the last one written; ok is false when there is none.
func cutDuration(s string) (rest, value string, ok bool) {
	for {
		loc := durationOption.FindStringSubmatchIndex(s)
		if loc == nil {
			return s, value, ok
		}
		if !ok {
			value, ok = s[loc[2]:loc[3]], true
		}
		s = s[:loc[0]]
	}
}

// meetingDraft is a meeting as typed, before it is checked. An empty
// duration means meetings.default_duration.
type meetingDraft struct {
	date, clock, title, location, agenda, duration string
}

// checkDraft turns a draft into a meeting, or returns the explanation of
// what is wrong, naming the value at fault and the accepted form.
func (h *meetingHandlers) checkDraft(lang string, c domain.Committee, d meetingDraft) (domain.Meeting, string) {
	loc := c.Location()
	start, err := domain.ParseMeetingTime(d.date, d.clock, loc, h.now())
	if err != nil {
		return domain.Meeting{}, h.text.timeProblem(lang, err, d.date, d.clock, start, loc)
	}
	length := h.meetingLength
	if strings.TrimSpace(d.duration) != "" {
		if length, err = domain.ParseMeetingDuration(d.duration); err != nil {
			return domain.Meeting{}, h.text.durationProblem(lang, d.duration)
		}
	}
	m := domain.Meeting{
		Committee: c.ID, Title: d.title, Location: d.location,
		Agenda: domain.ParseAgenda(d.agenda), Start: start, Duration: length,
	}
	for _, err := range []error{domain.ValidMeetingTitle(m.Title), domain.ValidMeetingLocation(m.Location), domain.ValidAgenda(m.Agenda)} {
		if err != nil {
			return domain.Meeting{}, h.text.fieldProblem(lang, err)
		}
	}
	return m, ""
}

// createMeeting checks and stores a meeting, schedules its reminders and
// announces it in the group.
func (h *meetingHandlers) createMeeting(ctx context.Context, r *bot.Request, c domain.Committee, d meetingDraft) error {
	m, problem := h.checkDraft(r.Lang, c, d)
	if problem != "" {
		return h.core.reply(ctx, r, problem+"\n\n"+h.text.meetingUsage(r.Lang, c), nil)
	}
	user, _ := r.Sender()
	id, err := h.meetings.NextID(ctx, c.ID)
	if err != nil {
		return err
	}
	m.ID, m.By = id, user.ID
	m.Reminders = h.futureOffsets(m.Start)
	// Reminders first: were the meeting write to fail, they would find no
	// meeting and do nothing; the other order could lose them.
	if err := h.scheduleReminders(ctx, m); err != nil {
		return err
	}
	m, err = h.meetings.Create(ctx, m)
	if err != nil {
		return err
	}
	announced, err := h.announce(ctx, c, m)
	if err != nil {
		return err
	}
	if announced && inBlocTopic(r, c) {
		return nil // the announcement is the answer, with /meeting <id> in it
	}
	key := "meeting_created"
	if announced {
		key = "meeting_created_announced"
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, key, i18n.Data{
		"ID": m.ID, "Title": m.Title, "When": i18n.Raw(h.text.whenSpan(r.Lang, m, c.Location())),
		"Reminders": i18n.Raw(h.text.offsetList(r.Lang, m.Reminders)),
	}), nil)
}

// announcementRef names a meeting's group announcement in the outbox,
// which records its message id once Telegram has it.
func announcementRef(committeeID, meetingID string) string {
	return "mann:" + committeeID + ":" + meetingID
}

// announce posts the meeting in the committee's group with its answer
// buttons and remembers the message, so it can be kept current.
func (h *meetingHandlers) announce(ctx context.Context, c domain.Committee, m domain.Meeting) (bool, error) {
	if c.ChatID == 0 {
		return false, nil
	}
	lang := h.core.chatLang(ctx, c.ChatID)
	text, kb, err := h.announcement(ctx, lang, c, m)
	if err != nil {
		return false, err
	}
	msg := tgbotapi.NewMessage(c.ChatID, text)
	msg.ParseMode = tgbotapi.ModeHTML
	msg.DisableWebPagePreview = true
	msg.ReplyMarkup = kb
	if err := h.send.Send(ctx, msg, outbox.Remember(announcementRef(c.ID, m.ID)), inTopic(c)); err != nil {
		return false, err
	}
	if err := h.meetings.SetAnnouncement(ctx, c.ID, m.ID, c.ChatID, 0); err != nil {
		return true, err
	}
	return true, nil
}

// meetingList lists upcoming meetings, or past ones with "past".
func (h *meetingHandlers) meetingList(ctx context.Context, r *bot.Request) error {
	if err := h.meetingsReady(); err != nil {
		return err
	}
	c := scopeOf(r).committee
	past := strings.EqualFold(strings.TrimSpace(r.Args), "past") || strings.EqualFold(strings.TrimSpace(r.Args), "cu")
	var ms []domain.Meeting
	var err error
	if past {
		ms, err = h.meetings.Past(ctx, c.ID, listLimit)
	} else {
		ms, err = h.meetings.Upcoming(ctx, c.ID, listLimit)
	}
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		key := "meetings_none"
		if past {
			key = "meetings_none_past"
		} else if scopeOf(r).admin {
			key = "meetings_none_admin"
		}
		return h.core.reply(ctx, r, h.cat.T(r.Lang, key, nil), nil)
	}
	title := "meetings_title"
	if past {
		title = "meetings_title_past"
	}
	var b strings.Builder
	b.WriteString(h.cat.N(r.Lang, title, len(ms), i18n.Data{"Name": c.Name}))
	for _, m := range ms {
		line, err := h.listLine(ctx, r.Lang, c, m)
		if err != nil {
			return err
		}
		b.WriteString("\n\n" + line)
	}
	if !past {
		b.WriteString("\n\n" + h.cat.T(r.Lang, "meetings_past_hint", nil))
	}
	return h.core.reply(ctx, r, b.String(), nil)
}

// meetingArg finds the meeting named by the first argument, answering
// the user when there is none. rest is what follows the id. It is the
// first step of every command about one meeting, so it also returns
// errNoMeetings for handlers built without meetings.
func (h *meetingHandlers) meetingArg(ctx context.Context, r *bot.Request, c domain.Committee, usageID string) (m domain.Meeting, ann storage.Post, rest string, ok bool, err error) {
	if err := h.meetingsReady(); err != nil {
		return m, ann, "", false, err
	}
	id, rest, _ := strings.Cut(strings.TrimSpace(r.Args), " ")
	id = strings.TrimPrefix(id, "#")
	if id == "" && pickable[r.Command] {
		return m, ann, "", false, h.pickMeeting(ctx, r, scopeOf(r))
	}
	if id == "" {
		return m, ann, "", false, h.core.reply(ctx, r, h.cat.T(r.Lang, usageID, nil), nil)
	}
	m, ann, err = h.meetings.GetWithAnnouncement(ctx, c.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return m, ann, "", false, h.core.reply(ctx, r, h.cat.T(r.Lang, "meeting_unknown", i18n.Data{"ID": truncate(id, 20)}), nil)
	}
	return m, ann, strings.TrimSpace(rest), err == nil, err
}

// meetingShow shows one meeting in full: /meeting <id>.
func (h *meetingHandlers) meetingShow(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	if strings.TrimSpace(r.Args) == "" {
		return h.meetingList(ctx, r)
	}
	m, _, _, ok, err := h.meetingArg(ctx, r, sc.committee, "meeting_usage")
	if !ok {
		return err
	}
	text, err := h.meetingDetails(ctx, r.Lang, sc.committee, m, sc.admin)
	if err != nil {
		return err
	}
	kb := h.text.meetingKeyboard(r.Lang, sc.committee, m)
	return h.core.reply(ctx, r, text, &kb)
}

// rsvpCommand records the caller's answer: /rsvp <id> yes|no.
func (h *meetingHandlers) rsvpCommand(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	m, ann, rest, ok, err := h.meetingArg(ctx, r, sc.committee, "rsvp_usage")
	if !ok {
		return err
	}
	var attend bool
	switch strings.ToLower(rest) {
	case "yes", "y", "có", "co", "1":
		attend = true
	case "no", "n", "không", "khong", "0":
	case "":
		// The meeting with its answer buttons (a picker's choice, or
		// /rsvp <id> alone).
		text, err := h.meetingDetails(ctx, r.Lang, sc.committee, m, sc.admin)
		if err != nil {
			return err
		}
		kb := h.text.meetingKeyboard(r.Lang, sc.committee, m)
		return h.core.reply(ctx, r, text, &kb)
	default:
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "rsvp_usage", nil), nil)
	}
	text, err := h.answer(ctx, r, sc, m, ann, attend)
	if err != nil {
		return err
	}
	return h.core.reply(ctx, r, text, nil)
}

// rsvpButton records an answer from the buttons under a meeting:
// "mr:<committee>:<meeting>:1|0".
func (h *meetingHandlers) rsvpButton(ctx context.Context, r *bot.Request) error {
	if err := h.meetingsReady(); err != nil {
		return err
	}
	p, ok := routeRSVP.parse(r.Data)
	if !ok || (p[2] != "1" && p[2] != "0") {
		h.core.unknownButton(r)
		return nil
	}
	sc, ok, err := h.core.buttonScope(ctx, r, p[0], false)
	if !ok || err != nil {
		return err
	}
	if sc.delegate == nil {
		r.Answer(plain(h.cat.T(r.Lang, "rsvp_delegates_only", nil)), true)
		return nil
	}
	m, ann, err := h.meetings.GetWithAnnouncement(ctx, sc.committee.ID, p[1])
	if errors.Is(err, storage.ErrNotFound) {
		h.core.unknownButton(r)
		return nil
	}
	if err != nil {
		return err
	}
	text, err := h.answer(ctx, r, sc, m, ann, p[2] == "1")
	if err != nil {
		return err
	}
	r.Answer(plain(text), false)
	return nil
}

// answer records the caller's answer and returns what to tell them; the
// group announcement ann is refreshed (throttled).
func (h *meetingHandlers) answer(ctx context.Context, r *bot.Request, sc scope, m domain.Meeting, ann storage.Post, attend bool) (string, error) {
	user, _ := r.Sender()
	if sc.delegate == nil {
		return h.cat.T(r.Lang, "rsvp_delegates_only", nil), nil
	}
	changed, _, err := h.meetings.Answer(ctx, sc.committee.ID, m.ID, domain.RSVP{
		UserID: user.ID, Unit: sc.delegate.Unit, Name: user.DisplayName(), Username: user.Username, Attend: attend,
	})
	switch {
	case errors.Is(err, domain.ErrMeetingCancelled):
		return h.cat.T(r.Lang, "meeting_is_cancelled", i18n.Data{"Title": m.Title}), nil
	case errors.Is(err, domain.ErrMeetingStarted):
		return h.cat.T(r.Lang, "rsvp_closed", i18n.Data{"Title": m.Title}), nil
	case errors.Is(err, domain.ErrNotDelegate):
		return h.cat.T(r.Lang, "rsvp_delegates_only", nil), nil
	case err != nil:
		return "", err
	}
	if changed {
		if err := h.refreshAnnouncement(ctx, sc.committee, m, ann); err != nil {
			h.log.WarnContext(ctx, "refreshing a meeting announcement failed", "committee", sc.committee.ID, "meeting", m.ID, "err", err.Error())
		}
	}
	key := "rsvp_no"
	if attend {
		key = "rsvp_yes"
	}
	if !changed {
		key += "_again"
	}
	return h.cat.T(r.Lang, key, i18n.Data{"Title": m.Title, "Code": sc.delegate.Unit, "ID": m.ID}), nil
}

// meetingCancel asks to confirm cancelling a meeting: /meeting_cancel <id>.
func (h *meetingHandlers) meetingCancel(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	m, _, _, ok, err := h.meetingArg(ctx, r, sc.committee, "meeting_cancel_usage")
	if !ok {
		return err
	}
	if m.Cancelled() {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "meeting_is_cancelled", i18n.Data{"Title": m.Title}), nil)
	}
	if m.Started(h.now()) {
		return h.core.reply(ctx, r, h.text.readOnly(r.Lang, sc.committee, m), nil)
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_meeting_cancel", nil), routeMeetingOff.data(sc.committee.ID, m.ID)),
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_meeting_keep", nil), routeCancel.data()),
	))
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "meeting_cancel_confirm", i18n.Data{
		"ID": m.ID, "Title": m.Title, "When": i18n.Raw(h.text.when(r.Lang, m.Start, sc.committee.Location())),
	}), &kb)
}

// meetingCancelConfirmed cancels the meeting ("mcx:<committee>:<meeting>"):
// its reminders go, the group and every delegate are told, the
// announcement shows the cancellation. A meeting that has begun by the
// time the button is pressed is not cancelled.
func (h *meetingHandlers) meetingCancelConfirmed(ctx context.Context, r *bot.Request, sc scope, p []string) error {
	if err := h.meetingsReady(); err != nil {
		return err
	}
	user, _ := r.Sender()
	c := sc.committee
	m, ann, already, err := h.meetings.Cancel(ctx, c.ID, p[0], user.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return h.core.editCallback(ctx, r, h.cat.T(r.Lang, "meeting_unknown", i18n.Data{"ID": p[0]}), nil)
	}
	if errors.Is(err, domain.ErrMeetingStarted) {
		return h.core.editCallback(ctx, r, h.text.readOnly(r.Lang, c, m), nil)
	}
	if err != nil {
		return err
	}
	if already {
		return h.core.editCallback(ctx, r, h.cat.T(r.Lang, "meeting_is_cancelled", i18n.Data{"Title": m.Title}), nil)
	}
	if _, err := h.jobs.Cancel(ctx, reminderJobIDs(m)...); err != nil {
		return err
	}
	if err := h.scheduleNotice(ctx, m, noticeCancelled); err != nil {
		return err
	}
	if err := h.refreshAnnouncement(ctx, c, m, ann); err != nil {
		h.log.WarnContext(ctx, "refreshing a cancelled meeting's announcement failed", "err", err.Error())
	}
	return h.core.editCallback(ctx, r, h.cat.T(r.Lang, "meeting_cancelled_done", i18n.Data{
		"ID": m.ID, "Title": m.Title, "When": i18n.Raw(h.text.when(r.Lang, m.Start, c.Location())),
	}), nil)
}

// pickMeeting answers a meeting command sent without a number: the
// meetings to come (for /attendance, the recent ones too), soonest first.
func (h *meetingHandlers) pickMeeting(ctx context.Context, r *bot.Request, sc scope) error {
	ms, err := h.meetings.Upcoming(ctx, sc.committee.ID, maxChoices)
	if err != nil {
		return err
	}
	if r.Command == "attendance" {
		past, err := h.meetings.Past(ctx, sc.committee.ID, maxChoices)
		if err != nil {
			return err
		}
		ms = append(ms, past...)
	}
	now := h.now()
	var choices []choice
	for _, m := range ms {
		if m.Cancelled() || r.Command != "attendance" && m.Started(now) {
			continue
		}
		at := m.Start.In(sc.committee.Location()).Format("15:04 02/01")
		choices = append(choices, choice{label: fmt.Sprintf("#%s · %s · %s", m.ID, at, m.Title), arg: m.ID})
	}
	return h.core.pickOrTell(ctx, r, sc.committee, "pick_meeting", choices, "pick_no_meeting", nil)
}

// Register adds the meetings' buttons.
func (h *meetingHandlers) Register(rt *bot.Router) {
	register(rt,
		button{routeRSVP, h.rsvpButton},
		button{routeICS, h.icsButton},
		h.core.adminOnly(routeMeetingOff, h.meetingCancelConfirmed),
	)
}
