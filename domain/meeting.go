package domain

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// LengthError is a value over its limit: Len characters (or items) where
// at most Max are allowed; Item is the 1-based agenda item at fault, 0
// for the whole value. It wraps the field's error and ErrTooLong or
// ErrTooMany.
type LengthError struct {
	Field    error // ErrMeetingTitle, ErrMeetingLocation or ErrMeetingAgenda
	Kind     error // ErrTooLong or ErrTooMany
	Len, Max int
	Item     int
}

func (e *LengthError) Error() string {
	if e.Item > 0 {
		return fmt.Sprintf("%v: item %d has %d characters, at most %d", e.Field, e.Item, e.Len, e.Max)
	}
	return fmt.Sprintf("%v: %d, at most %d", e.Field, e.Len, e.Max)
}

// Unwrap makes errors.Is see the field's error and the kind.
func (e *LengthError) Unwrap() []error { return []error{e.Field, e.Kind} }

// Limits on what a meeting may hold. They keep the group announcement,
// which is one message edited in place, within Telegram's 4096 characters.
const (
	MaxMeetingTitleLen    = 200
	MaxMeetingLocationLen = 200
	MaxAgendaItems        = 20
	MaxAgendaItemLen      = 300
	// A meeting lasts at least MinMeetingDuration and at most
	// MaxMeetingDuration (a week-long training course).
	MinMeetingDuration = 5 * time.Minute
	MaxMeetingDuration = 7 * 24 * time.Hour
)

// Meeting statuses.
const (
	MeetingScheduled = "scheduled"
	MeetingCancelled = "cancelled"
)

// Meeting is a conference or working meeting of a committee.
type Meeting struct {
	ID        string // short id inside the committee: "1", "2", …
	Committee string
	Title     string
	Location  string // where it takes place (not a time zone)
	Agenda    []string
	Start     time.Time
	// Duration is how long the meeting lasts; 0 for a meeting stored
	// before durations were kept (End then takes the configured default).
	Duration time.Duration
	Status   string // MeetingScheduled or MeetingCancelled
	// Sequence counts the changes since creation (RFC 5545 SEQUENCE):
	// every edit and the cancellation bump it.
	Sequence int
	Created  time.Time
	By       int64
	Updated  time.Time
	// Reminders are the offsets before Start at which reminders were
	// scheduled (reminders.meeting_offsets when the time was last set).
	Reminders []time.Duration
}

// Cancelled reports whether the meeting was cancelled.
func (m Meeting) Cancelled() bool { return m.Status == MeetingCancelled }

// Started reports whether the meeting has begun at now. A meeting that
// has begun is read-only: it is no longer edited, cancelled or answered.
func (m Meeting) Started(now time.Time) bool { return !now.Before(m.Start) }

// End is when the meeting ends: Start plus Duration, or plus def
// (meetings.default_duration) for a meeting stored without a duration.
func (m Meeting) End(def time.Duration) time.Time {
	if m.Duration > 0 {
		return m.Start.Add(m.Duration)
	}
	return m.Start.Add(def)
}

// Validate checks the user-supplied fields of a meeting.
func (m Meeting) Validate() error {
	var errs []error
	if err := ValidMeetingTitle(m.Title); err != nil {
		errs = append(errs, err)
	}
	if err := ValidMeetingLocation(m.Location); err != nil {
		errs = append(errs, err)
	}
	if err := ValidAgenda(m.Agenda); err != nil {
		errs = append(errs, err)
	}
	if m.Start.IsZero() {
		errs = append(errs, ErrMeetingDate)
	}
	if m.Duration != 0 {
		if err := ValidMeetingDuration(m.Duration); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ValidMeetingTitle checks a meeting title: ErrMeetingTitle if it is
// empty, a *LengthError if it is too long.
func ValidMeetingTitle(s string) error {
	return validText(s, MaxMeetingTitleLen, ErrMeetingTitle)
}

// ValidMeetingLocation checks where a meeting takes place, as
// ValidMeetingTitle does.
func ValidMeetingLocation(s string) error {
	return validText(s, MaxMeetingLocationLen, ErrMeetingLocation)
}

func validText(s string, maxLen int, field error) error {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	switch {
	case n == 0:
		return field
	case n > maxLen:
		return &LengthError{Field: field, Kind: ErrTooLong, Len: n, Max: maxLen}
	}
	return nil
}

// ValidAgenda checks the agenda items (an empty agenda is fine): a
// *LengthError for too many items or one too long, ErrMeetingAgenda for
// an empty item.
func ValidAgenda(items []string) error {
	if len(items) > MaxAgendaItems {
		return &LengthError{Field: ErrMeetingAgenda, Kind: ErrTooMany, Len: len(items), Max: MaxAgendaItems}
	}
	for i, it := range items {
		n := utf8.RuneCountInString(strings.TrimSpace(it))
		if n == 0 {
			return ErrMeetingAgenda
		}
		if n > MaxAgendaItemLen {
			return &LengthError{Field: ErrMeetingAgenda, Kind: ErrTooLong, Len: n, Max: MaxAgendaItemLen, Item: i + 1}
		}
	}
	return nil
}

// ValidMeetingDuration checks how long a meeting lasts.
func ValidMeetingDuration(d time.Duration) error {
	if d < MinMeetingDuration || d > MaxMeetingDuration {
		return fmt.Errorf("%w: %s", ErrMeetingDuration, FormatDuration(d))
	}
	return nil
}

// ParseMeetingDuration reads how long a meeting lasts ("90m", "2h",
// "1h30m", "1d"): ErrMeetingDuration if it is no duration or out of
// bounds.
func ParseMeetingDuration(s string) (time.Duration, error) {
	d, err := ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrMeetingDuration, err)
	}
	if err := ValidMeetingDuration(d); err != nil {
		return 0, err
	}
	return d, nil
}

// ParseAgenda splits agenda text into items at semicolons and line breaks,
// dropping empty items. "-" alone means no agenda.
func ParseAgenda(s string) []string {
	if strings.TrimSpace(s) == "-" {
		return nil
	}
	var out []string
	for _, it := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' }) {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

var (
	isoDateRE = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	vnDateRE  = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/(\d{4})$`)
	clockRE   = regexp.MustCompile(`^(\d{1,2})(?::|[hHgG])(\d{2})?$`)
)

// ParseDate reads a calendar date written YYYY-MM-DD or DD/MM/YYYY (one
// digit is enough for day and month). A date that does not exist, such as
// 31/02/2024, is ErrMeetingDate.
func ParseDate(s string) (year int, month time.Month, day int, err error) {
	s = strings.TrimSpace(s)
	var y, m, d string
	if p := isoDateRE.FindStringSubmatch(s); p != nil {
		y, m, d = p[1], p[2], p[3]
	} else if p := vnDateRE.FindStringSubmatch(s); p != nil {
		d, m, y = p[1], p[2], p[3]
	} else {
		return 0, 0, 0, fmt.Errorf("%w: %q", ErrMeetingDate, s)
	}
	year, _ = strconv.Atoi(y)
	mo, _ := strconv.Atoi(m)
	day, _ = strconv.Atoi(d)
	t := time.Date(year, time.Month(mo), day, 0, 0, 0, 0, time.UTC)
	if t.Year() != year || int(t.Month()) != mo || t.Day() != day || year < 2000 || year > 2100 {
		return 0, 0, 0, fmt.Errorf("%w: %q does not exist", ErrMeetingDate, s)
	}
	return year, time.Month(mo), day, nil
}

// ParseClock reads a time of day written HH:MM (also H:MM, and the
// Vietnamese 14h30 or 14h).
func ParseClock(s string) (hour, minute int, err error) {
	p := clockRE.FindStringSubmatch(strings.TrimSpace(s))
	if p == nil {
		return 0, 0, fmt.Errorf("%w: %q", ErrMeetingTime, s)
	}
	hour, _ = strconv.Atoi(p[1])
	if p[2] != "" {
		minute, _ = strconv.Atoi(p[2])
	} else if strings.Contains(s, ":") {
		return 0, 0, fmt.Errorf("%w: %q", ErrMeetingTime, s)
	}
	if hour > 23 || minute > 59 {
		return 0, 0, fmt.Errorf("%w: %q", ErrMeetingTime, s)
	}
	return hour, minute, nil
}

// ParseMeetingTime combines a date and a time of day in loc, the
// committee's time zone. It refuses a moment that is not after now
// (ErrMeetingPast), so no meeting is created in the past.
func ParseMeetingTime(date, clock string, loc *time.Location, now time.Time) (time.Time, error) {
	y, mo, d, err := ParseDate(date)
	if err != nil {
		return time.Time{}, err
	}
	h, mi, err := ParseClock(clock)
	if err != nil {
		return time.Time{}, err
	}
	t := time.Date(y, mo, d, h, mi, 0, 0, loc)
	if !t.After(now) {
		return t, fmt.Errorf("%w: %s", ErrMeetingPast, t.Format("2006-01-02 15:04 MST"))
	}
	return t, nil
}

// RSVP is one delegate's answer to a meeting invitation.
type RSVP struct {
	UserID   int64
	Unit     string
	Name     string
	Username string
	Attend   bool
	At       time.Time
}

// UnitRSVP sums up the answers of one unit's delegates.
type UnitRSVP struct {
	Unit     string
	Attend   []RSVP
	Decline  []RSVP
	Answered bool
}

// Attending reports whether at least one of the unit's delegates attends.
func (u UnitRSVP) Attending() bool { return len(u.Attend) > 0 }

// RSVPCounts are the totals shown under a meeting.
type RSVPCounts struct {
	Attend       int // people who attend
	Decline      int // people who do not
	UnitsAttend  int // units with at least one person attending
	UnitsDecline int // units that answered and have nobody attending
	Units        int // units of the committee
}

// CountRSVPs groups answers by unit, in the order of units, and totals
// them. Answers from units no longer in the committee are left out.
func CountRSVPs(units []string, rsvps []RSVP) ([]UnitRSVP, RSVPCounts) {
	idx := make(map[string]int, len(units))
	out := make([]UnitRSVP, len(units))
	for i, u := range units {
		idx[u] = i
		out[i].Unit = u
	}
	var c RSVPCounts
	c.Units = len(units)
	for _, r := range rsvps {
		i, ok := idx[r.Unit]
		if !ok {
			continue
		}
		out[i].Answered = true
		if r.Attend {
			out[i].Attend = append(out[i].Attend, r)
			c.Attend++
		} else {
			out[i].Decline = append(out[i].Decline, r)
			c.Decline++
		}
	}
	for _, u := range out {
		switch {
		case u.Attending():
			c.UnitsAttend++
		case u.Answered:
			c.UnitsDecline++
		}
	}
	return out, c
}
