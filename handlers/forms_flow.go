package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// formChoice is an answer offered as a button.
type formChoice struct {
	label string
	value string
}

// Button values the form engine reserves (choices never start with '!').
const (
	formSkip    = "!skip"
	formConfirm = "!ok"
	formCancel  = "!no"
)

// filesKey is the answer that holds the documents of a dialogue (JSON).
const filesKey = "files"

// nextStep is the first step from i on that has no answer yet (len(steps)
// when every step is answered).
func (f form) nextStep(answers map[string]string, i int) int {
	for i < len(f.steps) {
		if _, done := answers[f.steps[i].key]; !done {
			return i
		}
		i++
	}
	return i
}

// formData is the callback data of a form button: form:<name>:<step>:<value>.
func formData(name string, step int, value string) string {
	return routeForm.data(name, strconv.Itoa(step), value)
}

// formPrompt renders the question of the dialogue's current step, with its
// buttons (choices, Skip, Cancel) if it has any.
func (h *formRunner) formPrompt(ctx context.Context, lang string, c domain.Committee, f form, d storage.Dialog) (string, *tgbotapi.InlineKeyboardMarkup, error) {
	step := f.steps[d.Step]
	text := h.stepQuestion(lang, step, d.Data)
	var choices []formChoice
	if step.choices != nil {
		var err error
		if choices, err = step.choices(ctx, lang, c, d.Data); err != nil {
			return "", nil, err
		}
	}
	if step.optional {
		choices = append(choices, formChoice{label: h.cat.T(lang, "btn_skip", nil), value: formSkip})
	}
	if len(choices) == 0 {
		return text, nil, nil
	}
	perRow := 3
	for _, ch := range choices {
		if utf8.RuneCountInString(ch.label) > 12 {
			perRow = 1
		}
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	var row []tgbotapi.InlineKeyboardButton
	for _, ch := range choices {
		if !routeForm.fits(d.Name, strconv.Itoa(d.Step), ch.value) {
			continue // cannot be a button; the answer can still be typed
		}
		data := formData(d.Name, d.Step, ch.value)
		row = append(row, tgbotapi.NewInlineKeyboardButtonData(truncate(ch.label, 60), data))
		if len(row) == perRow {
			rows, row = append(rows, row), nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(lang, "btn_cancel", nil), formData(d.Name, d.Step, formCancel))))
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return text, &kb, nil
}

// stepQuestion is the text of a step's question.
func (h *formRunner) stepQuestion(lang string, step formStep, answers map[string]string) string {
	if step.prompt != nil {
		id, data := step.prompt(lang, answers)
		return h.cat.T(lang, id, data)
	}
	return h.cat.T(lang, step.promptID, nil)
}

// formAnswer takes an answer to the current step, typed or pressed, checks
// it, and moves on: the next question, the review, or the end.
func (h *formRunner) formAnswer(ctx context.Context, r *bot.Request, d storage.Dialog, f form, answer string, pressed bool) error {
	c, ok, err := h.formCommittee(ctx, r, d)
	if !ok || err != nil {
		return err
	}
	if d.Step >= len(f.steps) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "form_review_hint", nil), nil)
	}
	step := f.steps[d.Step]
	var value, problem string
	switch {
	case step.optional && answer == formSkip:
	case step.checkIn != nil:
		if value, problem, err = step.checkIn(ctx, r.Lang, c, d.Data, answer); err != nil {
			return err
		}
	default:
		var id string
		if value, id = step.check(answer); id != "" {
			problem = h.cat.T(r.Lang, id, nil)
		}
	}
	if problem != "" {
		if pressed {
			r.Answer(plain(problem), true)
			return nil
		}
		prompt, kb, err := h.formPrompt(ctx, r.Lang, c, f, d)
		if err != nil {
			return err
		}
		return h.core.reply(ctx, r, problem+"\n\n"+prompt, kb)
	}
	if pressed {
		// Show the choice in place of the buttons, so they cannot be
		// pressed again.
		shown := h.cat.T(r.Lang, "form_skipped", nil)
		if answer != formSkip {
			shown = "<b>" + escape(h.choiceLabel(ctx, r.Lang, c, step, d.Data, value)) + "</b>"
		}
		if err := h.core.editCallback(ctx, r, h.stepQuestion(r.Lang, step, d.Data)+"\n\n→ "+shown, nil); err != nil {
			return err
		}
	}
	if d.Data == nil {
		d.Data = map[string]string{}
	}
	d.Data[step.key] = value
	d.Step = f.nextStep(d.Data, d.Step+1)
	return h.formNext(ctx, r, c, d, f)
}

// choiceLabel is the label of the button for value, or value itself.
func (h *formRunner) choiceLabel(ctx context.Context, lang string, c domain.Committee, step formStep, answers map[string]string, value string) string {
	if step.choices != nil {
		if cs, err := step.choices(ctx, lang, c, answers); err == nil {
			for _, ch := range cs {
				if ch.value == value {
					return ch.label
				}
			}
		}
	}
	return value
}

// formNext asks the dialogue's current step, shows the review, or
// finishes.
func (h *formRunner) formNext(ctx context.Context, r *bot.Request, c domain.Committee, d storage.Dialog, f form) error {
	user, _ := r.Sender()
	if d.Step < len(f.steps) {
		if err := h.dialogs.Set(ctx, user.ID, d, dialogTTL); err != nil {
			return err
		}
		prompt, kb, err := h.formPrompt(ctx, r.Lang, c, f, d)
		if err != nil {
			return err
		}
		return h.core.reply(ctx, r, prompt, kb)
	}
	if f.review != nil {
		if err := h.dialogs.Set(ctx, user.ID, d, dialogTTL); err != nil {
			return err
		}
		return h.sendReview(ctx, r, c, d, f)
	}
	return h.formFinish(ctx, r, c, d, f)
}

// sendReview shows the summary with Confirm and Cancel buttons.
func (h *formRunner) sendReview(ctx context.Context, r *bot.Request, c domain.Committee, d storage.Dialog, f form) error {
	text, err := f.review(ctx, r.Lang, c, d.Data)
	if err != nil {
		return err
	}
	text += "\n\n" + h.cat.T(r.Lang, "form_review_confirm", nil)
	if f.files {
		text += " " + h.cat.T(r.Lang, "form_review_files", nil)
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_confirm", nil), formData(d.Name, len(f.steps), formConfirm)),
		tgbotapi.NewInlineKeyboardButtonData(h.cat.T(r.Lang, "btn_cancel", nil), formData(d.Name, len(f.steps), formCancel)),
	))
	return h.core.reply(ctx, r, text, &kb)
}

// formFinish ends the dialogue and, if the user still may, runs finish.
// Rights are checked again: they may have changed during the dialogue.
func (h *formRunner) formFinish(ctx context.Context, r *bot.Request, c domain.Committee, d storage.Dialog, f form) error {
	user, _ := r.Sender()
	if _, err := h.dialogs.Clear(ctx, user.ID); err != nil {
		return err
	}
	sc, err := h.core.scopeFor(ctx, c, user.ID)
	if err != nil {
		return err
	}
	switch {
	case f.allow == nil && !sc.admin:
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "admin_only", i18n.Data{"Group": h.core.groupName(c)}), nil)
	case f.allow != nil && !f.allow(sc, d.Data):
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "form_not_allowed", nil), nil)
	}
	r.Set(scopeKey{}, sc)
	return f.finish(ctx, r, c, d.Data)
}

// formCommittee loads the dialogue's committee; if it is gone, the
// dialogue ends with an explanation (ok=false).
func (h *formRunner) formCommittee(ctx context.Context, r *bot.Request, d storage.Dialog) (domain.Committee, bool, error) {
	c, err := h.committees.Get(ctx, d.Data["committee"])
	if errors.Is(err, storage.ErrNotFound) {
		user, _ := r.Sender()
		if _, err := h.dialogs.Clear(ctx, user.ID); err != nil {
			return c, false, err
		}
		return c, false, h.core.reply(ctx, r, h.cat.T(r.Lang, "no_committee_private", nil), nil)
	}
	return c, err == nil, err
}

// formButton handles a press on a form's button: form:<name>:<step>:<value>.
// Only the presser's own dialogue is affected, and only while it is at that
// step; values are checked like typed answers, so forged data is refused.
func (h *formRunner) formButton(ctx context.Context, r *bot.Request) error {
	user, _ := r.Sender()
	p, ok := routeForm.parse(r.Data)
	d, err := h.dialogs.Get(ctx, user.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	f, known := h.formsByName[d.Name]
	if !ok || err != nil || !known || p[0] != d.Name || p[1] != strconv.Itoa(d.Step) || d.Step > len(f.steps) {
		h.core.unknownButton(r)
		return nil
	}
	switch value := p[2]; {
	case value == formCancel:
		if _, err := h.dialogs.Clear(ctx, user.ID); err != nil {
			return err
		}
		return h.core.editCallback(ctx, r, h.cat.T(r.Lang, "cancelled", nil), nil)
	case d.Step == len(f.steps):
		if value != formConfirm || f.review == nil {
			h.core.unknownButton(r)
			return nil
		}
		c, ok, err := h.formCommittee(ctx, r, d)
		if !ok || err != nil {
			return err
		}
		text, err := f.review(ctx, r.Lang, c, d.Data)
		if err != nil {
			return err
		}
		if err := h.core.editCallback(ctx, r, text+"\n\n"+h.cat.T(r.Lang, "form_confirmed", nil), nil); err != nil {
			return err
		}
		return h.formFinish(ctx, r, c, d, f)
	default:
		return h.formAnswer(ctx, r, d, f, value, true)
	}
}

// formFile is a kept document in a dialogue's answers.
type formFile struct {
	FileID string `json:"id"`
	Name   string `json:"name"`
}

// formFiles returns the documents kept in a dialogue's answers.
func formFiles(answers map[string]string) []domain.Attachment {
	var files []formFile
	if raw := answers[filesKey]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &files) // written by document only
	}
	out := make([]domain.Attachment, 0, len(files))
	for _, f := range files {
		out = append(out, domain.Attachment{FileID: f.FileID, Name: f.Name})
	}
	return out
}

// document takes a document sent in a private chat: kept as an attachment
// of the dialogue under way if that dialogue takes files; otherwise the
// user is told when documents are taken. Documents in groups are not the
// bot's business.
func (h *formRunner) document(ctx context.Context, r *bot.Request) error {
	chat, _ := r.Chat()
	m, ok := r.Message()
	if !chat.IsPrivate() || !ok || m.Document == nil {
		return nil
	}
	user, _ := r.Sender()
	d, err := h.dialogs.Get(ctx, user.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	f, known := h.formsByName[d.Name]
	if err != nil || !known || !f.files {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "form_file_not_now", nil), nil)
	}
	files := formFiles(d.Data)
	name := m.Document.FileName
	if name == "" {
		name = h.cat.T(r.Lang, "form_file_unnamed", nil)
	}
	doc := domain.Attachment{FileID: m.Document.FileID, Name: truncate(name, domain.MaxFileNameLen)}
	if doc.Validate() != nil {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "form_file_not_now", nil), nil)
	}
	for _, have := range files {
		if have.FileID == doc.FileID {
			return h.core.reply(ctx, r, h.cat.N(r.Lang, "form_file_added", len(files), i18n.Data{"Name": doc.Name}), nil)
		}
	}
	if len(files) >= domain.MaxAttachments {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "form_files_full", i18n.Data{"Max": domain.MaxAttachments}), nil)
	}
	files = append(files, doc)
	kept := make([]formFile, len(files))
	for i, a := range files {
		kept[i] = formFile{FileID: a.FileID, Name: a.Name}
	}
	raw, err := json.Marshal(kept)
	if err != nil {
		return fmt.Errorf("keep document: %w", err)
	}
	if d.Data == nil {
		d.Data = map[string]string{}
	}
	d.Data[filesKey] = string(raw)
	if err := h.dialogs.Set(ctx, user.ID, d, dialogTTL); err != nil {
		return err
	}
	if err := h.core.reply(ctx, r, h.cat.N(r.Lang, "form_file_added", len(files), i18n.Data{"Name": doc.Name}), nil); err != nil {
		return err
	}
	if d.Step == len(f.steps) && f.review != nil {
		// The card to confirm now lists the new document.
		c, ok, err := h.formCommittee(ctx, r, d)
		if !ok || err != nil {
			return err
		}
		return h.sendReview(ctx, r, c, d, f)
	}
	return nil
}
