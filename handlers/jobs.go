package handlers

import (
	"context"
	"maps"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/scheduler"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Jobs returns the handlers of the deferred jobs this package schedules,
// by kind, for the scheduler's runner: every room's.
func (h *Handlers) Jobs() map[string]scheduler.HandlerFunc {
	jobs := map[string]scheduler.HandlerFunc{}
	for _, room := range []map[string]scheduler.HandlerFunc{h.committee.Jobs(), h.meetings.Jobs(), h.voting.Jobs(), h.results.Jobs()} {
		maps.Copy(jobs, room)
	}
	return jobs
}

// fanOut sends each message once through the scheduler's delivery log,
// and logs what happened.
func (h *core) fanOut(ctx context.Context, job *scheduler.Job, keys []string, msgs map[string]outgoing) error {
	sum, err := scheduler.FanOut(ctx, job, fanOutWorkers, keys, scheduler.Resend, func(ctx context.Context, key string) (string, error) {
		o := msgs[key]
		return h.sendOne(ctx, o.chatID, o.text, o.kb, outbox.InThread(o.thread))
	})
	h.log.InfoContext(ctx, "job messages sent", "job", job.ID(), "kind", job.Kind(), "sent", sum.Sent,
		"sent_before", sum.AlreadyDone, "unreachable", sum.Unreachable, "failed", sum.Failed)
	return err
}

// postOnce sends a job's one message to committee c's group (in its
// topic), once per job version (fanOut with a single recipient).
func (h *core) postOnce(ctx context.Context, job *scheduler.Job, c domain.Committee, text string) error {
	return h.fanOut(ctx, job, []string{"g"}, map[string]outgoing{"g": {chatID: c.ChatID, thread: c.Thread, text: text}})
}

// sendOne queues one HTML message; the delivery reference is "queued" (the
// outbox delivers it, once, and records refusals such as a user who never
// opened a chat with the bot).
func (h *core) sendOne(ctx context.Context, chatID int64, text string, kb *tgbotapi.InlineKeyboardMarkup, opts ...outbox.SendOption) (string, error) {
	msg := tgbotapi.NewMessage(chatID, text)
	msg.ParseMode = tgbotapi.ModeHTML
	msg.DisableWebPagePreview = true
	if kb != nil {
		msg.ReplyMarkup = *kb
	}
	if err := h.send.Send(ctx, msg, opts...); err != nil {
		return "", err
	}
	return "queued", nil
}

// outgoing is one message of a fan-out.
type outgoing struct {
	chatID int64
	thread int // forum topic, for the group's message
	text   string
	kb     *tgbotapi.InlineKeyboardMarkup
}
