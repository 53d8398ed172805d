package domain

import (
	"errors"
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
