// Package domain holds the plain types of committeebot — committees, member
// units, delegates, invites, roles, covenants, the award catalogue and
// nominations — with their validation. It
// imports nothing of the project: storage persists these types and
// handlers present them.
package domain

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on user-supplied text.
const (
	MaxNameLen          = 200
	MaxCovenantTitleLen = 300
)

// Committee is a bloc bound to one Telegram group.
type Committee struct {
	ID       string // short id, e.g. "1"
	ChatID   int64  // the bound group; 0 while the bot is out of the group
	Title    string // the group's title when it was bound
	Name     string
	Timezone string
	Language string
	Year     int    // the current emulation year
	Head     string // unit code of the head unit for Year, "" if none
	Deputy   string // unit code of the deputy unit for Year, "" if none
	Created  time.Time
	By       int64 // who ran /setup
	// Thread is the forum topic of the group where the bloc posts its
	// announcements and reminders (where /setup was sent), 0 for General
	// or a group without topics.
	Thread int
}

// Location is the committee's time zone, UTC if it cannot be loaded.
func (c Committee) Location() *time.Location {
	if loc, err := time.LoadLocation(c.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// Role of a member unit in a committee year.
const (
	RoleHead   = "head"
	RoleDeputy = "deputy"
	RoleMember = "member"
)

// ValidRole checks a role name.
func ValidRole(r string) error {
	switch r {
	case RoleHead, RoleDeputy, RoleMember:
		return nil
	}
	return fmt.Errorf("%w: %q", ErrRole, r)
}

// Unit is a member unit (ministry, court, agency) of a committee.
type Unit struct {
	Code  string // e.g. "TANDTC"
	Name  string // full name
	Added time.Time
}

var unitCodeRE = regexp.MustCompile(`^[A-Z0-9_-]{2,16}$`)

// NormalizeUnitCode trims a code typed by a user. It does not change case:
// a lower-case code is refused, so that what is stored is what was meant.
func NormalizeUnitCode(s string) string { return strings.TrimSpace(s) }

// ValidUnitCode checks a unit code: 2–16 of A-Z, 0-9, _ and -.
func ValidUnitCode(code string) error {
	if !unitCodeRE.MatchString(code) {
		return ErrUnitCode
	}
	return nil
}

// ValidName checks a free-text name (unit, committee, nominee).
func ValidName(s string) error {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	if n == 0 || n > MaxNameLen {
		return ErrName
	}
	return nil
}

// Validate checks a unit.
func (u Unit) Validate() error {
	return errors.Join(ValidUnitCode(u.Code), ValidName(u.Name))
}

// Delegate is a Telegram user who speaks and votes for a member unit.
type Delegate struct {
	UserID   int64
	Unit     string
	Name     string // display name when they joined
	Username string
	Joined   time.Time
}

// Invite is a one-time link that makes its user a delegate of a unit.
type Invite struct {
	Token     string
	Committee string
	Unit      string
	By        int64
	Created   time.Time
	Expires   time.Time
}

// InviteTTL is how long an invite link stays valid.
const InviteTTL = 7 * 24 * time.Hour

// RoleChange records one change of a unit's role, for the history.
type RoleChange struct {
	Year     int
	Role     string // head or deputy
	Unit     string // the new holder, "" when the role was cleared
	Previous string // the former holder, "" if none
	By       int64
	At       time.Time
}

// Events of the delegates' history (MemberChange.Event).
const (
	MemberJoined      = "join"         // became a delegate of To by an invite
	MemberMoved       = "move"         // moved from From to To by an invite of To
	MemberLeft        = "leave"        // stopped being From's delegate (/leave)
	MemberRemoved     = "remove"       // removed from From by an admin (By)
	MemberUnitRemoved = "unit_removed" // From was removed, with its delegates, by an admin (By)
)

// MemberChange records one change of a committee's delegates, for the
// history: who became, moved or stopped being a unit's delegate, when and,
// for removals, by whom.
type MemberChange struct {
	Event  string // MemberJoined, MemberMoved, MemberLeft, MemberRemoved or MemberUnitRemoved
	UserID int64
	Name   string // the delegate's name then; "" in moves recorded before names were kept
	From   string // the unit they were a delegate of, "" for a join
	To     string // the unit they became a delegate of, "" when they stopped being one
	By     int64  // who removed them (MemberRemoved, MemberUnitRemoved; 0 if unknown)
	At     time.Time
}

// ValidYear checks an emulation year.
func ValidYear(y int) error {
	if y < 2000 || y > 2100 {
		return ErrYear
	}
	return nil
}

// Covenant is the year's emulation covenant (giao ước thi đua) and who
// signed it.
type Covenant struct {
	Year    int
	Title   string
	Opened  time.Time
	By      int64
	Signed  []Signature // in signing order
	Pending []string    // unit codes that have not signed, in the order units were added
}

// Signature is one unit's confirmation of the covenant.
type Signature struct {
	Unit   string
	UserID int64
	Name   string
	At     time.Time
}

// ValidCovenantTitle checks a covenant title.
func ValidCovenantTitle(s string) error {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	if n == 0 || n > MaxCovenantTitleLen {
		return ErrCovenantText
	}
	return nil
}
