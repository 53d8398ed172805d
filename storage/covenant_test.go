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

// The bloc of the seed article, in the order its units are added.
var blocUnits = []string{"BQP", "BCA", "BTP", "VKSNDTC", "TANDTC", "KTNN", "TTCP", "BQLLANG"}

func TestOpenCovenant(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "KTNN", "BCA")
	ctx := context.Background()

	if _, err := s.Covenant(ctx, c.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Covenant before any = %v, want ErrNotFound", err)
	}
	got, err := s.OpenCovenant(ctx, c.ID, 2025, " Giao ước thi đua năm 2025 ", 7)
	if err != nil {
		t.Fatalf("OpenCovenant: %v", err)
	}
	want := domain.Covenant{Year: 2025, Title: "Giao ước thi đua năm 2025", Opened: at(0), By: 7, Pending: []string{"KTNN", "BCA"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OpenCovenant (-want +got):\n%s", diff)
	}
	if got, err := s.Covenant(ctx, c.ID); err != nil || !cmp.Equal(want, got) {
		t.Errorf("Covenant = %+v, %v; want %+v", got, err, want)
	}

	s.clock.Advance(time.Hour)
	existing, err := s.OpenCovenant(ctx, c.ID, 2025, "Another title", 8)
	if !errors.Is(err, storage.ErrConflict) {
		t.Errorf("OpenCovenant for an open year = %v, want ErrConflict", err)
	}
	if diff := cmp.Diff(want, existing); diff != "" {
		t.Errorf("covenant returned with ErrConflict (-want +got):\n%s", diff)
	}

	open := func(id string, year int, title string) func() error {
		return func() error { return errOf(s.OpenCovenant(ctx, id, year, title, 7)) }
	}
	wantRefusals(t, []refusal{
		{"empty title", open(c.ID, 2026, "  "), domain.ErrCovenantText},
		{"bad year", open(c.ID, 1900, "Title"), domain.ErrYear},
		{"unknown committee", open("404", 2026, "Title"), storage.ErrNotFound},
	})
	if _, err := s.CovenantOf(ctx, c.ID, 2026); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("CovenantOf(2026) after refusals = %v, want ErrNotFound", err)
	}
}

func TestCovenantIsTheLatestYears(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "BCA")
	ctx := context.Background()
	for _, year := range []int{2025, 2023, 2024} {
		if _, err := s.OpenCovenant(ctx, c.ID, year, "Covenant", 7); err != nil {
			t.Fatalf("OpenCovenant(%d): %v", year, err)
		}
	}
	if got, err := s.Covenant(ctx, c.ID); err != nil || got.Year != 2025 {
		t.Errorf("Covenant = year %d, %v; want 2025", got.Year, err)
	}
	if got, err := s.CovenantOf(ctx, c.ID, 2023); err != nil || got.Year != 2023 {
		t.Errorf("CovenantOf(2023) = year %d, %v; want 2023", got.Year, err)
	}
}

func TestSignIsIdempotentAndKeepsOrder(t *testing.T) {
	t.Parallel()
	s, c := newBloc(t, "TANDTC", "BCA", "KTNN")
	ctx := context.Background()
	if _, err := s.OpenCovenant(ctx, c.ID, 2025, "Covenant", 7); err != nil {
		t.Fatal(err)
	}
	sign := func(unit string, user int64) (domain.Covenant, bool, bool) {
		t.Helper()
		s.clock.Advance(time.Minute)
		cv, already, complete, err := s.Sign(ctx, c.ID, 2025, domain.Signature{Unit: unit, UserID: user, Name: unit + " delegate"})
		if err != nil {
			t.Fatalf("Sign(%s): %v", unit, err)
		}
		return cv, already, complete
	}
	kt := domain.Signature{Unit: "KTNN", UserID: 3, Name: "KTNN delegate", At: at(time.Minute)}
	ta := domain.Signature{Unit: "TANDTC", UserID: 1, Name: "TANDTC delegate", At: at(2 * time.Minute)}

	steps := []struct {
		name              string
		unit              string
		user              int64
		already, complete bool
		signed            []domain.Signature
		pending           []string
	}{
		{"first signature", "KTNN", 3, false, false, []domain.Signature{kt}, []string{"TANDTC", "BCA"}},
		{"second", "TANDTC", 1, false, false, []domain.Signature{kt, ta}, []string{"BCA"}},
		{"same unit again, another delegate", "KTNN", 33, true, false, []domain.Signature{kt, ta}, []string{"BCA"}},
	}
	for _, st := range steps {
		cv, already, complete := sign(st.unit, st.user)
		if already != st.already || complete != st.complete {
			t.Errorf("%s: already, complete = %v, %v; want %v, %v", st.name, already, complete, st.already, st.complete)
		}
		if diff := cmp.Diff(st.signed, cv.Signed); diff != "" {
			t.Errorf("%s: Signed (-want +got):\n%s", st.name, diff)
		}
		if diff := cmp.Diff(st.pending, cv.Pending); diff != "" {
			t.Errorf("%s: Pending (-want +got):\n%s", st.name, diff)
		}
	}

	// Removing the last pending unit is no signature: nobody is told.
	if _, err := s.RemoveUnit(ctx, c.ID, "BCA", 1); err != nil {
		t.Fatal(err)
	}
	// A unit joining later is pending until it signs.
	s.addUnits(t, c.ID, "BQP")
	if cv, _ := s.Covenant(ctx, c.ID); !cmp.Equal([]string{"BQP"}, cv.Pending) {
		t.Errorf("Pending = %v, want [BQP]", cv.Pending)
	}
	if _, already, complete := sign("BQP", 9); already || !complete {
		t.Errorf("last unit signs: already, complete = %v, %v; want false, true", already, complete)
	}

	for _, tt := range []struct {
		name string
		year int
		unit string
	}{
		{"no covenant that year", 2024, "KTNN"},
		{"unknown unit", 2025, "BTP"},
		{"malformed unit", 2025, "ktnn"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := s.Sign(ctx, c.ID, tt.year, domain.Signature{Unit: tt.unit, UserID: 1}); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Sign = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestSignReportsCompleteExactlyOnce(t *testing.T) {
	t.Parallel()
	s := newCommittees(t)
	ctx := context.Background()
	c := s.create(t, -1, "Khối Nội chính", blocUnits...)
	if _, err := s.OpenCovenant(ctx, c.ID, 2025, "Giao ước thi đua 2025", 7); err != nil {
		t.Fatal(err)
	}
	type result struct{ already, complete bool }
	// Every unit signs twice at the same time, through two delegates.
	results := make([]result, 2*len(blocUnits))
	errs := atOnce(len(results), func(i int) error {
		unit := blocUnits[i%len(blocUnits)]
		_, already, complete, err := s.Sign(ctx, c.ID, 2025, domain.Signature{Unit: unit, UserID: int64(i + 1)})
		results[i] = result{already, complete}
		return err
	})
	completes, firsts := 0, 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("Sign #%d: %v", i, errs[i])
		}
		if r.complete {
			completes++
		}
		if !r.already {
			firsts++
		}
	}
	if completes != 1 || firsts != len(blocUnits) {
		t.Errorf("complete reported %d times, first signatures %d; want 1 and %d", completes, firsts, len(blocUnits))
	}
	cv, err := s.Covenant(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cv.Signed) != len(blocUnits) || len(cv.Pending) != 0 {
		t.Errorf("Covenant: %d signed, pending %v; want %d signed, none pending", len(cv.Signed), cv.Pending, len(blocUnits))
	}
	if _, already, complete, err := s.Sign(ctx, c.ID, 2025, domain.Signature{Unit: "KTNN", UserID: 99}); err != nil || !already || complete {
		t.Errorf("Sign after completion = already %v, complete %v, %v; want true, false, nil", already, complete, err)
	}
}
