package loadtest

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/storage"
)

// Ids of the sustained load's people and groups.
const (
	sustAdminBase = 3_000_000
	sustVoterBase = 4_000_000
	sustIdleBase  = 4_900_000
	sustGroupBase = -1_009_100_000_000
	sustPrefix    = "bsust"
	sustUnit      = "SU"
)

// SustainedResult is what the sustained load measured.
type SustainedResult struct {
	Voters, Ballots int
	Setup           time.Duration
	// Elapsed from the first press until the last answer came back;
	// presses were made during the configured duration only.
	Elapsed time.Duration
	Presses int
	// Answered presses (answerCallbackQuery accepted), Recorded votes
	// (the ballots' voted hashes in Redis).
	Answered, Recorded             int
	AnsweredPerSec, RecordedPerSec float64
	// Answer: from the POST until the stand-in received
	// answerCallbackQuery; Latency: until the webhook answered.
	Answer, Latency latencies
	// CPU of the bot process (utime+stime) per recorded vote.
	CPU, CPUPerCast time.Duration
	// RedisCalls is the number of commands Redis ran meanwhile (INFO
	// commandstats, the bench's own INFO excluded; commands run by
	// scripts count too), per recorded vote.
	RedisCalls   int64
	RedisPerCast float64
	// RedisCPU is the CPU time the redis-server used meanwhile (INFO cpu),
	// RedisCPUPerCast per recorded vote.
	RedisCPU, RedisCPUPerCast time.Duration
	TopCommands               string
	// PeakRSS of the bot (VmHWM), bytes, over its whole life.
	PeakRSS   int64
	Exhausted bool // every (voter, ballot) pair was used before the end
	// TooMany 429 answers and Rejected requests at the stand-in.
	TooMany, Rejected, Failed int
	Warnings                  map[string]int
}

// sustainedCast is one press of the sustained load.
type sustainedCast struct {
	voter int64
	card  int
	data  string
}

// setupSustained builds the committees (through /setup, /unit_add and
// /motion; members through the invite scripts) and one personal ballot
// per voter.
func setupSustained(ctx context.Context, e *env, d *driver, committees *storage.Committees, admins []int64) ([][]ballotRef, []card, error) {
	cfg := e.cfg
	voters := make([]telegramtest.User, cfg.SustainedVoters)
	for i := range voters {
		voters[i] = telegramtest.User{ID: sustVoterBase + int64(i), FirstName: fmt.Sprintf("Thành viên %d", i+1)}
		e.tg.AddUser(voters[i])
	}
	refs := make([][]ballotRef, len(admins))
	err := forEach(ctx, len(admins), len(admins), func(ctx context.Context, i int) error {
		admin := admins[i]
		bl := &bloc{name: fmt.Sprintf("Khối biểu quyết số %d", i+1), group: sustGroupBase - int64(i), admins: []int64{admin}}
		e.tg.AddUser(telegramtest.User{ID: admin, FirstName: fmt.Sprintf("Thư ký %d", i+1)})
		e.tg.StartPrivate(admin)
		e.tg.AddGroup(telegramtest.Chat{ID: bl.group, Type: telegramtest.ChatSupergroup, Title: bl.name},
			telegramtest.Member{UserID: admin, Status: telegramtest.StatusAdministrator})
		if _, err := d.sayWant(ctx, bl.group, admin, "/setup "+bl.name, anyReply, bl.group); err != nil {
			return err
		}
		c, err := committees.ByChat(ctx, bl.group)
		if err != nil {
			return fmt.Errorf("/setup: %w", err)
		}
		bl.id = c.ID
		if _, err := d.sayWant(ctx, admin, admin, "/unit_add "+sustUnit+" Đơn vị biểu quyết",
			func(m telegramtest.Message) bool { return strings.Contains(m.Text, sustUnit) }, admin); err != nil {
			return err
		}
		// Every voter, and one member who never votes, so that no ballot
		// closes (and posts its result) during the run.
		idle := telegramtest.User{ID: sustIdleBase + int64(i), FirstName: "Thành viên vắng"}
		e.tg.AddUser(idle)
		if err := addMembers(ctx, committees, bl.id, sustUnit, admin, append(voters[:len(voters):len(voters)], idle)); err != nil {
			return err
		}
		for k := range cfg.SustainedBallots {
			cmd := fmt.Sprintf("/motion Câu hỏi %d của khối %d? electorate=members", k+1, i+1)
			secret := k%2 == 1
			if secret {
				cmd += " secret=yes"
			}
			ref, err := openBallot(ctx, d, bl, cmd, secret)
			if err != nil {
				return err
			}
			refs[i] = append(refs[i], ref)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("set up: %w", err)
	}
	// One personal ballot per voter: every press of the run is made on it,
	// with the data of another ballot (the data is what the bot reads).
	cards := make([]card, len(voters))
	err = forEach(ctx, len(voters), 2*maxConnections, func(ctx context.Context, j int) (err error) {
		cards[j], err = openCard(ctx, d, voters[j].ID, refs[0][0])
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("set up: %w", err)
	}
	return refs, cards, nil
}

// sustainedLoad is what driving the presses produced.
type sustainedLoad struct {
	presses   int
	exhausted bool
	failed    int
	posted    map[string]time.Time // by callback query id
	roundTrip []time.Duration
	elapsed   time.Duration
}

// driveSustained keeps Telegram's 40 connections busy, each posting the
// next press as soon as the previous one is answered, until d is up or
// the casts run out.
func driveSustained(ctx context.Context, e *env, drv *driver, casts []sustainedCast, d time.Duration) sustainedLoad {
	var (
		next atomic.Int64
		mu   sync.Mutex
		wg   sync.WaitGroup
		load = sustainedLoad{posted: map[string]time.Time{}}
	)
	start := time.Now()
	stopAt := start.Add(d)
	for range maxConnections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(stopAt) {
				i := int(next.Add(1) - 1)
				if i >= len(casts) {
					return
				}
				c := casts[i]
				q, raw := e.tg.PressButtonUpdate(c.voter, c.voter, c.card, c.data)
				dl, err := drv.deliver(ctx, raw)
				mu.Lock()
				load.posted[q] = dl.posted
				if err != nil {
					load.failed++
				} else {
					load.roundTrip = append(load.roundTrip, dl.answered.Sub(dl.posted))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	load.elapsed = time.Since(start)
	load.presses = min(int(next.Load()), len(casts))
	load.exhausted = int(next.Load()) >= len(casts)
	return load
}

func runSustained(ctx context.Context, e *env) (*SustainedResult, error) {
	cfg := e.cfg
	res := &SustainedResult{Voters: cfg.SustainedVoters, Ballots: cfg.SustainedCommittees * cfg.SustainedBallots}
	var admins []int64
	for i := range cfg.SustainedCommittees {
		admins = append(admins, sustAdminBase+int64(i))
	}
	b, d, err := e.startBotWithDriver(ctx, "sustained", sustPrefix, admins)
	if err != nil {
		return nil, err
	}
	defer d.close()
	keys := storage.NewKeys(sustPrefix)

	began := time.Now()
	e.log.Info("sustained: setting up", "committees", cfg.SustainedCommittees, "ballots", res.Ballots, "voters", cfg.SustainedVoters)
	refs, cards, err := setupSustained(ctx, e, d, storage.NewCommittees(e.rdb, keys), admins)
	if err != nil {
		return nil, err
	}
	res.Setup = time.Since(began)
	e.log.Info("sustained: set up", "took", res.Setup.Round(time.Second))

	// Ballot after ballot, every voter in turn: the same voter comes back
	// only after all the others.
	var casts []sustainedCast
	var votedKeys []string
	for _, rs := range refs {
		for _, ref := range rs {
			votedKeys = append(votedKeys, keys.BallotPart(ref.committee, ref.id, "voted"))
			for _, c := range cards {
				picks := c.submit[strings.LastIndexByte(c.submit, ':')+1:]
				casts = append(casts, sustainedCast{voter: c.voter, card: c.message,
					data: fmt.Sprintf("bvs:%s:%s:%s", ref.committee, ref.id, picks)})
			}
		}
	}
	before, err := hlenSum(ctx, e.rdb, votedKeys)
	if err != nil {
		return nil, err
	}
	cpu0, err := b.cpu()
	if err != nil {
		return nil, err
	}
	calls0, err := commandCalls(ctx, e.rdb)
	if err != nil {
		return nil, err
	}
	rcpu0, err := redisCPU(ctx, e.rdb)
	if err != nil {
		return nil, err
	}
	reqStart := e.tg.RequestCount()
	start := time.Now()

	load := driveSustained(ctx, e, d, casts, cfg.Duration)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sustained: %w", err)
	}
	res.Elapsed, res.Presses, res.Exhausted, res.Failed = load.elapsed, load.presses, load.exhausted, load.failed
	// A bot that queues its messages answers after its webhook did: wait
	// (bounded) for the answer to every press.
	if last := waitAnswers(ctx, e.tg, reqStart, load.posted); last.Sub(start) > res.Elapsed {
		res.Elapsed = last.Sub(start)
	}

	cpu1, err := b.cpu()
	if err != nil {
		return nil, err
	}
	calls1, err := commandCalls(ctx, e.rdb)
	if err != nil {
		return nil, err
	}
	rcpu1, err := redisCPU(ctx, e.rdb)
	if err != nil {
		return nil, err
	}
	after, err := hlenSum(ctx, e.rdb, votedKeys)
	if err != nil {
		return nil, err
	}
	res.Recorded = after - before
	res.CPU = cpu1 - cpu0
	res.RedisCPU = rcpu1 - rcpu0
	var top []string
	for cmd, n := range calls1 {
		if cmd == "info" {
			continue
		}
		if delta := n - calls0[cmd]; delta > 0 {
			res.RedisCalls += delta
			top = append(top, fmt.Sprintf("%s %d", cmd, delta))
		}
	}
	sort.Slice(top, func(i, j int) bool { return lastInt(top[i]) > lastInt(top[j]) })
	res.TopCommands = strings.Join(top[:min(len(top), 6)], ", ")
	if res.PeakRSS, err = b.peakRSS(); err != nil {
		return nil, err
	}
	reqs := e.tg.RequestsFrom(reqStart)
	var answer []time.Duration
	for q, at := range answerTimes(reqs) {
		if posted, ok := load.posted[q]; ok {
			res.Answered++
			answer = append(answer, at.Sub(posted))
		}
	}
	res.Answer, res.Latency = summarize(answer), summarize(load.roundTrip)
	tr := measureTraffic(reqs)
	res.TooMany, res.Rejected = tr.TooMany, tr.Rejected
	if s := res.Elapsed.Seconds(); s > 0 {
		res.AnsweredPerSec, res.RecordedPerSec = float64(res.Answered)/s, float64(res.Recorded)/s
	}
	if res.Recorded > 0 {
		res.CPUPerCast = res.CPU / time.Duration(res.Recorded)
		res.RedisPerCast = float64(res.RedisCalls) / float64(res.Recorded)
		res.RedisCPUPerCast = res.RedisCPU / time.Duration(res.Recorded)
	}
	b.stop(syscall.SIGTERM, stopGrace)
	res.Warnings = logCounts(b.logPath)
	res.write(cfg.Out)
	return res, nil
}

// waitAnswers waits until every query has been answered, or no answer
// came for 15 s, or two minutes passed; it returns when the last answer
// arrived.
func waitAnswers(ctx context.Context, tg *telegramtest.Server, from int, queries map[string]time.Time) time.Time {
	var last time.Time
	seen := 0
	progress := time.Now()
	deadline := time.Now().Add(2 * time.Minute)
	for seen < len(queries) && ctx.Err() == nil && time.Now().Before(deadline) && time.Since(progress) < 15*time.Second {
		reqs := tg.RequestsFrom(from)
		from += len(reqs)
		for _, r := range reqs {
			if _, ours := queries[r.Params["callback_query_id"]]; ours && r.Method == "answerCallbackQuery" && r.Status == 200 {
				seen++
				progress = time.Now()
				if r.Time.After(last) {
					last = r.Time
				}
			}
		}
		if seen < len(queries) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	return last
}

func lastInt(s string) int {
	var n int
	_, _ = fmt.Sscanf(s[strings.LastIndexByte(s, ' ')+1:], "%d", &n)
	return n
}

func (r *SustainedResult) write(w io.Writer) {
	fmt.Fprintf(w, "## sustained: %d voters, %d ballots (electorate=members), 40 connections for %s\n\n", r.Voters, r.Ballots, secs(r.Elapsed))
	fmt.Fprintf(w, "Set-up took %s.", secs(r.Setup))
	if r.Exhausted {
		fmt.Fprint(w, " Every (voter, ballot) pair was used before the time was up: raise --sustained-voters.")
	}
	fmt.Fprint(w, "\n\n")
	t := newTable("measure", "value")
	t.add("presses / answered / recorded", fmt.Sprintf("%d / %d / %d", r.Presses, r.Answered, r.Recorded))
	t.add("casts recorded per second", fmt.Sprintf("%.0f", r.RecordedPerSec))
	t.add("casts answered per second", fmt.Sprintf("%.0f", r.AnsweredPerSec))
	t.add("button answer after the POST: p50 / p99 / max", fmt.Sprintf("%s / %s / %s", ms(r.Answer.P50), ms(r.Answer.P99), ms(r.Answer.Max)))
	t.add("webhook round trip: p50 / p99 / max", fmt.Sprintf("%s / %s / %s", ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.Max)))
	t.add("bot CPU per recorded cast", fmt.Sprintf("%s (%s in all)", ms(r.CPUPerCast), ms(r.CPU)))
	t.add("Redis commands per recorded cast (those run by scripts included)", fmt.Sprintf("%.1f (%d in all)", r.RedisPerCast, r.RedisCalls))
	t.add("Redis CPU per recorded cast", fmt.Sprintf("%.0f µs (%s in all)", float64(r.RedisCPUPerCast)/float64(time.Microsecond), ms(r.RedisCPU)))
	t.add("most frequent Redis commands", r.TopCommands)
	t.add("bot peak RSS (VmHWM)", fmt.Sprintf("%.1f MiB", float64(r.PeakRSS)/(1<<20)))
	t.add("429 answers / rejected requests / failed deliveries", fmt.Sprintf("%d / %d / %d", r.TooMany, r.Rejected, r.Failed))
	t.write(w)
	fmt.Fprintf(w, "\nBot warnings: %s\n\n", formatCounts(r.Warnings))
}
