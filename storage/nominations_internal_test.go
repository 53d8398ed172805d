package storage

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage/redistest"
)

// TestNominationScriptsAreHarmlessWhenRerun runs each write script twice
// with the same arguments, as a go-redis retry after a lost reply does:
// the second run must report success and change nothing.
func TestNominationScriptsAreHarmlessWhenRerun(t *testing.T) {
	t.Parallel()
	rt := redistest.New(t)
	ctx := context.Background()
	k := NewKeys(rt.Prefix())
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	com := NewCommittees(rt.Client(), k, WithClock(clock))
	c, err := com.Create(ctx, -1, "G", "Bloc", "Asia/Ho_Chi_Minh", "vi", 2025, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := com.AddUnit(ctx, c.ID, domain.Unit{Code: "TANDTC", Name: "Tòa án"}); err != nil {
		t.Fatal(err)
	}
	s := NewNominations(rt.Client(), k, WithClock(clock))

	// Create: the same id and duplicate key twice.
	first, _ := json.Marshal(changeRecord{To: "submitted", By: 7, At: unixMilli(now)})
	keys := []string{
		k.CommitteeMeta(c.ID), k.UnitRecords(c.ID), k.NominationIndex(c.ID), k.NominationIDs(c.ID),
		k.Nomination(c.ID, 1), k.NominationHistory(c.ID, 1), k.NominationFiles(c.ID, 1),
	}
	args := []any{"CTD_CP|2025|tandtc", 1, "TANDTC", "TANDTC", first, 1, `{"file_id":"f","name":"a.pdf"}`,
		nomID, 1, nomUnit, "TANDTC", nomAward, "CTD_CP", nomNominee, "TANDTC", nomNomineeUnit, "TANDTC",
		nomYear, 2025, nomStatus, "submitted", nomCreated, unixMilli(now), nomDupKey, "CTD_CP|2025|tandtc"}
	for i := range 2 {
		v, err := runScript(ctx, rt.Client(), createNominationScript, keys, args...)
		if err != nil {
			t.Fatalf("create run %d: %v", i+1, err)
		}
		if status, id, err := statusAndID(v); err != nil || status != createDone || id != 1 {
			t.Fatalf("create run %d = %d, %d, %v; want stored as 1", i+1, status, id, err)
		}
	}

	// Transition: the same change record twice.
	rec, _ := json.Marshal(changeRecord{From: "submitted", To: "withdrawn", By: 7, At: unixMilli(now)})
	tkeys := []string{k.Nomination(c.ID, 1), k.NominationHistory(c.ID, 1), k.NominationIndex(c.ID)}
	for i := range 2 {
		v, err := runScript(ctx, rt.Client(), transitionScript, tkeys, "submitted", "withdrawn", rec, unixMilli(now), "1")
		if err != nil {
			t.Fatalf("transition run %d: %v", i+1, err)
		}
		if r, _ := asReply(v, 2); r == nil || r[0] != int64(moveDone) {
			t.Fatalf("transition run %d = %v, want done", i+1, v)
		}
	}

	n, err := s.Get(ctx, c.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.History) != 2 || len(n.Attachments) != 1 || n.Status != domain.StatusWithdrawn {
		t.Errorf("after re-runs: status %s, %d changes, %d attachments; want withdrawn, 2, 1", n.Status, len(n.History), len(n.Attachments))
	}
	if left, _ := rt.Client().HLen(ctx, k.NominationIndex(c.ID)).Result(); left != 0 {
		t.Errorf("the withdrawn nomination still holds %d index entries", left)
	}
	// A different change from the old status is still a conflict.
	other, _ := json.Marshal(changeRecord{From: "submitted", To: "withdrawn", By: 8, At: unixMilli(now)})
	v, err := runScript(ctx, rt.Client(), transitionScript, tkeys, "submitted", "withdrawn", other, unixMilli(now), "1")
	if r, _ := asReply(v, 2); err != nil || r == nil || r[0] != int64(moveConflict) {
		t.Errorf("another withdrawal = %v, %v; want a conflict", v, err)
	}
}
