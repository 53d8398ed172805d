package app_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

// Sixty members press submit three times each, all at once, through the
// whole bot: 180 presses, far more than the bot's workers, racing for
// the same ballot. The storage test
// TestThousandMembersCastingThreeTimesAtOnceCountOnce casts for a
// thousand, and the bench (loadtest) for the 300 of a burst; here 300
// took 6 s of CPU under the race detector and proved nothing more.
func TestSixtyMembersVotingThreeTimesAtOnceAreCountedOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("sixty voters")
	}
	const n = 60
	h := startBot(t, harnessOpts{appOpts: []app.Option{app.WithOutboxLimits(storage.OutboxLimits{})}})
	setupBloc(t, h, "TANDTC Tòa án nhân dân tối cao")

	// The delegates of one unit, joined through real invites in
	// the bot's Redis (through the chat it would take minutes).
	ctx := context.Background()
	store := storage.NewCommittees(h.rd.Client(), storage.NewKeys(h.rd.Prefix()))
	for i := 0; i < n; i++ {
		id := int64(500000 + i)
		h.tg.AddUser(telegramtest.User{ID: id, FirstName: "Member " + strconv.Itoa(i)})
		h.tg.StartPrivate(id)
		inv, err := store.CreateInvite(ctx, "1", "TANDTC", aliceID)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.RedeemInvite(ctx, inv.Token, domain.Delegate{UserID: id, Name: "Member"}); err != nil {
			t.Fatal(err)
		}
	}
	_, payload := openBallot(t, h, "/motion Thông qua? electorate=members secret=yes")
	ballot := strings.Split(payload, "_")[2]

	// Everyone opens their ballot, then presses Submit three times at once
	// with "yes" picked (the first option: state "0").
	cards := make([]int, n)
	for i := 0; i < n; i++ {
		id := int64(500000 + i)
		cards[i] = h.tg.SendText(id, id, "/start "+payload).MessageID
	}
	h.quiet(groupID)
	var wg sync.WaitGroup
	for try := 0; try < 3; try++ {
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				id := int64(500000 + i)
				h.tg.PressButton(id, id, cards[i]+1, "bvs:1:"+ballot+":0")
			}(i)
		}
	}
	wg.Wait()
	h.waitFirst(groupID, func(m telegramtest.Message) bool { return strings.HasPrefix(m.Text, "📋") })
	res, err := storage.NewBallots(h.rd.Client(), storage.NewKeys(h.rd.Prefix())).Result(ctx, "1", ballot)
	if err != nil {
		t.Fatal(err)
	}
	if res.Turnout != n || res.Questions[0].Counts[0].Votes != n || len(res.Receipts) != n {
		t.Errorf("turnout %d, yes %d, receipts %d; want %d each", res.Turnout, res.Questions[0].Counts[0].Votes, len(res.Receipts), n)
	}
}

func TestDelegatesOfOneUnitSubmittingAtOnceCountOnce(t *testing.T) {
	t.Parallel()
	h := startBot(t, harnessOpts{})
	setupBloc(t, h, "TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước")
	ctx := context.Background()
	store := storage.NewCommittees(h.rd.Client(), storage.NewKeys(h.rd.Prefix()))
	const n = 10
	for i := 0; i < n; i++ {
		id := int64(600000 + i)
		h.tg.AddUser(telegramtest.User{ID: id, FirstName: "Delegate " + strconv.Itoa(i)})
		h.tg.StartPrivate(id)
		inv, err := store.CreateInvite(ctx, "1", "TANDTC", aliceID)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.RedeemInvite(ctx, inv.Token, domain.Delegate{UserID: id, Name: "Delegate"}); err != nil {
			t.Fatal(err)
		}
	}
	_, payload := openBallot(t, h, "/elect head")
	ballot := strings.Split(payload, "_")[2]
	cards := make([]int, n)
	for i := range cards {
		id := int64(600000 + i)
		cards[i] = h.tg.SendText(id, id, "/start "+payload).MessageID
	}
	h.quiet(groupID)
	var wg sync.WaitGroup
	for i := range cards {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := int64(600000 + i)
			h.tg.PressButton(id, id, cards[i]+1, "bvs:1:"+ballot+":0")
		}(i)
	}
	wg.Wait()
	h.quiet(groupID)
	recorded := 0
	for i := range cards {
		id := int64(600000 + i)
		if m, ok := h.tg.Message(id, cards[i]+1); ok && strings.Contains(m.Text, "Đã ghi nhận") {
			recorded++
		}
	}
	voted, err := storage.NewBallots(h.rd.Client(), storage.NewKeys(h.rd.Prefix())).Voted(ctx, "1", ballot)
	if err != nil {
		t.Fatal(err)
	}
	if recorded != 1 || len(voted) != 1 {
		t.Errorf("%d delegates were told their vote was recorded, %d units voted; want exactly one", recorded, len(voted))
	}
}
