package lifecycle_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/internal/clocktest"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/scheduler"
	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// The bot on the Redis topologies of deploy/: a Sentinel-managed primary
// with replicas, and a Cluster. Each test starts its own processes on
// loopback ports (storage/redistest); they skip only where redis-server
// cannot run the mode.

// startBotOn starts the bot on rd, a topology of package redistest, with
// env naming it to the configuration (the URL's host is then ignored).
func startBotOn(t *testing.T, rd *redistest.Instance, env map[string]string, opts ...app.Option) *apptest.Harness {
	t.Helper()
	ho := apptest.Options{NoApp: true, Env: env}
	h := apptest.StartBot(t, ho)
	h.Redis = rd
	h.Cfg = h.Config(ho)
	h.Start(append([]app.Option{app.WithOutboxLimits(storage.OutboxLimits{})}, opts...)...)
	h.WaitReady()
	return h
}

// The primary dies in the middle of a burst of secret votes, holding
// votes its replicas never received (they were cut off just before). With
// redis.wait_replicas=1 a vote is acknowledged (its receipt shown) only
// once a replica holds it, so the replica the Sentinels promote has every
// acknowledged vote; a vote refused meanwhile ("not recorded, safe to
// repeat") is cast again by its voter and counts once. The bot follows
// the new primary by itself. (With wait_replicas=0 this test loses
// acknowledged votes.)
func TestSentinelFailoverMidBurstKeepsEveryAcknowledgedVote(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a Sentinel failover takes real seconds")
	}
	rs := redistest.NewSentinel(t)
	h := startBotOn(t, rs.Instance, map[string]string{
		"COMMITTEEBOT_REDIS_SENTINEL_MASTER": redistest.SentinelMasterName,
		"COMMITTEEBOT_REDIS_SENTINEL_ADDRS":  strings.Join(rs.SentinelAddrs(), ","),
		"COMMITTEEBOT_REDIS_WAIT_REPLICAS":   "1",
	},
		// A message whose sending the crash cut short goes out again soon…
		app.WithOutboxOptions(outbox.WithLease(2*time.Second)),
		// …and so does a job whose write was refused while the surviving
		// replica was not yet following the new primary (wait_replicas=1):
		// with the default backoff (5, 10, 20 s) two refusals of the
		// ballot's result job outlast the harness's wait for it.
		app.WithSchedulerOptions(scheduler.WithRetries(0, 250*time.Millisecond)))
	const n = 60
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")
	// One more member than voters, who does not vote: the ballot stays open
	// until it is closed by hand, after the burst.
	voters := addMembers(t, h, "TANDTC", 700000, n+1, "Member")[:n]
	_, payload := apptest.OpenBallot(t, h, "/motion Thông qua? electorate=members secret=yes")
	ballot := strings.Split(payload, "_")[2]
	cards := make([]telegramtest.Message, n)
	for i, id := range voters {
		cards[i] = h.WaitReply(id, h.TG.SendText(id, id, "/start "+payload).MessageID)
	}
	ctx := context.Background()
	// Everything so far is on both replicas before the burst.
	if got, err := rs.Client().Do(ctx, "WAIT", 2, 5000).Int(); err != nil || got != 2 {
		t.Fatalf("WAIT 2 before the burst = %d, %v", got, err)
	}

	// Three waves. Half the voters at once; once a quarter of the votes are
	// acknowledged the replicas are cut off and a quarter more vote; the
	// primary dies holding votes its replicas have not received; the last
	// quarter vote after the crash.
	deadline := time.Now().Add(60 * time.Second) // a guard against a hang, not the measure
	outcomes := make([]voteOutcome, n)
	var acked atomic.Int64
	quarter, cutOff, crashed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	for i, id := range voters {
		wg.Go(func() {
			switch {
			case i >= 3*n/4:
				<-crashed
			case i >= n/2:
				<-cutOff
			}
			outcomes[i] = castUntilCounted(h, id, cards[i], "bvs:1:"+ballot+":0", deadline)
			if outcomes[i].receipt != "" && acked.Add(1) == n/4 {
				close(quarter)
			}
		})
	}
	select {
	case <-quarter:
	case <-time.After(time.Until(deadline)):
		t.Fatal("the burst never got going")
	}
	cut := rs.CutOffReplicas()
	before := acked.Load()
	voted := storage.NewKeys(h.Redis.Prefix()).BallotPart("1", ballot, "voted")
	held, err := cut.Primary().HLen(ctx, voted).Result()
	if err != nil {
		t.Fatal(err)
	}
	close(cutOff)
	// Votes of the second wave that the replicas never see.
	var alone int64
	apptest.WaitFor(t, func() bool {
		got, err := cut.Primary().HLen(ctx, voted).Result()
		alone = got - held
		return err == nil && alone >= n/8
	}, h.Logs.String)
	old := cut.Crash()
	killed := time.Now()
	close(crashed)
	wg.Wait()

	// Recovery: from the crash to the first vote acknowledged for a press
	// made after it (the last wave's).
	var recovered time.Duration = -1
	refused, earlier := 0, 0
	var receipts []string
	for i, o := range outcomes {
		if o.err != nil {
			t.Errorf("voter %d: %v", voters[i], o.err)
		}
		refused += o.refused
		if o.earlier {
			earlier++
		}
		if o.receipt != "" {
			receipts = append(receipts, o.receipt)
		}
		if o.pressed.After(killed) && (recovered < 0 || o.at.Sub(killed) < recovered) {
			recovered = o.at.Sub(killed)
		}
	}
	if t.Failed() {
		t.Fatal(h.Logs.String())
	}
	primary, _ := rs.Primary(ctx)
	t.Logf("replicas cut off after %d of %d votes acknowledged; primary %s killed holding %d more votes alone; %s promoted; first vote recorded %v after the crash; %d answers \"not recorded\"; %d votes found already cast when repeated",
		before, n, old, alone, primary, recovered.Round(time.Millisecond), refused, earlier)
	if recovered < 0 {
		t.Fatal("no vote was recorded after the primary died")
	}
	if recovered > 10*time.Second {
		t.Logf("recovery took %v, more than the 10 s aimed at (a loaded machine?)", recovered)
	}

	// The topology is whole again before the close: until the surviving
	// replica follows the promoted primary (some seconds; 13 s on a loaded
	// machine), every write waits for WAIT's second and is refused
	// (wait_replicas=1), and the result's job with it. That is what the
	// votes above went through; here it would only outlast the harness's
	// wait for the result.
	for {
		n, err := rs.Client().Do(ctx, "WAIT", 1, 1000).Int()
		if err == nil && n >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replica follows the new primary: WAIT 1 = %d, %v", n, err)
		}
		if err != nil {
			time.Sleep(50 * time.Millisecond) // a connection to the dead primary, dropped
		}
	}

	// Every vote counts once; every receipt shown is in the tally once.
	// The secretary closes the ballot. A command can still meet a pooled
	// connection to the dead primary and be answered "not recorded, safe
	// to repeat" (seen once in twenty runs on a loaded machine): they
	// repeat it, as the answer says.
	confirm := h.Say(groupID, aliceID, "/close 1")
	for range 5 {
		if !strings.Contains(confirm.Text, "chưa được ghi nhận") || time.Now().After(deadline) {
			break
		}
		confirm = h.Say(groupID, aliceID, "/close 1")
	}
	result := apptest.PressCloseAndWaitResult(t, h, confirm)
	res, err := storage.NewBallots(h.Redis.Client(), storage.NewKeys(h.Redis.Prefix())).Result(ctx, "1", ballot)
	if err != nil {
		t.Fatal(err)
	}
	if res.Turnout != n || res.Questions[0].Counts[0].Votes != n || len(res.Receipts) != n {
		t.Errorf("turnout %d, yes %d, receipts %d; want %d each (result: %q)", res.Turnout, res.Questions[0].Counts[0].Votes, len(res.Receipts), n, result)
	}
	counted := map[string]int{}
	for _, r := range res.Receipts {
		counted[r.Code]++
	}
	var missing []string
	for _, rc := range receipts {
		if counted[rc] != 1 {
			missing = append(missing, fmt.Sprintf("%s×%d", rc, counted[rc]))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("acknowledged receipts not counted exactly once: %v", missing)
	}
}

// voteOutcome is how one voter's vote went.
type voteOutcome struct {
	receipt string // the receipt shown: the vote is acknowledged
	earlier bool   // "already voted": a press answered "not recorded" was kept after all
	refused int    // answers "not recorded, safe to repeat" before that
	pressed time.Time
	at      time.Time // when the press made at pressed was answered so
	err     error
}

// castUntilCounted presses voter's submit button (data) on card until the
// bot shows a receipt or says the vote was cast already (a press it had
// answered "not recorded" was kept after all), as a voter told that a
// repeat is safe would do. It gives up at deadline.
func castUntilCounted(h *apptest.Harness, voter int64, card telegramtest.Message, data string, deadline time.Time) voteOutcome {
	var o voteOutcome
	for {
		pressed := time.Now()
		qid := h.TG.PressButton(voter, voter, card.MessageID, data)
		var answer string
		if !until(deadline, func() bool {
			a, ok := h.TG.CallbackAnswer(qid)
			answer = a.Text
			return ok && a.Answered
		}) {
			o.err = fmt.Errorf("press %d never answered", o.refused+1)
			return o
		}
		switch {
		case apptest.ReceiptRE.MatchString(answer):
			o.receipt, o.pressed, o.at = apptest.ReceiptRE.FindString(answer), pressed, time.Now()
			return o
		case strings.Contains(answer, "chưa được ghi nhận"):
			o.refused++
			time.Sleep(100 * time.Millisecond) // the voter tries again
			continue
		}
		// No answer text: the card says why.
		var text string
		if !until(deadline, func() bool {
			text = apptest.Current(h, voter, card).Text
			return strings.Contains(text, "đã bỏ phiếu rồi")
		}) {
			o.err = fmt.Errorf("press %d answered %q, the ballot reads %q", o.refused+1, answer, text)
			return o
		}
		o.earlier, o.pressed, o.at = true, pressed, time.Now()
		return o
	}
}

// until polls cond every 5 ms until it holds (true) or deadline passes
// (false).
func until(deadline time.Time, cond func() bool) bool {
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// The whole bot on a three-master Cluster: every script's keys share a
// hash tag, so no command spans two slots (CROSSSLOT) and the results are
// those of a single Redis.
func TestClusterRunsCommitteeMeetingNominationAndBallot(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a Cluster takes real seconds to form")
	}
	rc := redistest.NewCluster(t)
	clock := clocktest.New(apptest.MeetingClockStart)
	h := startBotOn(t, rc.Instance, map[string]string{
		"COMMITTEEBOT_REDIS_CLUSTER_ADDRS": strings.Join(rc.Addrs(), ","),
		"COMMITTEEBOT_REMINDERS_TICK":      "20ms",
	}, app.WithClock(clock.Now))

	// Committee, invites and joins.
	apptest.BlocWithDelegates(t, h)
	h.Expect(groupID, aliceID, "/units", "BTP", "Dave")

	// A meeting and an answer to it.
	ann := apptest.CreateConference(t, h)
	apptest.Press(t, h, groupID, bobID, ann, "✅ Tham dự")
	apptest.WaitFor(t, func() bool {
		return strings.Contains(apptest.Current(h, groupID, ann).Text, "Tham dự: 1 người")
	}, h.Logs.String)
	h.Expect(groupID, daveID, "/meeting 1", "TANDTC: ✅ Bob")
	// Its first reminder, 72 hours before: a job of the scheduler, which
	// posts in the group and tells every delegate who has not declined.
	apptest.AdvanceTo(clock, apptest.At(7, 14, 0))
	for _, chat := range []int64{groupID, bobID, carolID, daveID} {
		apptest.WaitReminders(t, h, chat, 1)
	}

	// A nomination, moved on.
	h.Require(bobID, bobID, "/nominate CTD_CP | TANDTC | Dẫn đầu phong trào thi đua", "đề nghị #1")
	h.Expect(groupID, aliceID, "/nomination_status 1 under_review Hồ sơ đầy đủ", "đang xem xét")

	// A ballot: opened, cast (Dave abstains), closed by hand, its results
	// and minutes.
	_, payload := apptest.OpenBallot(t, h, "/motion Thông qua chương trình công tác?")
	apptest.CastVote(t, h, bobID, payload, "Tán thành")
	apptest.CastVote(t, h, carolID, payload, "Không tán thành")
	result := apptest.CloseAndWaitResult(t, h, "1")
	apptest.HasAll(t, "the result", result, "2/3", "Tán thành: 1", "Không tán thành: 1")
	before := len(h.TG.BotMessages(groupID))
	h.Say(groupID, daveID, "/results 1")
	apptest.WaitFor(t, func() bool {
		for _, m := range h.TG.BotMessages(groupID)[before:] {
			if d := m.Document; d != nil && strings.HasSuffix(d.FileName, ".csv") {
				return strings.Contains(string(d.Data), "Bob") && strings.Contains(string(d.Data), "Carol")
			}
		}
		return false
	}, h.Logs.String)

	// The bot's keys are on every master, not all in one slot.
	spread, err := rc.KeysPerNode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for node, n := range spread {
		if n == 0 {
			t.Errorf("no key on %s: %v", node, spread)
		}
	}
	t.Logf("keys per master: %v", spread)

	logs := h.Logs.String()
	if strings.Contains(logs, "CROSSSLOT") {
		t.Error("CROSSSLOT in the logs")
	}
	for _, line := range strings.Split(logs, "\n") {
		apptest.HasNone(t, "a log line", line, `"level":"ERROR"`)
	}
}
