package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/storage"
)

// maxUnitsPerBloc bounds a burst committee so that its group stays within
// Telegram's 20 messages a minute while it is set up and votes: /setup,
// the second admin's /status, one notice per delegate joining, the
// ballot's post and its result.
const maxUnitsPerBloc = 15

// Ids of the burst's people and groups.
const (
	burstAdminBase = 1_100_000
	burstVoterBase = 2_000_000
	burstGroupBase = -1_009_000_000_000
	burstPrefix    = "bburst"
)

// BurstResult is what the burst measured.
type BurstResult struct {
	Voters, Committees int
	Setup              time.Duration
	// Presses were made over PressWindow (first to last press).
	Presses     int
	PressWindow time.Duration
	// Counted votes in Redis (the ballots' voted hashes), Stored entries
	// in their ballot boxes (sealed ballots, or open votes), Tallied
	// turnout of the results saved when the ballots closed.
	Counted, Stored, Tallied int
	Lost, Doubled            int
	// AllCounted: from the first press until Redis held every vote
	// (polled every 10 ms); zero if it never did. AfterLast counts from
	// the last press.
	AllCounted, AfterLast time.Duration
	// AnswerFromPost: from the POST of the update until the stand-in
	// received answerCallbackQuery; AnswerFromPress also counts the wait
	// for one of Telegram's 40 connections.
	AnswerFromPost, AnswerFromPress latencies
	Unanswered                      int
	// Receipts: edits of the personal ballots into the receipt, accepted;
	// AllReceipts from the first press until the last of them.
	Receipts    int
	AllReceipts time.Duration
	// Messages sent (accepted) meanwhile: the results in the groups.
	Messages int
	// Floor is the least time Telegram's 30 messages a second allow for
	// Receipts+Messages, were edits counted like messages.
	Floor time.Duration
	// TooMany 429 answers and Rejected requests at the stand-in, failed
	// deliveries (after Telegram-like retries).
	TooMany, Rejected, Failed int
	Warnings                  map[string]int
}

// burstVote is one press and what came of it.
type burstVote struct {
	card   card
	ballot ballotRef
	query  string
	press  time.Time
	dl     delivery
	err    error
}

// planBurst spreads the voters over the committees; a committee with
// more than one unit gets a second admin.
func planBurst(cfg Config) (plans []blocPlan, admins []int64) {
	for i := range cfg.Committees {
		n := cfg.Voters / cfg.Committees
		if i < cfg.Voters%cfg.Committees {
			n++
		}
		p := blocPlan{
			name:      fmt.Sprintf("Khối thi đua số %d", i+1),
			group:     burstGroupBase - int64(i),
			units:     n,
			voterBase: burstVoterBase + int64(i)*1000,
			admins:    []int64{burstAdminBase + int64(i)*10},
		}
		if n > 1 {
			p.admins = append(p.admins, burstAdminBase+int64(i)*10+1)
		}
		admins = append(admins, p.admins...)
		plans = append(plans, p)
	}
	return plans, admins
}

// setupBurst builds every committee at once through the bot's commands,
// opens its ballot (a secret election in even committees, an open motion
// in odd ones) and every voter's personal ballot.
func setupBurst(ctx context.Context, d *driver, committees *storage.Committees, plans []blocPlan) ([]*bloc, []ballotRef, [][]card, error) {
	blocs := make([]*bloc, len(plans))
	refs := make([]ballotRef, len(plans))
	cards := make([][]card, len(plans))
	err := forEach(ctx, len(plans), len(plans), func(ctx context.Context, i int) error {
		bl, err := setupBloc(ctx, d, committees, plans[i])
		if err != nil {
			return err
		}
		blocs[i] = bl
		cmd, secret := "/elect head", true
		if i%2 == 1 {
			cmd, secret = fmt.Sprintf("/motion Thông qua kế hoạch công tác năm của khối %d?", i+1), false
		}
		if refs[i], err = openBallot(ctx, d, bl, cmd, secret); err != nil {
			return err
		}
		cards[i] = make([]card, len(bl.voters))
		return forEach(ctx, len(bl.voters), len(bl.voters), func(ctx context.Context, j int) (err error) {
			cards[i][j], err = openCard(ctx, d, bl.voters[j], refs[i])
			return err
		})
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("set up: %w", err)
	}
	return blocs, refs, cards, nil
}

func runBurst(ctx context.Context, e *env) (*BurstResult, error) {
	cfg := e.cfg
	res := &BurstResult{Voters: cfg.Voters, Committees: cfg.Committees}
	plans, admins := planBurst(cfg)
	b, d, err := e.startBotWithDriver(ctx, "burst", burstPrefix, admins)
	if err != nil {
		return nil, err
	}
	defer d.close()
	keys := storage.NewKeys(burstPrefix)

	began := time.Now()
	e.log.Info("burst: setting up", "committees", cfg.Committees, "voters", cfg.Voters)
	blocs, refs, cards, err := setupBurst(ctx, d, storage.NewCommittees(e.rdb, keys), plans)
	if err != nil {
		return nil, err
	}
	res.Setup = time.Since(began)
	e.log.Info("burst: set up", "took", res.Setup.Round(time.Second))

	// The burst: every voter presses submit, spread over the window.
	var votes []*burstVote
	var votedKeys, boxKeys []string
	for i, ref := range refs {
		votedKeys = append(votedKeys, keys.BallotPart(ref.committee, ref.id, "voted"))
		part := "votes"
		if ref.secret {
			part = "box"
		}
		boxKeys = append(boxKeys, keys.BallotPart(ref.committee, ref.id, part))
		for _, c := range cards[i] {
			votes = append(votes, &burstVote{card: c, ballot: ref})
		}
	}
	// Interleave committees, as real voters would be.
	votes = interleave(votes)
	res.Presses = len(votes)
	reqStart := e.tg.RequestCount()
	start := time.Now().Add(50 * time.Millisecond)
	step := cfg.PressWindow / time.Duration(max(1, len(votes)-1))
	countedc := make(chan time.Time, 1)
	pollCtx, stopPoll := context.WithTimeout(ctx, 2*time.Minute)
	defer stopPoll()
	go func() {
		for {
			n, err := hlenSum(pollCtx, e.rdb, votedKeys)
			if err == nil && n >= len(votes) {
				countedc <- time.Now()
				return
			}
			select {
			case <-pollCtx.Done():
				countedc <- time.Time{}
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	for i, v := range votes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(time.Until(start.Add(time.Duration(i) * step))):
			case <-ctx.Done():
				v.err = ctx.Err()
				return
			}
			v.press = time.Now()
			var raw []byte
			v.query, raw = e.tg.PressButtonUpdate(v.card.voter, v.card.voter, v.card.message, v.card.submit)
			v.dl, v.err = d.deliver(ctx, raw)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("burst: %w", err)
	}
	res.PressWindow = votes[len(votes)-1].press.Sub(votes[0].press)
	if t := <-countedc; !t.IsZero() {
		res.AllCounted = t.Sub(votes[0].press)
		res.AfterLast = t.Sub(votes[len(votes)-1].press)
	}
	e.log.Info("burst: presses delivered", "counted_after", res.AllCounted.Round(time.Millisecond))

	// Wait (bounded) for every answer, receipt edit and result post.
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		reqs := e.tg.RequestsFrom(reqStart)
		if len(receiptTimes(reqs)) >= len(votes) && len(answerTimes(reqs)) >= len(votes) && countResults(e.tg, blocs) >= len(blocs) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500*time.Millisecond + floorFor(len(votes))/10) // anything late (a duplicate) lands now

	reqs := e.tg.RequestsFrom(reqStart)
	answers := answerTimes(reqs)
	var fromPost, fromPress []time.Duration
	for _, v := range votes {
		if v.err != nil {
			res.Failed++
		}
		at, ok := answers[v.query]
		if !ok {
			res.Unanswered++
			continue
		}
		fromPost = append(fromPost, at.Sub(v.dl.posted))
		fromPress = append(fromPress, at.Sub(v.press))
	}
	res.AnswerFromPost, res.AnswerFromPress = summarize(fromPost), summarize(fromPress)
	receipts := receiptTimes(reqs)
	for _, v := range votes {
		if at, ok := receipts[v.card.voter]; ok {
			res.Receipts++
			res.AllReceipts = max(res.AllReceipts, at.Sub(votes[0].press))
		}
	}
	tr := measureTraffic(reqs)
	res.Messages, res.TooMany, res.Rejected = tr.Accepted, tr.TooMany, tr.Rejected
	res.Floor = floorFor(res.Receipts + res.Messages)

	if res.Counted, err = hlenSum(ctx, e.rdb, votedKeys); err != nil {
		return nil, err
	}
	if res.Stored, err = hlenSum(ctx, e.rdb, boxKeys); err != nil {
		return nil, err
	}
	ballots := storage.NewBallots(e.rdb, keys)
	for _, ref := range refs {
		if r, err := ballots.Result(ctx, ref.committee, ref.id); err == nil {
			res.Tallied += r.Turnout
		}
	}
	res.Lost = max(0, res.Presses-res.Counted)
	res.Doubled = max(0, res.Stored-res.Counted, res.Tallied-res.Counted)
	b.stop(syscall.SIGTERM, stopGrace)
	res.Warnings = logCounts(b.logPath)
	res.write(e.cfg.Out)
	return res, nil
}

// receiptTimes is when the first edit of a message in each private chat
// was accepted: in the burst, the receipt replacing the personal ballot.
func receiptTimes(reqs []telegramtest.Request) map[int64]time.Time {
	out := map[int64]time.Time{}
	for _, r := range reqs {
		if r.Method != "editMessageText" || r.Status != 200 {
			continue
		}
		if chat, err := strconv.ParseInt(r.Params["chat_id"], 10, 64); err == nil && chat > 0 {
			if _, seen := out[chat]; !seen {
				out[chat] = r.Time
			}
		}
	}
	return out
}

// answerTimes is when each callback query was answered.
func answerTimes(reqs []telegramtest.Request) map[string]time.Time {
	out := map[string]time.Time{}
	for _, r := range reqs {
		if r.Method == "answerCallbackQuery" && r.Status == 200 {
			out[r.Params["callback_query_id"]] = r.Time
		}
	}
	return out
}

// countResults counts the result posts (📋) in the committees' groups.
func countResults(tg *telegramtest.Server, blocs []*bloc) int {
	n := 0
	for _, b := range blocs {
		for _, m := range tg.BotMessages(b.group) {
			if strings.HasPrefix(m.Text, "📋") {
				n++
			}
		}
	}
	return n
}

// interleave orders votes round robin over the committees they were
// grouped by.
func interleave(votes []*burstVote) []*burstVote {
	by := map[string][]*burstVote{}
	var order []string
	for _, v := range votes {
		k := v.ballot.committee + "/" + v.ballot.id
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], v)
	}
	out := make([]*burstVote, 0, len(votes))
	for i := 0; len(out) < len(votes); i++ {
		for _, k := range order {
			if i < len(by[k]) {
				out = append(out, by[k][i])
			}
		}
	}
	return out
}

func (r *BurstResult) write(w io.Writer) {
	fmt.Fprintf(w, "## burst: %d voters in %d committees press submit within %s\n\n", r.Presses, r.Committees, secs(r.PressWindow))
	fmt.Fprintf(w, "Set-up through the bot's commands took %s.\n\n", secs(r.Setup))
	t := newTable("measure", "value")
	counted := "never (2 min)"
	if r.AllCounted > 0 {
		counted = fmt.Sprintf("%s (%s after the last press)", ms(r.AllCounted), ms(r.AfterLast))
	}
	t.add("first press → every vote counted (Redis, polled every 10 ms)", counted)
	t.add("button answer after the POST: p50 / p99 / max", fmt.Sprintf("%s / %s / %s", ms(r.AnswerFromPost.P50), ms(r.AnswerFromPost.P99), ms(r.AnswerFromPost.Max)))
	t.add("button answer after the press (incl. Telegram's 40 connections): p50 / p99 / max", fmt.Sprintf("%s / %s / %s", ms(r.AnswerFromPress.P50), ms(r.AnswerFromPress.P99), ms(r.AnswerFromPress.Max)))
	t.add("presses never answered", r.Unanswered)
	t.add("first press → last receipt edit delivered", fmt.Sprintf("%s (%d receipts)", secs(r.AllReceipts), r.Receipts))
	t.add("least time Telegram's 30 msg/s allow for receipts + messages", fmt.Sprintf("%s (%d + %d)", secs(r.Floor), r.Receipts, r.Messages))
	t.add("429 answers at the stand-in", r.TooMany)
	t.add("presses / votes counted / in ballot boxes / tallied at close", fmt.Sprintf("%d / %d / %d / %d", r.Presses, r.Counted, r.Stored, r.Tallied))
	t.add("lost / doubled votes", fmt.Sprintf("%d / %d", r.Lost, r.Doubled))
	t.add("failed deliveries / rejected requests", fmt.Sprintf("%d / %d", r.Failed, r.Rejected))
	t.write(w)
	fmt.Fprintf(w, "\nBot warnings: %s\n\n", formatCounts(r.Warnings))
}

// forEach runs f for 0..n-1 with at most par at once and returns the
// errors joined; the first error cancels the others.
func forEach(ctx context.Context, n, par int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, max(1, par))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(ctx, i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	if len(errs) == 0 && ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Join(errs...)
}
