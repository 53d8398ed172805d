package app_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/app"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/internal/clocktest"
	"github.com/committeebot/committeebot/storage"
)

// meetingClockStart is 16:00 on Monday 1 April 2024 in Hà Nội, nine days
// before the bloc's conference of the seed article.
var meetingClockStart = time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC)

// hanoi is the committees' default time zone.
var hanoi, _ = time.LoadLocation("Asia/Ho_Chi_Minh")

// conference is the one-line creation of the 10/4/2024 conference.
const conference = "/meeting_new 10/04/2024 14:00 | Hội nghị tổng kết năm 2023 | Hà Nội | Báo cáo tổng kết; Bầu Khối trưởng, Khối phó; Ký Giao ước thi đua"

// meetingBot starts the bot on a test clock with a fast scheduler tick
// and binds the group to a bloc of two units, Bob delegate of TANDTC and
// Carol of KTNN.
func meetingBot(t *testing.T, env map[string]string, opts ...app.Option) (*harness, *testClock) {
	t.Helper()
	clock := clocktest.New(meetingClockStart)
	e := map[string]string{"COMMITTEEBOT_REMINDERS_TICK": "20ms"}
	for k, v := range env {
		e[k] = v
	}
	// The sender's pacing is tested in package bot and by the fan-out
	// test; here it would only make the tests wait.
	unlimited := app.WithOutboxLimits(storage.OutboxLimits{})
	h := startBot(t, harnessOpts{env: e, appOpts: append([]app.Option{app.WithClock(clock.Now), unlimited}, opts...)})
	blocOf(t, h, []string{"TANDTC Tòa án nhân dân tối cao", "KTNN Kiểm toán nhà nước"}, []seat{{bobID, "TANDTC"}, {carolID, "KTNN"}})
	return h, clock
}

// createConference creates the conference as Alice in the group and
// returns its announcement.
func createConference(t *testing.T, h *harness) telegramtest.Message {
	t.Helper()
	m := h.say(groupID, aliceID, conference)
	if !strings.Contains(m.Text, "Hội nghị tổng kết năm 2023") || !strings.Contains(m.Text, "/meeting 1") {
		t.Fatalf("/meeting_new answered %q", m.Text)
	}
	return m
}

// waitText waits until a bot message in chat contains want.
func waitMessage(t *testing.T, h *harness, chat int64, want string) telegramtest.Message {
	t.Helper()
	return h.waitFirst(chat, func(m telegramtest.Message) bool {
		return strings.Contains(m.Text, want) || (m.Document != nil && strings.Contains(m.Document.Caption, want))
	})
}

// ask sends text and waits for the bot's answer in chat that contains
// want (jobs may post other messages meanwhile).
func ask(t *testing.T, h *harness, chat, user int64, text, want string) telegramtest.Message {
	t.Helper()
	sent := h.tg.SendText(chat, user, text)
	return h.waitAfter(chat, sent.MessageID, fmt.Sprintf("answer to %s containing %q", text, want), func(m telegramtest.Message) bool {
		return strings.Contains(m.Text, want)
	})
}

// count is how many bot messages in chat contain want.
func count(h *harness, chat int64, want string) int {
	return h.countWhere(chat, func(text string) bool { return strings.Contains(text, want) })
}

// fetchICS asks for a meeting's calendar file and parses it with the
// library.
func fetchICS(t *testing.T, h *harness, chat, user int64, id string) *ics.VEvent {
	t.Helper()
	ev, _ := fetchCalendar(t, h, chat, user, id)
	return ev
}

// fetchCalendar is fetchICS that also returns the calendar's METHOD.
func fetchCalendar(t *testing.T, h *harness, chat, user int64, id string) (*ics.VEvent, string) {
	t.Helper()
	sent := h.tg.SendText(chat, user, "/ics "+id)
	m := h.waitAfter(chat, sent.MessageID, "document answering /ics "+id, func(m telegramtest.Message) bool { return m.Document != nil })
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
	h, clock := meetingBot(t, nil)
	ann := createConference(t, h)
	hasAll(t, "announcement", ann.HTML, "10/04/2024", "14:00", "Hà Nội", "Bầu Khối trưởng, Khối phó", "0</b> người", "Chưa trả lời: TANDTC, KTNN")

	// Bob attends: the announcement follows at once.
	press(t, h, groupID, bobID, ann, "✅ Tham dự")
	waitFor(t, func() bool {
		return strings.Contains(current(h, groupID, ann).Text, "Tham dự: 1 người, 1/2 đơn vị")
	})
	// Carol declines within the same 3 s: the edit waits for its slot.
	press(t, h, groupID, carolID, ann, "❌ Không dự")
	if got := current(h, groupID, ann).Text; strings.Contains(got, "Không dự: 1") {
		t.Errorf("announcement edited twice within 3 s: %q", got)
	}
	clock.Advance(3 * time.Second)
	waitFor(t, func() bool { return strings.Contains(current(h, groupID, ann).Text, "Không dự: 1") }, h.logs.String)
	// Dave is no delegate.
	h.expect(groupID, daveID, "/rsvp 1 yes", "dành cho đại diện")
	h.expect(bobID, bobID, "/rsvp 1 yes", "đã xác nhận dự")
	details := h.say(groupID, daveID, "/meeting 1")
	hasAll(t, "/meeting 1", details.Text, "TANDTC: ✅ Bob", "KTNN: ❌ Carol", "Còn 8 ngày 22 giờ", "1. Báo cáo tổng kết")

	// Bob changes his mind, twice: the last answer counts.
	ask(t, h, bobID, bobID, "/rsvp 1 no", "không dự")
	h.expect(groupID, daveID, "/meeting 1", "TANDTC: ❌ Bob", "Tham dự: 0 người")
	ask(t, h, bobID, bobID, "/rsvp 1 yes", "sẽ dự")

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
	hasAll(t, "DESCRIPTION", desc, "1. Báo cáo tổng kết", "2. Bầu Khối trưởng, Khối phó", "3. Ký Giao ước thi đua")

	// Moving the meeting: SEQUENCE 1, the group and every delegate (Carol,
	// who declined, too: the new time may suit her) are told.
	if m := ask(t, h, groupID, aliceID, "/meeting_edit 1 time 15:30", "Đã sửa"); !strings.Contains(m.Text, "15:30") {
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
	if m := ask(t, h, groupID, aliceID, "/meeting_edit 1 location Hội trường TANDTC, 48 Lý Thường Kiệt", "Đã sửa"); !strings.Contains(m.Text, "48 Lý Thường Kiệt") {
		t.Errorf("/meeting_edit location answered %q", m.Text)
	}
	waitMessage(t, h, bobID, "Cuộc họp đổi địa điểm")

	// Cancelling: confirm button, notices, STATUS:CANCELLED.
	confirm := ask(t, h, groupID, aliceID, "/meeting_cancel 1", "Huỷ cuộc họp")
	press(t, h, groupID, bobID, confirm, "🗑 Huỷ cuộc họp") // not an admin
	if got := current(h, groupID, confirm).Text; strings.Contains(got, "Đã huỷ") {
		t.Fatalf("a delegate cancelled the meeting: %q", got)
	}
	press(t, h, groupID, aliceID, confirm, "🗑 Huỷ cuộc họp")
	waitMessage(t, h, groupID, "Cuộc họp đã bị huỷ")
	waitMessage(t, h, bobID, "Cuộc họp đã bị huỷ")
	waitMessage(t, h, carolID, "Cuộc họp đã bị huỷ")
	ev, method := fetchCalendar(t, h, bobID, bobID, "1")
	if seq, st := prop(ev, ics.ComponentPropertySequence), prop(ev, ics.ComponentPropertyStatus); seq != "3" || st != "CANCELLED" || method != "CANCEL" {
		t.Errorf("after cancelling SEQUENCE %s STATUS %s METHOD %s, want 3, CANCELLED and CANCEL", seq, st, method)
	}
	clock.Advance(3 * time.Second)
	waitFor(t, func() bool { return strings.Contains(current(h, groupID, ann).Text, "ĐÃ HUỶ") }, h.logs.String)
	if kb := current(h, groupID, ann).ReplyMarkup; len(kb) != 1 || kb[0][0].Text != "📅 Thêm vào lịch" {
		t.Errorf("a cancelled meeting's announcement keeps buttons %+v", kb)
	}
	h.expect(bobID, bobID, "/rsvp 1 yes", "đã bị huỷ")
	h.expect(groupID, carolID, "/meetings", "Chưa có cuộc họp nào sắp tới")
}

func TestBadMeetingInputShowsTheAcceptedForms(t *testing.T) {
	t.Parallel()
	h, _ := meetingBot(t, nil)
	tests := []struct{ args, want string }{
		{"31/02/2024 14:00 | Họp | Hà Nội", "không có thật"},
		{"2024-04-10 25:00 | Họp | Hà Nội", "không đúng dạng HH:MM"},
		{"01/03/2024 14:00 | Họp | Hà Nội", "đã qua"},
		{"10/04/2024 14:00 |  | Hà Nội", "Cần tên cuộc họp"},
		{"10/04/2024 14:00 | Họp", "Cần địa điểm"},
		{"tomorrow | Họp | Hà Nội", "không đúng dạng"},
	}
	for _, tt := range tests {
		m := h.say(groupID, aliceID, "/meeting_new "+tt.args)
		if !strings.Contains(m.Text, tt.want) || !strings.Contains(m.Text, "2024-04-10") || !strings.Contains(m.Text, "10/04/2024") {
			t.Errorf("/meeting_new %s answered %q, want %q and the accepted forms", tt.args, m.Text, tt.want)
		}
	}
	h.expect(groupID, bobID, conference, "Chỉ thư ký khối")
	h.expect(groupID, carolID, "/meetings", "Chưa có cuộc họp")
	h.expect(groupID, carolID, "/meeting 7", "Không có cuộc họp số 7")
}

func TestMeetingStepByStepWithButtons(t *testing.T) {
	t.Parallel()
	h, _ := meetingBot(t, nil)
	h.require(groupID, aliceID, "/meeting_new", "nhắn riêng")
	q := waitMessage(t, h, aliceID, "Họp vào ngày")
	if len(q.ReplyMarkup) == 0 || q.ReplyMarkup[0][0].Text != "T2 01/04" {
		t.Fatalf("date question without day buttons: %+v", q.ReplyMarkup)
	}
	h.expect(aliceID, aliceID, "30/02/2024", "không có thật")
	h.require(aliceID, aliceID, "10/04/2024", "Mấy giờ")
	timeQ := h.tg.BotMessages(aliceID)
	press(t, h, aliceID, aliceID, timeQ[len(timeQ)-1], "14:00")
	durationQ := waitMessage(t, h, aliceID, "bao lâu")
	hasAll(t, "the duration question", durationQ.Text, "Bỏ qua (2 giờ)")
	h.expect(aliceID, aliceID, "8d", "«8d»")
	durationQ = h.tg.BotMessages(aliceID)[len(h.tg.BotMessages(aliceID))-1]
	press(t, h, aliceID, aliceID, durationQ, "3 giờ")
	waitMessage(t, h, aliceID, "Tên cuộc họp")
	h.say(aliceID, aliceID, "Hội nghị tổng kết năm 2023")
	h.require(aliceID, aliceID, "Hà Nội", "Chương trình")
	agendaQ := h.tg.BotMessages(aliceID)
	press(t, h, aliceID, aliceID, agendaQ[len(agendaQ)-1], "Bỏ qua ⏭")
	review := waitMessage(t, h, aliceID, "Kiểm tra lại cuộc họp")
	hasAll(t, "review", review.Text, "14:00–17:00, Thứ Tư 10/04/2024 (GMT+7)", "Hà Nội", "Nhắc lịch 72 giờ, 24 giờ, 2 giờ trước")
	press(t, h, aliceID, aliceID, review, "✅ Xác nhận")
	done := waitMessage(t, h, aliceID, "Đã tạo cuộc họp")
	hasAll(t, "creation", done.Text, "/meeting 1", "thông báo trong nhóm")
	waitMessage(t, h, groupID, "Hội nghị tổng kết năm 2023")
}

func TestAttendanceByUnitAsMessageAndCSV(t *testing.T) {
	t.Parallel()
	h, _ := meetingBot(t, nil)
	createConference(t, h)
	h.say(bobID, bobID, "/rsvp 1 yes")
	h.say(carolID, carolID, "/rsvp 1 no")
	h.expect(groupID, bobID, "/attendance 1", "Chỉ thư ký khối")
	m := h.say(aliceID, aliceID, "/attendance 1")
	hasAll(t, "/attendance", m.Text, "TANDTC", "✅ Bob (@bob)", "❌ Carol (@carol)", "1/2 đơn vị")
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
	h, _ := meetingBot(t, nil)
	createConference(t, h)
	// Dave belongs to no unit and presses buttons he made up, in private,
	// under a message of the bot.
	hello := h.say(daveID, daveID, "/start")
	for _, data := range []string{"mics:1:1", "mr:1:1:1", "mcx:1:1", "mr:1:1:x", "mics:9:1"} {
		if a := h.pressData(daveID, daveID, hello.MessageID, data); a.Text == "" {
			t.Errorf("forged %q got no refusal", data)
		}
	}
	h.quiet(daveID)
	for _, m := range h.tg.BotMessages(daveID) {
		if m.Document != nil {
			t.Errorf("a forged button got Dave the calendar file %s", m.Document.FileName)
		}
	}
	h.expect(groupID, daveID, "/meeting 1", "Tham dự: 0 người")
}

func TestMeetingMessagesGolden(t *testing.T) {
	t.Parallel()
	h, clock := meetingBot(t, nil)
	ann := createConference(t, h)
	h.say(bobID, bobID, "/rsvp 1 yes")
	h.say(carolID, carolID, "/rsvp 1 no")
	clock.Advance(3 * time.Second)
	waitFor(t, func() bool { return strings.Contains(current(h, groupID, ann).Text, "Không dự: 1") })
	golden(t, "meeting_announcement_vi", current(h, groupID, ann).HTML)
	golden(t, "meeting_status_vi", ask(t, h, groupID, daveID, "/status", "Cuộc họp tới").HTML)
	advanceTo(clock, at(7, 14, 0))
	golden(t, "meeting_reminder_vi", waitReminders(t, h, bobID, 1).HTML)
	h.say(groupID, aliceID, "/lang en")
	golden(t, "meeting_details_en", ask(t, h, groupID, daveID, "/meeting 1", "Attending").HTML)
}
