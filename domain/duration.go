package domain

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// day is the length of the "d" unit. Committee deadlines and reminder
// offsets are counted in calendar-ish days; a day is always 24 hours here,
// whatever daylight saving time does.
const day = 24 * time.Hour

// ParseDuration parses a duration the way people write one: everything
// time.ParseDuration accepts ("90m", "2h", "1h30m", "1.5h") plus the unit
// "d" for 24-hour days, alone or mixed with the others ("3d", "1d12h",
// "1.5d"). Surrounding spaces are ignored; a leading sign is allowed as in
// time.ParseDuration, so callers that need a positive duration must check.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("%w: empty", ErrInvalidDuration)
	}
	if !strings.Contains(in, "d") {
		d, err := time.ParseDuration(in)
		if err != nil {
			return 0, invalidDuration(s)
		}
		return d, nil
	}

	neg := false
	rest := in
	switch rest[0] {
	case '-':
		neg = true
		rest = rest[1:]
	case '+':
		rest = rest[1:]
	}
	if rest == "" {
		return 0, invalidDuration(s)
	}

	var total time.Duration
	for rest != "" {
		n := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if n <= 0 {
			// No number first, or a number without a unit.
			return 0, invalidDuration(s)
		}
		u := strings.IndexFunc(rest[n:], func(r rune) bool { return (r >= '0' && r <= '9') || r == '.' })
		if u < 0 {
			u = len(rest) - n
		}
		num, unit := rest[:n], rest[n:n+u]
		rest = rest[n+u:]

		var part time.Duration
		if unit == "d" {
			p, ok := days(num)
			if !ok {
				return 0, invalidDuration(s)
			}
			part = p
		} else {
			p, err := time.ParseDuration(num + unit)
			if err != nil {
				return 0, invalidDuration(s)
			}
			part = p
		}
		if total > math.MaxInt64-part {
			return 0, fmt.Errorf("%w %q: too long", ErrInvalidDuration, s)
		}
		total += part
	}
	if neg {
		total = -total
	}
	return total, nil
}

// days converts the number in front of a "d" unit to a duration, exactly
// for whole numbers and to the nanosecond for fractions.
func days(num string) (time.Duration, bool) {
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > math.MaxInt64/int64(day) {
			return 0, false
		}
		return time.Duration(n) * day, true
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f*float64(day) >= math.MaxInt64 {
		return 0, false
	}
	return time.Duration(math.Round(f * float64(day))), true
}

func invalidDuration(s string) error {
	return fmt.Errorf("%w %q", ErrInvalidDuration, s)
}

// FormatDuration writes d the way configuration is written: like
// time.Duration.String but without trailing zero units, so 72 hours is
// "72h" rather than "72h0m0s" and 90 minutes is "1h30m".
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
