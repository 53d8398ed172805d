package domain

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on the minutes information, in characters.
const (
	MaxMinutesName     = 100  // chair, secretary, each counter
	MaxMinutesCounters = 7    // members of the vote-counting committee
	MaxMinutesPlace    = 200  // where the vote took place
	MaxMinutesOpinions = 1000 // written opinions of absent members
)

// MinutesField names a fact of the minutes of a count (biên bản kiểm
// phiếu) that the secretariat gives, as typed in /minutes_info.
type MinutesField string

// The fields, in the order they are listed.
const (
	MinutesChair     MinutesField = "chair"
	MinutesSecretary MinutesField = "secretary"
	MinutesCounters  MinutesField = "counters"
	MinutesPlace     MinutesField = "place"
	MinutesOpinions  MinutesField = "opinions"
)

// MinutesFields lists every field in order.
func MinutesFields() []MinutesField {
	return []MinutesField{MinutesChair, MinutesSecretary, MinutesCounters, MinutesPlace, MinutesOpinions}
}

// MinutesInfo is what the minutes of one ballot need beyond the count:
// who chaired the meeting and kept the record, who counted the votes,
// where, and the written opinions of absent members. Empty fields print
// as blank lines to fill by hand.
type MinutesInfo struct {
	Chair     string
	Secretary string
	Counters  []string // the vote-counting committee, its head first
	Place     string
	Opinions  string
}

// Get returns field f as text (counters joined with ", ").
func (m MinutesInfo) Get(f MinutesField) string {
	switch f {
	case MinutesChair:
		return m.Chair
	case MinutesSecretary:
		return m.Secretary
	case MinutesCounters:
		return strings.Join(m.Counters, ", ")
	case MinutesPlace:
		return m.Place
	case MinutesOpinions:
		return m.Opinions
	}
	return ""
}

// Set sets field f from text as typed: white space collapsed, counters
// split at commas or semicolons. An empty value clears the field.
// ErrMinutesField for an unknown field, ErrMinutesValue for a value past
// its limit (m unchanged).
func (m *MinutesInfo) Set(f MinutesField, text string) error {
	if _, ok := ParseMinutesField(string(f)); !ok {
		return fmt.Errorf("%q: %w", f, ErrMinutesField)
	}
	v := OneLine(text)
	var names []string
	if f == MinutesCounters {
		for _, n := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		if len(names) > MaxMinutesCounters {
			return fmt.Errorf("%s: %d names: %w", f, len(names), ErrTooManyCounters)
		}
	} else {
		names = []string{v}
	}
	for _, n := range names {
		if utf8.RuneCountInString(n) > f.Limit() {
			return fmt.Errorf("%s: %w", f, ErrMinutesValue)
		}
	}
	switch f {
	case MinutesChair:
		m.Chair = v
	case MinutesSecretary:
		m.Secretary = v
	case MinutesCounters:
		m.Counters = names
	case MinutesPlace:
		m.Place = v
	case MinutesOpinions:
		m.Opinions = v
	}
	return nil
}

// Limit is the longest value of field f, in characters (of each name for
// counters).
func (f MinutesField) Limit() int {
	switch f {
	case MinutesPlace:
		return MaxMinutesPlace
	case MinutesOpinions:
		return MaxMinutesOpinions
	}
	return MaxMinutesName
}

// ParseMinutesField reads a field name as typed (case does not matter).
func ParseMinutesField(s string) (MinutesField, bool) {
	f := MinutesField(strings.ToLower(strings.TrimSpace(s)))
	for _, k := range MinutesFields() {
		if f == k {
			return f, true
		}
	}
	return f, false
}
