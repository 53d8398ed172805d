package domain

import (
	"errors"
	"fmt"
)

// Every error of package domain, of two kinds:
//   - rule errors, first: the rules of the bloc that a store enforces
//     atomically (in one script, against the stored state);
//   - validation errors, after them: a value a user gave is refused
//     before anything is stored (the Valid… and Parse… functions).
//
// What they mean does not depend on Redis; handlers/errors.go and the
// handlers turn each into a localized reply (most validation replies show
// the accepted form). The store's own errors (not found, conflict,
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

// Validation errors of committees, units, roles and covenants.
var (
	ErrUnitCode     = errors.New("unit code must be 2–16 characters of A-Z, 0-9, _ and -")
	ErrName         = errors.New("name must be 1–200 characters")
	ErrRole         = errors.New("role must be head, deputy or member")
	ErrYear         = errors.New("year must be between 2000 and 2100")
	ErrCovenantText = errors.New("covenant title must be 1–300 characters")
)

// Validation errors of the award catalogue: configuration problems and
// refusals name them.
var (
	ErrAwardCode = errors.New("award code must be 2–16 characters of A-Z, 0-9, _ and -")
	ErrAwardKind = errors.New("award kind must be collective or individual")
	ErrThreshold = errors.New("threshold must be a share of the electorate in (0, 1] (e.g. 0.8, 80%, 2/3) or majority")
	ErrAwardName = errors.New("award names must be 1–200 characters in vi and en")
)

// Validation errors of meetings.
var (
	ErrMeetingDate     = errors.New("date must be YYYY-MM-DD or DD/MM/YYYY and exist")
	ErrMeetingTime     = errors.New("time must be HH:MM")
	ErrMeetingPast     = errors.New("meeting time has passed")
	ErrMeetingTitle    = errors.New("meeting title must be 1–200 characters")
	ErrMeetingLocation = errors.New("meeting location must be 1–200 characters")
	ErrMeetingAgenda   = errors.New("agenda must have at most 20 items of 1–300 characters")
	ErrMeetingDuration = errors.New("meeting duration must be between 5 minutes and 7 days")
	// ErrTooLong is wrapped, with the field's error, by a value longer
	// than its limit (as opposed to a missing one); ErrTooMany by an
	// agenda of too many items. *LengthError says by how much.
	ErrTooLong = errors.New("too long")
	ErrTooMany = errors.New("too many items")
)

// Validation errors of nominations and their status changes.
var (
	ErrAchievements = errors.New("achievements must be at most 2000 characters")
	ErrNote         = errors.New("note must be at most 500 characters")
	ErrStatus       = errors.New("unknown nomination status")
	ErrIllegalMove  = errors.New("illegal nomination status change")
	ErrAttachment   = errors.New("attachment needs a file id and a name of at most 200 characters")
	ErrAttachments  = errors.New("too many attachments")
	// ErrBallotDecides: a person moved a nomination out of voting to
	// approved or rejected without recording it as an override with a
	// reason; only a closed ballot's result decides it.
	ErrBallotDecides = errors.New("approval or rejection of a nomination in voting is decided by a ballot")
)

// Validation errors of ballots.
var (
	ErrNoOptions  = errors.New("a question needs at least two options")
	ErrQuestion   = errors.New("question must be 1–500 characters")
	ErrElectorate = errors.New("electorate must be units or members")
)

// Validation errors of the minutes' information (/minutes_info).
var (
	ErrMinutesField = errors.New("unknown minutes field")
	ErrMinutesValue = errors.New("minutes value too long")
	// ErrTooManyCounters is an ErrMinutesValue: more names of vote
	// counters than MaxMinutesCounters.
	ErrTooManyCounters = fmt.Errorf("too many vote counters: %w", ErrMinutesValue)
)

// ErrInvalidDuration is wrapped by every error ParseDuration returns.
var ErrInvalidDuration = errors.New("invalid duration")
