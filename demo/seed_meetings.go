package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

// demoMeetingOffsets replace reminders.meeting_offsets in the demo, so that
// a person trying it sees reminders of the upcoming meeting arrive within
// minutes instead of days.
var demoMeetingOffsets = []time.Duration{3 * time.Minute, time.Minute}

// conference2024 is the bloc's conference of the seed article: Hà Nội,
// the afternoon of 10/4/2024.
var conference2024 = domain.Meeting{
	Title:    "Hội nghị tổng kết công tác thi đua, khen thưởng năm 2023 và phương hướng, nhiệm vụ năm 2024",
	Location: "Hà Nội",
	Agenda: []string{
		"Báo cáo tổng kết công tác thi đua, khen thưởng năm 2023",
		"Phương hướng, nhiệm vụ năm 2024",
		"Suy tôn, bình xét khen thưởng",
		"Bầu Khối trưởng, Khối phó năm 2024",
		"Phát động và ký kết Giao ước thi đua năm 2024",
	},
}

// seedMeetings stores the 10/4/2024 conference, attended by every unit,
// through the store the bot uses. Its answers are recorded on a clock set
// to the week before, when answering was still open.
func seedMeetings(ctx context.Context, rdb redis.UniversalClient, prefix string, loc *time.Location) error {
	keys := storage.NewKeys(prefix)
	c, err := storage.NewCommittees(rdb, keys).ByChat(ctx, groupChat.ID)
	if err != nil {
		return fmt.Errorf("demo seed: meetings: %w", err)
	}
	start := time.Date(2024, 4, 10, 14, 0, 0, 0, loc)
	before := start.Add(-7 * 24 * time.Hour)
	s := storage.NewMeetings(rdb, keys, storage.WithClock(func() time.Time { return before }))
	id, err := s.NextID(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("demo seed: meetings: %w", err)
	}
	m := conference2024
	m.ID, m.Committee, m.Start, m.By = id, c.ID, start, secretaryID
	if _, err := s.Create(ctx, m); err != nil {
		return fmt.Errorf("demo seed: meeting: %w", err)
	}
	for _, p := range people {
		if p.unit == "" {
			continue
		}
		r := domain.RSVP{UserID: p.user.ID, Unit: p.unit, Name: fullName(p.user), Username: p.user.Username, Attend: true}
		if _, _, err := s.Answer(ctx, c.ID, m.ID, r); err != nil {
			return fmt.Errorf("demo seed: answer of %s: %w", p.unit, err)
		}
	}
	return nil
}

// upcomingMeeting is the /meeting_new command the secretary types at the
// start of the demo: a short online meeting three to four minutes ahead,
// so that both reminders (demoMeetingOffsets) come while the person tries
// the bot — the first between 30 and 90 seconds after the start, not in the
// first seconds, when its buttons would land between the person's first
// command and the number they type to press a button of its answer.
func upcomingMeeting(now time.Time, loc *time.Location) string {
	start := now.In(loc).Add(demoMeetingOffsets[0] + 30*time.Second)
	if t := start.Truncate(time.Minute); t.Before(start) {
		start = t.Add(time.Minute)
	}
	return "/meeting_new " + start.Format("02/01/2006 15:04") +
		" | Họp trực tuyến chuẩn bị hồ sơ Cờ thi đua của Chính phủ | Phòng họp trực tuyến của Khối" +
		" | Rà soát hồ sơ của TANDTC; Thống nhất lịch nộp hồ sơ về Ban Thi đua - Khen thưởng Trung ương"
}
