package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// exportFormat names the layout of the JSON archive, so that a reader can
// tell versions apart.
const exportFormat = "committeebot-export/1"

// archive is the JSON export of a committee. Times are RFC 3339 in the
// committee's time zone.
type archive struct {
	Format      string              `json:"format"`
	ExportedAt  string              `json:"exported_at"`
	Committee   archiveCommittee    `json:"committee"`
	Units       []archiveUnit       `json:"units"`
	Delegates   []archiveDelegate   `json:"delegates"`
	Covenant    *archiveCovenant    `json:"covenant,omitempty"`
	Awards      []archiveAward      `json:"awards"`
	Nominations []archiveNomination `json:"nominations"`
}

type archiveCommittee struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	ChatID   int64  `json:"chat_id"`
	Timezone string `json:"timezone"`
	Year     int    `json:"year"`
	Head     string `json:"head,omitempty"`
	Deputy   string `json:"deputy,omitempty"`
	Created  string `json:"created"`
}

type archiveUnit struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Added string `json:"added"`
}

type archiveDelegate struct {
	UserID   int64  `json:"user_id"`
	Unit     string `json:"unit"`
	Name     string `json:"name"`
	Username string `json:"username,omitempty"`
	Joined   string `json:"joined"`
}

type archiveCovenant struct {
	Year    int                `json:"year"`
	Title   string             `json:"title"`
	Opened  string             `json:"opened"`
	Signed  []archiveSignature `json:"signed"`
	Pending []string           `json:"pending"`
}

type archiveSignature struct {
	Unit   string `json:"unit"`
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
	At     string `json:"at"`
}

type archiveAward struct {
	Code      string `json:"code"`
	Kind      string `json:"kind"`
	Threshold string `json:"threshold"`
	VI        string `json:"vi"`
	EN        string `json:"en"`
}

type archiveNomination struct {
	ID           int64               `json:"id"`
	Year         int                 `json:"year"`
	Award        string              `json:"award"`
	Unit         string              `json:"unit"`
	Nominee      string              `json:"nominee"`
	NomineeUnit  string              `json:"nominee_unit,omitempty"`
	Achievements string              `json:"achievements,omitempty"`
	Status       string              `json:"status"`
	Created      string              `json:"created"`
	By           int64               `json:"by"`
	ByName       string              `json:"by_name"`
	Attachments  []archiveAttachment `json:"attachments,omitempty"`
	History      []archiveChange     `json:"history"`
}

type archiveAttachment struct {
	FileID string `json:"telegram_file_id"`
	Name   string `json:"name"`
}

type archiveChange struct {
	From   string `json:"from,omitempty"`
	To     string `json:"to"`
	By     int64  `json:"by"`
	ByName string `json:"by_name,omitempty"`
	At     string `json:"at"`
	Note   string `json:"note,omitempty"`
}

// export sends the committee's data to the admin privately: a JSON
// archive (committee, units, delegates, covenant, award catalogue,
// nominations with history) and a CSV of nominations. It never goes to
// the group: the archive holds delegates' Telegram ids.
func (h *Handlers) export(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	user, _ := r.Sender()
	chat, _ := r.Chat()
	c := sc.committee
	arch, ns, err := h.buildArchive(ctx, c)
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(arch, "", "  ")
	if err != nil {
		return fmt.Errorf("export committee %s: %w", c.ID, err)
	}
	table, err := nominationsCSV(c, ns)
	if err != nil {
		return fmt.Errorf("export committee %s: %w", c.ID, err)
	}
	lang := h.userLang(ctx, user.ID)
	stamp := h.now().In(c.Location()).Format("20060102-1504")
	docs := []struct {
		name    string
		data    []byte
		caption string
	}{
		{fmt.Sprintf("committee-%s-%s.json", c.ID, stamp), js, h.cat.T(lang, "export_json_caption", i18n.Data{
			"Name": c.Name, "Units": len(arch.Units), "Delegates": len(arch.Delegates), "Nominations": len(ns),
		})},
		{fmt.Sprintf("nominations-%s-%s.csv", c.ID, stamp), table, h.cat.N(lang, "export_csv_caption", len(ns), nil)},
	}
	if !chat.IsPrivate() {
		// The files are queued, so Telegram's refusal would come too late
		// to tell the admin; a chat action (not a message, not limited)
		// asks now whether the bot may write to them privately.
		_, err := h.send.Request(ctx, tgbotapi.NewChatAction(user.ID, tgbotapi.ChatUploadDocument))
		switch {
		case bot.IsBlocked(err) || bot.IsChatNotFound(err):
			return h.reply(ctx, r, h.cat.T(r.Lang, "export_start_private", i18n.Data{"Link": h.deepLink("")}), nil)
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
	return h.reply(ctx, r, h.cat.T(r.Lang, "export_sent_private", nil), nil)
}

// buildArchive collects the committee's data.
func (h *Handlers) buildArchive(ctx context.Context, c domain.Committee) (archive, []domain.Nomination, error) {
	loc := c.Location()
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	a := archive{
		Format: exportFormat, ExportedAt: ts(h.now()),
		Committee: archiveCommittee{
			ID: c.ID, Name: c.Name, ChatID: c.ChatID, Timezone: c.Timezone, Year: c.Year,
			Head: c.Head, Deputy: c.Deputy, Created: ts(c.Created),
		},
		Units: []archiveUnit{}, Delegates: []archiveDelegate{}, Awards: []archiveAward{}, Nominations: []archiveNomination{},
	}
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return a, nil, err
	}
	for _, u := range units {
		a.Units = append(a.Units, archiveUnit{Code: u.Code, Name: u.Name, Added: ts(u.Added)})
	}
	ds, err := h.committees.Delegates(ctx, c.ID)
	if err != nil {
		return a, nil, err
	}
	for _, d := range ds {
		a.Delegates = append(a.Delegates, archiveDelegate{UserID: d.UserID, Unit: d.Unit, Name: d.Name, Username: d.Username, Joined: ts(d.Joined)})
	}
	cov, err := h.committees.Covenant(ctx, c.ID)
	switch {
	case err == nil:
		ac := &archiveCovenant{Year: cov.Year, Title: cov.Title, Opened: ts(cov.Opened), Signed: []archiveSignature{}, Pending: cov.Pending}
		for _, s := range cov.Signed {
			ac.Signed = append(ac.Signed, archiveSignature{Unit: s.Unit, UserID: s.UserID, Name: s.Name, At: ts(s.At)})
		}
		if ac.Pending == nil {
			ac.Pending = []string{}
		}
		a.Covenant = ac
	case !errors.Is(err, storage.ErrNotFound):
		return a, nil, err
	}
	for _, aw := range h.awards {
		a.Awards = append(a.Awards, archiveAward{Code: aw.Code, Kind: string(aw.Kind), Threshold: aw.Threshold.String(), VI: aw.NameVI, EN: aw.NameEN})
	}
	ns, err := h.nominations.List(ctx, c.ID)
	if err != nil {
		return a, nil, err
	}
	for _, n := range ns {
		an := archiveNomination{
			ID: n.ID, Year: n.Year, Award: n.Award, Unit: n.Unit, Nominee: n.Nominee, NomineeUnit: n.NomineeUnit,
			Achievements: n.Achievements, Status: string(n.Status), Created: ts(n.Created), By: n.By, ByName: n.ByName,
			History: []archiveChange{},
		}
		for _, f := range n.Attachments {
			an.Attachments = append(an.Attachments, archiveAttachment{FileID: f.FileID, Name: f.Name})
		}
		for _, ch := range n.History {
			an.History = append(an.History, archiveChange{From: string(ch.From), To: string(ch.To), By: ch.By, ByName: ch.ByName, At: ts(ch.At), Note: ch.Note})
		}
		a.Nominations = append(a.Nominations, an)
	}
	return a, ns, nil
}

// nominationsCSV is one row per nomination with its current status and
// last change. It starts with a UTF-8 byte order mark so spreadsheet
// programs read Vietnamese correctly, and cells that a spreadsheet would
// take for a formula are prefixed with an apostrophe.
func nominationsCSV(c domain.Committee, ns []domain.Nomination) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	header := []string{"id", "year", "award", "unit", "nominee", "nominee_unit", "status", "created", "created_by",
		"last_change", "last_change_by", "last_note", "attachments", "achievements"}
	if err := w.Write(header); err != nil {
		return nil, err
	}
	loc := c.Location()
	for _, n := range ns {
		last := n.LastChange()
		row := []string{
			strconv.FormatInt(n.ID, 10), strconv.Itoa(n.Year), n.Award, n.Unit, n.Nominee, n.NomineeUnit, string(n.Status),
			n.Created.In(loc).Format("2006-01-02 15:04"), n.ByName,
			last.At.In(loc).Format("2006-01-02 15:04"), last.ByName, last.Note,
			strconv.Itoa(len(n.Attachments)), n.Achievements,
		}
		for i := range row {
			row[i] = safeCell(row[i])
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// safeCell defuses spreadsheet formulas in user text (CSV injection).
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
