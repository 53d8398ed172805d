package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// formRunner runs the step-by-step forms of every room: it starts them,
// takes the answers, and finishes them with the room's own function.
type formRunner struct {
	core       *core
	cat        *i18n.Catalog
	committees CommitteeStore
	dialogs    Dialogs
	// formsByName are every room's forms (set by New).
	formsByName map[string]form
}

// A form is a step-by-step dialogue in a private chat: one question per
// step, each answer checked before the next, then finish with every answer.
// The state lives in Redis (storage.Dialogs), so a dialogue survives a
// restart and works across replicas.
type form struct {
	steps  []formStep
	finish func(ctx context.Context, r *bot.Request, c domain.Committee, answers map[string]string) error

	// allow says who may complete the form, checked again at the end
	// (rights may change during a dialogue); nil means committee admins.
	allow func(sc scope, answers map[string]string) bool
	// review, if set, renders a summary shown after the last step with
	// Confirm and Cancel buttons; finish runs only on Confirm.
	review func(ctx context.Context, lang string, c domain.Committee, answers map[string]string) (string, error)
	// files: documents sent during the dialogue are kept (formFiles reads
	// them from the answers).
	files bool
}

// formStep asks promptID and checks the answer: check returns the value to
// keep, or the catalogue id of what is wrong. A step whose key already has
// an answer (given with the command that started the form) is skipped.
type formStep struct {
	key      string
	promptID string
	check    func(answer string) (value, problemID string)

	// prompt, if set, chooses the question from the answers so far.
	prompt func(lang string, answers map[string]string) (id string, data i18n.Data)
	// checkIn, if set, is used instead of check when the answer depends on
	// the committee or earlier answers; problem is ready HTML.
	checkIn func(ctx context.Context, lang string, c domain.Committee, answers map[string]string, answer string) (value, problem string, err error)
	// choices offers answers as buttons under the question (the user may
	// still type one). Values must not start with '!'.
	choices func(ctx context.Context, lang string, c domain.Committee, answers map[string]string) ([]formChoice, error)
	// optional steps offer a Skip button; skipping keeps "".
	optional bool
}

// Form names, stored in the dialogue state.
const (
	formUnitAdd = "unit_add"
)

// dialogTTL is how long an unanswered dialogue waits.
const dialogTTL = 30 * time.Minute

// formTable builds the forms by name.
func (h *Handlers) formTable() map[string]form {
	return map[string]form{
		formUnitAdd: {
			steps: []formStep{
				{key: "code", promptID: "form_unit_code", check: func(s string) (string, string) {
					s = domain.NormalizeUnitCode(s)
					if domain.ValidUnitCode(s) != nil {
						return "", "form_bad_unit_code"
					}
					return s, ""
				}},
				{key: "name", promptID: "form_unit_name", check: func(s string) (string, string) {
					if domain.ValidName(s) != nil {
						return "", "form_bad_name"
					}
					return s, ""
				}},
			},
			finish: func(ctx context.Context, r *bot.Request, c domain.Committee, a map[string]string) error {
				return h.committee.addUnit(ctx, r, c, a["code"], a["name"])
			},
		},
		formNominate:   h.nominationRoom.nominateForm(),
		formMeetingNew: h.meetings.meetingForm(),
	}
}

// startForm begins a dialogue. In a group it asks the user to continue in
// a private chat, where the questions go.
func (h *formRunner) startForm(ctx context.Context, r *bot.Request, name string, c domain.Committee) error {
	return h.startFormWith(ctx, r, name, c, nil)
}

// startFormWith begins a dialogue with some answers given already (they
// are not asked).
func (h *formRunner) startFormWith(ctx context.Context, r *bot.Request, name string, c domain.Committee, given map[string]string) error {
	f := h.formsByName[name]
	user, _ := r.Sender()
	chat, _ := r.Chat()
	d := storage.Dialog{Name: name, Data: map[string]string{"committee": c.ID}}
	for k, v := range given {
		d.Data[k] = v
	}
	d.Step = f.nextStep(d.Data, 0)
	if err := h.dialogs.Set(ctx, user.ID, d, dialogTTL); err != nil {
		return err
	}
	lang := h.core.userLang(ctx, user.ID)
	prompt, kb, err := h.formPrompt(ctx, lang, c, f, d)
	if err != nil {
		return err
	}
	prompt += "\n\n" + h.cat.T(lang, "form_cancel_hint", nil)
	if chat.IsPrivate() {
		return h.core.reply(ctx, r, prompt, kb)
	}
	err = h.core.sendHTML(ctx, user.ID, prompt, kb)
	switch {
	case bot.IsBlocked(err) || bot.IsChatNotFound(err):
		if _, cerr := h.dialogs.Clear(ctx, user.ID); cerr != nil {
			return cerr
		}
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "form_start_private", i18n.Data{"Link": h.core.deepLink("")}), nil)
	case err != nil:
		return err
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "form_continue_private", nil), nil)
}

// continueForm takes the user's answer to the current step. It reports
// false when the user has no dialogue.
func (h *formRunner) continueForm(ctx context.Context, r *bot.Request) (bool, error) {
	user, _ := r.Sender()
	d, err := h.dialogs.Get(ctx, user.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	f, ok := h.formsByName[d.Name]
	if !ok || d.Step > len(f.steps) || d.Step == len(f.steps) && f.review == nil {
		_, err := h.dialogs.Clear(ctx, user.ID)
		return false, err
	}
	return true, h.formAnswer(ctx, r, d, f, r.Text(), false)
}
