package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

func TestMinutesInfoIsSetFieldByField(t *testing.T) {
	t.Parallel()
	f := newBallotFixture(t, "AA", "BB", "CC")
	ctx := context.Background()
	b := f.openMotion(t, true, domain.ElectorateUnits, "AA", "BB", "CC")
	if got, err := f.ballots.MinutesInfo(ctx, f.c.ID, b.ID); err != nil || !cmp.Equal(got, domain.MinutesInfo{}) {
		t.Fatalf("MinutesInfo before any = %+v, %v", got, err)
	}
	all := domain.MinutesInfo{Chair: "Nguyễn Văn A", Secretary: "Trần Thị B", Counters: []string{"Lê C", "Phạm D"}, Place: "Hội trường", Opinions: "CC: tán thành"}
	if err := f.ballots.SetMinutesInfo(ctx, f.c.ID, b.ID, all, domain.MinutesFields()); err != nil {
		t.Fatal(err)
	}
	// A second call names two fields: the chair changes, the place is
	// cleared, the rest stays.
	next := domain.MinutesInfo{Chair: "Hoàng E"}
	for range 2 {
		if err := f.ballots.SetMinutesInfo(ctx, f.c.ID, b.ID, next, []domain.MinutesField{domain.MinutesChair, domain.MinutesPlace}); err != nil {
			t.Fatal(err)
		}
	}
	want := all
	want.Chair, want.Place = "Hoàng E", ""
	if got, err := f.ballots.MinutesInfo(ctx, f.c.ID, b.ID); err != nil || !cmp.Equal(got, want) {
		t.Errorf("MinutesInfo = %+v, %v; want %+v", got, err, want)
	}
	if err := f.ballots.SetMinutesInfo(ctx, f.c.ID, "99", all, domain.MinutesFields()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetMinutesInfo of an unknown ballot = %v, want ErrNotFound", err)
	}
	if got, _ := f.ballots.MinutesInfo(ctx, f.c.ID, "99"); !cmp.Equal(got, domain.MinutesInfo{}) {
		t.Errorf("an unknown ballot got minutes information %+v", got)
	}
}
