package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

func TestCastSecretKeepsTheReceiptWithTheChoiceAndNeverWithTheVoter(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA", "BB")
	ctx := context.Background()
	b := f.openSecretMotion(t)
	sub := storage.Submission{UserID: 11, Voter: "AA", Choice: domain.Choice{"1": domain.OptYes}, Token: "query-1"}
	receipt, res, err := f.ballots.CastSecret(ctx, b, sub)
	if err != nil || receipt == "" || res.Voted != 1 || res.Again {
		t.Fatalf("CastSecret = %q, %+v, %v", receipt, res, err)
	}
	// The same update handled again: the same receipt, counted once.
	again, res, err := f.ballots.CastSecret(ctx, b, sub)
	if err != nil || again != receipt || res.Voted != 1 || !res.Again {
		t.Errorf("CastSecret again = %q, %+v, %v; want %q, counted once", again, res, err, receipt)
	}
	// Another press (another update) by the same unit is refused.
	sub.Token = "query-2"
	if _, _, err := f.ballots.CastSecret(ctx, b, sub); !errors.Is(err, domain.ErrAlreadyVoted) {
		t.Errorf("a second press = %v, want ErrAlreadyVoted", err)
	}

	choices, receipts, err := f.ballots.OpenBox(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(choices) != 1 || choices[0]["1"] != domain.OptYes || len(receipts) != 1 || receipts[0].Code != receipt || receipts[0].Choice["1"] != domain.OptYes {
		t.Errorf("OpenBox = %v, %v; want the one yes with receipt %s", choices, receipts, receipt)
	}
	// In Redis the receipt is nowhere in clear, and the voted hash holds
	// the voter with a cast id only.
	all, err := f.rt.Client().Keys(ctx, f.rt.Prefix()+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range all {
		if typ, _ := f.rt.Client().Type(ctx, k).Result(); typ != "hash" {
			continue
		}
		for field, v := range f.rt.Client().HGetAll(ctx, k).Val() {
			if strings.Contains(field, receipt) || strings.Contains(v, receipt) {
				t.Errorf("%s holds the receipt in clear: %s = %s", k, field, v)
			}
		}
	}
	voted := f.rt.Client().HGetAll(ctx, f.keys.BallotPart(f.c.ID, b.ID, "voted")).Val()
	if len(voted) != 1 || !strings.HasSuffix(voted["AA"], "|11") {
		t.Errorf("voted = %v, want AA with a cast id and the user", voted)
	}
}

func TestCastSecretAndOpenRefuseTheOtherKindAndNeedASealer(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA")
	ctx := context.Background()
	f.join(t, f.c.ID, "AA", 11)
	secret := f.openMotion(t, true, domain.ElectorateUnits, "AA")
	open := f.openMotion(t, false, domain.ElectorateUnits, "AA")
	sub := storage.Submission{UserID: 11, Voter: "AA", Name: "An", Choice: domain.Choice{"1": domain.OptNo}, Token: "q"}
	if _, _, err := f.ballots.CastSecret(ctx, open, sub); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("CastSecret on an open ballot = %v, want ErrInvalid", err)
	}
	if _, err := f.ballots.CastOpen(ctx, secret, sub); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("CastOpen on a secret ballot = %v, want ErrInvalid", err)
	}
	if _, _, err := f.ballots.OpenBox(ctx, open); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("OpenBox of an open ballot = %v, want ErrInvalid", err)
	}
	unsealed := storage.NewBallots(f.rt.Client(), f.keys)
	if _, _, err := unsealed.CastSecret(ctx, secret, sub); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("CastSecret without a sealer = %v, want ErrInvalid", err)
	}
	res, err := f.ballots.CastOpen(ctx, open, sub)
	if err != nil || res.Voted != 1 {
		t.Fatalf("CastOpen = %+v, %v", res, err)
	}
	votes, err := f.ballots.OpenVotes(ctx, f.c.ID, open.ID)
	if err != nil || len(votes) != 1 || votes[0].Name != "An" || votes[0].Choice["1"] != domain.OptNo {
		t.Errorf("OpenVotes = %+v, %v", votes, err)
	}
}

func TestOneSecondRoundPerBallotEvenAtOnce(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA", "BB")
	ctx := context.Background()
	first := f.openMotion(t, true, domain.ElectorateUnits, "AA", "BB")
	second := motion(f.c.ID, true, domain.ElectorateUnits, []string{"AA", "BB"})
	second.Parent, second.Round = first.ID, 2
	got := make([]domain.Ballot, 5)
	errs := atOnce(len(got), func(i int) error {
		var err error
		got[i], err = f.ballots.Open(ctx, second)
		return err
	})
	opened, pointed := "", map[string]bool{}
	for i, b := range got {
		switch {
		case errors.Is(errs[i], domain.ErrRunoffExists):
			pointed[b.ID] = true
		case errs[i] != nil:
			t.Error(errs[i])
		case opened != "":
			t.Errorf("two second rounds: %s and %s", opened, b.ID)
		default:
			opened = b.ID
		}
	}
	if opened == "" || len(pointed) != 1 || !pointed[opened] {
		t.Errorf("opened %q; the others were pointed at %v", opened, pointed)
	}
}

func TestCastForTheUnitTheCastFinds(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA", "BB", "CC")
	ctx := context.Background()
	f.join(t, f.c.ID, "AA", 11)
	f.join(t, f.c.ID, "CC", 31) // CC is no elector of these ballots
	for _, secret := range []bool{true, false} {
		b := f.openMotion(t, secret, domain.ElectorateUnits, "AA", "BB")
		cast := func(user int64, token string) (storage.CastResult, error) {
			sub := storage.Submission{UserID: user, Name: "Người bầu", Choice: domain.Choice{"1": domain.OptNo}, Token: token}
			if secret {
				_, res, err := f.ballots.CastSecret(ctx, b, sub)
				return res, err
			}
			return f.ballots.CastOpen(ctx, b, sub)
		}
		res, err := cast(11, "q1")
		if err != nil || res.Voter != "AA" || res.Voted != 1 {
			t.Fatalf("secret %v: cast for the unit found = %+v, %v; want AA's vote counted", secret, res, err)
		}
		if res, err := cast(31, "q2"); !errors.Is(err, domain.ErrNotEligible) || res.Voted != 0 {
			t.Errorf("secret %v: a delegate of a unit that is no elector = %+v, %v; want ErrNotEligible", secret, res, err)
		}
		if _, err := cast(99, "q3"); !errors.Is(err, domain.ErrNotEligible) {
			t.Errorf("secret %v: no delegate = %v; want ErrNotEligible", secret, err)
		}
		if secret {
			continue
		}
		v, err := f.ballots.OpenVoteOf(ctx, f.c.ID, b.ID, "AA")
		if err != nil || v.Voter != "AA" || v.UserID != 11 || v.Choice["1"] != domain.OptNo {
			t.Errorf("OpenVoteOf(AA) = %+v, %v; want the vote with its unit", v, err)
		}
		votes, err := f.ballots.OpenVotes(ctx, f.c.ID, b.ID)
		if err != nil || len(votes) != 1 || votes[0].Voter != "AA" {
			t.Errorf("OpenVotes = %+v, %v; want AA's vote", votes, err)
		}
	}
}

func TestCastWithAStaleCopyOfTheBallotReadsItAgain(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA", "BB")
	ctx := context.Background()
	f.join(t, f.c.ID, "BB", 21)
	b := f.openMotion(t, false, domain.ElectorateUnits, "AA")
	if got, err := f.ballots.ForVoting(ctx, f.c.ID, b.ID); err != nil || got.Title != b.Title {
		t.Fatalf("ForVoting = %+v, %v", got, err)
	}
	// The ballot's key comes to hold another ballot (opened at another
	// time, with BB as elector): the copy this store holds is stale.
	other := b
	other.Voters = []string{"BB"}
	other.Opened = b.Opened.Add(time.Hour)
	doc, _ := json.Marshal(other)
	key := f.keys.Ballot(f.c.ID, b.ID)
	if err := f.rt.Client().HSet(ctx, key, "doc", doc, "opened", other.Opened.UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	stale, err := f.ballots.ForVoting(ctx, f.c.ID, b.ID)
	if err != nil || len(stale.Voters) != 1 || stale.Voters[0] != "AA" {
		t.Fatalf("ForVoting = %+v, %v; want the copy held (no read)", stale, err)
	}
	res, err := f.ballots.CastOpen(ctx, stale, storage.Submission{UserID: 21, Choice: domain.Choice{"1": domain.OptYes}, Token: "q"})
	if err != nil || res.Voter != "BB" || res.Voted != 1 {
		t.Fatalf("cast with a stale copy = %+v, %v; want BB's vote by the ballot in Redis", res, err)
	}
}
