package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/domain"
)

// setMinutesInfoScript writes some fields of a ballot's minutes
// information, only if the ballot exists.
//
// KEYS[1] the ballot's hash, KEYS[2] its minutes information hash.
// ARGV pairs of field and value; an empty value deletes the field.
// Returns 1, or 0 if there is no such ballot.
var setMinutesInfoScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do
  if ARGV[i+1] == '' then
    redis.call('HDEL', KEYS[2], ARGV[i])
  else
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i+1])
  end
end
return 1
`)

// SetMinutesInfo stores the given fields of info as the minutes
// information of a ballot (open or closed), leaving the other fields as
// they are; an empty field is cleared. One atomic step: repeating it
// changes nothing more. ErrNotFound if there is no such ballot.
func (s *Ballots) SetMinutesInfo(ctx context.Context, committeeID, ballotID string, info domain.MinutesInfo, fields []domain.MinutesField) error {
	args := make([]any, 0, 2*len(fields))
	for _, f := range fields {
		v := info.Get(f)
		if f == domain.MinutesCounters {
			v = strings.Join(info.Counters, "\n")
		}
		args = append(args, string(f), v)
	}
	v, err := runScript(ctx, s.c, setMinutesInfoScript, []string{
		s.k.Ballot(committeeID, ballotID), s.k.BallotPart(committeeID, ballotID, "minutes"),
	}, args...)
	if err != nil {
		return fmt.Errorf("minutes info of ballot %s: %w", ballotID, err)
	}
	if n, _ := v.(int64); n != 1 {
		return fmt.Errorf("minutes info of ballot %s: %w", ballotID, ErrNotFound)
	}
	return nil
}

// MinutesInfo returns a ballot's minutes information (empty when none was
// given).
func (s *Ballots) MinutesInfo(ctx context.Context, committeeID, ballotID string) (domain.MinutesInfo, error) {
	h, err := s.c.HGetAll(ctx, s.k.BallotPart(committeeID, ballotID, "minutes")).Result()
	if err != nil {
		return domain.MinutesInfo{}, fmt.Errorf("minutes info of ballot %s: %w", ballotID, err)
	}
	info := domain.MinutesInfo{
		Chair: h[string(domain.MinutesChair)], Secretary: h[string(domain.MinutesSecretary)],
		Place: h[string(domain.MinutesPlace)], Opinions: h[string(domain.MinutesOpinions)],
	}
	if c := h[string(domain.MinutesCounters)]; c != "" {
		info.Counters = strings.Split(c, "\n")
	}
	return info, nil
}
