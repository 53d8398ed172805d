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

// A stand-in started with another's profile answers with the menus and
// descriptions set there, as Telegram does for a restarted bot; the two
// change apart afterwards.
func TestProfileCarriesMenusAndDescriptionsToANewServer(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	if !s.Profile().Empty() {
		t.Fatal("a new stand-in has a profile")
	}
	mustOK(t, s, "setMyCommands", "commands", `[{"command":"vote","description":"Bỏ phiếu"}]`,
		"scope", `{"type":"all_group_chats"}`, "language_code", "en")
	mustOK(t, s, "setMyShortDescription", "short_description", "Bỏ phiếu, họp, khen thưởng")
	p := s.Profile()
	next := newServer(t, WithProfile(p))
	var cmds []BotCommand
	if err := json.Unmarshal(mustOK(t, next, "getMyCommands", "scope", `{"type":"all_group_chats"}`, "language_code", "en"), &cmds); err != nil ||
		len(cmds) != 1 || cmds[0].Command != "vote" {
		t.Errorf("getMyCommands on the new stand-in = %+v, %v; want /vote", cmds, err)
	}
	var d struct {
		Short string `json:"short_description"`
	}
	if err := json.Unmarshal(mustOK(t, next, "getMyShortDescription"), &d); err != nil || d.Short != "Bỏ phiếu, họp, khen thưởng" {
		t.Errorf("getMyShortDescription on the new stand-in = %q, %v", d.Short, err)
	}
	mustOK(t, next, "setMyShortDescription", "short_description", "")
	if got := s.Description(DescriptionShort, ""); got != "Bỏ phiếu, họp, khen thưởng" {
		t.Errorf("clearing the new stand-in's description changed the first's: %q", got)
	}
	if got := newServer(t, WithProfile(p)).Description(DescriptionShort, ""); got != "Bỏ phiếu, họp, khen thưởng" {
		t.Errorf("a third stand-in from the same profile has the short description %q", got)
	}
}
