package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

// units of the Central Internal Affairs emulation bloc, from the seed
// article.
var seedUnits = []domain.Unit{
	{Code: "BQP", Name: "Bộ Quốc phòng"},
	{Code: "BCA", Name: "Bộ Công an"},
	{Code: "BTP", Name: "Bộ Tư pháp"},
	{Code: "VKSNDTC", Name: "Viện kiểm sát nhân dân tối cao"},
	{Code: "TANDTC", Name: "Tòa án nhân dân tối cao"},
	{Code: "KTNN", Name: "Kiểm toán nhà nước"},
	{Code: "TTCP", Name: "Thanh tra Chính phủ"},
	{Code: "BQLLANG", Name: "Ban Quản lý Lăng Chủ tịch Hồ Chí Minh"},
}

// seed writes the bloc through the same stores the bot uses: the
// committee bound to the demo group, its eight units, a delegate for each
// (through real invites), TANDTC head and VKSNDTC deputy for 2024 after
// KTNN in 2023, and the 2024 covenant signed by half of the units.
func seed(ctx context.Context, rdb redis.UniversalClient, prefix string, loc *time.Location, lang string) error {
	keys := storage.NewKeys(prefix)
	s := storage.NewCommittees(rdb, keys)
	users := storage.NewUsers(rdb, keys)
	c, err := s.Create(ctx, groupChat.ID, groupChat.Title, "Khối thi đua Nội chính Trung ương", loc.String(), lang, 2024, secretaryID)
	if err != nil {
		return fmt.Errorf("demo seed: committee: %w", err)
	}
	for _, u := range seedUnits {
		if err := s.AddUnit(ctx, c.ID, u); err != nil {
			return fmt.Errorf("demo seed: unit %s: %w", u.Code, err)
		}
	}
	for _, p := range people {
		if err := users.SetCurrentCommittee(ctx, p.user.ID, c.ID); err != nil {
			return fmt.Errorf("demo seed: %w", err)
		}
		if p.unit == "" {
			continue
		}
		inv, err := s.CreateInvite(ctx, c.ID, p.unit, secretaryID)
		if err != nil {
			return fmt.Errorf("demo seed: invite %s: %w", p.unit, err)
		}
		d := domain.Delegate{UserID: p.user.ID, Name: fullName(p.user), Username: p.user.Username}
		if _, _, err := s.RedeemInvite(ctx, inv.Token, d); err != nil {
			return fmt.Errorf("demo seed: delegate %s: %w", p.unit, err)
		}
	}
	roles := []struct {
		year       int
		unit, role string
	}{
		{2023, "KTNN", domain.RoleHead},
		{2024, "TANDTC", domain.RoleHead},
		{2024, "VKSNDTC", domain.RoleDeputy},
	}
	for _, r := range roles {
		if _, err := s.SetRole(ctx, c.ID, r.year, r.unit, r.role, secretaryID); err != nil {
			return fmt.Errorf("demo seed: role %s: %w", r.unit, err)
		}
	}
	cov, err := s.OpenCovenant(ctx, c.ID, 2024, "Đẩy mạnh phong trào thi đua, hoàn thành xuất sắc nhiệm vụ năm 2024", secretaryID)
	if err != nil {
		return fmt.Errorf("demo seed: covenant: %w", err)
	}
	for _, p := range people[1:5] {
		sig := domain.Signature{Unit: p.unit, UserID: p.user.ID, Name: fullName(p.user)}
		if _, _, _, err := s.Sign(ctx, c.ID, cov.Year, sig); err != nil {
			return fmt.Errorf("demo seed: sign %s: %w", p.unit, err)
		}
	}
	return nil
}
