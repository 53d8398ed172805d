package domain

import (
	"errors"
	"fmt"
)

// The rules of the bloc that a store enforces atomically (in one script,
// against the stored state) and reports with these errors. They are domain
// errors: what they mean does not depend on Redis, and handlers/errors.go
// turns them into replies. The store's own errors (not found, conflict,
// invalid, unavailable) stay in package storage.

// Errors of committees, invites and units.
var (
	// ErrInviteUsed means an invite token was redeemed already (by anyone,
	// including the caller): each invite makes one delegate.
	ErrInviteUsed = errors.New("invite already used")

	// ErrInviteExpired means an invite token is past its validity
	// (InviteTTL after it was made).
	ErrInviteExpired = errors.New("invite expired")

	// ErrAlreadyBound means a group chat is bound to a committee already
	// (/setup run twice, or concurrently).
	ErrAlreadyBound = errors.New("chat already bound to a committee")

	// ErrUnitInUse means a unit cannot be removed because open votes or
	// nominations refer to it. Reserved: no repository returns it yet.
	ErrUnitInUse = errors.New("unit has open votes or nominations")
)

// Errors of meetings.
var (
	// ErrMeetingCancelled means the meeting was cancelled: it can no
	// longer be edited or answered.
	ErrMeetingCancelled = errors.New("meeting cancelled")
	// ErrMeetingStarted means the meeting has begun: it is read-only
	// (no answers, edits or cancellation).
	ErrMeetingStarted = errors.New("meeting already started")
	// ErrNotDelegate means the user is not (or no longer) a delegate of
	// the unit they answer for.
	ErrNotDelegate = errors.New("not a delegate of the committee")
)

// ErrDuplicateNomination means the same nominee has a nomination for the
// award in the year already (one not withdrawn): the store gives that
// nomination back with it.
var ErrDuplicateNomination = errors.New("duplicate nomination")

// Errors of ballots.
var (
	// ErrBallotClosed means the ballot is closed: it takes no more votes.
	ErrBallotClosed = errors.New("ballot is closed")
	// ErrDeadlinePassed means the ballot's deadline has passed (its close
	// may not have run yet): it takes no more votes.
	ErrDeadlinePassed = errors.New("ballot deadline has passed")
	// ErrNotEligible means the voter is not an elector of the ballot (not
	// a delegate, or no longer, or of a unit outside its electorate).
	ErrNotEligible = errors.New("not entitled to vote in this ballot")
	// ErrAlreadyVoted means the elector has voted and may not vote again:
	// a secret ballot, or another delegate of the unit on an open one.
	ErrAlreadyVoted = errors.New("already voted")
	// ErrRunoffExists means the ballot already has its second round (the
	// store gives back that round's id with it).
	ErrRunoffExists = errors.New("the second round exists already")
)

// MoveError says an invite would move its user from the unit they are a
// delegate of (From) to the invite's unit (To); Redeem with confirmMove
// does it.
type MoveError struct{ From, To string }

func (e *MoveError) Error() string {
	return fmt.Sprintf("redeeming the invite moves the delegate from %s to %s", e.From, e.To)
}

// NominationOnBallotError refuses a person's change of a nomination that an
// open ballot is deciding: only the ballot's result moves it then.
type NominationOnBallotError struct {
	Nomination int64
	Ballot     string
}

func (e *NominationOnBallotError) Error() string {
	return fmt.Sprintf("nomination %d is on open ballot %s", e.Nomination, e.Ballot)
}

// UnitOnBallotError refuses removing a unit while an open ballot counts it
// (or one of its delegates) as an elector, or has it as a candidate: the
// ballot's electorate is fixed at opening. It matches ErrUnitInUse.
type UnitOnBallotError struct {
	Unit, Ballot string
}

func (e *UnitOnBallotError) Error() string {
	return fmt.Sprintf("unit %s is on open ballot %s", e.Unit, e.Ballot)
}

// Is makes errors.Is(err, ErrUnitInUse) true.
func (e *UnitOnBallotError) Is(target error) bool { return target == ErrUnitInUse }
