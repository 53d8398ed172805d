package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestMinutesInfoSet(t *testing.T) {
	long := strings.Repeat("x", MaxMinutesName+1)
	for _, tc := range []struct {
		field MinutesField
		text  string
		want  error
		check func(MinutesInfo) bool
	}{
		{MinutesChair, "  Nguyễn \n Văn A ", nil, func(m MinutesInfo) bool { return m.Chair == "Nguyễn Văn A" }},
		{MinutesCounters, "Lê C, Phạm D; ; Hoàng E", nil, func(m MinutesInfo) bool { return len(m.Counters) == 3 && m.Counters[2] == "Hoàng E" }},
		{MinutesCounters, "a,b,c,d,e,f,g,h", ErrMinutesValue, nil},
		{MinutesSecretary, long, ErrMinutesValue, nil},
		{MinutesPlace, long, nil, func(m MinutesInfo) bool { return m.Place == long }},
		{MinutesOpinions, strings.Repeat("y", MaxMinutesOpinions+1), ErrMinutesValue, nil},
		{"signer", "x", ErrMinutesField, nil},
		{MinutesChair, "", nil, func(m MinutesInfo) bool { return m.Chair == "" }},
	} {
		m := MinutesInfo{Chair: "Cũ", Counters: []string{"Cũ"}}
		err := m.Set(tc.field, tc.text)
		if !errors.Is(err, tc.want) {
			t.Errorf("Set(%s, %q) = %v, want %v", tc.field, tc.text, err, tc.want)
			continue
		}
		if err != nil && (m.Chair != "Cũ" || len(m.Counters) != 1) {
			t.Errorf("a refused Set(%s) changed %+v", tc.field, m)
		}
		if tc.check != nil && !tc.check(m) {
			t.Errorf("after Set(%s, %q): %+v", tc.field, tc.text, m)
		}
	}
}
