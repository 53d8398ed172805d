package lifecycle_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/committeebot/committeebot/app/apptest"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/storage"
)

// Sixty members press submit three times each, all at once, through the
// whole bot: 180 presses, far more than the bot's workers, racing for
// the same ballot. The storage test
// TestHundredsOfMembersCastingThreeTimesAtOnceCountOnce casts for 300,
// and the bench (loadtest) for the 300 of a burst; here 300 took 6 s of
// CPU under the race detector and proved nothing more.
func TestSixtyMembersVotingThreeTimesAtOnceAreCountedOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("sixty voters")
	}
	const n = 60
	h := apptest.StartBot(t, apptest.Options{AppOpts: []app.Option{app.WithOutboxLimits(storage.OutboxLimits{})}})
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")

	// The delegates of one unit, joined through real invites in
	// the bot's Redis (through the chat it would take minutes).
	ids := addMembers(t, h, "TANDTC", 500000, n, "Member")
	_, payload := apptest.OpenBallot(t, h, "/motion Thông qua? electorate=members secret=yes")
	ballot := strings.Split(payload, "_")[2]

	// Everyone opens their ballot, then presses Submit three times at once
	// with "yes" picked (the first option: state "0").
	cards := openPersonalBallots(h, ids, payload)
	pressYesAtOnce(h, ids, cards, ballot, 3)
	h.WaitFirst(groupID, func(m telegramtest.Message) bool { return strings.HasPrefix(m.Text, "📋") })
	res, err := storage.NewBallots(h.Redis.Client(), storage.NewKeys(h.Redis.Prefix())).Result(context.Background(), "1", ballot)
	if err != nil {
		t.Fatal(err)
	}
	if res.Turnout != n || res.Questions[0].Counts[0].Votes != n || len(res.Receipts) != n {
		t.Errorf("turnout %d, yes %d, receipts %d; want %d each", res.Turnout, res.Questions[0].Counts[0].Votes, len(res.Receipts), n)
	}
}

func TestDelegatesOfOneUnitSubmittingAtOnceCountOnce(t *testing.T) {
	t.Parallel()
	h := apptest.StartBot(t, apptest.Options{})
	apptest.SetupBloc(t, h, "TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước")
	const n = 10
	ids := addMembers(t, h, "TANDTC", 600000, n, "Delegate")
	_, payload := apptest.OpenBallot(t, h, "/elect head")
	ballot := strings.Split(payload, "_")[2]
	cards := openPersonalBallots(h, ids, payload)
	pressYesAtOnce(h, ids, cards, ballot, 1)
	h.Quiet(groupID)
	recorded := 0
	for i, id := range ids {
		if m, ok := h.TG.Message(id, cards[i]); ok && strings.Contains(m.Text, "Đã ghi nhận") {
			recorded++
		}
	}
	voted, err := storage.NewBallots(h.Redis.Client(), storage.NewKeys(h.Redis.Prefix())).Voted(context.Background(), "1", ballot)
	if err != nil {
		t.Fatal(err)
	}
	if recorded != 1 || len(voted) != 1 {
		t.Errorf("%d delegates were told their vote was recorded, %d units voted; want exactly one", recorded, len(voted))
	}
}

// addMembers adds n people, with ids from first on and names "<name> i",
// each a delegate of unit through AddMember, and returns their ids.
func addMembers(t *testing.T, h *apptest.Harness, unit string, first int64, n int, name string) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = first + int64(i)
		apptest.AddMember(t, h, unit, telegramtest.User{ID: ids[i], FirstName: name + " " + strconv.Itoa(i)})
	}
	return ids
}

// openPersonalBallots has each of ids follow the Vote link with payload,
// all before any answer, waits until the bot is quiet and returns the id
// of each one's personal ballot: the bot's answer right after their
// /start.
func openPersonalBallots(h *apptest.Harness, ids []int64, payload string) []int {
	cards := make([]int, len(ids))
	for i, id := range ids {
		cards[i] = h.TG.SendText(id, id, "/start "+payload).MessageID + 1
	}
	h.Quiet(groupID)
	return cards
}

// pressYesAtOnce has each of ids press Submit with "yes" picked (the first
// option: state "0") on their card of ballot, times times each, all at
// once.
func pressYesAtOnce(h *apptest.Harness, ids []int64, cards []int, ballot string, times int) {
	var wg sync.WaitGroup
	for range times {
		for i, id := range ids {
			wg.Go(func() {
				h.TG.PressButton(id, id, cards[i], "bvs:1:"+ballot+":0")
			})
		}
	}
	wg.Wait()
}
