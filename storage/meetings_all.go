package storage

import (
	"context"
	"fmt"

	"github.com/committeebot/committeebot/domain"
)

// allPage is how many meetings All reads per round trip.
const allPage = 100

// All returns every meeting of the committee — past and upcoming,
// cancelled ones included — by start time, for the data export.
func (s *Meetings) All(ctx context.Context, committeeID string) ([]domain.Meeting, error) {
	if !validID(committeeID) {
		return nil, fmt.Errorf("all meetings of committee %q: %w", committeeID, ErrNotFound)
	}
	ids, err := s.c.ZRange(ctx, s.k.MeetingIndex(committeeID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("all meetings of committee %s: %w", committeeID, err)
	}
	out := make([]domain.Meeting, 0, len(ids))
	for start := 0; start < len(ids); start += allPage {
		ms, err := s.getMany(ctx, committeeID, ids[start:min(start+allPage, len(ids))])
		if err != nil {
			return nil, fmt.Errorf("all meetings of committee %s: %w", committeeID, err)
		}
		out = append(out, ms...)
	}
	return out, nil
}
