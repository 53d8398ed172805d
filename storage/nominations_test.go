package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

// nominationStore is a Nominations store next to the committees it
// belongs to, over one test Redis and clock.
type nominationStore struct {
	*storage.Nominations
	com *committees
}

func newNominations(t *testing.T) *nominationStore {
	t.Helper()
	com := newCommittees(t)
	return &nominationStore{
		Nominations: storage.NewNominations(com.rt.Client(), com.keys, storage.WithClock(com.clock.Now)),
		com:         com,
	}
}

// newNominationBloc returns a Nominations store beside one committee,
// Bloc, bound to chat -1 with the given units.
func newNominationBloc(t *testing.T, units ...string) (*nominationStore, domain.Committee) {
	t.Helper()
	s := newNominations(t)
	return s, s.com.create(t, -1, "Bloc", units...)
}

// nominate creates a nomination of unit for award, failing the test on
// error.
func (s *nominationStore) nominate(t *testing.T, cid, unit, award, nominee string) domain.Nomination {
	t.Helper()
	n, err := s.Create(context.Background(), domain.Nomination{
		Committee: cid, Unit: unit, Award: award, Nominee: nominee, Year: 2025, By: 7, ByName: "Minh",
	})
	if err != nil {
		t.Fatalf("Create(%s, %s, %q): %v", unit, award, nominee, err)
	}
	return n
}

// move changes a nomination's status, failing the test on error.
func (s *nominationStore) move(t *testing.T, n domain.Nomination, to domain.Status) domain.Nomination {
	t.Helper()
	ch := domain.Change{From: n.Status, To: to, By: 100, ByName: "Thư ký"}
	if domain.DecidedByBallot(n.Status, to) {
		ch.Override, ch.Note = true, "Biểu quyết tại hội nghị"
	}
	got, err := s.Transition(context.Background(), n.Committee, n.ID, ch)
	if err != nil {
		t.Fatalf("Transition(%d, %s -> %s): %v", n.ID, n.Status, to, err)
	}
	return got
}

func TestNominationCreateThenGetAndList(t *testing.T) {
	t.Parallel()
	s, c := newNominationBloc(t, "TANDTC", "KTNN")
	ctx := context.Background()

	got, err := s.Create(ctx, domain.Nomination{
		Committee: c.ID, Unit: "TANDTC", Award: "CTD_CP", Nominee: "  TANDTC ", NomineeUnit: "TANDTC",
		Achievements: "  Hoàn thành xuất sắc nhiệm vụ.\nDẫn đầu khối.  ", Year: 2025, By: 7, ByName: "Minh",
		Attachments: []domain.Attachment{{FileID: "file-1", Name: "báo cáo.pdf"}, {FileID: "file-2", Name: "biên bản.docx"}},
		// Ignored: the store sets them.
		ID: 99, Status: domain.StatusAwarded, History: []domain.Change{{To: domain.StatusAwarded}},
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	want := domain.Nomination{
		ID: 1, Committee: c.ID, Unit: "TANDTC", Award: "CTD_CP", Nominee: "TANDTC", NomineeUnit: "TANDTC",
		Achievements: "Hoàn thành xuất sắc nhiệm vụ.\nDẫn đầu khối.", Year: 2025, Status: domain.StatusSubmitted,
		Created: at(0), By: 7, ByName: "Minh",
		Attachments: []domain.Attachment{{FileID: "file-1", Name: "báo cáo.pdf"}, {FileID: "file-2", Name: "biên bản.docx"}},
		History:     []domain.Change{{To: domain.StatusSubmitted, By: 7, ByName: "Minh", At: at(0)}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Create (-want +got):\n%s", diff)
	}
	if again, err := s.Get(ctx, c.ID, 1); err != nil || !cmp.Equal(want, again) {
		t.Errorf("Get = %+v, %v; want %+v", again, err, want)
	}
	second := s.nominate(t, c.ID, "KTNN", "CSTD_BO", "Nguyễn   Văn\tAn")
	if second.ID != 2 || second.Nominee != "Nguyễn Văn An" {
		t.Errorf("second nomination: id %d, nominee %q; want 2, spaces collapsed", second.ID, second.Nominee)
	}
	list, err := s.List(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != 1 || list[1].ID != 2 {
		t.Errorf("List = %d nominations %v, want ids 1, 2", len(list), list)
	}
	if _, err := s.Get(ctx, c.ID, 3); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(3) = %v, want ErrNotFound", err)
	}
}

func TestNominationCreateRefusesBadInputAndStoresNothing(t *testing.T) {
	t.Parallel()
	s, c := newNominationBloc(t, "TANDTC")
	ctx := context.Background()
	base := domain.Nomination{Committee: c.ID, Unit: "TANDTC", Award: "CTD_CP", Nominee: "TANDTC", Year: 2025, By: 7}
	tests := []struct {
		name   string
		change func(*domain.Nomination)
		want   error
	}{
		{"empty nominee", func(n *domain.Nomination) { n.Nominee = " \n " }, domain.ErrName},
		{"achievements of 5000 characters", func(n *domain.Nomination) { n.Achievements = strings.Repeat("x", 5000) }, domain.ErrAchievements},
		{"unknown committee", func(n *domain.Nomination) { n.Committee = "404" }, storage.ErrNotFound},
		{"forged committee id", func(n *domain.Nomination) { n.Committee = "1}:x" }, storage.ErrNotFound},
		{"unknown unit", func(n *domain.Nomination) { n.Unit = "BYT" }, storage.ErrNotFound},
		{"unknown nominated unit", func(n *domain.Nomination) { n.NomineeUnit = "BYT" }, storage.ErrNotFound},
		{"bad award code", func(n *domain.Nomination) { n.Award = "ctd cp" }, domain.ErrAwardCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := base
			tt.change(&n)
			if _, err := s.Create(ctx, n); !errors.Is(err, tt.want) {
				t.Errorf("Create = %v, want %v", err, tt.want)
			}
		})
	}
	if list, _ := s.List(ctx, c.ID); len(list) != 0 {
		t.Errorf("refused nominations were stored: %+v", list)
	}
}

func TestDuplicateNominationPointsAtTheExistingOne(t *testing.T) {
	t.Parallel()
	s, c := newNominationBloc(t, "TANDTC", "KTNN")
	ctx := context.Background()
	first := s.nominate(t, c.ID, "TANDTC", "CSTD_BO", "Nguyễn Văn An")

	for _, same := range []string{"Nguyễn Văn An", "  nguyễn  văn AN ", "Nguye\u0302\u0303n Văn An"} {
		existing, err := s.Create(ctx, domain.Nomination{Committee: c.ID, Unit: "KTNN", Award: "CSTD_BO", Nominee: same, Year: 2025})
		if !errors.Is(err, domain.ErrDuplicateNomination) {
			t.Errorf("Create(%q) = %v, want ErrDuplicateNomination", same, err)
		}
		if existing.ID != first.ID {
			t.Errorf("Create(%q) returned nomination %d, want the existing %d", same, existing.ID, first.ID)
		}
	}
	// Another award, another year: not duplicates.
	other := []domain.Nomination{
		{Committee: c.ID, Unit: "TANDTC", Award: "CSTD_TQ", Nominee: "Nguyễn Văn An", Year: 2025},
		{Committee: c.ID, Unit: "TANDTC", Award: "CSTD_BO", Nominee: "Nguyễn Văn An", Year: 2026},
	}
	for i, n := range other {
		got, err := s.Create(ctx, n)
		if err != nil {
			t.Errorf("Create(%s %d) = %v, want stored", n.Award, n.Year, err)
		}
		// Refused duplicates cost no id.
		if want := int64(i + 2); got.ID != want {
			t.Errorf("Create(%s %d) got id %d, want %d", n.Award, n.Year, got.ID, want)
		}
	}
	// Withdrawn, the nominee may be nominated again; rejected, not.
	s.move(t, first, domain.StatusWithdrawn)
	again := s.nominate(t, c.ID, "TANDTC", "CSTD_BO", "Nguyễn Văn An")
	again = s.move(t, s.move(t, again, domain.StatusUnderReview), domain.StatusVoting)
	s.move(t, again, domain.StatusRejected)
	if _, err := s.Create(ctx, domain.Nomination{Committee: c.ID, Unit: "KTNN", Award: "CSTD_BO", Nominee: "Nguyễn Văn An", Year: 2025}); !errors.Is(err, domain.ErrDuplicateNomination) {
		t.Errorf("Create after a rejection = %v, want ErrDuplicateNomination", err)
	}
}

func TestConcurrentIdenticalNominationsStoreOne(t *testing.T) {
	t.Parallel()
	s, c := newNominationBloc(t, "TANDTC", "KTNN")
	ctx := context.Background()
	errs := atOnce(16, func(i int) error {
		unit := []string{"TANDTC", "KTNN"}[i%2]
		_, err := s.Create(ctx, domain.Nomination{Committee: c.ID, Unit: unit, Award: "CTD_CP", Nominee: "Tòa án nhân dân tối cao", Year: 2025})
		return err
	})
	stored := countWins(t, errs, domain.ErrDuplicateNomination)
	list, _ := s.List(ctx, c.ID)
	if stored != 1 || len(list) != 1 {
		t.Errorf("%d creates succeeded and %d nominations stored, want 1 and 1", stored, len(list))
	}
}

// TestTransitions walks every status and tries every move from it: legal
// moves apply and are recorded, illegal ones change nothing.
func TestTransitions(t *testing.T) {
	t.Parallel()
	s, c := newNominationBloc(t, "TANDTC")
	ctx := context.Background()
	// The path to each status from submitted.
	paths := map[domain.Status][]domain.Status{
		domain.StatusSubmitted:   nil,
		domain.StatusUnderReview: {domain.StatusUnderReview},
		domain.StatusVoting:      {domain.StatusUnderReview, domain.StatusVoting},
		domain.StatusApproved:    {domain.StatusUnderReview, domain.StatusVoting, domain.StatusApproved},
		domain.StatusRejected:    {domain.StatusUnderReview, domain.StatusVoting, domain.StatusRejected},
		domain.StatusForwarded:   {domain.StatusUnderReview, domain.StatusVoting, domain.StatusApproved, domain.StatusForwarded},
		domain.StatusAwarded:     {domain.StatusUnderReview, domain.StatusVoting, domain.StatusApproved, domain.StatusForwarded, domain.StatusAwarded},
		domain.StatusDeclined:    {domain.StatusUnderReview, domain.StatusVoting, domain.StatusApproved, domain.StatusForwarded, domain.StatusDeclined},
		domain.StatusWithdrawn:   {domain.StatusWithdrawn},
	}
	nominee := 0
	reach := func(t *testing.T, st domain.Status) domain.Nomination {
		t.Helper()
		nominee++
		n := s.nominate(t, c.ID, "TANDTC", "TTLDXS", fmt.Sprintf("Phòng %d", nominee))
		for _, step := range paths[st] {
			n = s.move(t, n, step)
		}
		return n
	}
	for _, from := range domain.Statuses() {
		for _, to := range domain.Statuses() {
			t.Run(fmt.Sprintf("%s to %s", from, to), func(t *testing.T) {
				n := reach(t, from)
				s.com.clock.Advance(time.Minute)
				ch := domain.Change{From: from, To: to, By: 100, ByName: "Thư ký", Note: " ghi \n chú "}
				if domain.DecidedByBallot(from, to) {
					ch.Override, ch.Note = true, " ghi \n chú ngoài phiếu "
				}
				got, err := s.Transition(ctx, c.ID, n.ID, ch)
				if !domain.CanMove(from, to) {
					if !errors.Is(err, domain.ErrIllegalMove) {
						t.Fatalf("Transition = %v, want ErrIllegalMove", err)
					}
					if cur, _ := s.Get(ctx, c.ID, n.ID); cur.Status != from || len(cur.History) != len(n.History) {
						t.Errorf("a refused move changed the nomination: %s, %d changes", cur.Status, len(cur.History))
					}
					return
				}
				if err != nil {
					t.Fatalf("Transition = %v", err)
				}
				last := got.LastChange()
				want := domain.Change{From: from, To: to, By: 100, ByName: "Thư ký", At: s.com.clock.Now(), Note: "ghi chú"}
				if ch.Override {
					want.Override, want.Note = true, "ghi chú ngoài phiếu"
				}
				if got.Status != to || len(got.History) != len(n.History)+1 || !cmp.Equal(want, last) {
					t.Errorf("after the move: status %s, %d changes, last %+v; want %s, %d, %+v", got.Status, len(got.History), last, to, len(n.History)+1, want)
				}
			})
		}
	}
}

func TestTransitionFromAStaleStatusIsAConflict(t *testing.T) {
	t.Parallel()
	s, c := newNominationBloc(t, "TANDTC")
	ctx := context.Background()
	n := s.move(t, s.nominate(t, c.ID, "TANDTC", "CTD_CP", "TANDTC"), domain.StatusUnderReview)

	cur, err := s.Transition(ctx, c.ID, n.ID, domain.Change{From: domain.StatusSubmitted, To: domain.StatusWithdrawn})
	if !errors.Is(err, storage.ErrConflict) || cur.Status != domain.StatusUnderReview {
		t.Errorf("Transition from a stale status = %s, %v; want the current under_review and ErrConflict", cur.Status, err)
	}
	if _, err := s.Transition(ctx, c.ID, 99, domain.Change{From: domain.StatusSubmitted, To: domain.StatusUnderReview}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Transition of an unknown nomination = %v, want ErrNotFound", err)
	}
	long := domain.Change{From: domain.StatusUnderReview, To: domain.StatusVoting, Note: strings.Repeat("x", 501)}
	if _, err := s.Transition(ctx, c.ID, n.ID, long); !errors.Is(err, domain.ErrNote) {
		t.Errorf("Transition with a 501-character note = %v, want ErrNote", err)
	}
}

// A nomination in voting is approved or rejected by a ballot's result
// (the bot, By 0) or by a person's override with a reason; the override
// is kept in the history.
func TestApprovalIsDecidedByBallotOrOverride(t *testing.T) {
	t.Parallel()
	s, c := newNominationBloc(t, "TANDTC")
	ctx := context.Background()
	made := 0
	voting := func() domain.Nomination {
		made++
		n := s.nominate(t, c.ID, "TANDTC", "CTD_CP", fmt.Sprintf("Phòng %d", made))
		return s.move(t, s.move(t, n, domain.StatusUnderReview), domain.StatusVoting)
	}
	n := voting()
	for _, ch := range []domain.Change{
		{To: domain.StatusApproved, By: 100, ByName: "Thư ký", Note: "Đủ phiếu tại hội nghị"},
		{To: domain.StatusRejected, By: 100, ByName: "Thư ký"},
		{To: domain.StatusApproved, By: 100, Override: true, Note: "   quá ngắn  "},
		{To: domain.StatusApproved, Override: true},
	} {
		ch.From = domain.StatusVoting
		if _, err := s.Transition(ctx, c.ID, n.ID, ch); !errors.Is(err, domain.ErrBallotDecides) {
			t.Errorf("Transition(%+v) = %v, want ErrBallotDecides", ch, err)
		}
	}
	if _, err := s.Transition(ctx, c.ID, n.ID, domain.Change{From: domain.StatusVoting, To: domain.StatusWithdrawn, By: 100, Override: true, Note: "Không phải quyết định"}); !errors.Is(err, domain.ErrIllegalMove) {
		t.Errorf("an override on a withdrawal = %v, want ErrIllegalMove", err)
	}
	if cur, _ := s.Get(ctx, c.ID, n.ID); cur.Status != domain.StatusVoting || len(cur.History) != 3 {
		t.Fatalf("refused decisions changed the nomination: %s, %d changes", cur.Status, len(cur.History))
	}
	got, err := s.Transition(ctx, c.ID, n.ID, domain.Change{From: domain.StatusVoting, To: domain.StatusApproved, By: 100, Override: true, Note: "Biểu quyết giơ tay tại hội nghị 10/4"})
	if err != nil || !got.LastChange().Override || got.LastChange().Note != "Biểu quyết giơ tay tại hội nghị 10/4" {
		t.Errorf("an override with its reason = %+v, %v", got.LastChange(), err)
	}
	if cur, _ := s.Get(ctx, c.ID, n.ID); !cur.LastChange().Override {
		t.Errorf("the override is not kept: %+v", cur.LastChange())
	}
	byBallot, err := s.Transition(ctx, c.ID, voting().ID, domain.Change{From: domain.StatusVoting, To: domain.StatusRejected, Note: "Kết quả phiếu 3"})
	if err != nil || byBallot.LastChange().Override {
		t.Errorf("a ballot's result = %+v, %v", byBallot.LastChange(), err)
	}
}

func TestConcurrentTransitionsOneWins(t *testing.T) {
	t.Parallel()
	s, c := newNominationBloc(t, "TANDTC")
	ctx := context.Background()
	n := s.move(t, s.nominate(t, c.ID, "TANDTC", "CTD_CP", "TANDTC"), domain.StatusUnderReview)

	// Admins race from under_review: some to voting, some withdrawing.
	errs := atOnce(12, func(i int) error {
		to := domain.StatusVoting
		if i%3 == 0 {
			to = domain.StatusWithdrawn
		}
		_, err := s.Transition(ctx, c.ID, n.ID, domain.Change{From: domain.StatusUnderReview, To: to, By: int64(100 + i)})
		return err
	})
	wins := countWins(t, errs, storage.ErrConflict)
	got, err := s.Get(ctx, c.ID, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if wins != 1 || len(got.History) != 3 {
		t.Fatalf("%d moves won, history has %d entries; want 1 and 3", wins, len(got.History))
	}
	if last := got.LastChange(); last.From != domain.StatusUnderReview || last.To != got.Status {
		t.Errorf("history ends with %s -> %s but the status is %s", last.From, last.To, got.Status)
	}
}

func TestNominationsOfAnotherCommitteeAreInvisible(t *testing.T) {
	t.Parallel()
	s := newNominations(t)
	ctx := context.Background()
	a := s.com.create(t, -1, "A", "TANDTC")
	b := s.com.create(t, -2, "B", "BYT")
	n := s.nominate(t, a.ID, "TANDTC", "CTD_CP", "TANDTC")

	if _, err := s.Get(ctx, b.ID, n.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get from committee B = %v, want ErrNotFound", err)
	}
	if list, _ := s.List(ctx, b.ID); len(list) != 0 {
		t.Errorf("List of B = %+v, want none", list)
	}
	if _, err := s.Transition(ctx, b.ID, n.ID, domain.Change{From: domain.StatusSubmitted, To: domain.StatusUnderReview}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Transition through committee B = %v, want ErrNotFound", err)
	}
	// B's first nomination gets its own id 1, and A's is unchanged.
	nb := s.nominate(t, b.ID, "BYT", "CTD_CP", "TANDTC")
	if nb.ID != 1 {
		t.Errorf("B's first nomination has id %d, want 1", nb.ID)
	}
	if got, _ := s.Get(ctx, a.ID, n.ID); got.Unit != "TANDTC" || got.Status != domain.StatusSubmitted {
		t.Errorf("A's nomination changed: %+v", got)
	}
}

func TestAddAttachment(t *testing.T) {
	t.Parallel()
	s, c := newNominationBloc(t, "TANDTC")
	ctx := context.Background()
	n := s.nominate(t, c.ID, "TANDTC", "CTD_CP", "TANDTC")
	doc := domain.Attachment{FileID: "f-1", Name: "hồ sơ.pdf"}
	for range 2 { // the second time changes nothing
		got, err := s.AddAttachment(ctx, c.ID, n.ID, doc)
		if err != nil || !cmp.Equal([]domain.Attachment{doc}, got.Attachments) {
			t.Fatalf("AddAttachment = %+v, %v", got.Attachments, err)
		}
	}
	for i := 2; i <= domain.MaxAttachments; i++ {
		if _, err := s.AddAttachment(ctx, c.ID, n.ID, domain.Attachment{FileID: fmt.Sprintf("f-%d", i), Name: "x"}); err != nil {
			t.Fatalf("AddAttachment %d: %v", i, err)
		}
	}
	if _, err := s.AddAttachment(ctx, c.ID, n.ID, domain.Attachment{FileID: "f-99", Name: "x"}); !errors.Is(err, domain.ErrAttachments) {
		t.Errorf("AddAttachment past the limit = %v, want ErrAttachments", err)
	}
	if _, err := s.AddAttachment(ctx, c.ID, 42, doc); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("AddAttachment to an unknown nomination = %v, want ErrNotFound", err)
	}
	if _, err := s.AddAttachment(ctx, c.ID, n.ID, domain.Attachment{Name: "x"}); !errors.Is(err, domain.ErrAttachment) {
		t.Errorf("AddAttachment without a file id = %v, want ErrAttachment", err)
	}
}
