package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on nominations.
const (
	MaxAchievementsLen = 2000
	MaxNoteLen         = 500
	MaxAttachments     = 10
	MaxFileNameLen     = 200
	// MinOverrideReason is the shortest reason, in characters, an admin
	// must give to approve or reject a nomination without a ballot.
	MinOverrideReason = 10
)

// Status is where a nomination stands in its lifecycle.
type Status string

// Nomination statuses, in lifecycle order.
const (
	StatusSubmitted   Status = "submitted"
	StatusUnderReview Status = "under_review"
	StatusVoting      Status = "voting"
	StatusApproved    Status = "approved"
	StatusRejected    Status = "rejected"
	StatusForwarded   Status = "forwarded"
	StatusAwarded     Status = "awarded"
	StatusDeclined    Status = "declined"
	StatusWithdrawn   Status = "withdrawn"
)

// Statuses lists every status in lifecycle order (the order of listings).
func Statuses() []Status {
	return []Status{
		StatusSubmitted, StatusUnderReview, StatusVoting, StatusApproved, StatusRejected,
		StatusForwarded, StatusAwarded, StatusDeclined, StatusWithdrawn,
	}
}

// moves is the lifecycle as data: the statuses each status may change to.
// A nomination is submitted, reviewed by the secretariat, put to the
// bloc's vote, approved or rejected, and an approved one is forwarded to
// the awarding authority, which awards or declines it. The nominating unit
// may withdraw it until it is forwarded. Rejected, awarded, declined and
// withdrawn are final (a rejected nomination stays on record: withdrawing
// it would free its award and year for the same nominee again).
var moves = map[Status][]Status{
	StatusSubmitted:   {StatusUnderReview, StatusWithdrawn},
	StatusUnderReview: {StatusVoting, StatusWithdrawn},
	StatusVoting:      {StatusApproved, StatusRejected, StatusWithdrawn},
	StatusApproved:    {StatusForwarded, StatusWithdrawn},
	StatusForwarded:   {StatusAwarded, StatusDeclined},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses(), s) }

// Final reports whether no change is possible from s.
func (s Status) Final() bool { return len(moves[s]) == 0 }

// CanMove reports whether a nomination in status from may change to to.
func CanMove(from, to Status) bool { return slices.Contains(moves[from], to) }

// Moves lists the statuses from may change to, in lifecycle order (none
// for a final or unknown status). The slice is the caller's.
func Moves(from Status) []Status { return slices.Clone(moves[from]) }

// ParseStatus reads a status as typed in a command: case and "-" for "_"
// do not matter ("Under-Review" is under_review).
func ParseStatus(s string) (Status, bool) {
	st := Status(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_"))
	return st, st.Valid()
}

// Attachment is a document of a nomination's dossier, kept on Telegram's
// servers and referred to by its file id.
type Attachment struct {
	FileID string
	Name   string
}

// Validate checks an attachment.
func (a Attachment) Validate() error {
	if a.FileID == "" || len(a.FileID) > 256 || utf8.RuneCountInString(a.Name) > MaxFileNameLen {
		return ErrAttachment
	}
	return nil
}

// Change is one entry of a nomination's history. The first entry records
// the submission (From is empty).
type Change struct {
	From   Status
	To     Status
	By     int64  // Telegram user id; 0 for the bot itself (e.g. a ballot's result)
	ByName string // display name at the time
	At     time.Time
	Note   string
	// Override marks an approval or rejection recorded by a person
	// instead of a ballot's result (a decision taken outside the bot, e.g.
	// by show of hands at a conference); Note holds the reason.
	Override bool
}

// DecidedByBallot reports whether a move from from to to is a decision of
// the bloc's vote: approving or rejecting a nomination in voting. Every
// award of the catalogue has an approval threshold, so every such decision
// belongs to a ballot.
func DecidedByBallot(from, to Status) bool {
	return from == StatusVoting && (to == StatusApproved || to == StatusRejected)
}

// CheckDecision checks that a change decided by ballot comes from one
// (By 0, the bot, applying a closed ballot's result) or is an override
// with a reason of at least MinOverrideReason characters. Other changes
// must not be marked as overrides.
func (ch Change) CheckDecision() error {
	if !DecidedByBallot(ch.From, ch.To) {
		if ch.Override {
			return fmt.Errorf("override of %s -> %s: %w", ch.From, ch.To, ErrIllegalMove)
		}
		return nil
	}
	if ch.By == 0 && !ch.Override {
		return nil
	}
	if !ch.Override || utf8.RuneCountInString(strings.TrimSpace(ch.Note)) < MinOverrideReason {
		return ErrBallotDecides
	}
	return nil
}

// Nomination is a proposal by a member unit that a nominee receive an
// award in a year.
type Nomination struct {
	ID        int64  // short id, unique within the committee
	Committee string // committee id
	Unit      string // code of the nominating unit
	Award     string // award code
	// Nominee is the collective or person nominated, as typed (spaces
	// collapsed), or a unit code when NomineeUnit is set.
	Nominee string
	// NomineeUnit is the code of the member unit nominated, for a
	// collective award given to a unit of the bloc; "" otherwise.
	NomineeUnit  string
	Achievements string
	Year         int
	Status       Status
	Created      time.Time
	By           int64
	ByName       string
	Attachments  []Attachment
	History      []Change // oldest first
}

// LastChange is the latest entry of the history (the zero Change if there
// is none).
func (n Nomination) LastChange() Change {
	if len(n.History) == 0 {
		return Change{}
	}
	return n.History[len(n.History)-1]
}

// Validate checks what a nomination must have before it is stored and
// returns every problem joined.
func (n Nomination) Validate() error {
	var errs []error
	if ValidUnitCode(n.Unit) != nil {
		errs = append(errs, fmt.Errorf("unit %q: %w", n.Unit, ErrUnitCode))
	}
	if ValidAwardCode(n.Award) != nil {
		errs = append(errs, fmt.Errorf("award %q: %w", n.Award, ErrAwardCode))
	}
	if ValidName(n.Nominee) != nil {
		errs = append(errs, fmt.Errorf("nominee: %w", ErrName))
	}
	if n.NomineeUnit != "" && ValidUnitCode(n.NomineeUnit) != nil {
		errs = append(errs, fmt.Errorf("nominee unit %q: %w", n.NomineeUnit, ErrUnitCode))
	}
	if ValidAchievements(n.Achievements) != nil {
		errs = append(errs, ErrAchievements)
	}
	if err := ValidYear(n.Year); err != nil {
		errs = append(errs, err)
	}
	if len(n.Attachments) > MaxAttachments {
		errs = append(errs, ErrAttachments)
	}
	for _, a := range n.Attachments {
		if err := a.Validate(); err != nil {
			errs = append(errs, err)
			break
		}
	}
	return errors.Join(errs...)
}

// ValidAchievements checks the achievements text (may be empty).
func ValidAchievements(s string) error {
	if utf8.RuneCountInString(strings.TrimSpace(s)) > MaxAchievementsLen {
		return ErrAchievements
	}
	return nil
}

// ValidNote checks the note of a status change (may be empty).
func ValidNote(s string) error {
	if utf8.RuneCountInString(strings.TrimSpace(s)) > MaxNoteLen {
		return ErrNote
	}
	return nil
}

// OneLine trims s and collapses every run of white space, line breaks
// included, into one space: names and notes are shown on one line.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// NomineeKey is the form in which nominees are compared for duplicates:
// Unicode-composed (NFC, so "Tòa" typed with a combining accent matches),
// lower case, spaces trimmed and collapsed.
func NomineeKey(nominee string) string {
	return strings.ToLower(OneLine(norm.NFC.String(nominee)))
}
