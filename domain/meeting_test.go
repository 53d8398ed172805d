package domain

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseMeetingTime(t *testing.T) {
	hanoi, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		date, clock string
		want        time.Time
		err         error
	}{
		{"2024-04-10", "14:00", time.Date(2024, 4, 10, 7, 0, 0, 0, time.UTC), nil},
		{"10/04/2024", "14:00", time.Date(2024, 4, 10, 7, 0, 0, 0, time.UTC), nil},
		{"10/4/2024", "9:05", time.Date(2024, 4, 10, 2, 5, 0, 0, time.UTC), nil},
		{"2024-4-10", "14h30", time.Date(2024, 4, 10, 7, 30, 0, 0, time.UTC), nil},
		{"10/04/2024", "14h", time.Date(2024, 4, 10, 7, 0, 0, 0, time.UTC), nil},
		{"31/02/2024", "14:00", time.Time{}, ErrMeetingDate},
		{"2024-13-01", "14:00", time.Time{}, ErrMeetingDate},
		{"29/02/2023", "14:00", time.Time{}, ErrMeetingDate},
		{"tomorrow", "14:00", time.Time{}, ErrMeetingDate},
		{"10/04/2024", "24:00", time.Time{}, ErrMeetingTime},
		{"10/04/2024", "14:60", time.Time{}, ErrMeetingTime},
		{"10/04/2024", "14:", time.Time{}, ErrMeetingTime},
		{"10/04/2024", "", time.Time{}, ErrMeetingTime},
		{"01/04/2024", "16:00", time.Time{}, ErrMeetingPast}, // exactly now
		{"01/03/2024", "14:00", time.Time{}, ErrMeetingPast},
	}
	for _, tt := range tests {
		got, err := ParseMeetingTime(tt.date, tt.clock, hanoi, now)
		if !errors.Is(err, tt.err) {
			t.Errorf("ParseMeetingTime(%q, %q) error = %v, want %v", tt.date, tt.clock, err, tt.err)
			continue
		}
		if tt.err == nil && !got.Equal(tt.want) {
			t.Errorf("ParseMeetingTime(%q, %q) = %v, want %v", tt.date, tt.clock, got, tt.want)
		}
	}
}

func TestParseAgenda(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Báo cáo; Bầu khối trưởng ;; Ký giao ước", []string{"Báo cáo", "Bầu khối trưởng", "Ký giao ước"}},
		{"Một\nHai", []string{"Một", "Hai"}},
		{" - ", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, ParseAgenda(tt.in)); diff != "" {
			t.Errorf("ParseAgenda(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestMeetingValidate(t *testing.T) {
	ok := Meeting{Title: "Hội nghị", Location: "Hà Nội", Start: time.Now()}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
	long := make([]string, MaxAgendaItems+1)
	for i := range long {
		long[i] = "x"
	}
	tests := []struct {
		name string
		m    Meeting
		want error
	}{
		{"no title", Meeting{Location: "x", Start: time.Now()}, ErrMeetingTitle},
		{"no place", Meeting{Title: "x", Start: time.Now()}, ErrMeetingLocation},
		{"no time", Meeting{Title: "x", Location: "x"}, ErrMeetingDate},
		{"long agenda", Meeting{Title: "x", Location: "x", Start: time.Now(), Agenda: long}, ErrMeetingAgenda},
	}
	for _, tt := range tests {
		if err := tt.m.Validate(); !errors.Is(err, tt.want) {
			t.Errorf("%s: Validate = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestMeetingFieldsOverTheirLimitSayByHowMuch(t *testing.T) {
	many := slices.Repeat([]string{"x"}, MaxAgendaItems+1)
	tests := []struct {
		name  string
		err   error
		field error
		kind  error
		want  LengthError
	}{
		{"title", ValidMeetingTitle(strings.Repeat("ư", 5000)), ErrMeetingTitle, ErrTooLong, LengthError{Len: 5000, Max: MaxMeetingTitleLen}},
		{"place", ValidMeetingLocation(strings.Repeat("a", 201)), ErrMeetingLocation, ErrTooLong, LengthError{Len: 201, Max: MaxMeetingLocationLen}},
		{"agenda item", ValidAgenda([]string{"a", strings.Repeat("b", 301)}), ErrMeetingAgenda, ErrTooLong, LengthError{Len: 301, Max: MaxAgendaItemLen, Item: 2}},
		{"agenda items", ValidAgenda(many), ErrMeetingAgenda, ErrTooMany, LengthError{Len: MaxAgendaItems + 1, Max: MaxAgendaItems}},
	}
	for _, tt := range tests {
		var le *LengthError
		if !errors.As(tt.err, &le) || !errors.Is(tt.err, tt.field) || !errors.Is(tt.err, tt.kind) {
			t.Errorf("%s: %v, want a LengthError of %v, %v", tt.name, tt.err, tt.field, tt.kind)
			continue
		}
		got := LengthError{Len: le.Len, Max: le.Max, Item: le.Item}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	// A missing title is not a long one.
	if err := ValidMeetingTitle("  "); !errors.Is(err, ErrMeetingTitle) || errors.Is(err, ErrTooLong) {
		t.Errorf("empty title = %v, want ErrMeetingTitle alone", err)
	}
}

func TestParseMeetingDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  error
	}{
		{"2h", 2 * time.Hour, nil},
		{"90m", 90 * time.Minute, nil},
		{"1h30m", 90 * time.Minute, nil},
		{"1d", 24 * time.Hour, nil},
		{"5m", 5 * time.Minute, nil},
		{"7d", 7 * 24 * time.Hour, nil},
		{"4m", 0, ErrMeetingDuration},
		{"0m", 0, ErrMeetingDuration},
		{"-1h", 0, ErrMeetingDuration},
		{"8d", 0, ErrMeetingDuration},
		{"abc", 0, ErrMeetingDuration},
		{"", 0, ErrMeetingDuration},
	}
	for _, tt := range tests {
		got, err := ParseMeetingDuration(tt.in)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("ParseMeetingDuration(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestMeetingEndTakesTheDefaultWithoutADuration(t *testing.T) {
	start := time.Date(2024, 4, 10, 7, 0, 0, 0, time.UTC)
	tests := []struct {
		duration, def time.Duration
		want          time.Time
	}{
		{3 * time.Hour, 2 * time.Hour, start.Add(3 * time.Hour)},
		{0, 90 * time.Minute, start.Add(90 * time.Minute)},
	}
	for _, tt := range tests {
		if got := (Meeting{Start: start, Duration: tt.duration}).End(tt.def); !got.Equal(tt.want) {
			t.Errorf("End of %v with default %v = %v, want %v", tt.duration, tt.def, got, tt.want)
		}
	}
}

func TestCountRSVPs(t *testing.T) {
	rsvps := []RSVP{
		{UserID: 1, Unit: "TANDTC", Attend: true},
		{UserID: 2, Unit: "TANDTC", Attend: false},
		{UserID: 3, Unit: "KTNN", Attend: false},
		{UserID: 4, Unit: "GONE", Attend: true},
	}
	byUnit, got := CountRSVPs([]string{"TANDTC", "KTNN", "BTP"}, rsvps)
	want := RSVPCounts{Attend: 1, Decline: 2, UnitsAttend: 1, UnitsDecline: 1, Units: 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if !byUnit[0].Attending() || byUnit[1].Attending() || !byUnit[1].Answered || byUnit[2].Answered {
		t.Errorf("by unit = %+v", byUnit)
	}
}
