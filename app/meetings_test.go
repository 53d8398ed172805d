package app_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/app/apptest"

	ics "github.com/arran4/golang-ical"
	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/bot/telegramtest"
)

// waitText waits until a bot message in chat contains want.
func waitMessage(t *testing.T, h *apptest.Harness, chat int64, want string) telegramtest.Message {
	t.Helper()
	return h.WaitFirst(chat, func(m telegramtest.Message) bool {
		return strings.Contains(m.Text, want) || (m.Document != nil && strings.Contains(m.Document.Caption, want))
	})
}

// fetchICS asks for a meeting's calendar file and parses it with the
// library.
func fetchICS(t *testing.T, h *apptest.Harness, chat, user int64, id string) *ics.VEvent {
	t.Helper()
	ev, _ := fetchCalendar(t, h, chat, user, id)
	return ev
}

// fetchCalendar is fetchICS that also returns the calendar's METHOD.
func fetchCalendar(t *testing.T, h *apptest.Harness, chat, user int64, id string) (*ics.VEvent, string) {
	t.Helper()
	sent := h.TG.SendText(chat, user, "/ics "+id)
	m := h.WaitAfter(chat, sent.MessageID, "document answering /ics "+id, func(m telegramtest.Message) bool { return m.Document != nil })
	if !strings.HasSuffix(m.Document.FileName, ".ics") {
		t.Errorf("calendar file named %q", m.Document.FileName)
	}
	if lines := strings.Split(string(m.Document.Data), "\r\n"); len(lines) < 10 || strings.Contains(string(m.Document.Data), "\n\n") {
		t.Errorf("the .ics lines do not end with CRLF")
	} else {
		for _, l := range lines {
			if len(l) > 75 {
				t.Errorf("line of %d octets, RFC 5545 wants at most 75: %q", len(l), l)
			}
		}
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(m.Document.Data))
	if err != nil {
		t.Fatalf("the .ics does not parse: %v\n%s", err, m.Document.Data)
	}
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events in the .ics, want 1", len(events))
	}
	if tz := cal.Timezones(); len(tz) != 1 {
		t.Errorf("%d VTIMEZONE in the .ics, want 1", len(tz))
	}
	method := ""
	for _, p := range cal.CalendarProperties {
		if p.IANAToken == string(ics.PropertyMethod) {
			method = p.Value
		}
	}
	return events[0], method
}

func prop(ev *ics.VEvent, p ics.ComponentProperty) string {
	if v := ev.GetProperty(p); v != nil {
		return v.Value
	}
	return ""
}

func TestMeetingAnnouncedAnsweredEditedCancelled(t *testing.T) {
	t.Parallel()
	h, clock := apptest.MeetingBot(t, nil)
	ann := apptest.CreateConference(t, h)
	apptest.HasAll(t, "announcement", ann.HTML, "10/04/2024", "14:00", "Hà Nội", "Bầu Khối trưởng, Khối phó", "0</b> người", "Chưa trả lời: TANDTC, KTNN")

	// Bob attends: the announcement follows at once.
	apptest.Press(t, h, groupID, bobID, ann, "✅ Tham dự")
	apptest.WaitFor(t, func() bool {
		return strings.Contains(apptest.Current(h, groupID, ann).Text, "Tham dự: 1 người, 1/2 đơn vị")
	})
	// Carol declines within the same 3 s: the edit waits for its slot.
	apptest.Press(t, h, groupID, carolID, ann, "❌ Không dự")
	if got := apptest.Current(h, groupID, ann).Text; strings.Contains(got, "Không dự: 1") {
		t.Errorf("announcement edited twice within 3 s: %q", got)
	}
	clock.Advance(3 * time.Second)
	apptest.WaitFor(t, func() bool { return strings.Contains(apptest.Current(h, groupID, ann).Text, "Không dự: 1") }, h.Logs.String)
	// Dave is no delegate.
	h.Expect(groupID, daveID, "/rsvp 1 yes", "dành cho đại diện")
	h.Expect(bobID, bobID, "/rsvp 1 yes", "đã xác nhận dự")
	details := h.Say(groupID, daveID, "/meeting 1")
	apptest.HasAll(t, "/meeting 1", details.Text, "TANDTC: ✅ Bob", "KTNN: ❌ Carol", "Còn 8 ngày 22 giờ", "1. Báo cáo tổng kết")

	// Bob changes his mind, twice: the last answer counts.
	apptest.Ask(t, h, bobID, bobID, "/rsvp 1 no", "không dự")
	h.Expect(groupID, daveID, "/meeting 1", "TANDTC: ❌ Bob", "Tham dự: 0 người")
	apptest.Ask(t, h, bobID, bobID, "/rsvp 1 yes", "sẽ dự")

	ev := fetchICS(t, h, groupID, daveID, "1")
	start, err := ev.GetStartAt()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{
		"uid": ev.Id(), "summary": prop(ev, ics.ComponentPropertySummary), "location": prop(ev, ics.ComponentPropertyLocation),
		"sequence": prop(ev, ics.ComponentPropertySequence), "status": prop(ev, ics.ComponentPropertyStatus),
		"start": start.UTC().Format(time.RFC3339), "tzid": ev.GetProperty(ics.ComponentPropertyDtStart).ICalParameters["TZID"][0],
		"dtstart": prop(ev, ics.ComponentPropertyDtStart),
	}
	want := map[string]string{
		"uid": "meeting-1-1@" + botName + ".t.me", "summary": "Hội nghị tổng kết năm 2023", "location": "Hà Nội",
		"sequence": "0", "status": "CONFIRMED", "start": "2024-04-10T07:00:00Z", "tzid": "Asia/Ho_Chi_Minh",
		"dtstart": "20240410T140000",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf(".ics fields (-want +got):\n%s", diff)
	}
	desc := prop(ev, ics.ComponentPropertyDescription)
	apptest.HasAll(t, "DESCRIPTION", desc, "1. Báo cáo tổng kết", "2. Bầu Khối trưởng, Khối phó", "3. Ký Giao ước thi đua")

	// Moving the meeting: SEQUENCE 1, the group and every delegate (Carol,
	// who declined, too: the new time may suit her) are told.
	if m := apptest.Ask(t, h, groupID, aliceID, "/meeting_edit 1 time 15:30", "Đã sửa"); !strings.Contains(m.Text, "15:30") {
		t.Fatalf("/meeting_edit answered %q", m.Text)
	}
	waitMessage(t, h, groupID, "Cuộc họp đổi giờ")
	waitMessage(t, h, bobID, "Cuộc họp đổi giờ")
	if m := waitMessage(t, h, carolID, "Cuộc họp đổi giờ"); !strings.Contains(m.Text, "Bạn đã báo không dự") || len(m.ReplyMarkup) == 0 {
		t.Errorf("Carol, who declined, was told of the new time without a way to answer again: %q %+v", m.Text, m.ReplyMarkup)
	}
	ev = fetchICS(t, h, bobID, bobID, "1")
	if seq, dt := prop(ev, ics.ComponentPropertySequence), prop(ev, ics.ComponentPropertyDtStart); seq != "1" || dt != "20240410T153000" {
		t.Errorf("after the edit SEQUENCE %s DTSTART %s, want 1 and 20240410T153000", seq, dt)
	}
	if m := apptest.Ask(t, h, groupID, aliceID, "/meeting_edit 1 location Hội trường TANDTC, 48 Lý Thường Kiệt", "Đã sửa"); !strings.Contains(m.Text, "48 Lý Thường Kiệt") {
		t.Errorf("/meeting_edit location answered %q", m.Text)
	}
	waitMessage(t, h, bobID, "Cuộc họp đổi địa điểm")

	// Cancelling: confirm button, notices, STATUS:CANCELLED.
	confirm := apptest.Ask(t, h, groupID, aliceID, "/meeting_cancel 1", "Huỷ cuộc họp")
	apptest.Press(t, h, groupID, bobID, confirm, "🗑 Huỷ cuộc họp") // not an admin
	if got := apptest.Current(h, groupID, confirm).Text; strings.Contains(got, "Đã huỷ") {
		t.Fatalf("a delegate cancelled the meeting: %q", got)
	}
	apptest.Press(t, h, groupID, aliceID, confirm, "🗑 Huỷ cuộc họp")
	waitMessage(t, h, groupID, "Cuộc họp đã bị huỷ")
	waitMessage(t, h, bobID, "Cuộc họp đã bị huỷ")
	waitMessage(t, h, carolID, "Cuộc họp đã bị huỷ")
	ev, method := fetchCalendar(t, h, bobID, bobID, "1")
	if seq, st := prop(ev, ics.ComponentPropertySequence), prop(ev, ics.ComponentPropertyStatus); seq != "3" || st != "CANCELLED" || method != "CANCEL" {
		t.Errorf("after cancelling SEQUENCE %s STATUS %s METHOD %s, want 3, CANCELLED and CANCEL", seq, st, method)
	}
	clock.Advance(3 * time.Second)
	apptest.WaitFor(t, func() bool { return strings.Contains(apptest.Current(h, groupID, ann).Text, "ĐÃ HUỶ") }, h.Logs.String)
	if kb := apptest.Current(h, groupID, ann).ReplyMarkup; len(kb) != 1 || kb[0][0].Text != "📅 Thêm vào lịch" {
		t.Errorf("a cancelled meeting's announcement keeps buttons %+v", kb)
	}
	h.Expect(bobID, bobID, "/rsvp 1 yes", "đã bị huỷ")
	h.Expect(groupID, carolID, "/meetings", "Chưa có cuộc họp nào sắp tới")
}

func TestBadMeetingInputShowsTheAcceptedForms(t *testing.T) {
	t.Parallel()
	h, _ := apptest.MeetingBot(t, nil)
	tests := []struct{ args, want string }{
		{"31/02/2024 14:00 | Họp | Hà Nội", "không có thật"},
		{"2024-04-10 25:00 | Họp | Hà Nội", "không đúng dạng HH:MM"},
		{"01/03/2024 14:00 | Họp | Hà Nội", "đã qua"},
		{"10/04/2024 14:00 |  | Hà Nội", "Cần tên cuộc họp"},
		{"10/04/2024 14:00 | Họp", "Cần địa điểm"},
		{"tomorrow | Họp | Hà Nội", "không đúng dạng"},
	}
	for _, tt := range tests {
		m := h.Say(groupID, aliceID, "/meeting_new "+tt.args)
		if !strings.Contains(m.Text, tt.want) || !strings.Contains(m.Text, "2024-04-10") || !strings.Contains(m.Text, "10/04/2024") {
			t.Errorf("/meeting_new %s answered %q, want %q and the accepted forms", tt.args, m.Text, tt.want)
		}
	}
	h.Expect(groupID, bobID, apptest.Conference, "Chỉ thư ký khối")
	h.Expect(groupID, carolID, "/meetings", "Chưa có cuộc họp")
	h.Expect(groupID, carolID, "/meeting 7", "Không có cuộc họp số 7")
}

func TestMeetingStepByStepWithButtons(t *testing.T) {
	t.Parallel()
	h, _ := apptest.MeetingBot(t, nil)
	h.Require(groupID, aliceID, "/meeting_new", "nhắn riêng")
	q := waitMessage(t, h, aliceID, "Họp vào ngày")
	if len(q.ReplyMarkup) == 0 || q.ReplyMarkup[0][0].Text != "T2 01/04" {
		t.Fatalf("date question without day buttons: %+v", q.ReplyMarkup)
	}
	h.Expect(aliceID, aliceID, "30/02/2024", "không có thật")
	h.Require(aliceID, aliceID, "10/04/2024", "Mấy giờ")
	timeQ := h.TG.BotMessages(aliceID)
	apptest.Press(t, h, aliceID, aliceID, timeQ[len(timeQ)-1], "14:00")
	durationQ := waitMessage(t, h, aliceID, "bao lâu")
	apptest.HasAll(t, "the duration question", durationQ.Text, "Bỏ qua (2 giờ)")
	h.Expect(aliceID, aliceID, "8d", "«8d»")
	durationQ = h.TG.BotMessages(aliceID)[len(h.TG.BotMessages(aliceID))-1]
	apptest.Press(t, h, aliceID, aliceID, durationQ, "3 giờ")
	waitMessage(t, h, aliceID, "Tên cuộc họp")
	h.Say(aliceID, aliceID, "Hội nghị tổng kết năm 2023")
	h.Require(aliceID, aliceID, "Hà Nội", "Chương trình")
	agendaQ := h.TG.BotMessages(aliceID)
	apptest.Press(t, h, aliceID, aliceID, agendaQ[len(agendaQ)-1], "Bỏ qua ⏭")
	review := waitMessage(t, h, aliceID, "Kiểm tra lại cuộc họp")
	apptest.HasAll(t, "review", review.Text, "14:00–17:00, Thứ Tư 10/04/2024 (GMT+7)", "Hà Nội", "Nhắc lịch 72 giờ, 24 giờ, 2 giờ trước")
	apptest.Press(t, h, aliceID, aliceID, review, "✅ Xác nhận")
	done := waitMessage(t, h, aliceID, "Đã tạo cuộc họp")
	apptest.HasAll(t, "creation", done.Text, "/meeting 1", "thông báo trong nhóm")
	waitMessage(t, h, groupID, "Hội nghị tổng kết năm 2023")
}

func TestAttendanceByUnitAsMessageAndCSV(t *testing.T) {
	t.Parallel()
	h, _ := apptest.MeetingBot(t, nil)
	apptest.CreateConference(t, h)
	h.Say(bobID, bobID, "/rsvp 1 yes")
	h.Say(carolID, carolID, "/rsvp 1 no")
	h.Expect(groupID, bobID, "/attendance 1", "Chỉ thư ký khối")
	m := h.Say(aliceID, aliceID, "/attendance 1")
	apptest.HasAll(t, "/attendance", m.Text, "TANDTC", "✅ Bob (@bob)", "❌ Carol (@carol)", "1/2 đơn vị")
	doc := waitMessage(t, h, aliceID, "Bảng điểm danh")
	if doc.Document == nil {
		t.Fatal("no CSV document")
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(doc.Document.Data, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, r := range rows {
		got = append(got, []string{r[0], r[2], r[5]})
	}
	want := [][]string{{"Mã đơn vị", "Đại diện", "Trả lời"}, {"TANDTC", "Bob", "Dự"}, {"KTNN", "Carol", "Không dự"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CSV (-want +got):\n%s", diff)
	}
}

func TestForgedMeetingButtonsReachNothing(t *testing.T) {
	t.Parallel()
	h, _ := apptest.MeetingBot(t, nil)
	apptest.CreateConference(t, h)
	// Dave belongs to no unit and presses buttons he made up, in private,
	// under a message of the bot.
	hello := h.Say(daveID, daveID, "/start")
	for _, data := range []string{"mics:1:1", "mr:1:1:1", "mcx:1:1", "mr:1:1:x", "mics:9:1"} {
		if a := h.PressData(daveID, daveID, hello.MessageID, data); a.Text == "" {
			t.Errorf("forged %q got no refusal", data)
		}
	}
	// The calendar file of a meeting that exists: Dave is told whom it
	// is for, as under the nominations list's buttons.
	if a := h.PressData(daveID, daveID, hello.MessageID, "mics:1:1"); !strings.Contains(a.Text, "dành cho đại diện") || !a.ShowAlert {
		t.Errorf("a non-member's calendar press answered %q (alert %v), want the delegates-only alert", a.Text, a.ShowAlert)
	}
	h.Quiet(daveID)
	for _, m := range h.TG.BotMessages(daveID) {
		if m.Document != nil {
			t.Errorf("a forged button got Dave the calendar file %s", m.Document.FileName)
		}
	}
	h.Expect(groupID, daveID, "/meeting 1", "Tham dự: 0 người")
}

func TestMeetingMessagesGolden(t *testing.T) {
	t.Parallel()
	h, clock := apptest.MeetingBot(t, nil)
	ann := apptest.CreateConference(t, h)
	h.Say(bobID, bobID, "/rsvp 1 yes")
	h.Say(carolID, carolID, "/rsvp 1 no")
	clock.Advance(3 * time.Second)
	apptest.WaitFor(t, func() bool { return strings.Contains(apptest.Current(h, groupID, ann).Text, "Không dự: 1") })
	golden(t, "meeting_announcement_vi", apptest.Current(h, groupID, ann).HTML)
	golden(t, "meeting_status_vi", apptest.Ask(t, h, groupID, daveID, "/status", "Cuộc họp tới").HTML)
	apptest.AdvanceTo(clock, apptest.At(7, 14, 0))
	golden(t, "meeting_reminder_vi", apptest.WaitReminders(t, h, bobID, 1).HTML)
	h.Say(groupID, aliceID, "/lang en")
	golden(t, "meeting_details_en", apptest.Ask(t, h, groupID, daveID, "/meeting 1", "Attending").HTML)
}
