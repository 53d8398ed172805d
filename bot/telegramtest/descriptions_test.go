package telegramtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestBotDescriptionsPerLanguage(t *testing.T) {
	s := newServer(t)
	mustOK(t, s, "setMyDescription", "description", "Bot của khối thi đua")
	mustOK(t, s, "setMyDescription", "description", "The emulation bloc's bot", "language_code", "en")
	mustOK(t, s, "setMyShortDescription", "short_description", "Bỏ phiếu, họp, khen thưởng")
	var d struct {
		Description string `json:"description"`
	}
	for lang, want := range map[string]string{"": "Bot của khối thi đua", "en": "The emulation bloc's bot", "fr": "Bot của khối thi đua"} {
		if err := json.Unmarshal(mustOK(t, s, "getMyDescription", "language_code", lang), &d); err != nil || d.Description != want {
			t.Errorf("getMyDescription(%q) = %q, %v; want %q", lang, d.Description, err, want)
		}
	}
	if got := s.Description(DescriptionShort, ""); got != "Bỏ phiếu, họp, khen thưởng" {
		t.Errorf("short description %q", got)
	}
	// Telegram's limits: 512 and 120 characters.
	if status, env := post(t, s, "setMyShortDescription", "short_description", strings.Repeat("ư", 121)); status != http.StatusBadRequest {
		t.Errorf("a 121-character short description: %d %q", status, env.Description)
	}
	if status, _ := post(t, s, "setMyDescription", "description", strings.Repeat("a", 513)); status != http.StatusBadRequest {
		t.Errorf("a 513-character description: %d", status)
	}
	mustOK(t, s, "setMyDescription", "description", "", "language_code", "en")
	if got := s.Description(DescriptionLong, "en"); got != "" {
		t.Errorf("an empty description kept %q", got)
	}
}
