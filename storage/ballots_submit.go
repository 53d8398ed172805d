package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/committeebot/committeebot/domain"
)

// The secrecy rule in one place: a secret vote leaves this file sealed,
// its choice next to a receipt and never next to the voter; the voter is
// kept only in the voted hash, next to a cast id that reveals nothing of
// the receipt (Sealer.CastToken).

// Submission is one press of "submit" on a personal ballot.
type Submission struct {
	UserID int64
	// Voter is the elector: the unit code (units electorate) or the user
	// id (members electorate); "" on a units ballot casts for the unit the
	// user is a delegate of (CastResult.Voter says which), with no read
	// of the delegation before the cast.
	Voter string
	// Name is the voter's name, kept with an open vote.
	Name   string
	Choice domain.Choice
	// Token is a secret that only the voter's Telegram update carries
	// (the callback query id): the cast id and the receipt are derived
	// from it, so that the same update handled again casts the same vote
	// and shows the same receipt.
	Token string
	// PostEvery, if set, takes the group post's edit slot in the same step
	// (see Cast.PostEvery).
	PostEvery time.Duration
}

// sealedBallot is what a secret ballot's box holds for one vote.
type sealedBallot struct {
	Receipt string        `json:"r"`
	Choice  domain.Choice `json:"c"`
}

// sealKey names a ballot for sealing.
func sealKey(b domain.Ballot) string { return b.Committee + "/" + b.ID }

// CastSecret casts v on the secret ballot b: the choice sealed with the
// voter's receipt into the box, in one atomic, idempotent step. It returns
// the receipt. Errors are those of Cast, and ErrInvalid for an open ballot
// or a store without a sealer.
func (s *Ballots) CastSecret(ctx context.Context, b domain.Ballot, v Submission) (string, CastResult, error) {
	if !b.Secret || s.sealer == nil {
		return "", CastResult{}, fmt.Errorf("cast secret on ballot %s (secret %v, sealer %v): %w", b.ID, b.Secret, s.sealer != nil, ErrInvalid)
	}
	castID, receipt, err := s.sealer.CastToken(sealKey(b), v.Token)
	if err != nil {
		return "", CastResult{}, err
	}
	raw, err := json.Marshal(sealedBallot{Receipt: receipt, Choice: v.Choice})
	if err != nil {
		return "", CastResult{}, fmt.Errorf("cast: %w", err)
	}
	sealed, err := s.sealer.Seal(sealKey(b), raw)
	if err != nil {
		return "", CastResult{}, err
	}
	res, err := s.Cast(ctx, b, Cast{UserID: v.UserID, Voter: v.Voter, CastID: castID, Sealed: sealed, PostEvery: v.PostEvery})
	return receipt, res, err
}

// CastOpen casts v on the open ballot b, with the voter's name and the
// time, in one atomic, idempotent step. Errors are those of Cast, and
// ErrInvalid for a secret ballot or a store without a sealer.
func (s *Ballots) CastOpen(ctx context.Context, b domain.Ballot, v Submission) (CastResult, error) {
	if b.Secret || s.sealer == nil {
		return CastResult{}, fmt.Errorf("cast open on ballot %s (secret %v, sealer %v): %w", b.ID, b.Secret, s.sealer != nil, ErrInvalid)
	}
	castID, _, err := s.sealer.CastToken(sealKey(b), v.Token)
	if err != nil {
		return CastResult{}, err
	}
	vote := &domain.OpenVote{Voter: v.Voter, UserID: v.UserID, Name: v.Name, Choice: v.Choice, At: s.now()}
	return s.Cast(ctx, b, Cast{UserID: v.UserID, Voter: v.Voter, CastID: castID, Vote: vote, PostEvery: v.PostEvery})
}

// OpenBox unseals the box of the secret ballot b: every choice, and every
// receipt with its choice, sorted by receipt code (never in casting order).
func (s *Ballots) OpenBox(ctx context.Context, b domain.Ballot) ([]domain.Choice, []domain.Receipt, error) {
	if !b.Secret || s.sealer == nil {
		return nil, nil, fmt.Errorf("open box of ballot %s (secret %v, sealer %v): %w", b.ID, b.Secret, s.sealer != nil, ErrInvalid)
	}
	box, err := s.Box(ctx, b.Committee, b.ID)
	if err != nil {
		return nil, nil, err
	}
	choices := make([]domain.Choice, 0, len(box))
	receipts := make([]domain.Receipt, 0, len(box))
	for _, sealed := range box {
		raw, err := s.sealer.Open(sealKey(b), sealed)
		if err != nil {
			return nil, nil, fmt.Errorf("count ballot %s: %w", b.ID, err)
		}
		var sb sealedBallot
		if err := json.Unmarshal(raw, &sb); err != nil {
			return nil, nil, fmt.Errorf("count ballot %s: %w", b.ID, err)
		}
		choices = append(choices, sb.Choice)
		receipts = append(receipts, domain.Receipt{Code: sb.Receipt, Choice: sb.Choice})
	}
	sort.Slice(receipts, func(i, j int) bool { return receipts[i].Code < receipts[j].Code })
	return choices, receipts, nil
}
