package handlers

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/committeebot/committeebot/domain"
)

// ballotOptions are the trailing key=value options of a ballot command.
type ballotOptions struct {
	deadline   time.Time
	secret     *bool
	electorate string
	quorum     *domain.Threshold
	threshold  *domain.Threshold
	year       int
}

var (
	errOptionUnknown = errors.New("unknown option")
	errOptionValue   = errors.New("bad option value")
	errDeadlineFar   = errors.New("deadline too far ahead")
)

// optionError names the option at fault, for the user.
type optionError struct {
	key, value string
	err        error
}

func (e *optionError) Error() string { return fmt.Sprintf("%s=%s: %v", e.key, e.value, e.err) }
func (e *optionError) Unwrap() error { return e.err }

var hhmm = regexp.MustCompile(`^\d{1,2}:\d{2}$`)

// splitOptions takes trailing key=value tokens off args. A deadline given
// as a date and a time ("deadline=2025-01-20 17:00") keeps its time.
func splitOptions(args string) (rest string, opts [][2]string) {
	fields := strings.Fields(args)
	end := len(fields)
	for end > 0 {
		f := fields[end-1]
		if hhmm.MatchString(f) && end >= 2 && strings.HasPrefix(strings.ToLower(fields[end-2]), "deadline=") {
			k, v, _ := strings.Cut(fields[end-2], "=")
			opts = append([][2]string{{strings.ToLower(k), v + " " + f}}, opts...)
			end -= 2
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			break
		}
		opts = append([][2]string{{strings.ToLower(k), v}}, opts...)
		end--
	}
	return strings.Join(fields[:end], " "), opts
}

// ballotOptions parses a ballot's options in committee c, with its
// deadline no further ahead than voting.max_deadline.
func (h *votingHandlers) ballotOptions(opts [][2]string, c domain.Committee) (ballotOptions, error) {
	return parseBallotOptions(opts, h.now(), c.Location(), h.maxDeadline)
}

// parseBallotOptions reads deadline, secret, electorate, quorum, threshold
// and year, in the committee's time zone; a deadline further ahead than
// maxAhead (when positive) is errDeadlineFar.
func parseBallotOptions(opts [][2]string, now time.Time, loc *time.Location, maxAhead time.Duration) (ballotOptions, error) {
	var o ballotOptions
	for _, kv := range opts {
		k, v := kv[0], strings.TrimSpace(kv[1])
		bad := func(err error) error { return &optionError{key: k, value: v, err: err} }
		switch k {
		case "deadline", "han", "hạn":
			t, err := parseDeadline(v, now, loc)
			if err != nil {
				return o, bad(err)
			}
			if maxAhead > 0 && t.After(now.Add(maxAhead)) {
				return o, bad(errDeadlineFar)
			}
			o.deadline = t
		case "secret", "kin", "kín":
			b, ok := parseYesNo(v)
			if !ok {
				return o, bad(errOptionValue)
			}
			o.secret = &b
		case "electorate":
			switch strings.ToLower(v) {
			case domain.ElectorateUnits, domain.ElectorateMembers:
				o.electorate = strings.ToLower(v)
			default:
				return o, bad(errOptionValue)
			}
		case "quorum", "threshold":
			t, err := domain.ParseThreshold(v)
			if err != nil {
				return o, bad(err)
			}
			if k == "quorum" {
				o.quorum = &t
			} else {
				o.threshold = &t
			}
		case "year", "nam", "năm":
			y, err := strconv.Atoi(v)
			if err != nil || domain.ValidYear(y) != nil {
				return o, bad(errOptionValue)
			}
			o.year = y
		default:
			return o, bad(errOptionUnknown)
		}
	}
	return o, nil
}

func parseYesNo(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "yes", "y", "true", "1", "co", "có":
		return true, true
	case "no", "n", "false", "0", "khong", "không":
		return false, true
	}
	return false, false
}

// parseDeadline reads a duration from now (90m, 2h, 3d, 1d12h) or a date
// with an optional time (2025-01-20 17:00, 20/01/2025 17:00; a date alone
// means the end of that day), with the parsers meetings use. It must lie
// in the future.
func parseDeadline(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if d, err := domain.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, errOptionValue
		}
		return now.Add(d), nil
	}
	date, clock, _ := strings.Cut(strings.TrimSpace(s), " ")
	if strings.Contains(date, "T") && clock == "" {
		date, clock, _ = strings.Cut(date, "T")
	}
	y, mo, d, err := domain.ParseDate(date)
	if err != nil {
		return time.Time{}, errOptionValue
	}
	hour, minute := 23, 59
	if clock != "" {
		if hour, minute, err = domain.ParseClock(clock); err != nil {
			return time.Time{}, errOptionValue
		}
	}
	t := time.Date(y, mo, d, hour, minute, 0, 0, loc)
	if !t.After(now) {
		return time.Time{}, errOptionValue
	}
	return t, nil
}
