package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// meetingsFixture is a committee with two units and a delegate in each.
type meetingsFixture struct {
	*storage.Meetings
	com   *storage.Committees
	clock *clock
	cid   string
}

func newMeetings(t *testing.T) meetingsFixture {
	t.Helper()
	rt := redistest.New(t)
	k := storage.NewKeys(rt.Prefix())
	clk := newClock()
	com := storage.NewCommittees(rt.Client(), k, storage.WithClock(clk.Now))
	ctx := context.Background()
	c, err := com.Create(ctx, -5, "Group", "Bloc", "Asia/Ho_Chi_Minh", "vi", 2025, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, code := range []string{"TANDTC", "KTNN"} {
		if err := com.AddUnit(ctx, c.ID, domain.Unit{Code: code, Name: code}); err != nil {
			t.Fatal(err)
		}
		inv, err := com.CreateInvite(ctx, c.ID, code, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := com.RedeemInvite(ctx, inv.Token, domain.Delegate{UserID: int64(10 + i), Name: "D" + code}); err != nil {
			t.Fatal(err)
		}
	}
	return meetingsFixture{Meetings: storage.NewMeetings(rt.Client(), k, storage.WithClock(clk.Now)), com: com, clock: clk, cid: c.ID}
}

func (f meetingsFixture) create(t *testing.T, start time.Time) domain.Meeting {
	t.Helper()
	ctx := context.Background()
	id, err := f.NextID(ctx, f.cid)
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.Create(ctx, domain.Meeting{
		ID: id, Committee: f.cid, Title: "Hội nghị", Location: "Hà Nội",
		Agenda: []string{"Tổng kết", "Bầu khối trưởng"}, Start: start, By: 1,
		Reminders: []time.Duration{72 * time.Hour, 2 * time.Hour},
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return m
}

// newMeeting returns a fixture holding one meeting, starting in after,
// and that meeting.
func newMeeting(t *testing.T, after time.Duration) (meetingsFixture, domain.Meeting) {
	t.Helper()
	f := newMeetings(t)
	return f, f.create(t, f.clock.Now().Add(after))
}

func TestCreateAndGetMeeting(t *testing.T) {
	t.Parallel()
	f := newMeetings(t)
	start := f.clock.Now().Add(48 * time.Hour)
	m := f.create(t, start)
	want := domain.Meeting{
		ID: "1", Committee: f.cid, Title: "Hội nghị", Location: "Hà Nội",
		Agenda: []string{"Tổng kết", "Bầu khối trưởng"}, Start: start, Status: domain.MeetingScheduled,
		Created: f.clock.Now(), Updated: f.clock.Now(), By: 1,
		Reminders: []time.Duration{72 * time.Hour, 2 * time.Hour},
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("Create (-want +got):\n%s", diff)
	}
	if m2 := f.create(t, start); m2.ID != "2" {
		t.Errorf("second meeting id %q, want 2", m2.ID)
	}
	if _, err := f.Get(context.Background(), f.cid, "404"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get unknown = %v, want ErrNotFound", err)
	}
	bad := want
	bad.ID, bad.Title = "9", " "
	if _, err := f.Create(context.Background(), bad); !errors.Is(err, domain.ErrMeetingTitle) {
		t.Errorf("Create without title = %v, want ErrMeetingTitle", err)
	}
}

func TestUpdateMeetingIsCompareAndSet(t *testing.T) {
	t.Parallel()
	f, m := newMeeting(t, 48*time.Hour)
	ctx := context.Background()

	edit := m
	edit.Start = m.Start.Add(time.Hour)
	edit.Title = "Hội nghị tổng kết"
	got, _, err := f.Update(ctx, edit)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got.Sequence != 1 || !got.Start.Equal(edit.Start) || got.Title != edit.Title {
		t.Errorf("after Update: %+v", got)
	}
	if _, _, err := f.Update(ctx, edit); err != nil {
		t.Errorf("a repeated Update = %v, want nil (already applied)", err)
	}
	stale := m
	stale.Location = "Đà Nẵng"
	if _, _, err := f.Update(ctx, stale); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("Update from a stale read = %v, want ErrConflict", err)
	}
	up, err := f.Upcoming(ctx, f.cid, 10)
	if err != nil || len(up) != 1 || !up[0].Start.Equal(edit.Start) {
		t.Errorf("Upcoming after moving = %+v, %v", up, err)
	}
}

func TestCancelMeeting(t *testing.T) {
	t.Parallel()
	f, m := newMeeting(t, time.Hour)
	ctx := context.Background()
	got, _, already, err := f.Cancel(ctx, f.cid, m.ID, 7)
	if err != nil || already || !got.Cancelled() || got.Sequence != 1 {
		t.Fatalf("Cancel = %+v, %v, %v", got, already, err)
	}
	if _, _, already, err := f.Cancel(ctx, f.cid, m.ID, 8); err != nil || !already {
		t.Errorf("second Cancel = already %v, %v", already, err)
	}
	if _, _, err := f.Update(ctx, got); !errors.Is(err, domain.ErrMeetingCancelled) {
		t.Errorf("Update of a cancelled meeting = %v", err)
	}
	if up, _ := f.Upcoming(ctx, f.cid, 10); len(up) != 0 {
		t.Errorf("a cancelled meeting is listed as upcoming")
	}
	if _, err := f.Next(ctx, f.cid); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Next = %v, want ErrNotFound", err)
	}
	f.clock.Advance(2 * time.Hour)
	if past, _ := f.Past(ctx, f.cid, 10); len(past) != 1 || !past[0].Cancelled() {
		t.Errorf("Past = %+v, want the cancelled meeting", past)
	}
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	f, m := newMeeting(t, time.Hour)
	ctx := context.Background()
	yes := domain.RSVP{UserID: 10, Unit: "TANDTC", Name: "A", Attend: true}

	changed, prev, err := f.Answer(ctx, f.cid, m.ID, yes)
	if err != nil || !changed || prev != nil {
		t.Fatalf("first Answer = %v, %v, %v", changed, prev, err)
	}
	f.clock.Advance(time.Second)
	if changed, prev, err := f.Answer(ctx, f.cid, m.ID, yes); err != nil || changed || prev == nil || !*prev {
		t.Errorf("same Answer again = %v, %v, %v; want unchanged", changed, prev, err)
	}
	no := yes
	no.Attend = false
	f.clock.Advance(time.Minute)
	if changed, prev, err := f.Answer(ctx, f.cid, m.ID, no); err != nil || !changed || prev == nil || !*prev {
		t.Errorf("changed Answer = %v, %v, %v", changed, prev, err)
	}
	if _, _, err := f.Answer(ctx, f.cid, m.ID, domain.RSVP{UserID: 10, Unit: "KTNN", Attend: true}); !errors.Is(err, domain.ErrNotDelegate) {
		t.Errorf("answer for another unit = %v, want domain.ErrNotDelegate", err)
	}
	if _, _, err := f.Answer(ctx, f.cid, m.ID, domain.RSVP{UserID: 99, Unit: "KTNN", Attend: true}); !errors.Is(err, domain.ErrNotDelegate) {
		t.Errorf("answer by a stranger = %v, want domain.ErrNotDelegate", err)
	}
	if _, _, err := f.Answer(ctx, f.cid, m.ID, domain.RSVP{UserID: 11, Unit: "KTNN", Attend: true}); err != nil {
		t.Fatal(err)
	}
	got, err := f.RSVPs(ctx, f.cid, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.RSVP{
		{UserID: 10, Unit: "TANDTC", Name: "A", Attend: false, At: f.clock.Now()},
		{UserID: 11, Unit: "KTNN", Attend: true, At: f.clock.Now()},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RSVPs (-want +got):\n%s", diff)
	}
	f.clock.Advance(time.Hour)
	if _, _, err := f.Answer(ctx, f.cid, m.ID, yes); !errors.Is(err, domain.ErrMeetingStarted) {
		t.Errorf("answer after the start = %v, want domain.ErrMeetingStarted", err)
	}
}

func TestEditSlotThrottlesOnTheCallersClock(t *testing.T) {
	t.Parallel()
	f := newMeetings(t)
	ctx := context.Background()
	ok, until, err := f.TakeEditSlot(ctx, f.cid, "1", 3*time.Second)
	if err != nil || !ok || !until.Equal(f.clock.Now().Add(3*time.Second)) {
		t.Fatalf("first TakeEditSlot = %v, %v, %v", ok, until, err)
	}
	f.clock.Advance(time.Second)
	if ok, next, _ := f.TakeEditSlot(ctx, f.cid, "1", 3*time.Second); ok || !next.Equal(until) {
		t.Errorf("TakeEditSlot a second later = %v, %v; want busy until %v", ok, next, until)
	}
	f.clock.Advance(2 * time.Second)
	if ok, _, _ := f.TakeEditSlot(ctx, f.cid, "1", 3*time.Second); !ok {
		t.Error("slot not free after the interval")
	}
}

func TestMeetingDurationIsKeptAndOldMeetingsHaveNone(t *testing.T) {
	t.Parallel()
	f := newMeetings(t)
	ctx := context.Background()
	start := f.clock.Now().Add(48 * time.Hour)
	id, err := f.NextID(ctx, f.cid)
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.Create(ctx, domain.Meeting{ID: id, Committee: f.cid, Title: "Họp", Location: "Hà Nội", Start: start, Duration: 3 * time.Hour, By: 1})
	if err != nil {
		t.Fatal(err)
	}
	if m.Duration != 3*time.Hour {
		t.Errorf("Duration after Create = %v, want 3h", m.Duration)
	}
	m.Duration = 90 * time.Minute
	if m, _, err = f.Update(ctx, m); err != nil || m.Duration != 90*time.Minute || m.Sequence != 1 {
		t.Errorf("Update of the duration = %v (seq %d), %v; want 1h30m", m.Duration, m.Sequence, err)
	}
	tooLong := m
	tooLong.Duration = 8 * 24 * time.Hour
	if _, _, err := f.Update(ctx, tooLong); !errors.Is(err, domain.ErrMeetingDuration) {
		t.Errorf("Update to 8 days = %v, want ErrMeetingDuration", err)
	}
	// A meeting stored before durations were kept has none (End then
	// takes the configured default); editing it leaves it so.
	old := f.create(t, start)
	if old.Duration != 0 || !old.End(2*time.Hour).Equal(start.Add(2*time.Hour)) {
		t.Errorf("a meeting without a duration: %v, ends %v", old.Duration, old.End(2*time.Hour))
	}
	old.Title = "Hội nghị"
	if got, _, err := f.Update(ctx, old); err != nil || got.Duration != 0 {
		t.Errorf("Update of an old meeting = duration %v, %v; want none", got.Duration, err)
	}
}

func TestMeetingThatHasBegunIsReadOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// after is how long after the start the change comes.
		after time.Duration
		want  error
	}{
		{"a minute before the start", -time.Minute, nil},
		{"at the start", 0, domain.ErrMeetingStarted},
		{"after the meeting", 3 * time.Hour, domain.ErrMeetingStarted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, m := newMeeting(t, time.Hour)
			ctx := context.Background()
			f.clock.Advance(time.Hour + tt.after)

			edit := m
			edit.Title = "Hội nghị sơ kết"
			if _, _, err := f.Update(ctx, edit); !errors.Is(err, tt.want) {
				t.Errorf("Update = %v, want %v", err, tt.want)
			}
			got, err := f.Get(ctx, f.cid, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, _, _, err = f.Cancel(ctx, f.cid, m.ID, 7)
			if !errors.Is(err, tt.want) {
				t.Errorf("Cancel = %v, want %v", err, tt.want)
			}
			after, gerr := f.Get(ctx, f.cid, m.ID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tt.want != nil && (after.Cancelled() || after.Sequence != got.Sequence || after.Title != m.Title) {
				t.Errorf("a refused change changed the meeting: %+v", after)
			}
		})
	}
}

func TestMeetingAnnouncementIsKeptBesideTheMeeting(t *testing.T) {
	t.Parallel()
	f, m := newMeeting(t, 48*time.Hour)
	ctx := context.Background()
	if _, ann, err := f.GetWithAnnouncement(ctx, f.cid, m.ID); err != nil || ann.Posted() {
		t.Fatalf("GetWithAnnouncement before an announcement = %+v, %v; want the zero Post", ann, err)
	}
	if err := f.SetAnnouncement(ctx, f.cid, m.ID, -100, 42); err != nil {
		t.Fatal(err)
	}
	want := storage.Post{Chat: -100, Message: 42}
	got, ann, err := f.GetWithAnnouncement(ctx, f.cid, m.ID)
	if err != nil || ann != want || got.ID != m.ID || got.Title != m.Title {
		t.Fatalf("GetWithAnnouncement = %+v, %+v, %v; want the meeting and %+v", got, ann, err, want)
	}
	edit := got
	edit.Title = "Hội nghị tổng kết"
	if _, ann, err := f.Update(ctx, edit); err != nil || ann != want {
		t.Errorf("Update's announcement = %+v, %v; want %+v", ann, err, want)
	}
	if _, ann, _, err := f.Cancel(ctx, f.cid, m.ID, 7); err != nil || ann != want {
		t.Errorf("Cancel's announcement = %+v, %v; want %+v", ann, err, want)
	}
}
