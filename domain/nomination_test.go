package domain

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLifecycleMoves checks every pair of statuses: the legal moves are
// exactly those of the lifecycle, every other move is refused.
func TestLifecycleMoves(t *testing.T) {
	legal := map[[2]Status]bool{
		{StatusSubmitted, StatusUnderReview}: true,
		{StatusSubmitted, StatusWithdrawn}:   true,
		{StatusUnderReview, StatusVoting}:    true,
		{StatusUnderReview, StatusWithdrawn}: true,
		{StatusVoting, StatusApproved}:       true,
		{StatusVoting, StatusRejected}:       true,
		{StatusVoting, StatusWithdrawn}:      true,
		{StatusApproved, StatusForwarded}:    true,
		{StatusApproved, StatusWithdrawn}:    true,
		{StatusForwarded, StatusAwarded}:     true,
		{StatusForwarded, StatusDeclined}:    true,
	}
	all := append(Statuses(), "", "unknown")
	for _, from := range all {
		for _, to := range all {
			want := legal[[2]Status{from, to}]
			if got := CanMove(from, to); got != want {
				t.Errorf("CanMove(%q, %q) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestMovesListsTheAllowedStatusesInOrder(t *testing.T) {
	tests := []struct {
		from Status
		want []Status
	}{
		{StatusSubmitted, []Status{StatusUnderReview, StatusWithdrawn}},
		{StatusUnderReview, []Status{StatusVoting, StatusWithdrawn}},
		{StatusVoting, []Status{StatusApproved, StatusRejected, StatusWithdrawn}},
		{StatusApproved, []Status{StatusForwarded, StatusWithdrawn}},
		{StatusForwarded, []Status{StatusAwarded, StatusDeclined}},
		{StatusRejected, nil},
		{StatusAwarded, nil},
		{StatusDeclined, nil},
		{StatusWithdrawn, nil},
		{"bogus", nil},
	}
	for _, tt := range tests {
		got := Moves(tt.from)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Moves(%s) (-want +got):\n%s", tt.from, diff)
		}
		if (len(got) == 0) != tt.from.Final() {
			t.Errorf("%s.Final() = %v with moves %v", tt.from, tt.from.Final(), got)
		}
	}
	// The caller owns the slice.
	m := Moves(StatusSubmitted)
	m[0] = StatusAwarded
	if CanMove(StatusSubmitted, StatusAwarded) {
		t.Error("changing the slice Moves returned changed the lifecycle")
	}
}

func TestWithdrawnOnlyBeforeForwarded(t *testing.T) {
	for _, s := range Statuses() {
		before := s == StatusSubmitted || s == StatusUnderReview || s == StatusVoting || s == StatusApproved
		if got := CanMove(s, StatusWithdrawn); got != before {
			t.Errorf("CanMove(%s, withdrawn) = %v, want %v", s, got, before)
		}
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in   string
		want Status
		ok   bool
	}{
		{"under_review", StatusUnderReview, true},
		{" Under-Review ", StatusUnderReview, true},
		{"VOTING", StatusVoting, true},
		{"withdrawn", StatusWithdrawn, true},
		{"done", "done", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseStatus(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseStatus(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNominationValidate(t *testing.T) {
	good := Nomination{Unit: "TANDTC", Award: "CTD_CP", Nominee: "TANDTC", NomineeUnit: "TANDTC", Year: 2024,
		Achievements: strings.Repeat("á", MaxAchievementsLen), Attachments: []Attachment{{FileID: "f1", Name: "báo cáo.pdf"}}}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate(good) = %v", err)
	}
	tests := []struct {
		name   string
		change func(*Nomination)
		want   error
	}{
		{"empty nominee", func(n *Nomination) { n.Nominee = "  " }, ErrName},
		{"long nominee", func(n *Nomination) { n.Nominee = strings.Repeat("x", MaxNameLen+1) }, ErrName},
		{"achievements too long", func(n *Nomination) { n.Achievements = strings.Repeat("x", 5000) }, ErrAchievements},
		{"bad unit", func(n *Nomination) { n.Unit = "tandtc" }, ErrUnitCode},
		{"bad nominee unit", func(n *Nomination) { n.NomineeUnit = "x" }, ErrUnitCode},
		{"bad award", func(n *Nomination) { n.Award = "" }, ErrAwardCode},
		{"bad year", func(n *Nomination) { n.Year = 1990 }, ErrYear},
		{"attachment without id", func(n *Nomination) { n.Attachments = []Attachment{{Name: "x"}} }, ErrAttachment},
		{"too many attachments", func(n *Nomination) {
			n.Attachments = make([]Attachment, MaxAttachments+1)
			for i := range n.Attachments {
				n.Attachments[i] = Attachment{FileID: "f", Name: "x"}
			}
		}, ErrAttachments},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := good
			tt.change(&n)
			if err := n.Validate(); !errors.Is(err, tt.want) {
				t.Errorf("Validate() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNomineeKeyIgnoresCaseSpacesAndUnicodeForm(t *testing.T) {
	composed := "Tòa án nhân dân tối cao"
	decomposed := "To\u0300a a\u0301n nhân dân tối cao" // combining accents
	for _, s := range []string{composed, decomposed, "  TÒA ÁN   nhân dân\ttối cao ", "tòa án nhân dân tối cao"} {
		if got, want := NomineeKey(s), NomineeKey(composed); got != want {
			t.Errorf("NomineeKey(%q) = %q, want %q", s, got, want)
		}
	}
	if NomineeKey("Nguyễn Văn An") == NomineeKey("Nguyễn Văn Anh") {
		t.Error("different nominees share a key")
	}
}

func TestNoteAndAchievementsLimits(t *testing.T) {
	if ValidNote(strings.Repeat("x", MaxNoteLen)) != nil || ValidNote(strings.Repeat("x", MaxNoteLen+1)) == nil {
		t.Error("ValidNote limit is not MaxNoteLen")
	}
	if ValidAchievements("") != nil || ValidAchievements(strings.Repeat("x", 5000)) == nil {
		t.Error("ValidAchievements limit is wrong")
	}
	if got := OneLine("  a \n b\t c  "); got != "a b c" {
		t.Errorf("OneLine = %q", got)
	}
}

func TestCheckDecision(t *testing.T) {
	reason := "Biểu quyết tại hội nghị"
	for _, tc := range []struct {
		name string
		ch   Change
		want error
	}{
		{"ballot result approves", Change{From: StatusVoting, To: StatusApproved}, nil},
		{"ballot result rejects", Change{From: StatusVoting, To: StatusRejected, Note: "Phiếu 2"}, nil},
		{"person approves", Change{From: StatusVoting, To: StatusApproved, By: 1, Note: reason}, ErrBallotDecides},
		{"override without reason", Change{From: StatusVoting, To: StatusRejected, By: 1, Override: true}, ErrBallotDecides},
		{"override with short reason", Change{From: StatusVoting, To: StatusRejected, By: 1, Override: true, Note: " 123456789 "}, ErrBallotDecides},
		{"override with reason", Change{From: StatusVoting, To: StatusApproved, By: 1, Override: true, Note: reason}, nil},
		{"other move", Change{From: StatusUnderReview, To: StatusVoting, By: 1}, nil},
		{"withdrawal from voting", Change{From: StatusVoting, To: StatusWithdrawn, By: 1}, nil},
		{"override of another move", Change{From: StatusApproved, To: StatusForwarded, By: 1, Override: true, Note: reason}, ErrIllegalMove},
	} {
		if err := tc.ch.CheckDecision(); !errors.Is(err, tc.want) {
			t.Errorf("%s: CheckDecision() = %v, want %v", tc.name, err, tc.want)
		}
	}
}
