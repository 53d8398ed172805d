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

// A form is a step-by-step dialogue in a private chat: one question per
// step, each answer checked before the next, then finish with every answer.
// The state lives in Redis (storage.Dialogs), so a dialogue survives a
// restart and works across replicas.
type form struct {
	steps  []formStep
	finish func(ctx context.Context, r *bot.Request, c domain.Committee, answers map[string]string) error
}

// formStep asks promptID and checks the answer: check returns the value to
// keep, or the catalogue id of what is wrong.
type formStep struct {
	key      string
	promptID string
	check    func(answer string) (value, problemID string)
}

// Form names, stored in the dialogue state.
const (
	formUnitAdd = "unit_add"
)

// dialogTTL is how long an unanswered dialogue waits.
const dialogTTL = 30 * time.Minute

func (h *Handlers) forms() map[string]form {
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
				return h.addUnit(ctx, r, c, a["code"], a["name"])
			},
		},
	}
}

// startForm begins a dialogue. In a group it asks the user to continue in
// a private chat, where the questions go.
func (h *Handlers) startForm(ctx context.Context, r *bot.Request, name string, c domain.Committee) error {
	f := h.forms()[name]
	user, _ := r.Sender()
	chat, _ := r.Chat()
	if err := h.dialogs.Set(ctx, user.ID, storage.Dialog{Name: name, Data: map[string]string{"committee": c.ID}}, dialogTTL); err != nil {
		return err
	}
	lang := h.userLang(ctx, user.ID)
	prompt := h.cat.T(lang, f.steps[0].promptID, nil) + "\n\n" + h.cat.T(lang, "form_cancel_hint", nil)
	if chat.IsPrivate() {
		return h.reply(ctx, r, prompt, nil)
	}
	err := h.sendHTML(ctx, user.ID, prompt, nil)
	switch {
	case bot.IsBlocked(err) || bot.IsChatNotFound(err):
		if _, cerr := h.dialogs.Clear(ctx, user.ID); cerr != nil {
			return cerr
		}
		return h.reply(ctx, r, h.cat.T(r.Lang, "form_start_private", i18n.Data{"Link": h.deepLink("")}), nil)
	case err != nil:
		return err
	}
	return h.reply(ctx, r, h.cat.T(r.Lang, "form_continue_private", nil), nil)
}

// continueForm takes the user's answer to the current step. It reports
// false when the user has no dialogue.
func (h *Handlers) continueForm(ctx context.Context, r *bot.Request) (bool, error) {
	user, _ := r.Sender()
	d, err := h.dialogs.Get(ctx, user.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	f, ok := h.forms()[d.Name]
	if !ok || d.Step >= len(f.steps) {
		_, err := h.dialogs.Clear(ctx, user.ID)
		return false, err
	}
	step := f.steps[d.Step]
	value, problem := step.check(r.Text())
	if problem != "" {
		return true, h.reply(ctx, r, h.cat.T(r.Lang, problem, nil)+"\n\n"+h.cat.T(r.Lang, step.promptID, nil), nil)
	}
	if d.Data == nil {
		d.Data = map[string]string{}
	}
	d.Data[step.key] = value
	d.Step++
	if d.Step < len(f.steps) {
		if err := h.dialogs.Set(ctx, user.ID, d, dialogTTL); err != nil {
			return true, err
		}
		return true, h.reply(ctx, r, h.cat.T(r.Lang, f.steps[d.Step].promptID, nil), nil)
	}
	if _, err := h.dialogs.Clear(ctx, user.ID); err != nil {
		return true, err
	}
	// Rights are checked again: they may have changed during the dialogue.
	c, err := h.committees.Get(ctx, d.Data["committee"])
	if err != nil {
		return true, err
	}
	sc, err := h.scopeFor(ctx, c, user.ID)
	if err != nil {
		return true, err
	}
	if !sc.admin {
		return true, h.reply(ctx, r, h.cat.T(r.Lang, "admin_only", i18n.Data{"Group": h.groupName(c)}), nil)
	}
	r.Set(scopeKey{}, sc)
	return true, f.finish(ctx, r, c, d.Data)
}
