package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in      string
		want    string // String() of the result; "" for an error
		needed8 int    // votes needed of 8
	}{
		{"0.80", "80%", 7},
		{"0.8", "80%", 7},
		{"80%", "80%", 7},
		{" 90 % ", "90%", 8},
		{"0.9", "90%", 8},
		{"2/3", "2/3", 6},
		{"66.67%", "66.67%", 6},
		{"1", "100%", 8},
		{"100%", "100%", 8},
		{"0.5", "50%", 4},
		{"majority", "majority", 5},
		{"MAJORITY", "majority", 5},
		{"0", "", 0},
		{"0%", "", 0},
		{"1.01", "", 0},
		{"120%", "", 0},
		{"3/2", "", 0},
		{"-0.5", "", 0},
		{"0/0", "", 0},
		{"abc", "", 0},
		{"", "", 0},
		{"0.1234567", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			th, err := ParseThreshold(tt.in)
			if tt.want == "" {
				if err == nil || !errors.Is(err, ErrThreshold) {
					t.Fatalf("ParseThreshold(%q) = %v, %v; want ErrThreshold", tt.in, th, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseThreshold(%q): %v", tt.in, err)
			}
			if got := th.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := th.Needed(8); got != tt.needed8 {
				t.Errorf("Needed(8) = %d, want %d", got, tt.needed8)
			}
			back, err := ParseThreshold(th.String())
			if err != nil || !back.Equal(th) {
				t.Errorf("String() does not parse back: %v, %v", back, err)
			}
		})
	}
}

func TestThresholdNeededCountsAgainstTheWholeElectorateExactly(t *testing.T) {
	p90, _ := Fraction(9, 10)
	p80, _ := Fraction(4, 5)
	tests := []struct {
		name string
		th   Threshold
		n    int
		want int
	}{
		{"80% of 8 is ceil(6.4)", p80, 8, 7},
		{"80% of 10 is exactly 8", p80, 10, 8},
		{"90% of 10 is exactly 9, no float error", p90, 10, 9},
		{"90% of 100", p90, 100, 90},
		{"majority of 8", Majority(), 8, 5},
		{"majority of 7", Majority(), 7, 4},
		{"majority of 1", Majority(), 1, 1},
		{"empty electorate", p80, 0, 0},
	}
	for _, tt := range tests {
		if got := tt.th.Needed(tt.n); got != tt.want {
			t.Errorf("%s: Needed(%d) = %d, want %d", tt.name, tt.n, got, tt.want)
		}
	}
}

func TestDefaultAwardsAreValidAndDistinct(t *testing.T) {
	awards := DefaultAwards()
	if len(awards) < 8 {
		t.Fatalf("%d default awards, want the 8 of the catalogue", len(awards))
	}
	seen := map[string]bool{}
	for _, a := range awards {
		if err := a.Validate(); err != nil {
			t.Errorf("%s: %v", a.Code, err)
		}
		if seen[a.Code] {
			t.Errorf("%s listed twice", a.Code)
		}
		seen[a.Code] = true
	}
	flag, ok := FindAward(awards, " ctd_cp ")
	if !ok || flag.Kind != Collective || flag.Threshold.String() != "80%" || flag.Name("en") != "Government Emulation Flag" {
		t.Errorf("FindAward(ctd_cp) = %+v, %v", flag, ok)
	}
	if _, ok := FindAward(awards, "NOPE"); ok {
		t.Error("FindAward(NOPE) found something")
	}
	// A caller changing the slice does not change the defaults.
	awards[0].Code = "X"
	if DefaultAwards()[0].Code == "X" {
		t.Error("DefaultAwards shares its slice")
	}
}

func TestAwardValidateNamesEveryProblem(t *testing.T) {
	a := Award{Code: "bad code", Kind: "team", NameVI: "", NameEN: strings.Repeat("x", 201)}
	err := a.Validate()
	for _, want := range []error{ErrAwardCode, ErrAwardKind, ErrThreshold, ErrAwardName} {
		if !errors.Is(err, want) {
			t.Errorf("Validate() = %v, lacks %v", err, want)
		}
	}
	if got := (Award{NameVI: "Cờ", NameEN: ""}).Name("en"); got != "Cờ" {
		t.Errorf("Name(en) without an English name = %q, want the Vietnamese one", got)
	}
}
