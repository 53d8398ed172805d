package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/committeebot/committeebot/app/apptest"

	ics "github.com/arran4/golang-ical"
	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/storage"
)

// erinID is a fifth person, made a delegate by the tests that need one
// more.
const erinID = 205

func TestMeetingBadValuesNameTheValueAndTheForm(t *testing.T) {
	t.Parallel()
	h, _ := apptest.MeetingBot(t, nil)
	apptest.CreateConference(t, h)
	long := func(n int) string { return strings.Repeat("ư", n) }
	items := strings.TrimSuffix(strings.Repeat("Mục; ", 21), "; ")
	tests := []struct {
		name string
		cmd  string
		want []string // every one in the answer
		not  []string // none in the answer
	}{
		{"edit: a time that does not exist", "/meeting_edit 1 time 99:99", []string{"«99:99»", "HH:MM", "23:59"}, []string{"/meeting_new"}},
		{"edit: a date that does not exist", "/meeting_edit 1 time 31/02/2024 14:00", []string{"«31/02/2024»", "DD/MM/YYYY", "YYYY-MM-DD"}, []string{"/meeting_new"}},
		{"edit: not a time at all", "/meeting_edit 1 time soon", []string{"«soon»", "HH:MM"}, []string{"/meeting_new"}},
		{"new: a time that does not exist", "/meeting_new 10/04/2024 99:99 | Họp | Hà Nội", []string{"«99:99»", "HH:MM", "23:59"}, nil},
		{"new: a date that does not exist", "/meeting_new 31/02/2024 14:00 | Họp | Hà Nội", []string{"«31/02/2024»", "DD/MM/YYYY"}, nil},
		{"new: a title of 5000 characters", "/meeting_new 10/04/2024 14:00 | " + long(5000) + " | Hà Nội", []string{"5000", "200"}, []string{"Cần tên"}},
		{"edit: a title of 5000 characters", "/meeting_edit 1 title " + long(5000), []string{"5000", "200"}, []string{"Cần tên", "/meeting_new"}},
		{"new: no title", "/meeting_new 10/04/2024 14:00 |  | Hà Nội", []string{"Cần tên cuộc họp"}, nil},
		{"new: a place of 201 characters", "/meeting_new 10/04/2024 14:00 | Họp | " + long(201), []string{"201", "200"}, []string{"Cần địa điểm"}},
		{"edit: a place of 201 characters", "/meeting_edit 1 location " + long(201), []string{"201", "200"}, []string{"Cần địa điểm"}},
		{"new: an agenda item of 301 characters", "/meeting_new 10/04/2024 14:00 | Họp | Hà Nội | Báo cáo; " + long(301), []string{"thứ 2", "301", "300"}, nil},
		{"edit: an agenda of 21 items", "/meeting_edit 1 agenda " + items, []string{"21", "20"}, nil},
		{"new: a duration that is no duration", "/meeting_new 10/04/2024 14:00 | Họp | Hà Nội duration=abc", []string{"«abc»", "90m", "2h"}, nil},
		{"edit: a duration over the bound", "/meeting_edit 1 duration 8d", []string{"«8d»", "7 ngày"}, []string{"/meeting_new"}},
		{"edit: a duration of nothing", "/meeting_edit 1 duration 0m", []string{"«0m»", "5 phút"}, nil},
	}
	for _, tt := range tests {
		m := apptest.Ask(t, h, groupID, aliceID, tt.cmd, "⚠️")
		for _, w := range tt.want {
			if !strings.Contains(m.Text, w) {
				t.Errorf("%s: the answer lacks %q:\n%s", tt.name, w, m.Text)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(m.Text, n) {
				t.Errorf("%s: the answer has %q:\n%s", tt.name, n, m.Text)
			}
		}
	}
	// Nothing changed: no edit, no new meeting.
	if ev := fetchICS(t, h, groupID, daveID, "1"); prop(ev, ics.ComponentPropertySequence) != "0" {
		t.Errorf("refused edits changed meeting 1: SEQUENCE %s", prop(ev, ics.ComponentPropertySequence))
	}
	h.Expect(groupID, carolID, "/meeting 2", "Không có cuộc họp số 2")
}

func TestPastMeetingIsReadOnly(t *testing.T) {
	t.Parallel()
	h, clock := apptest.MeetingBot(t, nil)
	apptest.CreateConference(t, h)
	confirm := apptest.Ask(t, h, groupID, aliceID, "/meeting_cancel 1", "Huỷ cuộc họp")
	apptest.AdvanceTo(clock, apptest.At(10, 14, 0)) // the meeting starts
	h.Quiet(groupID)

	const readOnly = "không thể sửa hay huỷ"
	tests := []struct {
		name     string
		chat     int64
		user     int64
		cmd      string
		want     string
		noButton bool
	}{
		{"a new time", groupID, aliceID, "/meeting_edit 1 time 15:30", readOnly, false},
		{"a new date and time", aliceID, aliceID, "/meeting_edit 1 time 12/04/2024 09:00", readOnly, false},
		{"a new title", groupID, aliceID, "/meeting_edit 1 title Hội nghị sơ kết", readOnly, false},
		{"a new place", groupID, aliceID, "/meeting_edit 1 location Đà Nẵng", readOnly, false},
		{"a new duration", groupID, aliceID, "/meeting_edit 1 duration 3h", readOnly, false},
		{"cancelling", groupID, aliceID, "/meeting_cancel 1", readOnly, true},
		{"answering", bobID, bobID, "/rsvp 1 yes", "đã bắt đầu", false},
	}
	for _, tt := range tests {
		m := apptest.Ask(t, h, tt.chat, tt.user, tt.cmd, tt.want)
		if strings.Contains(m.Text, "Đã sửa") || (tt.noButton && len(m.ReplyMarkup) > 0) {
			t.Errorf("%s of a meeting that has begun: %q %+v", tt.name, m.Text, m.ReplyMarkup)
		}
	}
	// The confirmation asked before the start is refused after it.
	apptest.Press(t, h, groupID, aliceID, confirm, "🗑 Huỷ cuộc họp")
	if got := apptest.Current(h, groupID, confirm).Text; !strings.Contains(got, readOnly) {
		t.Errorf("the cancel button after the start: %q", got)
	}
	ev, method := fetchCalendar(t, h, groupID, daveID, "1")
	got := []string{method, prop(ev, ics.ComponentPropertySequence), prop(ev, ics.ComponentPropertyStatus), prop(ev, ics.ComponentPropertyDtStart)}
	if diff := cmp.Diff([]string{"PUBLISH", "0", "CONFIRMED", "20240410T140000"}, got); diff != "" {
		t.Errorf("a meeting that has begun changed (-want +got):\n%s", diff)
	}
	h.Quiet(bobID)
	if n := apptest.Count(h, bobID, "Cuộc họp đổi") + apptest.Count(h, bobID, "Cuộc họp đã bị huỷ"); n != 0 {
		t.Errorf("Bob was told of %d changes to a meeting that has begun", n)
	}
}

func TestMeetingDurationEndsTheCalendarEvent(t *testing.T) {
	t.Parallel()
	h, _ := apptest.MeetingBot(t, map[string]string{"COMMITTEEBOT_MEETINGS_DEFAULT_DURATION": "90m"})
	ann := apptest.CreateConference(t, h)
	apptest.HasAll(t, "the announcement", ann.Text, "14:00–15:30")
	second := h.Say(groupID, aliceID, "/meeting_new 11/04/2024 08:00 | Họp chuyên đề | Hà Nội | Tổng kết duration=3h")
	apptest.HasAll(t, "a meeting of 3 hours announced", second.Text, "08:00–11:00", "1. Tổng kết\n")
	if m := apptest.Ask(t, h, groupID, aliceID, "/meeting_edit 2 duration 4h", "Đã sửa"); !strings.Contains(m.Text, "08:00–12:00") {
		t.Errorf("/meeting_edit duration answered %q", m.Text)
	}
	h.Expect(groupID, daveID, "/meeting 2", "08:00–12:00")

	// A meeting stored before durations were kept ends after the
	// configured default.
	third := h.Say(groupID, aliceID, "/meeting_new 12/04/2024 08:00 | Họp cũ | Hà Nội duration=3h")
	if !strings.Contains(third.Text, "08:00–11:00") {
		t.Fatalf("third meeting announced:\n%s", third.Text)
	}
	keys := storage.NewKeys(h.Redis.Prefix())
	if err := h.Redis.Client().HDel(context.Background(), keys.Meeting("1", "3"), "dur").Err(); err != nil {
		t.Fatal(err)
	}

	confirm := apptest.Ask(t, h, groupID, aliceID, "/meeting_cancel 2", "Huỷ cuộc họp")
	apptest.Press(t, h, groupID, aliceID, confirm, "🗑 Huỷ cuộc họp")
	waitMessage(t, h, groupID, "Cuộc họp đã bị huỷ")

	tests := []struct {
		id                                      string
		method, status, seq, dtstart, dtend, tz string
	}{
		{"1", "PUBLISH", "CONFIRMED", "0", "20240410T140000", "20240410T153000", "Asia/Ho_Chi_Minh"},
		{"2", "CANCEL", "CANCELLED", "2", "20240411T080000", "20240411T120000", "Asia/Ho_Chi_Minh"},
		{"3", "PUBLISH", "CONFIRMED", "0", "20240412T080000", "20240412T093000", "Asia/Ho_Chi_Minh"},
	}
	for _, tt := range tests {
		ev, method := fetchCalendar(t, h, bobID, bobID, tt.id)
		end := ev.GetProperty(ics.ComponentPropertyDtEnd)
		tz := ""
		if end != nil && len(end.ICalParameters["TZID"]) == 1 {
			tz = end.ICalParameters["TZID"][0]
		}
		got := []string{method, prop(ev, ics.ComponentPropertyStatus), prop(ev, ics.ComponentPropertySequence),
			prop(ev, ics.ComponentPropertyDtStart), prop(ev, ics.ComponentPropertyDtEnd), tz}
		want := []string{tt.method, tt.status, tt.seq, tt.dtstart, tt.dtend, tt.tz}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("meeting %s: METHOD, STATUS, SEQUENCE, DTSTART, DTEND, TZID (-want +got):\n%s", tt.id, diff)
		}
	}
}

func TestChangeNoticesReachEveryDelegate(t *testing.T) {
	t.Parallel()
	h, _ := apptest.MeetingBot(t, nil)
	// Dave (KTNN) never answers; Erin (TANDTC) blocked the bot and must
	// not keep the others from being told.
	apptest.AddDelegate(t, h, "1", "KTNN", telegramtest.User{ID: daveID, FirstName: "Dave", Username: "dave"})
	apptest.AddMember(t, h, "TANDTC", telegramtest.User{ID: erinID, FirstName: "Erin", Username: "erin"})
	h.TG.BlockBot(erinID)
	apptest.CreateConference(t, h)
	h.Say(bobID, bobID, "/rsvp 1 yes")
	h.Say(carolID, carolID, "/rsvp 1 no")

	tests := []struct {
		name   string
		change func()
		notice string
	}{
		{"a new time", func() {
			apptest.Ask(t, h, groupID, aliceID, "/meeting_edit 1 time 15:30", "Đã sửa")
		}, "Cuộc họp đổi giờ"},
		{"a new date", func() {
			apptest.Ask(t, h, groupID, aliceID, "/meeting_edit 1 time 11/04/2024 09:00", "Đã sửa")
		}, "11/04/2024"},
		{"a new place", func() {
			apptest.Ask(t, h, groupID, aliceID, "/meeting_edit 1 location Đà Nẵng", "Đã sửa")
		}, "Cuộc họp đổi địa điểm"},
		{"cancelling", func() {
			confirm := apptest.Ask(t, h, groupID, aliceID, "/meeting_cancel 1", "Huỷ cuộc họp")
			apptest.Press(t, h, groupID, aliceID, confirm, "🗑 Huỷ cuộc họp")
		}, "Cuộc họp đã bị huỷ"},
	}
	for _, tt := range tests {
		tt.change()
		for _, who := range []struct {
			name string
			chat int64
		}{{"the group", groupID}, {"Bob, who attends", bobID}, {"Carol, who declined", carolID}, {"Dave, who did not answer", daveID}} {
			waitMessage(t, h, who.chat, tt.notice)
		}
	}
	h.Quiet(groupID)
	for _, chat := range []int64{groupID, bobID, carolID, daveID} {
		if n := apptest.Count(h, chat, "Cuộc họp đổi giờ"); n != 2 {
			t.Errorf("chat %d was told of %d new times, want 2", chat, n)
		}
	}
	if n := len(h.TG.BotMessages(erinID)); n != 0 {
		t.Errorf("Erin, who blocked the bot, got %d messages", n)
	}
}
