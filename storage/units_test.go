package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

func TestUnitsInTheOrderAdded(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t)
	ctx := context.Background()
	var want []domain.Unit
	for i, code := range []string{"TANDTC", "BCA", "KTNN"} {
		s.clock.Advance(time.Minute)
		if err := s.AddUnit(ctx, c.ID, domain.Unit{Code: code, Name: " Unit " + code + " "}); err != nil {
			t.Fatalf("AddUnit(%s): %v", code, err)
		}
		want = append(want, domain.Unit{Code: code, Name: "Unit " + code, Added: at(time.Duration(i+1) * time.Minute)})
	}
	got, err := s.Units(ctx, c.ID)
	if err != nil {
		t.Fatalf("Units: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Units (-want +got):\n%s", diff)
	}
	if u, err := s.Unit(ctx, c.ID, "BCA"); err != nil || !cmp.Equal(want[1], u) {
		t.Errorf("Unit(BCA) = %+v, %v; want %+v", u, err, want[1])
	}
	for _, code := range []string{"BQP", "bca", "X"} {
		if _, err := s.Unit(ctx, c.ID, code); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Unit(%q) = %v, want ErrNotFound", code, err)
		}
	}
}

func TestAddUnitRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		committee string
		unit      domain.Unit
		want      error
	}{
		{"duplicate code", "", domain.Unit{Code: "BCA", Name: "Another"}, storage.ErrConflict},
		{"lower-case code", "", domain.Unit{Code: "bqp", Name: "Bộ Quốc phòng"}, domain.ErrUnitCode},
		{"one-letter code", "", domain.Unit{Code: "Q", Name: "Bộ Quốc phòng"}, domain.ErrUnitCode},
		{"code with a colon", "", domain.Unit{Code: "B:Q", Name: "Bộ Quốc phòng"}, domain.ErrUnitCode},
		{"empty name", "", domain.Unit{Code: "BQP", Name: " "}, domain.ErrName},
		{"unknown committee", "404", domain.Unit{Code: "BQP", Name: "Bộ Quốc phòng"}, storage.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newBloc(t, "BCA")
			ctx := context.Background()
			id := c.ID
			if tt.committee != "" {
				id = tt.committee
			}
			if err := s.AddUnit(ctx, id, tt.unit); !errors.Is(err, tt.want) {
				t.Errorf("AddUnit = %v, want %v", err, tt.want)
			}
			units, err := s.Units(ctx, c.ID)
			if err != nil || len(units) != 1 || units[0].Name != "Unit BCA" {
				t.Errorf("Units after a refused AddUnit = %+v, %v; want only the original BCA", units, err)
			}
		})
	}
}

func TestRemoveUnitRemovesDelegatesRolesAndInvites(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "KTNN", "TANDTC", "BCA")
	ctx := context.Background()
	d1 := s.join(t, c.ID, "TANDTC", 11)
	s.clock.Advance(time.Second)
	d2 := s.join(t, c.ID, "TANDTC", 12)
	kept := s.join(t, c.ID, "BCA", 13)
	for _, r := range []struct {
		year int
		code string
		role string
	}{
		{2024, "TANDTC", domain.RoleHead}, // a past year: stays
		{2025, "TANDTC", domain.RoleHead},
		{2025, "BCA", domain.RoleDeputy},
		{2026, "TANDTC", domain.RoleDeputy},
	} {
		if _, err := s.SetRole(ctx, c.ID, r.year, r.code, r.role, 100); err != nil {
			t.Fatalf("SetRole: %v", err)
		}
	}
	open := s.invite(t, c.ID, "TANDTC", 100)
	s.clock.Advance(time.Hour)

	removed, err := s.RemoveUnit(ctx, c.ID, "TANDTC", 1)
	if err != nil {
		t.Fatalf("RemoveUnit: %v", err)
	}
	if diff := cmp.Diff([]domain.Delegate{d1, d2}, removed); diff != "" {
		t.Errorf("removed delegates (-want +got):\n%s", diff)
	}
	if got, err := s.Delegates(ctx, c.ID); err != nil || !cmp.Equal([]domain.Delegate{kept}, got) {
		t.Errorf("Delegates = %+v, %v; want only %+v", got, err, kept)
	}
	for _, uid := range []int64{11, 12} {
		if ids, err := s.UserCommittees(ctx, uid); err != nil || len(ids) != 0 {
			t.Errorf("UserCommittees(%d) = %v, %v; want none", uid, ids, err)
		}
		if n, err := s.rt.Client().SCard(ctx, s.keys.UserCommittees(uid)).Result(); err != nil || n != 0 {
			t.Errorf("user index of %d has %d ids, %v; want cleaned up", uid, n, err)
		}
	}
	got, err := s.Get(ctx, c.ID)
	if err != nil || got.Head != "" || got.Deputy != "BCA" {
		t.Errorf("Get = %+v, %v; want no head, deputy BCA", got, err)
	}
	history, err := s.RoleHistory(ctx, c.ID)
	if err != nil {
		t.Fatalf("RoleHistory: %v", err)
	}
	cleared := map[int]domain.RoleChange{}
	for _, h := range history[4:] {
		cleared[h.Year] = h
	}
	wantCleared := map[int]domain.RoleChange{
		2025: {Year: 2025, Role: domain.RoleHead, Previous: "TANDTC", At: at(time.Second + time.Hour)},
		2026: {Year: 2026, Role: domain.RoleDeputy, Previous: "TANDTC", At: at(time.Second + time.Hour)},
	}
	if diff := cmp.Diff(wantCleared, cleared); diff != "" {
		t.Errorf("role changes of the removal (-want +got):\n%s", diff)
	}
	if err := s.SetYear(ctx, c.ID, 2024); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, c.ID); got.Head != "TANDTC" {
		t.Errorf("2024 head = %q, want TANDTC kept as a past fact", got.Head)
	}
	wantRedeemRefused(t, s, open.Token, 14, storage.ErrNotFound, "of the removed unit's invite")
	if _, err := s.RemoveUnit(ctx, c.ID, "TANDTC", 1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("RemoveUnit again = %v, want ErrNotFound", err)
	}
	if units, _ := s.Units(ctx, c.ID); len(units) != 2 {
		t.Errorf("Units = %+v; want KTNN and BCA", units)
	}

	// Re-adding the code starts afresh: no delegates, no invites.
	s.addUnits(t, c.ID, "TANDTC")
	if ds, err := s.UnitDelegates(ctx, c.ID, "TANDTC"); err != nil || len(ds) != 0 {
		t.Errorf("UnitDelegates of the re-added unit = %+v, %v; want none", ds, err)
	}
	wantRedeemRefused(t, s, open.Token, 14, storage.ErrNotFound, "of the old invite after re-adding")
}

func TestDelegatesSortedByUnitThenJoinTime(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "VKSNDTC", "BCA", "KTNN")
	ctx := context.Background()
	var joined []domain.Delegate
	for _, j := range []struct {
		unit string
		uid  int64
	}{{"BCA", 5}, {"VKSNDTC", 9}, {"BCA", 3}, {"VKSNDTC", 1}} {
		s.clock.Advance(time.Minute)
		joined = append(joined, s.join(t, c.ID, j.unit, j.uid))
	}
	want := []domain.Delegate{joined[1], joined[3], joined[0], joined[2]}
	got, err := s.Delegates(ctx, c.ID)
	if err != nil {
		t.Fatalf("Delegates: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Delegates (-want +got):\n%s", diff)
	}
	if got, err := s.UnitDelegates(ctx, c.ID, "BCA"); err != nil || !cmp.Equal(want[2:], got) {
		t.Errorf("UnitDelegates(BCA) = %+v, %v; want %+v", got, err, want[2:])
	}
	if got, err := s.UnitDelegates(ctx, c.ID, "KTNN"); err != nil || len(got) != 0 {
		t.Errorf("UnitDelegates(KTNN) = %+v, %v; want none", got, err)
	}
	if _, err := s.UnitDelegates(ctx, c.ID, "BQP"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UnitDelegates(unknown) = %v, want ErrNotFound", err)
	}
	if d, err := s.DelegateOf(ctx, c.ID, 9); err != nil || !cmp.Equal(joined[1], d) {
		t.Errorf("DelegateOf(9) = %+v, %v; want %+v", d, err, joined[1])
	}
	if _, err := s.DelegateOf(ctx, c.ID, 77); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DelegateOf(non-delegate) = %v, want ErrNotFound", err)
	}
}

func TestDelegateMovesToTheUnitOfANewInvite(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "BCA", "BQP")
	ctx := context.Background()
	s.join(t, c.ID, "BCA", 42)
	s.clock.Advance(time.Hour)
	moved := s.join(t, c.ID, "BQP", 42)

	want := domain.Delegate{UserID: 42, Unit: "BQP", Name: "User 42", Joined: at(time.Hour)}
	if diff := cmp.Diff(want, moved); diff != "" {
		t.Errorf("delegate after moving (-want +got):\n%s", diff)
	}
	if ds, _ := s.UnitDelegates(ctx, c.ID, "BCA"); len(ds) != 0 {
		t.Errorf("UnitDelegates(BCA) = %+v; want none after the move", ds)
	}
	if ds, _ := s.Delegates(ctx, c.ID); !cmp.Equal([]domain.Delegate{want}, ds) {
		t.Errorf("Delegates = %+v; want only %+v", ds, want)
	}
	if ids, err := s.UserCommittees(ctx, 42); err != nil || !cmp.Equal([]string{c.ID}, ids) {
		t.Errorf("UserCommittees = %v, %v; want [%s]", ids, err, c.ID)
	}
}

func TestRemoveDelegate(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "BCA")
	ctx := context.Background()
	d := s.join(t, c.ID, "BCA", 42)

	got, err := s.RemoveDelegate(ctx, c.ID, 42, 1)
	if err != nil || !cmp.Equal(d, got) {
		t.Fatalf("RemoveDelegate = %+v, %v; want %+v", got, err, d)
	}
	if _, err := s.DelegateOf(ctx, c.ID, 42); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DelegateOf after removal = %v, want ErrNotFound", err)
	}
	if ids, err := s.UserCommittees(ctx, 42); err != nil || len(ids) != 0 {
		t.Errorf("UserCommittees after removal = %v, %v; want none", ids, err)
	}
	if _, err := s.RemoveDelegate(ctx, c.ID, 42, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("RemoveDelegate again = %v, want ErrNotFound", err)
	}
}

func TestUserCommitteesAcrossCommitteesIgnoresStaleIndex(t *testing.T) {
	t.Parallel()
	s := newCommittees(t)
	ctx := context.Background()
	var ids []string
	for i := range 11 {
		c := s.create(t, int64(-1-i), "Bloc", "BCA")
		ids = append(ids, c.ID)
	}
	// Member of committees 2 and 10 (numeric order, not string order).
	s.join(t, ids[9], "BCA", 42)
	s.join(t, ids[1], "BCA", 42)
	s.join(t, ids[1], "BCA", 43)

	// Stale entries: a committee the user is not in (an index step that
	// ran after a failed or interrupted removal), one that does not exist,
	// and garbage.
	if err := s.rt.Client().SAdd(ctx, s.keys.UserCommittees(42), ids[4], "999", "x}y").Err(); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserCommittees(ctx, 42)
	if err != nil {
		t.Fatalf("UserCommittees: %v", err)
	}
	if diff := cmp.Diff([]string{ids[1], ids[9]}, got); diff != "" {
		t.Errorf("UserCommittees (-want +got):\n%s", diff)
	}
	if got, err := s.UserCommittees(ctx, 7); err != nil || len(got) != 0 {
		t.Errorf("UserCommittees of a stranger = %v, %v; want none", got, err)
	}
}

func TestSetRole(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "KTNN", "TANDTC", "VKSNDTC")
	ctx := context.Background()
	now := at(0)
	change := func(role, unit, prev string) domain.RoleChange {
		return domain.RoleChange{Year: 2025, Role: role, Unit: unit, Previous: prev, By: 7, At: now}
	}
	steps := []struct {
		name         string
		code, role   string
		want         []domain.RoleChange
		head, deputy string
	}{
		{"first head", "KTNN", domain.RoleHead, []domain.RoleChange{change("head", "KTNN", "")}, "KTNN", ""},
		{"same again changes nothing", "KTNN", domain.RoleHead, []domain.RoleChange{}, "KTNN", ""},
		{"deputy", "TANDTC", domain.RoleDeputy, []domain.RoleChange{change("deputy", "TANDTC", "")}, "KTNN", "TANDTC"},
		{"deputy becomes head", "TANDTC", domain.RoleHead,
			[]domain.RoleChange{change("deputy", "", "TANDTC"), change("head", "TANDTC", "KTNN")}, "TANDTC", ""},
		{"new deputy", "VKSNDTC", domain.RoleDeputy, []domain.RoleChange{change("deputy", "VKSNDTC", "")}, "TANDTC", "VKSNDTC"},
		{"head becomes deputy", "TANDTC", domain.RoleDeputy,
			[]domain.RoleChange{change("head", "", "TANDTC"), change("deputy", "TANDTC", "VKSNDTC")}, "", "TANDTC"},
		{"member clears", "TANDTC", domain.RoleMember, []domain.RoleChange{change("deputy", "", "TANDTC")}, "", ""},
		{"member of a unit without a role", "KTNN", domain.RoleMember, []domain.RoleChange{}, "", ""},
	}
	var history []domain.RoleChange
	for _, st := range steps {
		got, err := s.SetRole(ctx, c.ID, 2025, st.code, st.role, 7)
		if err != nil {
			t.Fatalf("%s: SetRole: %v", st.name, err)
		}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: changes (-want +got):\n%s", st.name, diff)
		}
		history = append(history, st.want...)
		cm, err := s.Get(ctx, c.ID)
		if err != nil || cm.Head != st.head || cm.Deputy != st.deputy {
			t.Errorf("%s: head, deputy = %q, %q (%v); want %q, %q", st.name, cm.Head, cm.Deputy, err, st.head, st.deputy)
		}
	}
	got, err := s.RoleHistory(ctx, c.ID)
	if err != nil {
		t.Fatalf("RoleHistory: %v", err)
	}
	if diff := cmp.Diff(history, got); diff != "" {
		t.Errorf("RoleHistory (-want +got):\n%s", diff)
	}

	// Another year is kept apart and shows only once it is current.
	if _, err := s.SetRole(ctx, c.ID, 2026, "VKSNDTC", domain.RoleHead, 7); err != nil {
		t.Fatalf("SetRole 2026: %v", err)
	}
	if cm, _ := s.Get(ctx, c.ID); cm.Head != "" {
		t.Errorf("2025 head = %q after setting 2026's", cm.Head)
	}
	if err := s.SetYear(ctx, c.ID, 2026); err != nil {
		t.Fatal(err)
	}
	if cm, _ := s.Get(ctx, c.ID); cm.Head != "VKSNDTC" {
		t.Errorf("2026 head = %q, want VKSNDTC", cm.Head)
	}

	setRole := func(id string, year int, code, role string) func() error {
		return func() error { return errOf(s.SetRole(ctx, id, year, code, role, 7)) }
	}
	wantRefusals(t, []refusal{
		{"unknown role", setRole(c.ID, 2025, "KTNN", "chair"), domain.ErrRole},
		{"bad year", setRole(c.ID, 1990, "KTNN", domain.RoleHead), domain.ErrYear},
		{"unknown unit", setRole(c.ID, 2025, "BQP", domain.RoleHead), storage.ErrNotFound},
		{"malformed unit", setRole(c.ID, 2025, `X","a":"`, domain.RoleHead), storage.ErrNotFound},
		{"unknown committee", setRole("404", 2025, "KTNN", domain.RoleHead), storage.ErrNotFound},
	})
}
