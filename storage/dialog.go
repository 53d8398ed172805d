package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Dialog is the state of a step-by-step dialogue a user is in, e.g. /nominate
// asking for the award, then the nominee, then the achievements. A user is
// in at most one dialogue; starting another replaces it and /cancel clears
// it.
type Dialog struct {
	// Name identifies the dialogue (usually the command that started it).
	Name string `json:"name"`
	// Step is the index of the question being asked.
	Step int `json:"step"`
	// Data holds the answers collected so far.
	Data map[string]string `json:"data,omitempty"`
}

// Dialogs stores each user's dialogue in progress as JSON with a TTL, so an
// abandoned dialogue ends by itself.
type Dialogs struct {
	c redis.UniversalClient
	k Keys
}

// NewDialogs returns the dialogue store.
func NewDialogs(c redis.UniversalClient, k Keys) *Dialogs {
	return &Dialogs{c: c, k: k}
}

// Get returns userID's dialogue in progress, or ErrNotFound if there is none
// (never started, cleared or expired).
func (d *Dialogs) Get(ctx context.Context, userID int64) (Dialog, error) {
	raw, err := d.c.Get(ctx, d.k.Dialog(userID)).Bytes()
	if err != nil {
		return Dialog{}, fmt.Errorf("get dialog of user %d: %w", userID, notFound(err))
	}
	var dlg Dialog
	if err := json.Unmarshal(raw, &dlg); err != nil {
		return Dialog{}, fmt.Errorf("get dialog of user %d: decode: %w", userID, err)
	}
	return dlg, nil
}

// Set stores dlg as userID's dialogue in progress, replacing any other, for
// ttl. A dialogue without a name or a ttl that is not positive is
// ErrInvalid.
func (d *Dialogs) Set(ctx context.Context, userID int64, dlg Dialog, ttl time.Duration) error {
	if dlg.Name == "" || ttl <= 0 {
		return fmt.Errorf("set dialog of user %d: name %q, ttl %v: %w", userID, dlg.Name, ttl, ErrInvalid)
	}
	raw, err := json.Marshal(dlg)
	if err != nil {
		return fmt.Errorf("set dialog of user %d: encode: %w", userID, err)
	}
	if err := d.c.Set(ctx, d.k.Dialog(userID), raw, ttl).Err(); err != nil {
		return fmt.Errorf("set dialog of user %d: %w", userID, err)
	}
	return nil
}

// Clear ends userID's dialogue and reports whether there was one (so
// /cancel can say "nothing to cancel").
func (d *Dialogs) Clear(ctx context.Context, userID int64) (bool, error) {
	n, err := d.c.Del(ctx, d.k.Dialog(userID)).Result()
	if err != nil {
		return false, fmt.Errorf("clear dialog of user %d: %w", userID, err)
	}
	return n > 0, nil
}
