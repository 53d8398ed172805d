package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

// seedNominations adds a handful of the bloc's nominations for its year,
// across awards and lifecycle stages, through the store the bot uses:
// TANDTC, the head unit, for the Government Emulation Flag under review;
// others submitted, put to the vote, approved and forwarded, withdrawn.
func seedNominations(ctx context.Context, rdb redis.UniversalClient, prefix string) error {
	keys := storage.NewKeys(prefix)
	c, err := storage.NewCommittees(rdb, keys).ByChat(ctx, groupChat.ID)
	if err != nil {
		return fmt.Errorf("demo seed: nominations: %w", err)
	}
	// Spread the history over the past weeks, so cards read like a real
	// dossier's progress.
	at := time.Now().Add(-21 * 24 * time.Hour).Truncate(time.Hour)
	later := func(d time.Duration) { at = at.Add(d) }
	s := storage.NewNominations(rdb, keys, storage.WithClock(func() time.Time { return at }))
	delegate := func(unit string) (int64, string) {
		for _, p := range people {
			if p.unit == unit {
				return p.user.ID, fullName(p.user)
			}
		}
		return secretaryID, fullName(people[0].user)
	}
	_, secretary := delegate("")
	items := []struct {
		unit, award, nominee, nomineeUnit, achievements string
		path                                            []domain.Status
		notes                                           []string
	}{
		{"TANDTC", "CTD_CP", "TANDTC", "TANDTC",
			"Dẫn đầu Khối thi đua Nội chính năm 2024; hoàn thành xuất sắc các chỉ tiêu xét xử, giải quyết án.",
			[]domain.Status{domain.StatusUnderReview}, []string{"Hồ sơ đầy đủ, chuyển Khối xem xét"}},
		{"VKSNDTC", "BK_TTG", "Vụ Thực hành quyền công tố và kiểm sát điều tra án hình sự", "",
			"Hoàn thành xuất sắc nhiệm vụ năm 2024.", nil, nil},
		{"KTNN", "CSTD_BO", "Nguyễn Văn An — Kiểm toán viên chính, Kiểm toán nhà nước", "",
			"Ba năm liền đạt danh hiệu Chiến sĩ thi đua cơ sở; chủ trì hai đề tài cấp bộ.",
			[]domain.Status{domain.StatusUnderReview, domain.StatusVoting}, []string{"", "Đưa ra biểu quyết tại hội nghị 10/4"}},
		{"BQP", "TTLDXS", "Phòng Thi đua - Khen thưởng, Tổng cục Chính trị", "",
			"", []domain.Status{domain.StatusUnderReview, domain.StatusVoting, domain.StatusApproved, domain.StatusForwarded},
			[]string{"", "", "8/8 đơn vị tán thành tại hội nghị 10/4", "Đã gửi Ban Thi đua - Khen thưởng Trung ương"}},
		{"BCA", "CSTD_CS", "Trần Thị Bình — Cục Công tác đảng và công tác chính trị", "",
			"", []domain.Status{domain.StatusWithdrawn}, []string{"Đơn vị rút để bổ sung hồ sơ"}},
	}
	for _, it := range items {
		by, name := delegate(it.unit)
		n, err := s.Create(ctx, domain.Nomination{
			Committee: c.ID, Unit: it.unit, Award: it.award, Nominee: it.nominee, NomineeUnit: it.nomineeUnit,
			Achievements: it.achievements, Year: c.Year, By: by, ByName: name,
		})
		if err != nil {
			return fmt.Errorf("demo seed: nomination of %s: %w", it.unit, err)
		}
		later(26 * time.Hour)
		for i, to := range it.path {
			later(49 * time.Hour)
			who, whoName := int64(secretaryID), secretary
			if to == domain.StatusWithdrawn {
				who, whoName = by, name
			}
			ch := domain.Change{From: n.Status, To: to, By: who, ByName: whoName, Note: it.notes[i]}
			// Decided at the conference, by show of hands: recorded as
			// a decision outside the bot's ballots, with its reason.
			ch.Override = domain.DecidedByBallot(ch.From, ch.To)
			if n, err = s.Transition(ctx, c.ID, n.ID, ch); err != nil {
				return fmt.Errorf("demo seed: nomination %d to %s: %w", n.ID, to, err)
			}
		}
	}
	return nil
}
