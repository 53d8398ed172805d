package handlers

import (
	"strings"
	"testing"
)

func TestRouteDataParsesBackIntoItsParts(t *testing.T) {
	data := routeNomMove.data("12", "345", "submitted", "under_review")
	if data != "nmv:12:345:submitted:under_review" {
		t.Fatalf("data = %q", data)
	}
	name, rest, _ := strings.Cut(data, ":")
	if name != routeNomMove.name {
		t.Fatalf("route %q", name)
	}
	parts, ok := routeNomMove.parse(rest)
	if !ok || strings.Join(parts, "|") != "12|345|submitted|under_review" {
		t.Errorf("parse(%q) = %q, %v", rest, parts, ok)
	}
	// The last part keeps any ':' it holds (a form's value may).
	if parts, ok := routeForm.parse("nom:2:a:b"); !ok || parts[2] != "a:b" {
		t.Errorf("form parse = %q, %v", parts, ok)
	}
	if got := routeCancel.data(); got != "cancel:" {
		t.Errorf("cancel data = %q", got)
	}
}

func TestRouteParseRefusesDataOfAnotherShape(t *testing.T) {
	for _, data := range []string{"", "12", "12:345:submitted", "12::submitted:approved", ":345:submitted:approved"} {
		if parts, ok := routeNomMove.parse(data); ok {
			t.Errorf("parse(%q) = %q, want refused", data, parts)
		}
	}
}

func TestRouteDataKeepsTelegramsLimit(t *testing.T) {
	long := strings.Repeat("x", maxCallbackData)
	if routeForm.fits("nom", "1", long) {
		t.Error("fits() accepts data over 64 bytes")
	}
	if !routeForm.fits("nom", "1", "ok") {
		t.Error("fits() refuses short data")
	}
	for name, call := range map[string]func(){
		"over the limit": func() { routeForm.data("nom", "1", long) },
		"too few parts":  func() { routeVotePick.data("1", "2") },
		"too many parts": func() { routeLang.data("vi", "en") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("data %s did not panic", name)
				}
			}()
			call()
		}()
	}
}
