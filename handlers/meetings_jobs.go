package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/scheduler"
	"github.com/committeebot/committeebot/storage"
)

// Job kinds of meetings, run by the scheduler (see Jobs).
const (
	JobMeetingRemind  = "meeting_remind"
	JobMeetingNotice  = "meeting_notice"
	JobMeetingRefresh = "meeting_refresh"
)

const (
	// announceEvery is the least time between two edits of one
	// announcement, across replicas: 20 a minute, what Telegram allows a
	// group, however fast the buttons are pressed.
	announceEvery = 3 * time.Second
	// lateAfter: a reminder sent this long after its moment (the bot was
	// down) says it is late.
	lateAfter = time.Minute
	// fanOutWorkers bounds the sends of one fan-out in flight; the sender
	// paces them at Telegram's limits.
	fanOutWorkers = 16
)

// Notices sent when a meeting changes.
const (
	noticeCancelled = "cancelled"
	noticeMoved     = "moved"
	noticeRelocated = "relocated"
)

// reminderPayload identifies one reminder: the meeting, the start it was
// scheduled for (a moved meeting's old reminders recognise themselves as
// stale) and the offset.
type reminderPayload struct {
	Committee string `json:"c"`
	Meeting   string `json:"m"`
	Start     int64  `json:"start"`  // unix ms
	Offset    int64  `json:"offset"` // seconds before start
}

// noticePayload is a change to tell the group and the delegates about.
type noticePayload struct {
	Committee string `json:"c"`
	Meeting   string `json:"m"`
	What      string `json:"what"`
	Sequence  int    `json:"seq"`
}

// refreshPayload names an announcement to bring up to date.
type refreshPayload struct {
	Committee string `json:"c"`
	Meeting   string `json:"m"`
}

// ReminderJob is the job that reminds of meeting m offset before it
// starts. Its id depends on the meeting, its start and the offset, so
// scheduling it twice is one job and a moved meeting gets new ones.
func ReminderJob(m domain.Meeting, offset time.Duration) storage.Job {
	p, _ := json.Marshal(reminderPayload{Committee: m.Committee, Meeting: m.ID, Start: m.Start.UnixMilli(), Offset: int64(offset / time.Second)})
	return storage.Job{
		ID:   fmt.Sprintf("mrem.%s.%s.%d.%d", m.Committee, m.ID, m.Start.UnixMilli(), int64(offset/time.Second)),
		Kind: JobMeetingRemind, Payload: p, DueAt: m.Start.Add(-offset),
	}
}

// reminderJobIDs are the ids of m's reminders as scheduled.
func reminderJobIDs(m domain.Meeting) []string {
	ids := make([]string, 0, len(m.Reminders))
	for _, o := range m.Reminders {
		ids = append(ids, ReminderJob(m, o).ID)
	}
	return ids
}

// futureOffsets are the configured reminder offsets whose moment is still
// ahead for a meeting at start.
func (h *meetingHandlers) futureOffsets(start time.Time) []time.Duration {
	var out []time.Duration
	now := h.now()
	for _, o := range h.meetingOffsets {
		if start.Add(-o).After(now) {
			out = append(out, o)
		}
	}
	return out
}

// scheduleReminders schedules the reminders of m (m.Reminders).
func (h *meetingHandlers) scheduleReminders(ctx context.Context, m domain.Meeting) error {
	for _, o := range m.Reminders {
		if err := h.jobs.Schedule(ctx, ReminderJob(m, o)); err != nil {
			return fmt.Errorf("schedule reminders of meeting %s: %w", m.ID, err)
		}
	}
	return nil
}

// scheduleNotice has the scheduler tell the group and every delegate
// about a change, now. Going through the scheduler makes the fan-out
// survive a crash without repeating itself.
func (h *meetingHandlers) scheduleNotice(ctx context.Context, m domain.Meeting, what string) error {
	p, _ := json.Marshal(noticePayload{Committee: m.Committee, Meeting: m.ID, What: what, Sequence: m.Sequence})
	job := storage.Job{
		ID:   fmt.Sprintf("mnot.%s.%s.%d", m.Committee, m.ID, m.Sequence),
		Kind: JobMeetingNotice, Payload: p, DueAt: h.now(),
	}
	if err := h.jobs.Schedule(ctx, job); err != nil {
		return fmt.Errorf("schedule %s notice of meeting %s: %w", what, m.ID, err)
	}
	return nil
}

// refreshAnnouncement brings ann, the group announcement of m, up to date:
// at once if it was not edited in the last announceEvery, otherwise by a
// job when that time is up (one job however many presses come meanwhile).
func (h *meetingHandlers) refreshAnnouncement(ctx context.Context, c domain.Committee, m domain.Meeting, ann storage.Post) error {
	if !ann.Posted() {
		return nil
	}
	ok, until, err := h.meetings.TakeEditSlot(ctx, c.ID, m.ID, announceEvery)
	if err != nil {
		return err
	}
	if ok {
		if err = h.editAnnouncement(ctx, c, m, ann); err == nil {
			return nil
		}
		// Try again by the job, after the slot.
		h.log.WarnContext(ctx, "editing a meeting announcement failed; retrying later", "err", err.Error())
	}
	p, _ := json.Marshal(refreshPayload{Committee: c.ID, Meeting: m.ID})
	return h.jobs.Schedule(ctx, storage.Job{
		ID: fmt.Sprintf("mref.%s.%s", c.ID, m.ID), Kind: JobMeetingRefresh, Payload: p, DueAt: until,
	})
}

// editAnnouncement renders the announcement anew and edits it in place
// (ann). "Not modified" is success; a message that can no longer be edited
// (deleted, bot removed) is given up.
func (h *meetingHandlers) editAnnouncement(ctx context.Context, c domain.Committee, m domain.Meeting, ann storage.Post) error {
	lang := h.core.chatLang(ctx, ann.Chat)
	text, kb, err := h.announcement(ctx, lang, c, m)
	if err != nil {
		return err
	}
	edit := tgbotapi.NewEditMessageText(ann.Chat, ann.Message, text)
	edit.ParseMode = tgbotapi.ModeHTML
	edit.DisableWebPagePreview = true
	edit.ReplyMarkup = &kb
	if ann.Message != 0 {
		return h.send.Send(ctx, edit)
	}
	return h.send.Send(ctx, edit, outbox.EditOf(announcementRef(c.ID, m.ID)))
}

// runRefresh is the trailing edit of an announcement.
func (h *meetingHandlers) runRefresh(ctx context.Context, job *scheduler.Job) error {
	var p refreshPayload
	if err := json.Unmarshal(job.Payload(), &p); err != nil {
		return fmt.Errorf("refresh job %s: %w", job.ID(), err)
	}
	c, m, ann, ok, err := h.jobMeeting(ctx, p.Committee, p.Meeting)
	if !ok || err != nil || !ann.Posted() {
		return err
	}
	free, until, err := h.meetings.TakeEditSlot(ctx, c.ID, m.ID, announceEvery)
	if err != nil {
		return err
	}
	if !free {
		return scheduler.Defer(until)
	}
	return h.editAnnouncement(ctx, c, m, ann)
}

// jobMeeting loads what a job is about, with the meeting's announcement;
// ok is false when the committee or meeting no longer exists (the job has
// nothing to do).
func (h *meetingHandlers) jobMeeting(ctx context.Context, committeeID, meetingID string) (domain.Committee, domain.Meeting, storage.Post, bool, error) {
	c, err := h.committees.Get(ctx, committeeID)
	if errors.Is(err, storage.ErrNotFound) {
		return c, domain.Meeting{}, storage.Post{}, false, nil
	}
	if err != nil {
		return c, domain.Meeting{}, storage.Post{}, false, err
	}
	m, ann, err := h.meetings.GetWithAnnouncement(ctx, committeeID, meetingID)
	if errors.Is(err, storage.ErrNotFound) {
		return c, m, ann, false, nil
	}
	return c, m, ann, err == nil, err
}

// audience is the group (key "g<chat>") and the delegates (key "u<user>"),
// with their answers: for reminders those who have not declined, for
// notices of a change (declined true) every one, since a new time or
// place may change their answer.
func (h *meetingHandlers) audience(ctx context.Context, c domain.Committee, m domain.Meeting, declined bool) (group int64, delegates []domain.Delegate, answers map[int64]domain.RSVP, err error) {
	all, err := h.committees.Delegates(ctx, c.ID)
	if err != nil {
		return 0, nil, nil, err
	}
	rsvps, err := h.meetings.RSVPs(ctx, c.ID, m.ID)
	if err != nil {
		return 0, nil, nil, err
	}
	answers = answerOf(rsvps)
	for _, d := range all {
		if a, ok := answers[d.UserID]; ok && !a.Attend && !declined {
			continue
		}
		delegates = append(delegates, d)
	}
	return c.ChatID, delegates, answers, nil
}

// runReminder sends one reminder of a meeting to the group and privately
// to the delegates who have not declined. It does nothing for a cancelled
// or moved meeting, or one that has begun; a reminder whose moment passed
// while the bot was down goes out marked late, unless a later reminder of
// the same meeting is due too (that one is sent instead).
func (h *meetingHandlers) runReminder(ctx context.Context, job *scheduler.Job) error {
	var p reminderPayload
	if err := json.Unmarshal(job.Payload(), &p); err != nil {
		return fmt.Errorf("reminder job %s: %w", job.ID(), err)
	}
	c, m, _, ok, err := h.jobMeeting(ctx, p.Committee, p.Meeting)
	if !ok || err != nil {
		return err
	}
	now := h.now()
	offset := time.Duration(p.Offset) * time.Second
	log := h.log.With("job", job.ID(), "committee", c.ID, "meeting", m.ID)
	switch {
	case m.Cancelled(), m.Start.UnixMilli() != p.Start:
		log.DebugContext(ctx, "reminder of a cancelled or moved meeting: nothing to do")
		return nil
	case m.Started(now):
		log.InfoContext(ctx, "reminder not sent: the meeting has begun", "due", job.DueAt())
		return nil
	}
	for _, o := range m.Reminders {
		if o < offset && !now.Before(m.Start.Add(-o)) {
			log.InfoContext(ctx, "reminder not sent: a later one is due as well", "offset", offset, "later", o)
			return nil
		}
	}
	late := now.Sub(job.DueAt()) > lateAfter
	group, delegates, answers, err := h.audience(ctx, c, m, false)
	if err != nil {
		return err
	}
	_, counts, err := h.rsvpState(ctx, c, m)
	if err != nil {
		return err
	}
	render := func(lang string, private bool, answer *domain.RSVP) outgoing {
		text := ""
		if late {
			text = h.cat.T(lang, "reminder_late", i18n.Data{"Due": i18n.Raw(h.text.when(lang, job.DueAt(), c.Location()))}) + "\n"
		}
		text += h.cat.T(lang, "reminder_text", i18n.Data{
			"ID": m.ID, "Title": m.Title, "Location": m.Location, "Committee": c.Name,
			"Left":   i18n.Raw(h.text.span(lang, m.Start.Sub(now))),
			"When":   i18n.Raw(h.text.when(lang, m.Start, c.Location())),
			"Counts": i18n.Raw(h.text.countsLine(lang, counts)),
		})
		switch {
		case answer != nil && answer.Attend:
			text += "\n" + h.cat.T(lang, "reminder_you_attend", nil)
		case private:
			text += "\n" + h.cat.T(lang, "reminder_you_undecided", nil)
		}
		kb := h.text.meetingKeyboard(lang, c, m)
		return outgoing{text: text, kb: &kb}
	}
	keys, msgs := h.audienceMessages(ctx, c, group, delegates, answers, render)
	return h.core.fanOut(ctx, job, keys, msgs)
}

// audienceMessages renders one message per recipient, group first; a
// delegate's message gets their answer (nil if none).
func (h *meetingHandlers) audienceMessages(ctx context.Context, c domain.Committee, group int64, delegates []domain.Delegate, answers map[int64]domain.RSVP, render func(lang string, private bool, answer *domain.RSVP) outgoing) ([]string, map[string]outgoing) {
	var keys []string
	msgs := map[string]outgoing{}
	if group != 0 {
		o := render(h.core.chatLang(ctx, group), false, nil)
		o.chatID, o.thread = group, c.Thread
		key := "g" + strconv.FormatInt(group, 10)
		keys, msgs[key] = append(keys, key), o
	}
	for _, d := range delegates {
		var a *domain.RSVP
		if ans, ok := answers[d.UserID]; ok {
			a = &ans
		}
		o := render(h.core.userLang(ctx, d.UserID), true, a)
		o.chatID = d.UserID
		key := "u" + strconv.FormatInt(d.UserID, 10)
		keys, msgs[key] = append(keys, key), o
	}
	return keys, msgs
}

// runNotice tells the group and every delegate, whatever their answer,
// that a meeting was cancelled, moved or relocated. Each message is its
// own outbox item: a delegate who blocked the bot fails alone.
func (h *meetingHandlers) runNotice(ctx context.Context, job *scheduler.Job) error {
	var p noticePayload
	if err := json.Unmarshal(job.Payload(), &p); err != nil {
		return fmt.Errorf("notice job %s: %w", job.ID(), err)
	}
	c, m, _, ok, err := h.jobMeeting(ctx, p.Committee, p.Meeting)
	if !ok || err != nil {
		return err
	}
	if m.Sequence != p.Sequence {
		// Changed again since: the newer change has its own notice.
		return nil
	}
	if p.What != noticeCancelled && m.Started(h.now()) {
		return nil
	}
	group, delegates, answers, err := h.audience(ctx, c, m, true)
	if err != nil {
		return err
	}
	render := func(lang string, _ bool, answer *domain.RSVP) outgoing {
		text := h.cat.T(lang, noticeIDs[p.What], i18n.Data{
			"ID": m.ID, "Title": m.Title, "Location": m.Location,
			"When": i18n.Raw(h.text.whenSpan(lang, m, c.Location())),
		})
		if p.What == noticeCancelled {
			return outgoing{text: text}
		}
		if answer != nil && !answer.Attend {
			// The change may suit them now: the buttons below take a new answer.
			text += "\n" + h.cat.T(lang, "notice_you_declined", nil)
		}
		kb := h.text.meetingKeyboard(lang, c, m)
		return outgoing{text: text, kb: &kb}
	}
	keys, msgs := h.audienceMessages(ctx, c, group, delegates, answers, render)
	return h.core.fanOut(ctx, job, keys, msgs)
}

// Jobs are the meetings' deferred jobs, by kind: reminders, notices of a
// change, and the throttled refresh of an announcement.
func (h *meetingHandlers) Jobs() map[string]scheduler.HandlerFunc {
	return map[string]scheduler.HandlerFunc{
		JobMeetingRemind:  h.runReminder,
		JobMeetingNotice:  h.runNotice,
		JobMeetingRefresh: h.runRefresh,
	}
}
