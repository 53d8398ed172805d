package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
)

// exportHandlers make the committee's archive (/export).
type exportHandlers struct {
	core        *core
	results     *resultHandlers // the ballots' results
	cat         *i18n.Catalog
	committees  CommitteeStore
	ballots     BallotStore
	meetings    MeetingStore
	nominations NominationStore
	awards      []domain.Award
	now         func() time.Time
	send        Sender
}

// export sends the committee's data to the admin privately, as two
// documents: the JSON archive (everything, for programs and safekeeping)
// and a zip of CSV tables (one per kind of record, for spreadsheets).
// One zip rather than a document per table: an export stays two files
// however many tables there are, the tables travel and are archived
// together, and the private chat is not flooded (Telegram sends a chat
// one message a second). docs/EXPORT.md describes both. It never goes to
// the group: the archive holds delegates' Telegram ids.
func (h *exportHandlers) export(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	user, _ := r.Sender()
	chat, _ := r.Chat()
	c := sc.committee
	lang := h.core.userLang(ctx, user.ID)
	arch, err := h.buildArchive(ctx, c, user, lang)
	if err != nil {
		return fmt.Errorf("export committee %s: %w", c.ID, err)
	}
	js, err := json.MarshalIndent(arch, "", "  ")
	if err != nil {
		return fmt.Errorf("export committee %s: %w", c.ID, err)
	}
	now := h.now().In(c.Location())
	tables := exportTables(arch)
	zipped, err := tablesZip(tables, now)
	if err != nil {
		return fmt.Errorf("export committee %s: %w", c.ID, err)
	}
	stamp := now.Format("20060102-1504")
	docs := []struct {
		name    string
		data    []byte
		caption string
	}{
		{fmt.Sprintf("committee-%s-%s.json", c.ID, stamp), js, h.cat.T(lang, "export_archive_caption", i18n.Data{
			"Name": c.Name, "Units": len(arch.Units), "Delegates": len(arch.Delegates), "Meetings": len(arch.Meetings),
			"Nominations": len(arch.Nominations), "Ballots": len(arch.Ballots),
		})},
		{fmt.Sprintf("committee-%s-%s-tables.zip", c.ID, stamp), zipped, h.cat.T(lang, "export_tables_caption", i18n.Data{
			"Tables": len(tables),
		})},
	}
	if !chat.IsPrivate() {
		// The files are queued, so Telegram's refusal would come too late
		// to tell the admin; a chat action (not a message, not limited)
		// asks now whether the bot may write to them privately.
		_, err := h.send.Request(ctx, tgbotapi.NewChatAction(user.ID, tgbotapi.ChatUploadDocument))
		switch {
		case bot.IsBlocked(err) || bot.IsChatNotFound(err):
			return h.core.reply(ctx, r, h.cat.T(r.Lang, "export_start_private", i18n.Data{"Link": h.core.deepLink("")}), nil)
		case err != nil:
			return fmt.Errorf("export committee %s: %w", c.ID, err)
		}
	}
	for _, d := range docs {
		// Kept in the outbox as bytes, so a failed upload can be retried.
		doc := tgbotapi.NewDocument(user.ID, tgbotapi.FileBytes{Name: d.name, Bytes: d.data})
		doc.Caption = d.caption
		doc.ParseMode = tgbotapi.ModeHTML
		if err := h.send.Send(ctx, doc); err != nil {
			return fmt.Errorf("export committee %s: send %s: %w", c.ID, d.name, err)
		}
	}
	if chat.IsPrivate() {
		return nil
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "export_sent_private", nil), nil)
}
