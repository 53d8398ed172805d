package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/scheduler"
	"github.com/committeebot/committeebot/storage"
)

// Job kinds of ballots.
const (
	JobBallotClose   = "ballot_close"
	JobBallotResult  = "ballot_result"
	JobBallotChart   = "ballot_chart"
	JobBallotRemind  = "ballot_remind"
	JobBallotRefresh = "ballot_refresh"
)

// remindWorkers bounds the concurrent sends of one reminder fan-out; the
// sender keeps them under Telegram's limits.
const remindWorkers = 8

type ballotPayload struct {
	Committee string `json:"c"`
	Ballot    string `json:"b"`
}

// Jobs are the scheduler's handlers of the voting: the trailing refresh
// of a ballot's post.
func (h *votingHandlers) Jobs() map[string]scheduler.HandlerFunc {
	return map[string]scheduler.HandlerFunc{
		JobBallotRefresh: h.runBallotRefresh,
	}
}

// Jobs are the scheduler's handlers of the results: a close at the
// deadline, the result and its chart, the reminders before the deadline.
func (h *resultHandlers) Jobs() map[string]scheduler.HandlerFunc {
	return map[string]scheduler.HandlerFunc{
		JobBallotClose:  h.runBallotClose,
		JobBallotResult: h.runBallotResult,
		JobBallotChart:  h.runBallotChart,
		JobBallotRemind: h.runBallotRemind,
	}
}

// scheduleBallotJobs schedules a ballot's close at its deadline and the
// reminders to non-voters at reminders.ballot_offsets before it. Job ids
// derive from the ballot, so scheduling twice is harmless.
func (h *votingHandlers) scheduleBallotJobs(ctx context.Context, b domain.Ballot) error {
	if h.jobs == nil || b.Deadline.IsZero() {
		return nil
	}
	p, err := json.Marshal(ballotPayload{Committee: b.Committee, Ballot: b.ID})
	if err != nil {
		return err
	}
	jobs := []storage.Job{{ID: fmt.Sprintf("bclose.%s.%s", b.Committee, b.ID), Kind: JobBallotClose, Payload: p, DueAt: b.Deadline}}
	now := h.now()
	for _, off := range h.ballotOffsets {
		due := b.Deadline.Add(-off)
		if !due.After(now) {
			continue
		}
		jobs = append(jobs, storage.Job{
			ID:   fmt.Sprintf("brem.%s.%s.%s", b.Committee, b.ID, strconv.FormatInt(int64(off/time.Second), 10)),
			Kind: JobBallotRemind, Payload: p, DueAt: due,
		})
	}
	for _, j := range jobs {
		if err := h.jobs.Schedule(ctx, j); err != nil {
			return fmt.Errorf("schedule ballot %s: %w", b.ID, err)
		}
	}
	return nil
}

func decodeBallotPayload(j *scheduler.Job) (ballotPayload, error) {
	var p ballotPayload
	if err := json.Unmarshal(j.Payload(), &p); err != nil {
		return p, scheduler.Permanent(fmt.Errorf("ballot job %s: %w", j.ID(), err))
	}
	return p, nil
}

// runBallotClose closes a ballot at its deadline (CloseBallot).
func (h *resultHandlers) runBallotClose(ctx context.Context, j *scheduler.Job) error {
	p, err := decodeBallotPayload(j)
	if err != nil {
		return err
	}
	return h.closeBallot(ctx, p.Committee, p.Ballot)
}

// scheduleResult schedules the close and the announcement of a ballot's
// result, due at once: one job per ballot, stored only by the first
// closer (ScheduleOnce), so it runs once however many ask.
func (h *resultHandlers) scheduleResult(ctx context.Context, committeeID, ballotID string) error {
	p, err := json.Marshal(ballotPayload{Committee: committeeID, Ballot: ballotID})
	if err != nil {
		return err
	}
	return h.jobs.ScheduleOnce(ctx, storage.Job{
		ID: fmt.Sprintf("bres.%s.%s", committeeID, ballotID), Kind: JobBallotResult, Payload: p, DueAt: h.now(),
	})
}

// runBallotResult announces a closed ballot's result (its text and chart)
// through the job's delivery log: once, whoever closed the ballot, and
// again by another replica only if the first stopped before the post was
// recorded (at most one duplicate, if it stopped between Telegram
// accepting the post and its record).
func (h *resultHandlers) runBallotResult(ctx context.Context, j *scheduler.Job) error {
	p, err := decodeBallotPayload(j)
	if err != nil {
		return err
	}
	_, c, b, post, r, err := h.closeAndCount(ctx, p.Committee, p.Ballot)
	if err != nil || b.ID == "" {
		return err
	}
	if _, err := j.Deliver(ctx, "result", scheduler.Resend, func(ctx context.Context) (string, error) {
		return "posted", h.announceResult(ctx, c, b, post, r)
	}); err != nil || c.ChatID == 0 {
		return err
	}
	// The chart follows a few seconds later: drawing it takes about 0.1 s
	// of CPU, which ballots closing together (the last votes of a burst)
	// should not take from the votes still arriving.
	p2, err := json.Marshal(ballotPayload{Committee: b.Committee, Ballot: b.ID})
	if err != nil {
		return err
	}
	return h.jobs.ScheduleOnce(ctx, storage.Job{
		ID: fmt.Sprintf("bchart.%s.%s", b.Committee, b.ID), Kind: JobBallotChart, Payload: p2, DueAt: h.now().Add(h.chartDelay),
	})
}

// runBallotChart posts a closed ballot's result chart in the group, once
// (the job's delivery log), one chart drawn at a time in this process.
func (h *resultHandlers) runBallotChart(ctx context.Context, j *scheduler.Job) error {
	p, err := decodeBallotPayload(j)
	if err != nil {
		return err
	}
	c, err := h.committees.Get(ctx, p.Committee)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	b, err := h.ballots.Get(ctx, p.Committee, p.Ballot)
	if errors.Is(err, storage.ErrNotFound) || c.ChatID == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	r, err := h.result(ctx, b)
	if err != nil {
		return err
	}
	_, err = j.Deliver(ctx, "chart", scheduler.Resend, func(ctx context.Context) (string, error) {
		select {
		case h.chartSlot <- struct{}{}:
			defer func() { <-h.chartSlot }()
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return "posted", h.sendResultChart(ctx, c.ChatID, h.core.chatLang(ctx, c.ChatID), c, b, r, inTopic(c))
	})
	return err
}

// runBallotRemind reminds the delegates of units that have not voted,
// each at most once across runs (the scheduler's delivery log): a crash in
// the middle resumes with the rest.
func (h *resultHandlers) runBallotRemind(ctx context.Context, j *scheduler.Job) error {
	p, err := decodeBallotPayload(j)
	if err != nil {
		return err
	}
	c, b, ds, err := h.nonVoters(ctx, p.Committee, p.Ballot)
	if err != nil || b.Status != domain.BallotOpen {
		return err
	}
	if !b.Deadline.IsZero() && !h.now().Before(b.Deadline) {
		// Late (the bot was down): voting has ended, a reminder would
		// only confuse.
		return nil
	}
	byKey := make(map[string]domain.Delegate, len(ds))
	keys := make([]string, 0, len(ds))
	for _, d := range ds {
		k := strconv.FormatInt(d.UserID, 10)
		byKey[k] = d
		keys = append(keys, k)
	}
	_, err = scheduler.FanOut(ctx, j, remindWorkers, keys, scheduler.Skip, func(ctx context.Context, key string) (string, error) {
		err := h.remind(ctx, c, b, byKey[key])
		if bot.IsBlocked(err) || bot.IsChatNotFound(err) {
			return "", scheduler.Permanent(err)
		}
		return key, err
	})
	return err
}

// runBallotRefresh is the trailing edit of a ballot's group post.
func (h *votingHandlers) runBallotRefresh(ctx context.Context, j *scheduler.Job) error {
	p, err := decodeBallotPayload(j)
	if err != nil {
		return err
	}
	free, until, err := h.ballots.TakeEditSlot(ctx, p.Committee, p.Ballot, postEvery)
	if err != nil {
		return err
	}
	if !free {
		return scheduler.Defer(until)
	}
	return h.editPost(ctx, p.Committee, p.Ballot)
}
