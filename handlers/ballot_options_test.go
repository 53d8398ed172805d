package handlers

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSplitOptions(t *testing.T) {
	tests := []struct {
		in   string
		rest string
		opts [][2]string
	}{
		{"head", "head", nil},
		{"head TANDTC,KTNN secret=no", "head TANDTC,KTNN", [][2]string{{"secret", "no"}}},
		{"Thông qua chương trình? deadline=2025-01-20 17:00 quorum=2/3", "Thông qua chương trình?", [][2]string{{"deadline", "2025-01-20 17:00"}, {"quorum", "2/3"}}},
		{"a=b c", "a=b c", nil},
		{"Có nên họp không? threshold=80%", "Có nên họp không?", [][2]string{{"threshold", "80%"}}},
	}
	for _, tt := range tests {
		rest, opts := splitOptions(tt.in)
		if rest != tt.rest {
			t.Errorf("splitOptions(%q) rest = %q, want %q", tt.in, rest, tt.rest)
		}
		if diff := cmp.Diff(tt.opts, opts); diff != "" {
			t.Errorf("splitOptions(%q) opts (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseBallotOptions(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	now := time.Date(2025, 1, 10, 9, 0, 0, 0, loc)
	o, err := parseBallotOptions([][2]string{{"deadline", "20/01/2025 17:00"}, {"secret", "no"}, {"electorate", "members"}, {"quorum", "2/3"}, {"threshold", "80%"}}, now, loc, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 1, 20, 17, 0, 0, 0, loc); !o.deadline.Equal(want) {
		t.Errorf("deadline %v, want %v", o.deadline, want)
	}
	if *o.secret || o.electorate != "members" || o.quorum.Needed(9) != 6 || o.threshold.Needed(8) != 7 {
		t.Errorf("options %+v", o)
	}
	if o, _ := parseBallotOptions([][2]string{{"deadline", "3d"}}, now, loc, 0); !o.deadline.Equal(now.Add(72 * time.Hour)) {
		t.Errorf("3d deadline %v", o.deadline)
	}
	if o, _ := parseBallotOptions([][2]string{{"deadline", "2025-01-11"}}, now, loc, 0); o.deadline.Hour() != 23 {
		t.Errorf("date-only deadline %v, want the end of the day", o.deadline)
	}
	bad := [][2]string{
		{"deadline", "yesterday"}, {"deadline", "2024-01-01 10:00"}, {"deadline", "31/02/2025"},
		{"secret", "maybe"}, {"electorate", "everyone"}, {"quorum", "150%"}, {"threshold", "lots"}, {"colour", "red"},
	}
	for _, kv := range bad {
		_, err := parseBallotOptions([][2]string{kv}, now, loc, 0)
		var oe *optionError
		if !errors.As(err, &oe) || oe.key != kv[0] {
			t.Errorf("%s=%s: err = %v, want an option error naming it", kv[0], kv[1], err)
		}
	}
}
