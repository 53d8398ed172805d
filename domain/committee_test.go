package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestValidUnitCode(t *testing.T) {
	tests := []struct {
		code string
		ok   bool
	}{
		{"TANDTC", true},
		{"BQLLANG", true},
		{"KTNN-2", true},
		{"A_B", true},
		{"AB", true},
		{"A", false},
		{"tandtc", false},
		{"TAND TC", false},
		{strings.Repeat("A", 16), true},
		{strings.Repeat("A", 17), false},
		{strings.Repeat("A", 40), false},
		{"<b>X</b>", false},
		{"ĐBQH", false},
		{"", false},
	}
	for _, tt := range tests {
		err := ValidUnitCode(tt.code)
		if (err == nil) != tt.ok {
			t.Errorf("ValidUnitCode(%q) = %v, want ok=%v", tt.code, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrUnitCode) {
			t.Errorf("ValidUnitCode(%q) = %v, want ErrUnitCode", tt.code, err)
		}
	}
}

func TestValidName(t *testing.T) {
	if err := ValidName("Tòa án nhân dân tối cao"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", MaxNameLen+1)} {
		if ValidName(bad) == nil {
			t.Errorf("ValidName(%q) accepted", bad)
		}
	}
}

func TestValidRoleAndYear(t *testing.T) {
	for _, r := range []string{RoleHead, RoleDeputy, RoleMember} {
		if ValidRole(r) != nil {
			t.Errorf("ValidRole(%q) refused", r)
		}
	}
	if ValidRole("chair") == nil {
		t.Error("ValidRole(chair) accepted")
	}
	if ValidYear(2024) != nil || ValidYear(1999) == nil || ValidYear(2101) == nil {
		t.Error("ValidYear bounds wrong")
	}
}
