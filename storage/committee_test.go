package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// committees is a Committees store over a test Redis with a settable clock.
type committees struct {
	*storage.Committees
	rt    *redistest.Instance
	keys  storage.Keys
	clock *clock
}

func newCommittees(t *testing.T) *committees {
	t.Helper()
	rt := redistest.New(t)
	k := storage.NewKeys(rt.Prefix())
	clk := newClock()
	return &committees{
		Committees: storage.NewCommittees(rt.Client(), k, storage.WithClock(clk.Now)),
		rt:         rt, keys: k, clock: clk,
	}
}

// newBloc returns a Committees store holding one committee, Bloc, bound
// to chat -1 with the given units.
func newBloc(t *testing.T, units ...string) (*committees, domain.Committee) {
	t.Helper()
	s := newCommittees(t)
	return s, s.create(t, -1, "Bloc", units...)
}

// create makes a committee for chatID with the given units, failing the
// test on error.
func (s *committees) create(t *testing.T, chatID int64, name string, units ...string) domain.Committee {
	t.Helper()
	c, err := s.Create(context.Background(), chatID, "Group "+name, name, "Asia/Ho_Chi_Minh", "vi", 2025, 100)
	if err != nil {
		t.Fatalf("Create(%d, %q): %v", chatID, name, err)
	}
	s.addUnits(t, c.ID, units...)
	return c
}

func (s *committees) addUnits(t *testing.T, id string, codes ...string) {
	t.Helper()
	for _, code := range codes {
		if err := s.AddUnit(context.Background(), id, domain.Unit{Code: code, Name: "Unit " + code}); err != nil {
			t.Fatalf("AddUnit(%s, %s): %v", id, code, err)
		}
	}
}

// join makes userID a delegate of unit through an invite.
func (s *committees) join(t *testing.T, id, unit string, userID int64) domain.Delegate {
	t.Helper()
	inv := s.invite(t, id, unit, 100)
	_, d, err := s.RedeemInvite(context.Background(), inv.Token, domain.Delegate{UserID: userID, Name: fmt.Sprintf("User %d", userID)})
	if err != nil {
		t.Fatalf("RedeemInvite(%s/%s by %d): %v", id, unit, userID, err)
	}
	return d
}

// invite creates an invite to unit of committee id made by user by,
// failing the test on error.
func (s *committees) invite(t *testing.T, id, unit string, by int64) domain.Invite {
	t.Helper()
	inv, err := s.CreateInvite(context.Background(), id, unit, by)
	if err != nil {
		t.Fatalf("CreateInvite(%s, %s): %v", id, unit, err)
	}
	return inv
}

func TestCommitteesCreateThenLookUp(t *testing.T) {
	t.Parallel()
	s := newCommittees(t)
	ctx := context.Background()

	got, err := s.Create(ctx, -1001, "Khối Nội chính", " Khối thi đua các cơ quan Nội chính ", "Asia/Ho_Chi_Minh", "vi", 2024, 7)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	want := domain.Committee{
		ID: "1", ChatID: -1001, Title: "Khối Nội chính", Name: "Khối thi đua các cơ quan Nội chính",
		Timezone: "Asia/Ho_Chi_Minh", Language: "vi", Year: 2024, Created: s.clock.Now(), By: 7,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Create (-want +got):\n%s", diff)
	}
	if got, err := s.Get(ctx, "1"); err != nil || !cmp.Equal(want, got) {
		t.Errorf("Get = %+v, %v; want %+v", got, err, want)
	}
	if got, err := s.ByChat(ctx, -1001); err != nil || !cmp.Equal(want, got) {
		t.Errorf("ByChat = %+v, %v; want %+v", got, err, want)
	}
	if second := s.create(t, -1002, "Other"); second.ID != "2" {
		t.Errorf("second committee id = %q, want 2", second.ID)
	}

	for _, id := range []string{"3", "", "1:meta", "{c:1}"} {
		if _, err := s.Get(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", id, err)
		}
	}
	if _, err := s.ByChat(ctx, -1003); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ByChat(unbound) = %v, want ErrNotFound", err)
	}
}

func TestCommitteesCreateRejectsInvalidInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cname    string
		timezone string
		language string
		year     int
		want     error
	}{
		{"empty name", "  ", "Asia/Ho_Chi_Minh", "vi", 2025, domain.ErrName},
		{"year out of range", "Bloc", "Asia/Ho_Chi_Minh", "vi", 1999, domain.ErrYear},
		{"unknown time zone", "Bloc", "Mars/Olympus", "vi", 2025, storage.ErrInvalid},
		{"no language", "Bloc", "UTC", "", 2025, storage.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newCommittees(t)
			ctx := context.Background()
			if _, err := s.Create(ctx, -1, "G", tt.cname, tt.timezone, tt.language, tt.year, 1); !errors.Is(err, tt.want) {
				t.Errorf("Create = %v, want %v", err, tt.want)
			}
			if _, err := s.ByChat(ctx, -1); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("ByChat after a refused Create = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestCommitteesCreateOnBoundChatReturnsExisting(t *testing.T) {
	t.Parallel()
	s := newCommittees(t)
	first := s.create(t, -1001, "First")
	got, err := s.Create(context.Background(), -1001, "G", "Second", "UTC", "en", 2025, 2)
	if !errors.Is(err, domain.ErrAlreadyBound) {
		t.Fatalf("second Create = %v, want domain.ErrAlreadyBound", err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("committee returned with domain.ErrAlreadyBound (-want +got):\n%s", diff)
	}
}

func TestCommitteesConcurrentCreateMakesOneCommittee(t *testing.T) {
	t.Parallel()
	s := newCommittees(t)
	ctx := context.Background()
	cs := make([]domain.Committee, 10)
	errs := atOnce(len(cs), func(i int) error {
		var err error
		cs[i], err = s.Create(ctx, -1001, "G", fmt.Sprintf("Bloc %d", i), "UTC", "vi", 2025, int64(i))
		return err
	})
	created := countWins(t, errs, domain.ErrAlreadyBound)
	ids := map[string]bool{}
	for _, c := range cs {
		ids[c.ID] = true
	}
	if created != 1 || len(ids) != 1 {
		t.Fatalf("%d Creates succeeded, ids %v; want exactly one committee", created, ids)
	}
	bound, err := s.ByChat(ctx, -1001)
	if err != nil || !ids[bound.ID] {
		t.Errorf("ByChat = %+v, %v; want the created committee", bound, err)
	}
	metas, err := s.rt.Client().Keys(ctx, s.rt.Prefix()+":{c:*}:meta").Result()
	if err != nil || len(metas) != 1 {
		t.Errorf("committee meta keys = %v, %v; want exactly one (losers delete theirs)", metas, err)
	}
}

func TestCommitteesKeepTheirDataApart(t *testing.T) {
	t.Parallel()
	s := newCommittees(t)
	ctx := context.Background()
	a := s.create(t, -1, "A", "BCA", "BQP")
	b := s.create(t, -2, "B", "BCA")
	s.join(t, a.ID, "BCA", 42)

	unitsB, err := s.Units(ctx, b.ID)
	if err != nil || len(unitsB) != 1 || unitsB[0].Code != "BCA" {
		t.Errorf("Units(B) = %+v, %v; want only BCA", unitsB, err)
	}
	if _, err := s.DelegateOf(ctx, b.ID, 42); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DelegateOf(B, 42) = %v, want ErrNotFound", err)
	}
	if _, err := s.SetRole(ctx, a.ID, 2025, "BQP", domain.RoleHead, 1); err != nil {
		t.Fatalf("SetRole: %v", err)
	}
	if got, _ := s.Get(ctx, b.ID); got.Head != "" {
		t.Errorf("B's head = %q after setting A's", got.Head)
	}
}

func TestCommitteeKeysShareTheCommitteeSlot(t *testing.T) {
	t.Parallel()
	k := storage.NewKeys("cb")
	keys := []string{
		k.CommitteeMeta("9"), k.UnitRecords("9"), k.UnitOrder("9"), k.Members("9"),
		k.Roles("9"), k.RoleLog("9"), k.Invites("9"), k.InvitePrune("9"), k.Covenants("9"),
		k.Covenant("9", 2025), k.CovenantSigned("9", 2025), k.CovenantOrder("9", 2025),
	}
	for _, key := range keys {
		if got := hashTag(key); got != "c:9" {
			t.Errorf("hash tag of %q = %q, want c:9", key, got)
		}
	}
	if got, want := k.InviteCommittee("tok_EN-1"), "cb:{g}:invite:tok_EN-1"; got != want {
		t.Errorf("InviteCommittee = %q, want %q", got, want)
	}
	if got, want := k.UserCommittees(42), "cb:{u:42}:committees"; got != want {
		t.Errorf("UserCommittees = %q, want %q", got, want)
	}
}

func TestCommitteesMigrate(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "BCA")
	ctx := context.Background()
	other := s.create(t, -9, "Other")

	if err := s.Migrate(ctx, -1, -1001); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	assertBound(t, s, -1001, c.ID)
	assertUnbound(t, s, -1)
	// Telegram sends the migration in both chats: the second call is a no-op.
	if err := s.Migrate(ctx, -1, -1001); err != nil {
		t.Errorf("Migrate again = %v, want nil", err)
	}
	assertBound(t, s, -1001, c.ID)

	wantRefusals(t, []refusal{
		{"neither bound", func() error { return s.Migrate(ctx, -5, -6) }, storage.ErrNotFound},
		{"target bound to another committee", func() error { return s.Migrate(ctx, -1001, -9) }, domain.ErrAlreadyBound},
	})
	assertBound(t, s, -1001, c.ID)
	assertBound(t, s, -9, other.ID)
	if units, err := s.Units(ctx, c.ID); err != nil || len(units) != 1 {
		t.Errorf("Units after migration = %+v, %v; want BCA", units, err)
	}
}

// A migration cut short after any step reads as either the old or the new
// binding, and calling Migrate again completes it.
func TestCommitteesMigrateCompletesAnInterruptedMigration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		interrupt func(ctx context.Context, s *committees, id string) error
		boundTo   int64 // what readers see before the repeat
	}{
		{"after binding the new chat", func(ctx context.Context, s *committees, id string) error {
			return s.rt.Client().Set(ctx, s.keys.ChatCommittee(-1001), id, 0).Err()
		}, -1},
		{"after switching the committee", func(ctx context.Context, s *committees, id string) error {
			if err := s.rt.Client().Set(ctx, s.keys.ChatCommittee(-1001), id, 0).Err(); err != nil {
				return err
			}
			return s.rt.Client().HSet(ctx, s.keys.CommitteeMeta(id), "chat", -1001).Err()
		}, -1001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newBloc(t)
			ctx := context.Background()
			if err := tt.interrupt(ctx, s, c.ID); err != nil {
				t.Fatal(err)
			}
			assertBound(t, s, tt.boundTo, c.ID)
			if err := s.Migrate(ctx, -1, -1001); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			assertBound(t, s, -1001, c.ID)
			assertUnbound(t, s, -1)
			if n, err := s.rt.Client().Exists(ctx, s.keys.ChatCommittee(-1)).Result(); err != nil || n != 0 {
				t.Errorf("old binding key exists = %d, %v; want removed", n, err)
			}
		})
	}
}

func TestCommitteesDetachAndReattach(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "BCA")
	ctx := context.Background()

	got, err := s.Detach(ctx, -1)
	if err != nil {
		t.Fatalf("Detach: %v", err)
	}
	want := c
	want.ChatID = 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Detach (-want +got):\n%s", diff)
	}
	assertUnbound(t, s, -1)
	if got, err := s.Get(ctx, c.ID); err != nil || got.ChatID != 0 {
		t.Errorf("Get after Detach = %+v, %v; want the committee with ChatID 0", got, err)
	}
	if units, err := s.Units(ctx, c.ID); err != nil || len(units) != 1 {
		t.Errorf("Units after Detach = %+v, %v; want the data kept", units, err)
	}
	if _, err := s.Detach(ctx, -1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Detach again = %v, want ErrNotFound", err)
	}

	s.reattach(t, c.ID, -1)
	assertBound(t, s, -1, c.ID)
	s.reattach(t, c.ID, -1) // again

	other := s.create(t, -2, "Other")
	loose := s.create(t, -4, "Loose")
	s.detach(t, -4)
	wantRefusals(t, []refusal{
		{"committee bound elsewhere", func() error { return s.Reattach(ctx, c.ID, -3) }, storage.ErrConflict},
		{"chat bound to another committee", func() error { return s.Reattach(ctx, loose.ID, -2) }, domain.ErrAlreadyBound},
		{"unknown committee", func() error { return s.Reattach(ctx, "77", -3) }, storage.ErrNotFound},
	})
	assertBound(t, s, -1, c.ID)
	assertBound(t, s, -2, other.ID)
	assertUnbound(t, s, -3)

	// Detached, the committee may move to a new group.
	s.detach(t, -1)
	s.reattach(t, c.ID, -3) // a new chat
	assertBound(t, s, -3, c.ID)
}

// A detach cut short after its first step leaves a stale binding key, which
// neither reads as bound nor blocks a new committee.
func TestCommitteesStaleBindingIsIgnored(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t)
	ctx := context.Background()
	if err := s.rt.Client().HSet(ctx, s.keys.CommitteeMeta(c.ID), "chat", 0).Err(); err != nil {
		t.Fatal(err)
	}
	assertUnbound(t, s, -1)
	if _, err := s.Detach(ctx, -1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Detach of a stale binding = %v, want ErrNotFound", err)
	}
	fresh, err := s.Create(ctx, -1, "G", "New", "UTC", "en", 2025, 1)
	if err != nil {
		t.Fatalf("Create over a stale binding: %v", err)
	}
	assertBound(t, s, -1, fresh.ID)
}

func TestCommitteesSettings(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t)
	ctx := context.Background()

	if err := s.SetLanguage(ctx, c.ID, "en"); err != nil {
		t.Fatalf("SetLanguage: %v", err)
	}
	if err := s.SetTimezone(ctx, c.ID, "Europe/Paris"); err != nil {
		t.Fatalf("SetTimezone: %v", err)
	}
	if err := s.SetYear(ctx, c.ID, 2026); err != nil {
		t.Fatalf("SetYear: %v", err)
	}
	if err := s.SetThread(ctx, c.ID, 7); err != nil {
		t.Fatalf("SetThread: %v", err)
	}
	got, err := s.Get(ctx, c.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Language != "en" || got.Timezone != "Europe/Paris" || got.Year != 2026 || got.Thread != 7 {
		t.Errorf("Get = %+v; want en, Europe/Paris, 2026, topic 7", got)
	}
	if byChat, err := s.ByChat(ctx, -1); err != nil || byChat.Thread != 7 {
		t.Errorf("ByChat = %+v, %v; want topic 7", byChat, err)
	}

	wantRefusals(t, []refusal{
		{"empty language", func() error { return s.SetLanguage(ctx, c.ID, "") }, storage.ErrInvalid},
		{"bad time zone", func() error { return s.SetTimezone(ctx, c.ID, "Nowhere/City") }, storage.ErrInvalid},
		{"bad year", func() error { return s.SetYear(ctx, c.ID, 3000) }, domain.ErrYear},
		{"language of unknown committee", func() error { return s.SetLanguage(ctx, "404", "vi") }, storage.ErrNotFound},
		{"year of unknown committee", func() error { return s.SetYear(ctx, "404", 2025) }, storage.ErrNotFound},
		{"negative topic", func() error { return s.SetThread(ctx, c.ID, -3) }, storage.ErrInvalid},
		{"topic of unknown committee", func() error { return s.SetThread(ctx, "404", 2) }, storage.ErrNotFound},
	})
	if _, err := s.Get(ctx, "404"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a setter created committee 404: Get = %v", err)
	}
}

// detach detaches chatID's committee, failing the test on error.
func (s *committees) detach(t *testing.T, chatID int64) {
	t.Helper()
	if _, err := s.Detach(context.Background(), chatID); err != nil {
		t.Fatalf("Detach(%d): %v", chatID, err)
	}
}

// reattach binds committee id to chatID, failing the test on error.
func (s *committees) reattach(t *testing.T, id string, chatID int64) {
	t.Helper()
	if err := s.Reattach(context.Background(), id, chatID); err != nil {
		t.Fatalf("Reattach(%s, %d): %v", id, chatID, err)
	}
}

func assertBound(t *testing.T, s *committees, chatID int64, id string) {
	t.Helper()
	c, err := s.ByChat(context.Background(), chatID)
	if err != nil || c.ID != id || c.ChatID != chatID {
		t.Errorf("ByChat(%d) = %+v, %v; want committee %s bound to it", chatID, c, err, id)
	}
}

func assertUnbound(t *testing.T, s *committees, chatID int64) {
	t.Helper()
	if c, err := s.ByChat(context.Background(), chatID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ByChat(%d) = %+v, %v; want ErrNotFound", chatID, c, err)
	}
}

// at returns the test clock's start plus d, as stored (millisecond
// precision).
func at(d time.Duration) time.Time {
	return newClock().Now().Add(d)
}

func TestDetachedGroupRemembersItsCommittee(t *testing.T) {
	t.Parallel()
	s := newCommittees(t)
	ctx := context.Background()
	c := s.create(t, -4242, "Khối nhớ")
	if _, err := s.FormerCommittee(ctx, -4242); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("bound chat: FormerCommittee err = %v, want ErrNotFound", err)
	}
	s.detach(t, -4242)
	id, err := s.FormerCommittee(ctx, -4242)
	if err != nil || id != c.ID {
		t.Fatalf("FormerCommittee = %q, %v; want %s", id, err, c.ID)
	}
	s.reattach(t, id, -4242)
	if got, err := s.ByChat(ctx, -4242); err != nil || got.ID != c.ID {
		t.Errorf("after reattach ByChat = %+v, %v", got, err)
	}
}

func TestTurnYearOnlyMovesForward(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA")
	ctx := context.Background()
	year := f.c.Year
	if turned, err := f.Committees.TurnYear(ctx, f.c.ID, year+1); err != nil || !turned {
		t.Fatalf("TurnYear(+1) = %v, %v", turned, err)
	}
	if turned, err := f.Committees.TurnYear(ctx, f.c.ID, year+1); err != nil || turned {
		t.Errorf("TurnYear again = %v, %v; want nothing to do", turned, err)
	}
	// A correction by /year to a later year stands.
	if err := f.Committees.SetYear(ctx, f.c.ID, year+3); err != nil {
		t.Fatal(err)
	}
	if turned, _ := f.Committees.TurnYear(ctx, f.c.ID, year+2); turned {
		t.Error("TurnYear moved the year backwards")
	}
	if c, _ := f.Committees.Get(ctx, f.c.ID); c.Year != year+3 {
		t.Errorf("year = %d, want %d", c.Year, year+3)
	}
	ids, err := f.Committees.IDs(ctx)
	if err != nil || !slices.Contains(ids, f.c.ID) {
		t.Errorf("IDs = %v, %v; want to hold %s", ids, err, f.c.ID)
	}
}
