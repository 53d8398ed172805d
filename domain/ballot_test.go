package domain

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFractionNeededCountsAgainstTheWholeElectorate(t *testing.T) {
	tests := []struct {
		f    string
		n    int
		want int
	}{
		{"80%", 8, 7}, // ceil(6.4): the rule's own example
		{"80%", 10, 8},
		{"90%", 8, 8},
		{"2/3", 8, 6},
		{"2/3", 9, 6},
		{"2/3", 3, 2},
		{"majority", 8, 5},
		{"majority", 7, 4},
		{"0.5", 8, 4},
		{"66.7%", 9, 7},
		{"100%", 8, 8},
		{"80%", 0, 0},
	}
	for _, tt := range tests {
		f, err := ParseThreshold(tt.f)
		if err != nil {
			t.Fatalf("ParseThreshold(%q): %v", tt.f, err)
		}
		if got := f.Needed(tt.n); got != tt.want {
			t.Errorf("%s of %d = %d, want %d", tt.f, tt.n, got, tt.want)
		}
	}
}

func TestParseThresholdRefusesNonsense(t *testing.T) {
	for _, s := range []string{"", "0%", "120%", "3/2", "0/3", "2/0", "abc", "1.5", "-1"} {
		if _, err := ParseThreshold(s); err == nil {
			t.Errorf("ParseThreshold(%q) accepted", s)
		}
	}
	for s, want := range map[string]string{"80%": "80%", "2/3": "2/3", "majority": "majority", "0.9": "90%", "66.7%": "66.7%"} {
		f, _ := ParseThreshold(s)
		if f.String() != want {
			t.Errorf("ParseThreshold(%q).String() = %q, want %q", s, f.String(), want)
		}
	}
}

func units(codes ...string) []Option {
	var o []Option
	for _, c := range codes {
		o = append(o, Option{Key: c, Label: c})
	}
	return o
}

func approval() []Option {
	return []Option{{Key: OptApprove}, {Key: OptReject}, {Key: OptAbstain}}
}

func electors(n int) []string {
	v := make([]string, n)
	for i := range v {
		v[i] = string(rune('A' + i))
	}
	return v
}

func votes(q string, keys ...string) []Choice {
	var cs []Choice
	for _, k := range keys {
		cs = append(cs, Choice{"1": k})
	}
	_ = q
	return cs
}

func TestTally(t *testing.T) {
	eighty, _ := ParseThreshold("80%")
	tests := []struct {
		name       string
		ballot     Ballot
		choices    []Choice
		wantValid  bool
		wantOut    string
		wantWinner string
		wantTied   []string
	}{
		{
			name:      "80% of 8: 7 approvals pass",
			ballot:    Ballot{Kind: KindNominations, Voters: electors(8), Quorum: TwoThirds(), Questions: []Question{{ID: "1", Options: approval(), Threshold: eighty}}},
			choices:   votes("1", OptApprove, OptApprove, OptApprove, OptApprove, OptApprove, OptApprove, OptApprove, OptReject),
			wantValid: true, wantOut: OutcomePassed, wantWinner: OptApprove,
		},
		{
			name:      "80% of 8: 6 approvals fail even if all who voted approve",
			ballot:    Ballot{Kind: KindNominations, Voters: electors(8), Quorum: TwoThirds(), Questions: []Question{{ID: "1", Options: approval(), Threshold: eighty}}},
			choices:   votes("1", OptApprove, OptApprove, OptApprove, OptApprove, OptApprove, OptApprove),
			wantValid: true, wantOut: OutcomeFailed,
		},
		{
			name:      "abstentions count for quorum, not for approval",
			ballot:    Ballot{Kind: KindMotion, Voters: electors(8), Quorum: TwoThirds(), Questions: []Question{{ID: "1", Options: []Option{{Key: OptYes}, {Key: OptNo}, {Key: OptAbstain}}}}},
			choices:   votes("1", OptYes, OptYes, OptYes, OptYes, OptAbstain, OptAbstain),
			wantValid: true, wantOut: OutcomeFailed,
		},
		{
			name:      "majority motion passes with 5 of 8",
			ballot:    Ballot{Kind: KindMotion, Voters: electors(8), Quorum: TwoThirds(), Questions: []Question{{ID: "1", Options: []Option{{Key: OptYes}, {Key: OptNo}, {Key: OptAbstain}}}}},
			choices:   votes("1", OptYes, OptYes, OptYes, OptYes, OptYes, OptNo),
			wantValid: true, wantOut: OutcomePassed, wantWinner: OptYes,
		},
		{
			name:      "below quorum nothing is decided",
			ballot:    Ballot{Kind: KindMotion, Voters: electors(8), Quorum: TwoThirds(), Questions: []Question{{ID: "1", Options: []Option{{Key: OptYes}, {Key: OptNo}}}}},
			choices:   votes("1", OptYes, OptYes, OptYes, OptYes, OptYes),
			wantValid: false, wantOut: OutcomeVoid,
		},
		{
			name:      "election winner with a majority of all units",
			ballot:    Ballot{Kind: KindElection, Round: 1, Voters: electors(8), Quorum: TwoThirds(), Questions: []Question{{ID: "1", Options: units("TANDTC", "VKSNDTC", "KTNN")}}},
			choices:   votes("1", "TANDTC", "TANDTC", "TANDTC", "TANDTC", "TANDTC", "VKSNDTC", "KTNN"),
			wantValid: true, wantOut: OutcomePassed, wantWinner: "TANDTC",
		},
		{
			name:      "election tie calls for a runoff",
			ballot:    Ballot{Kind: KindElection, Round: 1, Voters: electors(8), Quorum: TwoThirds(), Questions: []Question{{ID: "1", Options: units("TANDTC", "VKSNDTC", "KTNN")}}},
			choices:   votes("1", "TANDTC", "TANDTC", "TANDTC", "VKSNDTC", "VKSNDTC", "VKSNDTC", "KTNN"),
			wantValid: true, wantOut: OutcomeTie, wantTied: []string{"TANDTC", "VKSNDTC"},
		},
		{
			name:      "election leader short of a majority",
			ballot:    Ballot{Kind: KindElection, Round: 1, Voters: electors(8), Quorum: TwoThirds(), Questions: []Question{{ID: "1", Options: units("TANDTC", "VKSNDTC", "KTNN")}}},
			choices:   votes("1", "TANDTC", "TANDTC", "TANDTC", "TANDTC", "VKSNDTC", "VKSNDTC", "KTNN"),
			wantValid: true, wantOut: OutcomeFailed, wantTied: []string{"TANDTC", "VKSNDTC"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.ballot.Tally(tt.choices)
			q := r.Questions[0]
			if r.Valid != tt.wantValid || q.Outcome != tt.wantOut || q.Winner != tt.wantWinner {
				t.Errorf("valid %v outcome %q winner %q; want %v %q %q", r.Valid, q.Outcome, q.Winner, tt.wantValid, tt.wantOut, tt.wantWinner)
			}
			if diff := cmp.Diff(tt.wantTied, q.Tied); diff != "" {
				t.Errorf("tied (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPercentagesAreOfTheElectorate(t *testing.T) {
	b := Ballot{Kind: KindMotion, Voters: electors(8), Quorum: TwoThirds(), Questions: []Question{{ID: "1", Options: []Option{{Key: OptYes}, {Key: OptNo}}}}}
	r := b.Tally(votes("1", OptYes, OptYes, OptNo))
	if got := r.Questions[0].Counts[0].Percent; got != 25 {
		t.Errorf("2 of 8 = %v%%, want 25%%", got)
	}
}

func TestRunoffOnlyInTheFirstRound(t *testing.T) {
	b := Ballot{Kind: KindElection, Round: 1, Voters: electors(4), Quorum: TwoThirds(), Questions: []Question{{ID: "1", Options: units("AA", "BB")}}}
	r := b.Tally(votes("1", "AA", "AA", "BB", "BB"))
	if diff := cmp.Diff([]string{"AA", "BB"}, b.RunoffCandidates(r)); diff != "" {
		t.Errorf("round 1 runoff (-want +got):\n%s", diff)
	}
	b.Round = 2
	if got := b.RunoffCandidates(b.Tally(votes("1", "AA", "AA", "BB", "BB"))); got != nil {
		t.Errorf("round 2 offers another runoff: %v", got)
	}
}

func TestChoiceValidity(t *testing.T) {
	b := Ballot{Questions: []Question{{ID: "1", Options: approval()}, {ID: "2", Options: approval()}}}
	for _, tt := range []struct {
		c    Choice
		want bool
	}{
		{Choice{"1": OptApprove, "2": OptReject}, true},
		{Choice{"1": OptApprove}, false},
		{Choice{"1": OptApprove, "2": "maybe"}, false},
		{Choice{"1": OptApprove, "2": OptReject, "3": OptReject}, false},
	} {
		if got := b.Valid(tt.c); got != tt.want {
			t.Errorf("Valid(%v) = %v, want %v", tt.c, got, tt.want)
		}
	}
}
