package storage_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

type ballotFixture struct {
	*committees
	ballots *storage.Ballots
	sealer  *storage.Sealer
	c       domain.Committee
}

// newBallotFixture makes a committee with the given units, and the ballot
// store beside it, over the package's test Redis.
func newBallotFixture(t *testing.T, units ...string) *ballotFixture {
	t.Helper()
	return newBallotFixtureOn(t, redistest.New(t), units...)
}

// newBallotFixtureOn is newBallotFixture over rt, for tests that need a
// server of their own.
func newBallotFixtureOn(t *testing.T, rt *redistest.Instance, units ...string) *ballotFixture {
	t.Helper()
	k := storage.NewKeys(rt.Prefix())
	clk := newClock()
	cs := &committees{Committees: storage.NewCommittees(rt.Client(), k, storage.WithClock(clk.Now)), rt: rt, keys: k, clock: clk}
	sealer, err := storage.NewSealer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return &ballotFixture{
		committees: cs,
		ballots:    storage.NewBallots(rt.Client(), k, storage.WithClock(clk.Now), storage.WithSealer(sealer)),
		sealer:     sealer,
		c:          cs.create(t, -100, "Khối", units...),
	}
}

func motion(committee string, secret bool, electorate string, voters []string) domain.Ballot {
	return domain.Ballot{
		Committee: committee, Kind: domain.KindMotion, Title: "Thông qua chương trình", Secret: secret,
		Electorate: electorate, Voters: voters, Quorum: domain.TwoThirds(),
		Questions: []domain.Question{{ID: "1", Text: "Thông qua chương trình?", Options: []domain.Option{{Key: domain.OptYes}, {Key: domain.OptNo}, {Key: domain.OptAbstain}}}},
	}
}

// openSecretMotion joins delegate 11 for AA and 21 for BB and opens a
// secret motion in which each unit has a vote (the fixture has units AA
// and BB).
func (f *ballotFixture) openSecretMotion(t *testing.T) domain.Ballot {
	t.Helper()
	f.join(t, f.c.ID, "AA", 11)
	f.join(t, f.c.ID, "BB", 21)
	return f.openMotion(t, true, domain.ElectorateUnits, "AA", "BB")
}

// openMotion opens a motion of the fixture's committee, failing the test
// on error.
func (f *ballotFixture) openMotion(t *testing.T, secret bool, electorate string, voters ...string) domain.Ballot {
	t.Helper()
	b, err := f.ballots.Open(context.Background(), motion(f.c.ID, secret, electorate, voters))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return b
}

// secretCast seals a choice with a receipt, as the handler does.
func (f *ballotFixture) secretCast(t *testing.T, b domain.Ballot, user int64, voter, choice string) (storage.Cast, string) {
	t.Helper()
	receipt, _ := storage.NewReceipt()
	castID, _ := storage.NewCastID()
	raw, _ := json.Marshal(map[string]any{"receipt": receipt, "choice": domain.Choice{"1": choice}})
	sealed, err := f.sealer.Seal(b.Committee+"/"+b.ID, raw)
	if err != nil {
		t.Fatal(err)
	}
	return storage.Cast{UserID: user, Voter: voter, CastID: castID, Sealed: sealed}, receipt
}

func TestCastRefusesWhatIsNotAVote(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA", "BB", "CC")
	ctx := context.Background()
	f.join(t, f.c.ID, "AA", 11)
	f.join(t, f.c.ID, "AA", 12)
	f.join(t, f.c.ID, "BB", 21)
	b, err := f.ballots.Open(ctx, func() domain.Ballot {
		b := motion(f.c.ID, true, domain.ElectorateUnits, []string{"AA", "BB"})
		b.Deadline = f.clock.Now().Add(time.Hour)
		return b
	}())
	if err != nil {
		t.Fatal(err)
	}

	cast, _ := f.secretCast(t, b, 11, "AA", domain.OptYes)
	if _, err := f.ballots.Cast(ctx, b, cast); err != nil {
		t.Fatalf("first cast: %v", err)
	}
	// A retry of the very same cast is not a second vote.
	if r, err := f.ballots.Cast(ctx, b, cast); err != nil || r.Voted != 1 {
		t.Errorf("retried cast: %+v, %v; want counted once", r, err)
	}
	tests := []struct {
		name  string
		user  int64
		voter string
		want  error
	}{
		{"the unit's second delegate", 12, "AA", domain.ErrAlreadyVoted},
		{"a delegate voting for another unit", 21, "AA", domain.ErrNotEligible},
		{"a unit outside the electorate", 21, "CC", domain.ErrNotEligible},
		{"a non-member", 99, "BB", domain.ErrNotEligible},
	}
	for _, tt := range tests {
		c, _ := f.secretCast(t, b, tt.user, tt.voter, domain.OptNo)
		if _, err := f.ballots.Cast(ctx, b, c); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	// One second after the deadline, even before anyone closed it.
	f.clock.Advance(time.Hour + time.Second)
	c, _ := f.secretCast(t, b, 21, "BB", domain.OptNo)
	if _, err := f.ballots.Cast(ctx, b, c); !errors.Is(err, domain.ErrDeadlinePassed) {
		t.Errorf("after the deadline: err = %v, want ErrDeadlinePassed", err)
	}
	if closed, err := f.ballots.Close(ctx, f.c.ID, b.ID); err != nil || !closed {
		t.Fatalf("Close = %v, %v", closed, err)
	}
	if closed, err := f.ballots.Close(ctx, f.c.ID, b.ID); err != nil || closed {
		t.Errorf("second Close = %v, %v; want false", closed, err)
	}
	if _, err := f.ballots.Cast(ctx, b, c); !errors.Is(err, domain.ErrBallotClosed) {
		t.Errorf("after close: err = %v, want ErrBallotClosed", err)
	}
	box, _ := f.ballots.Box(ctx, f.c.ID, b.ID)
	if len(box) != 1 {
		t.Errorf("box holds %d ballots, want 1", len(box))
	}
}

func TestRemovedDelegateCannotVote(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA", "BB")
	ctx := context.Background()
	f.join(t, f.c.ID, "AA", 11)
	b := f.openMotion(t, true, domain.ElectorateUnits, "AA", "BB")
	if _, err := f.RemoveDelegate(ctx, f.c.ID, 11, 11); err != nil {
		t.Fatal(err)
	}
	c, _ := f.secretCast(t, b, 11, "AA", domain.OptYes)
	if _, err := f.ballots.Cast(ctx, b, c); !errors.Is(err, domain.ErrNotEligible) {
		t.Errorf("removed delegate: err = %v, want ErrNotEligible", err)
	}
}

func TestOpenVotesCanBeChangedByTheirVoterOnly(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA", "BB")
	ctx := context.Background()
	f.join(t, f.c.ID, "AA", 11)
	f.join(t, f.c.ID, "AA", 12)
	b := f.openMotion(t, false, domain.ElectorateUnits, "AA", "BB")
	vote := func(user int64, choice string) error {
		id, _ := storage.NewCastID()
		_, err := f.ballots.Cast(ctx, b, storage.Cast{UserID: user, Voter: "AA", CastID: id,
			Vote: &domain.OpenVote{Voter: "AA", UserID: user, Choice: domain.Choice{"1": choice}}})
		return err
	}
	if err := vote(11, domain.OptYes); err != nil {
		t.Fatal(err)
	}
	if err := vote(11, domain.OptNo); err != nil {
		t.Errorf("changing an open vote: %v", err)
	}
	if err := vote(12, domain.OptYes); !errors.Is(err, domain.ErrAlreadyVoted) {
		t.Errorf("the unit's other delegate: err = %v, want ErrAlreadyVoted", err)
	}
	votes, _ := f.ballots.OpenVotes(ctx, f.c.ID, b.ID)
	if len(votes) != 1 || votes[0].Choice["1"] != domain.OptNo {
		t.Errorf("open votes = %+v, want AA: no", votes)
	}
}

// Three hundred members cast three times each, all at once: 900 casts
// racing for one ballot, as many as the race needs (a thousand cost
// 3 s of CPU under the race detector; 7 s while each invite still
// scanned all of the committee's invites).
func TestHundredsOfMembersCastingThreeTimesAtOnceCountOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("three hundred voters")
	}
	f := newBallotFixture(t, "AA")
	ctx := context.Background()
	const n = 300
	var voters []string
	for i := 0; i < n; i++ {
		f.join(t, f.c.ID, "AA", int64(10000+i))
		voters = append(voters, strconv.Itoa(10000+i))
	}
	b := f.openMotion(t, true, domain.ElectorateMembers, voters...)
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		for try := 0; try < 3; try++ {
			wg.Add(1)
			go func(user int64) {
				defer wg.Done()
				c, _ := f.secretCast(t, b, user, strconv.FormatInt(user, 10), domain.OptYes)
				_, err := f.ballots.Cast(ctx, b, c)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, domain.ErrAlreadyVoted):
					refused.Add(1)
				default:
					t.Errorf("cast: %v", err)
				}
			}(int64(10000 + i))
		}
	}
	wg.Wait()
	box, _ := f.ballots.Box(ctx, f.c.ID, b.ID)
	voted, _ := f.ballots.Voted(ctx, f.c.ID, b.ID)
	if ok.Load() != n || refused.Load() != 2*n || len(box) != n || len(voted) != n {
		t.Errorf("ok %d, refused %d, box %d, voted %d; want %d, %d, %d, %d", ok.Load(), refused.Load(), len(box), len(voted), n, 2*n, n, n)
	}
}

func TestDelegatesOfOneUnitVotingAtOnceCountOnce(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA", "BB")
	ctx := context.Background()
	for i := int64(0); i < 10; i++ {
		f.join(t, f.c.ID, "AA", 100+i)
	}
	b := f.openMotion(t, true, domain.ElectorateUnits, "AA", "BB")
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := int64(0); i < 10; i++ {
		wg.Add(1)
		go func(user int64) {
			defer wg.Done()
			c, _ := f.secretCast(t, b, user, "AA", domain.OptYes)
			if _, err := f.ballots.Cast(ctx, b, c); err == nil {
				ok.Add(1)
			}
		}(100 + i)
	}
	wg.Wait()
	box, _ := f.ballots.Box(ctx, f.c.ID, b.ID)
	if ok.Load() != 1 || len(box) != 1 {
		t.Errorf("%d casts accepted, box %d; want exactly one", ok.Load(), len(box))
	}
}

func TestSecretBallotLeavesNoVoterNextToAChoice(t *testing.T) {
	t.Parallel()
	rt := redistest.New(t, redistest.WithAppendOnly())
	f := newBallotFixtureOn(t, rt, "AA", "BB", "CC")
	ctx := context.Background()
	users := map[string]int64{"AA": 7001, "BB": 7002, "CC": 7003}
	for u, id := range users {
		f.join(t, f.c.ID, u, id)
	}
	b := f.openMotion(t, true, domain.ElectorateUnits, "AA", "BB", "CC")
	choices := map[string]string{"AA": domain.OptYes, "BB": domain.OptNo, "CC": domain.OptAbstain}
	for u, choice := range choices {
		c, _ := f.secretCast(t, b, users[u], u, choice)
		if _, err := f.ballots.Cast(ctx, b, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.ballots.Close(ctx, f.c.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	// Every key and value in Redis…
	var dump strings.Builder
	cli := rt.Client()
	keys, err := cli.Keys(ctx, rt.Prefix()+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		dump.WriteString(k + "\n")
		switch typ, _ := cli.Type(ctx, k).Result(); typ {
		case "hash":
			for f, v := range cli.HGetAll(ctx, k).Val() {
				dump.WriteString(f + "=" + v + "\n")
			}
		case "string":
			dump.WriteString(cli.Get(ctx, k).Val() + "\n")
		case "set":
			dump.WriteString(strings.Join(cli.SMembers(ctx, k).Val(), ",") + "\n")
		}
	}
	// …and the append-only file.
	if err := cli.Do(ctx, "BGREWRITEAOF").Err(); err != nil && !strings.Contains(err.Error(), "already") {
		t.Logf("BGREWRITEAOF: %v", err)
	}
	records := strings.Split(dump.String(), "\n")
	records = append(records, aofCommands(readAll(t, rt.Dir()))...)
	userIDs := []string{"7001", "7002", "7003"}
	checked := 0
	for _, rec := range records {
		hasChoice := false
		for _, choice := range []string{domain.OptYes, domain.OptNo, domain.OptAbstain} {
			if strings.Contains(rec, `"`+choice+`"`) || strings.Contains(rec, "\x00"+choice) {
				hasChoice = true
			}
		}
		hasUser := false
		for _, id := range userIDs {
			if strings.Contains(rec, id) {
				hasUser = true
			}
		}
		if strings.Contains(rec, `"Questions"`) {
			// The ballot itself: its options are public, and it names no
			// person.
			if hasUser {
				t.Errorf("the ballot record names a voter: %.200s", rec)
			}
			continue
		}
		if hasUser {
			checked++
		}
		if hasChoice {
			t.Errorf("a choice is readable in Redis or its AOF: %.200s", rec)
		}
	}
	if checked == 0 {
		t.Error("no record names a voter; is the dump complete?")
	}
}

// aofCommands splits RESP commands out of AOF text, one string per
// command with its arguments joined by NUL.
func aofCommands(aof string) []string {
	var cmds []string
	var cur []string
	lines := strings.Split(aof, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSuffix(lines[i], "\r")
		switch {
		case strings.HasPrefix(l, "*"):
			if len(cur) > 0 {
				cmds = append(cmds, strings.Join(cur, "\x00"))
			}
			cur = nil
		case strings.HasPrefix(l, "$") && i+1 < len(lines):
			i++
			cur = append(cur, strings.TrimSuffix(lines[i], "\r"))
		}
	}
	if len(cur) > 0 {
		cmds = append(cmds, strings.Join(cur, "\x00"))
	}
	return cmds
}

// readAll concatenates every file under dir (the AOF may be split).
func readAll(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.HasSuffix(path, ".log") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return nil
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		return nil
	})
	if b.Len() == 0 {
		t.Fatal("no AOF data found")
	}
	return b.String()
}

func TestSealerRoundTripAndBinding(t *testing.T) {
	t.Parallel()
	s, _ := storage.NewSealer([]byte(strings.Repeat("x", 32)))
	sealed, err := s.Seal("1/5", []byte(`{"choice":"yes"}`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "yes") {
		t.Error("sealed ballot shows its choice")
	}
	if got, err := s.Open("1/5", sealed); err != nil || string(got) != `{"choice":"yes"}` {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := s.Open("1/6", sealed); err == nil {
		t.Error("a ballot sealed for ballot 5 opened as ballot 6's")
	}
	other, _ := storage.NewSealer([]byte(strings.Repeat("y", 32)))
	if _, err := other.Open("1/5", sealed); err == nil {
		t.Error("opened with another key")
	}
	if _, err := storage.NewSealer([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
	r, _ := storage.NewReceipt()
	if len(r) != 11 || r[5] != '-' {
		t.Errorf("receipt %q", r)
	}
	_ = fmt.Sprint
}

func TestGetNeverServesAStaleDocument(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA", "BB")
	ctx := context.Background()
	b := f.openMotion(t, false, domain.ElectorateUnits, "AA", "BB")
	if got, err := f.ballots.Get(ctx, f.c.ID, b.ID); err != nil || got.Title != b.Title {
		t.Fatalf("Get = %q, %v", got.Title, err)
	}
	// Redis emptied and the id used again (a flush while the bot runs):
	// the document is read anew, never taken from memory.
	other := b
	other.Title = "Một biểu quyết khác"
	raw, _ := json.Marshal(other)
	if err := f.rt.Client().HSet(ctx, f.keys.Committee(f.c.ID, "ballot", b.ID), "doc", raw).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := f.ballots.Get(ctx, f.c.ID, b.ID); err != nil || got.Title != other.Title {
		t.Fatalf("Get after the document changed = %q, %v; want %q", got.Title, err, other.Title)
	}
}

func TestCastTakesThePostsEditSlotAndPlansOneTrailingEdit(t *testing.T) {
	t.Parallel()
	voters := []string{"1", "2", "3", "4", "5", "6", "7", "8"}
	f := newBallotFixture(t, "AA")
	ctx := context.Background()
	b := f.openMotion(t, false, domain.ElectorateMembers, voters...)
	for _, v := range voters {
		id, _ := strconv.ParseInt(v, 10, 64)
		f.join(t, f.c.ID, "AA", id)
	}
	postless, err := f.ballots.Cast(ctx, b, storage.Cast{UserID: 8, Voter: "8", CastID: "c8", PostEvery: 3 * time.Second,
		Vote: &domain.OpenVote{Voter: "8", UserID: 8, Choice: domain.Choice{"1": domain.OptYes}}})
	if err != nil || postless.Post.Asked {
		t.Fatalf("a vote before the ballot has a post: %+v, %v; want no slot taken", postless, err)
	}
	if err := f.ballots.SetPost(ctx, f.c.ID, b.ID, -100, 0); err != nil {
		t.Fatal(err)
	}
	cast := func(v string) storage.PostSlot {
		t.Helper()
		id, _ := strconv.ParseInt(v, 10, 64)
		res, err := f.ballots.Cast(ctx, b, storage.Cast{UserID: id, Voter: v, CastID: "c" + v, PostEvery: 3 * time.Second,
			Vote: &domain.OpenVote{Voter: v, UserID: id, Choice: domain.Choice{"1": domain.OptYes}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Post
	}
	if p := cast("1"); !p.Asked || !p.Free {
		t.Fatalf("first vote: %+v, want the slot free (edit now)", p)
	}
	if p := cast("2"); p.Free || !p.Plan {
		t.Errorf("second vote: %+v, want the trailing edit planned by it", p)
	}
	for _, v := range []string{"3", "4", "5"} {
		if p := cast(v); p.Free || p.Plan {
			t.Errorf("vote %s: %+v, want nothing to do", v, p)
		}
	}
	f.clock.Advance(3 * time.Second)
	if p := cast("6"); !p.Free {
		t.Errorf("after the interval: %+v, want the slot free again", p)
	}
	if p := cast("7"); p.Free || !p.Plan {
		t.Errorf("first vote of the new slot: %+v, want the trailing edit planned by it", p)
	}
}

func TestGetForVoterReadsCommitteeDelegationAndBallotTogether(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA", "BB")
	f.join(t, f.c.ID, "BB", 77)
	ctx := context.Background()
	b := f.openMotion(t, true, domain.ElectorateUnits, "AA", "BB")
	v, err := f.ballots.GetForVoter(ctx, f.c.ID, b.ID, 77)
	if err != nil || v.Committee.ID != f.c.ID || v.Delegate == nil || v.Delegate.Unit != "BB" || v.Ballot.Title != b.Title || v.Ballot.Status != domain.BallotOpen {
		t.Fatalf("GetForVoter(delegate) = %+v, %v", v, err)
	}
	if v, err := f.ballots.GetForVoter(ctx, f.c.ID, b.ID, 78); err != nil || v.Delegate != nil {
		t.Fatalf("GetForVoter(stranger) = %+v, %v; want no delegation", v, err)
	}
	for _, c := range []struct{ committee, ballot string }{{"999", b.ID}, {f.c.ID, "999"}} {
		if _, err := f.ballots.GetForVoter(ctx, c.committee, c.ballot, 77); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetForVoter(%s, %s) error = %v, want ErrNotFound", c.committee, c.ballot, err)
		}
	}
}

func TestBallotPostIsKeptBesideTheDocument(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA")
	ctx := context.Background()
	b := f.openMotion(t, false, domain.ElectorateMembers, "1", "2")
	if _, post, err := f.ballots.GetWithPost(ctx, f.c.ID, b.ID); err != nil || post != (storage.Post{}) || post.Posted() {
		t.Fatalf("GetWithPost before a post = %+v, %v; want the zero Post", post, err)
	}
	// A document stored before the post left domain.Ballot holds the
	// post too: it decodes, and the hash's fields are the post.
	key := f.keys.Committee(f.c.ID, "ballot", b.ID)
	raw, err := f.rt.Client().HGet(ctx, key, "doc").Result()
	if err != nil {
		t.Fatal(err)
	}
	var old map[string]any
	if err := json.Unmarshal([]byte(raw), &old); err != nil {
		t.Fatal(err)
	}
	old["PostChat"], old["PostMessage"] = -999, 9
	legacy, _ := json.Marshal(old)
	if err := f.rt.Client().HSet(ctx, key, "doc", legacy).Err(); err != nil {
		t.Fatal(err)
	}
	if err := f.ballots.SetPost(ctx, f.c.ID, b.ID, -100, 42); err != nil {
		t.Fatal(err)
	}
	want := storage.Post{Chat: -100, Message: 42}
	got, post, err := f.ballots.GetWithPost(ctx, f.c.ID, b.ID)
	if err != nil || post != want || !post.Posted() {
		t.Fatalf("GetWithPost = %+v, %v; want %+v", post, err, want)
	}
	if got.ID != b.ID || got.Title != b.Title || len(got.Questions) != len(b.Questions) || got.Status != domain.BallotOpen {
		t.Errorf("the ballot of an old document = %+v, want %+v", got, b)
	}
	f.join(t, f.c.ID, "AA", 1)
	res, err := f.ballots.Cast(ctx, got, storage.Cast{UserID: 1, Voter: "1", CastID: "c1",
		Vote: &domain.OpenVote{Voter: "1", UserID: 1, Choice: domain.Choice{"1": domain.OptYes}}})
	if err != nil || res.GroupPost() != want {
		t.Errorf("the cast's post = %+v, %v; want %+v", res.GroupPost(), err, want)
	}
}
