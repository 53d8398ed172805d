package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/config"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

// demoSealKey gives the demo a seal key of its own when none is
// configured, so that the scene below can cast secret votes the bot
// counts.
func demoSealKey(c *config.Config) ([]byte, error) {
	if c.Voting.SealKey.IsSet() {
		return c.Voting.SealKeyBytes()
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("demo: seal key: %w", err)
	}
	c.Voting.SealKey = config.Secret(base64.StdEncoding.EncodeToString(key))
	return key, nil
}

// stageTiedElection sets the scene of a tie: the secretary opens the
// election of the deputy unit between VKSNDTC and KTNN, records the
// minutes' chair, secretary and vote counters, the eight delegates vote
// four against four (cast straight into the ballot box, as the bot would),
// and the secretary closes it. The result calls for a second round
// (/runoff), and /results gives complete minutes.
func (t *terminal) stageTiedElection(ctx context.Context, rdb redis.UniversalClient, prefix string, sealKey []byte) error {
	keys := storage.NewKeys(prefix)
	c, err := storage.NewCommittees(rdb, keys).ByChat(ctx, groupChat.ID)
	if err != nil {
		return fmt.Errorf("demo scene: %w", err)
	}
	sealer, err := storage.NewSealer(sealKey)
	if err != nil {
		return fmt.Errorf("demo scene: %w", err)
	}
	ballots := storage.NewBallots(rdb, keys, storage.WithSealer(sealer))
	before, err := ballots.List(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("demo scene: %w", err)
	}
	t.silently(ctx, secretaryID, groupChat.ID, "/elect deputy VKSNDTC,KTNN deadline=7d")
	all, err := ballots.List(ctx, c.ID)
	if err != nil || len(all) != len(before)+1 {
		return fmt.Errorf("demo scene: the election was not opened (%d ballots before, %d after): %v", len(before), len(all), err)
	}
	b := newest(all)
	t.silently(ctx, secretaryID, groupChat.ID,
		"/minutes_info "+b.ID+" chair=Nguyễn Hòa Bình | secretary=Trần Thu Hà | counters=Lê Minh Trí, Phạm Thị Lan, Vũ Đức Tuấn")
	for i, p := range people[1:] {
		pick := "VKSNDTC"
		if i%2 == 1 {
			pick = "KTNN"
		}
		_, _, err := ballots.CastSecret(ctx, b, storage.Submission{
			UserID: p.user.ID, Voter: p.unit, Choice: domain.Choice{b.Questions[0].ID: pick},
			Token: fmt.Sprintf("demo-%s-%d", b.ID, p.user.ID),
		})
		if err != nil {
			return fmt.Errorf("demo scene: vote of %s: %w", p.unit, err)
		}
	}
	t.silently(ctx, secretaryID, groupChat.ID, "/close "+b.ID)
	t.mu.Lock()
	confirm, ok := t.lastKB[groupChat.ID]
	t.mu.Unlock()
	btn, found := buttonAt(confirm, 1)
	if !ok || !found || !strings.HasPrefix(btn.CallbackData, "bclose:") {
		return fmt.Errorf("demo scene: no button to close ballot %s", b.ID)
	}
	t.tg.PressButton(groupChat.ID, secretaryID, confirm.MessageID, btn.CallbackData)
	t.drainQuiet(ctx)
	return nil
}

// newest is the ballot with the highest number.
func newest(bs []domain.Ballot) domain.Ballot {
	var last domain.Ballot
	for _, b := range bs {
		if len(b.ID) > len(last.ID) || len(b.ID) == len(last.ID) && b.ID > last.ID {
			last = b
		}
	}
	return last
}
