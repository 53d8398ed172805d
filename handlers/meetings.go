package handlers

import (
	"context"
	"errors"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/storage"
)

// MeetingStore keeps meetings and the delegates' answers; see
// storage.Meetings for the errors of each method.
type MeetingStore interface {
	NextID(ctx context.Context, committeeID string) (string, error)
	Create(ctx context.Context, m domain.Meeting) (domain.Meeting, error)
	Get(ctx context.Context, committeeID, meetingID string) (domain.Meeting, error)
	Update(ctx context.Context, m domain.Meeting) (domain.Meeting, error)
	Cancel(ctx context.Context, committeeID, meetingID string, by int64) (domain.Meeting, bool, error)
	SetAnnouncement(ctx context.Context, committeeID, meetingID string, chatID int64, messageID int) error
	Upcoming(ctx context.Context, committeeID string, limit int) ([]domain.Meeting, error)
	Past(ctx context.Context, committeeID string, limit int) ([]domain.Meeting, error)
	Next(ctx context.Context, committeeID string) (domain.Meeting, error)
	Answer(ctx context.Context, committeeID, meetingID string, r domain.RSVP) (bool, *bool, error)
	RSVPs(ctx context.Context, committeeID, meetingID string) ([]domain.RSVP, error)
	TakeEditSlot(ctx context.Context, committeeID, meetingID string, interval time.Duration) (bool, time.Time, error)
}

// JobScheduler stores deferred jobs (storage.Scheduler): scheduling a job
// with the id of a pending one replaces it; Cancel ignores unknown ids.
type JobScheduler interface {
	Schedule(ctx context.Context, job storage.Job) error
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

func (h *Handlers) meetingsReady() error {
	if h.meetings == nil || h.jobs == nil {
		return errNoMeetings
	}
	return nil
}

// meetingNew creates a meeting: /meeting_new <date> <time> | <title> |
// <location> [| <agenda; agenda; …>]. Without arguments it asks step by
// step in a private chat.
func (h *Handlers) meetingNew(ctx context.Context, r *bot.Request) error {
	if err := h.meetingsReady(); err != nil {
		return err
	}
	sc := scopeOf(r)
	if strings.TrimSpace(r.Args) == "" {
		return h.startMeetingForm(ctx, r, sc.committee)
	}
	parts := strings.Split(r.Args, "|")
	for len(parts) < 4 {
		parts = append(parts, "")
	}
	date, clock, _ := strings.Cut(strings.TrimSpace(parts[0]), " ")
	draft := meetingDraft{
		date: date, clock: strings.TrimSpace(clock), title: strings.TrimSpace(parts[1]),
		location: strings.TrimSpace(parts[2]), agenda: strings.Join(parts[3:], "|"),
	}
	return h.createMeeting(ctx, r, sc.committee, draft)
}

// meetingDraft is a meeting as typed, before it is checked.
type meetingDraft struct {
	date, clock, title, location, agenda string
}

// checkDraft turns a draft into a meeting, or returns the explanation of
// what is wrong (with the accepted formats) to show the user.
func (h *Handlers) checkDraft(lang string, c domain.Committee, d meetingDraft) (domain.Meeting, string) {
	loc := c.Location()
	start, err := domain.ParseMeetingTime(d.date, d.clock, loc, h.now())
	var problem string
	switch {
	case errors.Is(err, domain.ErrMeetingDate):
		problem = h.cat.T(lang, "meeting_bad_date", i18n.Data{"Date": truncate(d.date, 30)})
	case errors.Is(err, domain.ErrMeetingTime):
		problem = h.cat.T(lang, "meeting_bad_time", i18n.Data{"Time": truncate(d.clock, 30)})
	case errors.Is(err, domain.ErrMeetingPast):
		problem = h.cat.T(lang, "meeting_past", i18n.Data{"When": i18n.Raw(h.when(lang, start, loc))})
	case domain.ValidMeetingTitle(d.title) != nil:
		problem = h.cat.T(lang, "meeting_bad_title", i18n.Data{"Max": domain.MaxMeetingTitleLen})
	case domain.ValidMeetingLocation(d.location) != nil:
		problem = h.cat.T(lang, "meeting_bad_location", i18n.Data{"Max": domain.MaxMeetingLocationLen})
	case domain.ValidAgenda(domain.ParseAgenda(d.agenda)) != nil:
		problem = h.cat.T(lang, "meeting_bad_agenda", i18n.Data{"Max": domain.MaxAgendaItems, "Len": domain.MaxAgendaItemLen})
	}
	if problem != "" {
		return domain.Meeting{}, problem + "\n\n" + h.meetingUsage(lang, c)
	}
	return domain.Meeting{
		Committee: c.ID, Title: d.title, Location: d.location,
		Agenda: domain.ParseAgenda(d.agenda), Start: start,
	}, ""
}

// meetingUsage shows the accepted forms of /meeting_new.
func (h *Handlers) meetingUsage(lang string, c domain.Committee) string {
	return h.cat.T(lang, "meeting_new_usage", i18n.Data{"Zone": zoneName(h.now(), c.Location())})
}

// createMeeting checks and stores a meeting, schedules its reminders and
// announces it in the group.
func (h *Handlers) createMeeting(ctx context.Context, r *bot.Request, c domain.Committee, d meetingDraft) error {
	m, problem := h.checkDraft(r.Lang, c, d)
	if problem != "" {
		return h.reply(ctx, r, problem, nil)
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
	chat, _ := r.Chat()
	announced, err := h.announce(ctx, c, m)
	if err != nil {
		return err
	}
	if chat.IsGroup() && announced {
		return nil // the announcement is the answer, with /meeting <id> in it
	}
	key := "meeting_created"
	if announced {
		key = "meeting_created_announced"
	}
	return h.reply(ctx, r, h.cat.T(r.Lang, key, i18n.Data{
		"ID": m.ID, "Title": m.Title, "When": i18n.Raw(h.when(r.Lang, m.Start, c.Location())),
		"Reminders": i18n.Raw(h.offsetList(r.Lang, m.Reminders)),
	}), nil)
}

// announcementRef names a meeting's group announcement in the outbox,
// which records its message id once Telegram has it.
func announcementRef(committeeID, meetingID string) string {
	return "mann:" + committeeID + ":" + meetingID
}

// announce posts the meeting in the committee's group with its answer
// buttons and remembers the message, so it can be kept current.
func (h *Handlers) announce(ctx context.Context, c domain.Committee, m domain.Meeting) (bool, error) {
	if c.ChatID == 0 {
		return false, nil
	}
	lang := h.chatLang(ctx, c.ChatID)
	text, kb, err := h.announcement(ctx, lang, c, m)
	if err != nil {
		return false, err
	}
	msg := tgbotapi.NewMessage(c.ChatID, text)
	msg.ParseMode = tgbotapi.ModeHTML
	msg.DisableWebPagePreview = true
	msg.ReplyMarkup = kb
	if err := h.send.Send(ctx, msg, outbox.Remember(announcementRef(c.ID, m.ID))); err != nil {
		return false, err
	}
	if err := h.meetings.SetAnnouncement(ctx, c.ID, m.ID, c.ChatID, 0); err != nil {
		return true, err
	}
	return true, nil
}

// meetingList lists upcoming meetings, or past ones with "past".
func (h *Handlers) meetingList(ctx context.Context, r *bot.Request) error {
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
		return h.reply(ctx, r, h.cat.T(r.Lang, key, nil), nil)
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
	return h.reply(ctx, r, b.String(), nil)
}

// meetingArg finds the meeting named by the first argument, answering
// the user when there is none. rest is what follows the id.
func (h *Handlers) meetingArg(ctx context.Context, r *bot.Request, c domain.Committee, usageID string) (m domain.Meeting, rest string, ok bool, err error) {
	id, rest, _ := strings.Cut(strings.TrimSpace(r.Args), " ")
	id = strings.TrimPrefix(id, "#")
	if id == "" {
		return m, "", false, h.reply(ctx, r, h.cat.T(r.Lang, usageID, nil), nil)
	}
	m, err = h.meetings.Get(ctx, c.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return m, "", false, h.reply(ctx, r, h.cat.T(r.Lang, "meeting_unknown", i18n.Data{"ID": truncate(id, 20)}), nil)
	}
	return m, strings.TrimSpace(rest), err == nil, err
}

// meetingShow shows one meeting in full: /meeting <id>.
func (h *Handlers) meetingShow(ctx context.Context, r *bot.Request) error {
	if err := h.meetingsReady(); err != nil {
		return err
	}
	sc := scopeOf(r)
	if strings.TrimSpace(r.Args) == "" {
		return h.meetingList(ctx, r)
	}
	m, _, ok, err := h.meetingArg(ctx, r, sc.committee, "meeting_usage")
	if !ok {
		return err
	}
	text, err := h.meetingDetails(ctx, r.Lang, sc.committee, m, sc.admin)
	if err != nil {
		return err
	}
	kb := h.meetingKeyboard(r.Lang, sc.committee, m)
	return h.reply(ctx, r, text, &kb)
}

// rsvpCommand records the caller's answer: /rsvp <id> yes|no.
func (h *Handlers) rsvpCommand(ctx context.Context, r *bot.Request) error {
	if err := h.meetingsReady(); err != nil {
		return err
	}
	sc := scopeOf(r)
	m, rest, ok, err := h.meetingArg(ctx, r, sc.committee, "rsvp_usage")
	if !ok {
		return err
	}
	var attend bool
	switch strings.ToLower(rest) {
	case "yes", "y", "có", "co", "1":
		attend = true
	case "no", "n", "không", "khong", "0":
	default:
		return h.reply(ctx, r, h.cat.T(r.Lang, "rsvp_usage", nil), nil)
	}
	text, err := h.answer(ctx, r, sc, m, attend)
	if err != nil {
		return err
	}
	return h.reply(ctx, r, text, nil)
}

// rsvpButton records an answer from the buttons under a meeting:
// "mr:<committee>:<meeting>:1|0".
func (h *Handlers) rsvpButton(ctx context.Context, r *bot.Request) error {
	if err := h.meetingsReady(); err != nil {
		return err
	}
	p, ok := routeRSVP.parse(r.Data)
	if !ok || (p[2] != "1" && p[2] != "0") {
		h.unknownButton(r)
		return nil
	}
	sc, ok, err := h.buttonScope(ctx, r, p[0], false)
	if !ok || err != nil {
		return err
	}
	if sc.delegate == nil {
		r.Answer(plain(h.cat.T(r.Lang, "rsvp_delegates_only", nil)), true)
		return nil
	}
	m, err := h.meetings.Get(ctx, sc.committee.ID, p[1])
	if errors.Is(err, storage.ErrNotFound) {
		h.unknownButton(r)
		return nil
	}
	if err != nil {
		return err
	}
	text, err := h.answer(ctx, r, sc, m, p[2] == "1")
	if err != nil {
		return err
	}
	r.Answer(plain(text), false)
	return nil
}

// answer records the caller's answer and returns what to tell them; the
// group announcement is refreshed (throttled).
func (h *Handlers) answer(ctx context.Context, r *bot.Request, sc scope, m domain.Meeting, attend bool) (string, error) {
	user, _ := r.Sender()
	if sc.delegate == nil {
		return h.cat.T(r.Lang, "rsvp_delegates_only", nil), nil
	}
	changed, _, err := h.meetings.Answer(ctx, sc.committee.ID, m.ID, domain.RSVP{
		UserID: user.ID, Unit: sc.delegate.Unit, Name: user.DisplayName(), Username: user.Username, Attend: attend,
	})
	switch {
	case errors.Is(err, storage.ErrMeetingCancelled):
		return h.cat.T(r.Lang, "meeting_is_cancelled", i18n.Data{"Title": m.Title}), nil
	case errors.Is(err, storage.ErrMeetingStarted):
		return h.cat.T(r.Lang, "rsvp_closed", i18n.Data{"Title": m.Title}), nil
	case errors.Is(err, storage.ErrNotDelegate):
		return h.cat.T(r.Lang, "rsvp_delegates_only", nil), nil
	case err != nil:
		return "", err
	}
	if changed {
		if err := h.refreshAnnouncement(ctx, sc.committee, m); err != nil {
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
func (h *Handlers) meetingCancel(ctx context.Context, r *bot.Request) error {
	if err := h.meetingsReady(); err != nil {
		return err
	}
	sc := scopeOf(r)
	m, _, ok, err := h.meetingArg(ctx, r, sc.committee, "meeting_cancel_usage")
	if !ok {
		return err
	}
	if m.Cancelled() {
		return h.reply(ctx, r, h.cat.T(r.Lang, "meeting_is_cancelled", i18n.Data{"Title": m.Title}), nil)
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_meeting_cancel", nil), routeMeetingOff.data(sc.committee.ID, m.ID)),
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_meeting_keep", nil), routeCancel.data()),
	))
	return h.reply(ctx, r, h.cat.T(r.Lang, "meeting_cancel_confirm", i18n.Data{
		"ID": m.ID, "Title": m.Title, "When": i18n.Raw(h.when(r.Lang, m.Start, sc.committee.Location())),
	}), &kb)
}

// meetingCancelConfirmed cancels the meeting ("mcx:<committee>:<meeting>"):
// its reminders go, the group and the delegates who had not declined are
// told, the announcement shows the cancellation.
func (h *Handlers) meetingCancelConfirmed(ctx context.Context, r *bot.Request) error {
	if err := h.meetingsReady(); err != nil {
		return err
	}
	p, sc, ok, err := h.adminButton(ctx, r, routeMeetingOff)
	if !ok {
		return err
	}
	user, _ := r.Sender()
	c := sc.committee
	m, already, err := h.meetings.Cancel(ctx, c.ID, p[0], user.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return h.editCallback(ctx, r, h.cat.T(r.Lang, "meeting_unknown", i18n.Data{"ID": p[0]}), nil)
	}
	if err != nil {
		return err
	}
	if already {
		return h.editCallback(ctx, r, h.cat.T(r.Lang, "meeting_is_cancelled", i18n.Data{"Title": m.Title}), nil)
	}
	if _, err := h.jobs.Cancel(ctx, reminderJobIDs(m)...); err != nil {
		return err
	}
	if err := h.scheduleNotice(ctx, m, noticeCancelled); err != nil {
		return err
	}
	if err := h.refreshAnnouncement(ctx, c, m); err != nil {
		h.log.WarnContext(ctx, "refreshing a cancelled meeting's announcement failed", "err", err.Error())
	}
	return h.editCallback(ctx, r, h.cat.T(r.Lang, "meeting_cancelled_done", i18n.Data{
		"ID": m.ID, "Title": m.Title, "When": i18n.Raw(h.when(r.Lang, m.Start, c.Location())),
	}), nil)
}
