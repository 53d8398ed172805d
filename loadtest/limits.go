package loadtest

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/storage"
)

// Ids of the limits scenario.
const (
	limAdmin     = 5_000_001
	limDelegates = 6_000_000
	limGroup     = -1_009_200_000_000
	limPrefix    = "blim"
	limUnit      = "LU"
	// reminderMark is in every meeting reminder (i18n reminder_text, vi).
	reminderMark = "Nhắc lịch họp"
	// fanOutLimit bounds the wait for the fan-out to finish.
	fanOutLimit = 5 * time.Minute
)

// ict is the committee's time zone (bot.timezone Asia/Ho_Chi_Minh, which
// has no daylight saving time).
var ict = time.FixedZone("ICT", 7*3600)

// LimitsResult is what the limits scenario measured.
type LimitsResult struct {
	Replicas, Delegates int
	Setup               time.Duration
	// Expected reminders (the group and every delegate), Delivered to
	// that many chats, Lost (chats without one), Doubled (extra copies).
	Expected, Delivered, Lost, Doubled int
	// FanOut from the first reminder accepted until the last; Floor is
	// the least Telegram's 30 messages a second allow for Expected.
	FanOut, Floor time.Duration
	Completed     bool
	// MaxPerSec is the most messages the stand-in accepted in any 1 s
	// window (all chats); MaxPerMinGroup the most in any 60 s window in
	// one group; over the whole scenario, set-up included.
	MaxPerSec, MaxPerMinGroup int
	// TooMany 429 answers (in groups, in private chats), Rejected
	// requests at the stand-in.
	TooMany, TooManyGroup, TooManyPrivate, Rejected int
	Restarts                                        []restart
	// Chatter /status commands typed in the group during the fan-out, and
	// the answers the group got by the end of the fan-out; ChatterAll
	// counts them again once the group's window let the rest out
	// (ChatterWait after the fan-out ended).
	Chatter, ChatterAnswers int
	ChatterAll              int
	ChatterWait             time.Duration
	Failed                  int
	Warnings                map[string]int
}

// restart is one replica restart during the fan-out.
type restart struct {
	At      time.Duration // after the first reminder
	Replica string
	Signal  string
	HeldJob bool // the replica was running the reminder job
	Exit    time.Duration
	Killed  bool          // SIGTERM did not end it within the grace
	Down    time.Duration // until it was ready again
}

// stopGrace is how long a replica may take to stop after SIGTERM before it
// is killed: TimeoutStopSec and stop_grace_period in deploy/, and
// terminationGracePeriodSeconds less the preStop sleep (the bot itself
// stops within shutdown.timeout, 25 s).
const stopGrace = 30 * time.Second

// sleepUntil waits until t; false if ctx ended or done closed first.
// chatterWait bounds the wait for the group's answers after the fan-out:
// a minute's window of Telegram's group limit and a margin.
const chatterWait = 75 * time.Second

func sleepUntil(ctx context.Context, t time.Time, done <-chan struct{}) bool {
	select {
	case <-time.After(time.Until(t)):
		return !isClosed(done)
	case <-done:
	case <-ctx.Done():
	}
	return false
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// waitHolder waits (up to a minute) until a live replica holds the
// reminder job, as after a crash, when the job waits for its lease to
// expire.
func waitHolder(ctx context.Context, e *env, keys storage.Keys, bots []*botProc, done <-chan struct{}) (int, bool) {
	deadline := time.Now().Add(time.Minute)
	for {
		if i, held := jobHolder(ctx, e, keys, bots); held || time.Now().After(deadline) {
			return i, held
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-done:
			return 0, false
		case <-ctx.Done():
			return 0, false
		}
	}
}

// fanOutWatch follows the reminders the stand-in accepts.
type fanOutWatch struct {
	tg       *telegramtest.Server
	expected int
	cursor   int

	mu       sync.Mutex
	perChat  map[int64]int
	first    time.Time
	last     time.Time
	started  chan struct{} // closed at the first reminder
	finished chan struct{} // closed once every chat has one
}

func newFanOutWatch(tg *telegramtest.Server, expected int) *fanOutWatch {
	return &fanOutWatch{tg: tg, expected: expected, cursor: tg.RequestCount(), perChat: map[int64]int{},
		started: make(chan struct{}), finished: make(chan struct{})}
}

// scan reads the requests answered since the last scan. Not safe for
// concurrent use (run and the final scan follow each other).
func (w *fanOutWatch) scan() {
	reqs := w.tg.RequestsFrom(w.cursor)
	w.cursor += len(reqs)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range reqs {
		if r.Method != "sendMessage" || r.Status != 200 || !strings.Contains(r.Params["text"], reminderMark) {
			continue
		}
		chat, _ := strconv.ParseInt(r.Params["chat_id"], 10, 64)
		w.perChat[chat]++
		if w.first.IsZero() {
			w.first = r.Time
			close(w.started)
		}
		if r.Time.After(w.last) {
			w.last = r.Time
		}
	}
	if len(w.perChat) >= w.expected && !isClosed(w.finished) {
		close(w.finished)
	}
}

// run scans every 50 ms until the fan-out is finished or ctx ends.
func (w *fanOutWatch) run(ctx context.Context) {
	for ctx.Err() == nil {
		w.scan()
		select {
		case <-w.finished:
			return
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// setupLimits builds the committee (/setup, /unit_add) and the delegates
// the reminder goes to (through the invite scripts, each with a private
// chat open); newLimitsMeeting then schedules the meeting.
func setupLimits(ctx context.Context, e *env, d *driver, committees *storage.Committees) error {
	name := "Khối kiểm tra giới hạn"
	e.tg.AddUser(telegramtest.User{ID: limAdmin, FirstName: "Thư ký"})
	e.tg.StartPrivate(limAdmin)
	e.tg.AddGroup(telegramtest.Chat{ID: limGroup, Type: telegramtest.ChatSupergroup, Title: name},
		telegramtest.Member{UserID: limAdmin, Status: telegramtest.StatusAdministrator})
	if _, err := d.sayWant(ctx, limGroup, limAdmin, "/setup "+name, anyReply, limGroup); err != nil {
		return err
	}
	c, err := committees.ByChat(ctx, limGroup)
	if err != nil {
		return fmt.Errorf("/setup: %w", err)
	}
	if _, err := d.sayWant(ctx, limAdmin, limAdmin, "/unit_add "+limUnit+" Đơn vị kiểm tra",
		func(m telegramtest.Message) bool { return strings.Contains(m.Text, limUnit) }, limAdmin); err != nil {
		return err
	}
	users := make([]telegramtest.User, e.cfg.FanOut)
	for i := range users {
		users[i] = telegramtest.User{ID: limDelegates + int64(i), FirstName: fmt.Sprintf("Đại biểu %d", i+1)}
		e.tg.AddUser(users[i])
		e.tg.StartPrivate(users[i].ID)
	}
	return addMembers(ctx, committees, c.ID, limUnit, limAdmin, users)
}

// newLimitsMeeting schedules the meeting whose reminder is the fan-out.
func newLimitsMeeting(ctx context.Context, d *driver, meetingAt time.Time) error {
	cmd := fmt.Sprintf("/meeting_new %s | Hội nghị kiểm tra tải | Hà Nội", meetingAt.In(ict).Format("2006-01-02 15:04"))
	_, err := d.sayWant(ctx, limGroup, limAdmin, cmd, func(m telegramtest.Message) bool {
		return strings.Contains(m.Text, "/meeting ")
	}, limGroup)
	return err
}

// chatter types n /status in the group, one every 0.5 s, delivered round
// robin like everything else; it returns the deliveries that failed.
func chatter(ctx context.Context, e *env, d *driver, n int) int {
	var (
		wg     sync.WaitGroup
		failed atomic.Int64
	)
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(time.Duration(k) * 500 * time.Millisecond):
			case <-ctx.Done():
				return
			}
			_, raw := e.tg.SendTextUpdate(limGroup, limAdmin, "/status")
			if _, err := d.deliver(ctx, raw); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(failed.Load())
}

// restartSenders restarts the replica sending the reminders at that
// moment, n times: a crash first (SIGKILL), then a rolling update
// (SIGTERM, SIGKILL after the 30 s grace of deploy/), alternating; the
// first gap into the fan-out, each next one once the job runs again and
// gap/2 later.
func restartSenders(ctx context.Context, e *env, keys storage.Keys, bots []*botProc, w *fanOutWatch, n int, gap time.Duration) ([]restart, error) {
	var out []restart
	fanStart := time.Now()
	next := fanStart.Add(gap)
	for k := range n {
		if !sleepUntil(ctx, next, w.finished) {
			e.log.Warn("limits: the fan-out ended before a restart", "restart", k+1)
			break
		}
		// The replica holding the reminder job, if one still does; with
		// the outbox the job ends in milliseconds and every replica
		// delivers, so otherwise the replicas take turns.
		i, held := jobHolder(ctx, e, keys, bots)
		if !held && k > 0 {
			i = k % len(bots)
		}
		if k == 0 {
			i, held = waitHolder(ctx, e, keys, bots, w.finished)
		}
		if isClosed(w.finished) || ctx.Err() != nil {
			e.log.Warn("limits: the fan-out ended before a restart", "restart", k+1)
			break
		}
		sig, sigName := syscall.SIGKILL, "SIGKILL"
		if k%2 == 1 {
			sig, sigName = syscall.SIGTERM, "SIGTERM"
		}
		rs := restart{At: time.Since(fanStart), Replica: bots[i].name, Signal: sigName, HeldJob: held}
		e.log.Info("limits: restarting", "replica", rs.Replica, "signal", sigName, "held_job", held)
		downAt := time.Now()
		rs.Exit, rs.Killed = bots[i].stop(sig, stopGrace)
		rs.Killed = rs.Killed && sig != syscall.SIGKILL
		if err := bots[i].start(ctx); err != nil {
			return out, fmt.Errorf("restart %s: %w", bots[i].name, err)
		}
		rs.Down = time.Since(downAt)
		out = append(out, rs)
		next = time.Now().Add(gap / 2)
	}
	return out, nil
}

// limitsMeetingLead is the least time before the reminder's moment in
// which the limits scenario still schedules its meeting.
const limitsMeetingLead = time.Second

func runLimits(ctx context.Context, e *env) (*LimitsResult, error) {
	cfg := e.cfg
	res := &LimitsResult{Replicas: cfg.Replicas, Delegates: cfg.FanOut, Expected: cfg.FanOut + 1, Chatter: cfg.Chatter}
	res.Floor = floorFor(res.Expected)
	keys := storage.NewKeys(limPrefix)
	reqStart := e.tg.RequestCount()

	// The reminder is due lead after the replicas start: long enough to
	// set up, on a loaded machine too (the test suite's tiny bench took
	// over 2 s where 0.5 s is usual; an overrun costs a minute, below).
	// Its meeting starts on a whole minute (the command's precision);
	// the offset makes the reminder fall on due.
	lead := 4*time.Second + time.Duration(cfg.Replicas)*time.Second/2 + time.Duration(cfg.FanOut)*8*time.Millisecond
	due := time.Now().Add(lead).Truncate(time.Second)
	meetingAt := due.Add(90 * time.Second).Truncate(time.Minute).Add(time.Minute)
	extra := map[string]string{
		"COMMITTEEBOT_REMINDERS_MEETING_OFFSETS": fmt.Sprintf("%ds", int(meetingAt.Sub(due).Seconds())),
		"COMMITTEEBOT_BOT_TIMEZONE":              "Asia/Ho_Chi_Minh",
	}
	began := time.Now()
	var bots []*botProc
	var targets []string
	for i := range cfg.Replicas {
		b, err := e.newBot(fmt.Sprintf("replica-%d", i+1), limPrefix, []int64{limAdmin}, extra)
		if err != nil {
			return nil, err
		}
		if err := b.start(ctx); err != nil {
			return nil, err
		}
		bots = append(bots, b)
		targets = append(targets, b.webhook)
	}
	d := newDriver(e.tg, e.secret)
	defer d.close()
	d.setTargets(targets...)

	e.log.Info("limits: setting up", "replicas", cfg.Replicas, "delegates", cfg.FanOut)
	if err := setupLimits(ctx, e, d, storage.NewCommittees(e.rdb, keys)); err != nil {
		return nil, err
	}
	// A set-up slower than the lead (a loaded machine) moves the meeting
	// a whole minute later, and its reminder with it (the offset is the
	// replicas' configuration): the scenario then waits longer instead of
	// finding its reminder's moment past.
	for time.Until(due) < limitsMeetingLead {
		meetingAt, due = meetingAt.Add(time.Minute), due.Add(time.Minute)
		e.log.Warn("limits: set-up took longer than the reminder's lead; the meeting moves a minute later", "took", time.Since(began).Round(time.Second), "lead", lead)
	}
	if err := newLimitsMeeting(ctx, d, meetingAt); err != nil {
		return nil, err
	}
	res.Setup = time.Since(began)
	if !time.Now().Before(due) {
		return nil, fmt.Errorf("set-up took %s, past the reminder's moment (%s after start): no reminder is scheduled", res.Setup.Round(time.Second), lead)
	}
	e.log.Info("limits: set up; waiting for the reminder", "took", res.Setup.Round(time.Second), "due_in", time.Until(due).Round(time.Second))

	// Watch the fan-out; meanwhile type /status in the group and restart
	// the replica running the job.
	w := newFanOutWatch(e.tg, res.Expected)
	watchCtx, stopWatch := context.WithTimeout(ctx, time.Until(due)+fanOutLimit)
	defer stopWatch()
	watched := make(chan struct{})
	go func() { defer close(watched); w.run(watchCtx) }()
	select {
	case <-w.started:
	case <-watchCtx.Done():
		<-watched
		return nil, fmt.Errorf("no reminder within %s of its moment", fanOutLimit)
	}
	e.log.Info("limits: fan-out started")
	chatterFrom := 0
	if msgs := e.tg.BotMessages(limGroup); len(msgs) > 0 {
		chatterFrom = msgs[len(msgs)-1].MessageID
	}
	chatted := make(chan int, 1)
	go func() { chatted <- chatter(watchCtx, e, d, cfg.Chatter) }()
	restarts, err := restartSenders(watchCtx, e, keys, bots, w, cfg.Restarts, max(res.Floor/time.Duration(cfg.Restarts+1), 3*time.Second))
	res.Restarts = restarts
	if err != nil {
		return nil, err
	}
	select {
	case <-w.finished:
		res.Completed = true
	case <-watchCtx.Done():
	}
	<-watched
	res.Failed = <-chatted
	time.Sleep(min(2*time.Second, 500*time.Millisecond+res.Floor/10)) // a late duplicate lands now
	w.scan()

	w.mu.Lock()
	for _, n := range w.perChat {
		res.Doubled += max(0, n-1)
	}
	res.Delivered = len(w.perChat)
	res.FanOut = w.last.Sub(w.first)
	w.mu.Unlock()
	res.Lost = res.Expected - res.Delivered
	answers := func() int {
		n := 0
		for _, m := range e.tg.BotMessages(limGroup) {
			if m.MessageID > chatterFrom && !strings.Contains(m.Text, reminderMark) {
				n++
			}
		}
		return n
	}
	res.ChatterAnswers = answers()
	// Telegram lets 20 messages a minute into a group: answers beyond that
	// wait for the window, they are not dropped. Wait for them (bounded).
	waitFrom := time.Now()
	for res.ChatterAll = res.ChatterAnswers; res.ChatterAll < res.Chatter && time.Since(waitFrom) < chatterWait; res.ChatterAll = answers() {
		time.Sleep(250 * time.Millisecond)
	}
	res.ChatterWait = time.Since(waitFrom)
	var logs []string
	for _, b := range bots {
		b.stop(syscall.SIGTERM, stopGrace)
		logs = append(logs, b.logPath)
	}
	tr := measureTraffic(e.tg.RequestsFrom(reqStart))
	res.MaxPerSec, res.MaxPerMinGroup = tr.MaxPerSec, tr.MaxPerMin
	res.TooMany, res.TooManyGroup, res.TooManyPrivate, res.Rejected = tr.TooMany, tr.TooManyGroup, tr.TooManyPrivate, tr.Rejected
	res.Warnings = logCounts(logs...)
	res.write(cfg.Out)
	return res, nil
}

// jobHolder finds the replica whose process holds the reminder job (the
// scheduler records its owner, "<host>-<pid>-<random>", in the job's
// hash); the first replica if none does.
func jobHolder(ctx context.Context, e *env, keys storage.Keys, bots []*botProc) (int, bool) {
	iter := e.rdb.Scan(ctx, 0, keys.SchedulerJobPrefix()+"mrem.*", 100).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		if strings.HasSuffix(k, ":dlv") {
			continue
		}
		owner, err := e.rdb.HGet(ctx, k, "owner").Result()
		if err != nil {
			continue
		}
		parts := strings.Split(owner, "-")
		if len(parts) < 3 {
			continue
		}
		pid, err := strconv.Atoi(parts[len(parts)-2])
		if err != nil {
			continue
		}
		for i, b := range bots {
			if b.pid() == pid {
				return i, true
			}
		}
	}
	return 0, false
}

func (r *LimitsResult) write(w io.Writer) {
	fmt.Fprintf(w, "## limits: a reminder to %d delegates and the group, %d replicas on one Redis, %d restarts\n\n", r.Delegates, r.Replicas, len(r.Restarts))
	fmt.Fprintf(w, "Set-up took %s; %d /status typed in the group during the fan-out, one every 0.5 s.\n\n", secs(r.Setup), r.Chatter)
	t := newTable("measure", "value")
	done := secs(r.FanOut)
	if !r.Completed {
		done += fmt.Sprintf(" (incomplete after %s)", fanOutLimit)
	}
	t.add("fan-out: first → last reminder accepted", done)
	t.add(fmt.Sprintf("least time at 30 msg/s for %d messages", r.Expected), secs(r.Floor))
	t.add("max messages accepted in any 1 s (all chats)", r.MaxPerSec)
	t.add("max messages accepted in any 60 s in one group", r.MaxPerMinGroup)
	t.add("429 answers at the stand-in: all (to the group / to private chats)", fmt.Sprintf("%d (%d / %d)", r.TooMany, r.TooManyGroup, r.TooManyPrivate))
	t.add("reminders: expected / delivered / lost / delivered twice", fmt.Sprintf("%d / %d / %d / %d", r.Expected, r.Delivered, r.Lost, r.Doubled))
	t.add("/status in the group: typed / answered by the end of the fan-out", fmt.Sprintf("%d / %d", r.Chatter, r.ChatterAnswers))
	t.add("/status answered in all (the group's 20 a minute let the rest out)", fmt.Sprintf("%d, %s after the fan-out", r.ChatterAll, secs(r.ChatterWait)))
	t.add("failed deliveries / rejected requests", fmt.Sprintf("%d / %d", r.Failed, r.Rejected))
	t.write(w)
	if len(r.Restarts) > 0 {
		fmt.Fprintln(w)
		rt := newTable("restart at", "replica", "signal", "was sending the reminders", "exit took", "back after")
		for _, rs := range r.Restarts {
			exit := ms(rs.Exit)
			if rs.Killed {
				exit += fmt.Sprintf(" (killed after the %s grace)", stopGrace)
			}
			rt.add(secs(rs.At), rs.Replica, rs.Signal, rs.HeldJob, exit, ms(rs.Down))
		}
		rt.write(w)
	}
	fmt.Fprintf(w, "\nBot warnings: %s\n\n", formatCounts(r.Warnings))
}
