package handlers

import (
	"context"
	"strings"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
)

// formNominate is the step-by-step /nominate: the unit (admins who are no
// unit's delegate), the award (buttons), the nominee (for a collective
// award, a button for the unit itself), the achievements (may be skipped),
// documents at any point, then a card to confirm.
const formNominate = "nominate"

func (h *nominationHandlers) nominateForm() form {
	return form{
		steps: []formStep{
			{key: "unit", promptID: "nominate_ask_unit", checkIn: h.nominateUnitAnswer, choices: h.nominateUnitChoices},
			{key: "award", promptID: "nominate_ask_award", checkIn: h.nominateAwardAnswer, choices: h.nominateAwardChoices},
			{key: "nominee", prompt: h.nominateNomineePrompt, checkIn: h.nominateNomineeAnswer, choices: h.nominateNomineeChoices},
			{key: "achievements", promptID: "nominate_ask_achievements", optional: true, checkIn: func(_ context.Context, lang string, _ domain.Committee, _ map[string]string, s string) (string, string, error) {
				v, problem := h.checkAchievements(lang, s)
				return v, problem, nil
			}},
		},
		files: true,
		allow: func(sc scope, a map[string]string) bool {
			return sc.admin || sc.delegate != nil && sc.delegate.Unit == a["unit"]
		},
		review: h.nominateReview,
		finish: func(ctx context.Context, r *bot.Request, c domain.Committee, a map[string]string) error {
			return h.createNomination(ctx, r, c, nominationInput{
				unit: a["unit"], award: a["award"], nominee: a["nominee"], achievements: a["achievements"], files: formFiles(a),
			})
		},
	}
}

func (h *nominationHandlers) nominateUnitChoices(ctx context.Context, _ string, c domain.Committee, _ map[string]string) ([]formChoice, error) {
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]formChoice, len(units))
	for i, u := range units {
		out[i] = formChoice{label: u.Code, value: u.Code}
	}
	return out, nil
}

func (h *nominationHandlers) nominateUnitAnswer(ctx context.Context, lang string, c domain.Committee, _ map[string]string, s string) (string, string, error) {
	code := strings.ToUpper(domain.NormalizeUnitCode(s))
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return "", "", err
	}
	for _, u := range units {
		if u.Code == code {
			return code, "", nil
		}
	}
	return "", h.cat.T(lang, "unit_unknown", i18n.Data{"Code": truncate(s, 40)}), nil
}

func (h *nominationHandlers) nominateAwardChoices(_ context.Context, lang string, _ domain.Committee, _ map[string]string) ([]formChoice, error) {
	out := make([]formChoice, len(h.awards))
	for i, a := range h.awards {
		out[i] = formChoice{label: a.Code + " · " + a.Name(lang), value: a.Code}
	}
	return out, nil
}

func (h *nominationHandlers) nominateAwardAnswer(_ context.Context, lang string, _ domain.Committee, _ map[string]string, s string) (string, string, error) {
	a, problem := h.findAward(lang, s)
	return a.Code, problem, nil
}

// nominateNomineePrompt asks for a collective or a person, as the award
// wants.
func (h *nominationHandlers) nominateNomineePrompt(lang string, a map[string]string) (string, i18n.Data) {
	award, _ := domain.FindAward(h.awards, a["award"])
	data := i18n.Data{"Award": award.Name(lang), "Unit": a["unit"]}
	if award.Kind == domain.Individual {
		return "nominate_ask_person", data
	}
	return "nominate_ask_collective", data
}

// nominateNomineeChoices offers the nominating unit itself for a
// collective award.
func (h *nominationHandlers) nominateNomineeChoices(_ context.Context, lang string, _ domain.Committee, a map[string]string) ([]formChoice, error) {
	award, _ := domain.FindAward(h.awards, a["award"])
	if award.Kind != domain.Collective || a["unit"] == "" {
		return nil, nil
	}
	return []formChoice{{label: h.cat.T(lang, "nominate_own_unit_button", i18n.Data{"Unit": a["unit"]}), value: a["unit"]}}, nil
}

func (h *nominationHandlers) nominateNomineeAnswer(ctx context.Context, lang string, c domain.Committee, a map[string]string, s string) (string, string, error) {
	award, problem := h.findAward(lang, a["award"])
	if problem != "" {
		return "", problem, nil
	}
	v, _, problem, err := h.checkNominee(ctx, lang, c, award, s)
	return v, problem, err
}

// nominateReview is the card to confirm before the nomination is stored.
func (h *nominationHandlers) nominateReview(ctx context.Context, lang string, c domain.Committee, a map[string]string) (string, error) {
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return "", err
	}
	n := domain.Nomination{
		Unit: a["unit"], Award: a["award"], Nominee: a["nominee"], Achievements: a["achievements"],
		Year: c.Year, Attachments: formFiles(a),
	}
	for _, u := range units {
		if u.Code == n.Nominee {
			n.NomineeUnit = u.Code
		}
	}
	return h.cat.T(lang, "nominate_review_title", nil) + "\n" + h.nominationBody(lang, n, units, len(units)), nil
}
