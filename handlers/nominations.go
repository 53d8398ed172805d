package handlers

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// nominationHandlers are the nominations' commands and buttons
// (nominations*.go), and what a closed nominations ballot decides.
type nominationHandlers struct {
	core        *core
	forms       *formRunner
	cat         *i18n.Catalog
	committees  CommitteeStore
	nominations NominationStore
	// ballots tells which nominations an open ballot holds.
	ballots BallotStore
	awards  []domain.Award
}

// NominationStore keeps award nominations. Get returns storage.ErrNotFound
// for a nomination that does not exist in that committee; Create returns
// domain.ErrDuplicateNomination with the existing nomination; Transition
// returns storage.ErrConflict with the nomination as it now is when its
// status changed meanwhile (see storage.Nominations).
type NominationStore interface {
	Create(ctx context.Context, n domain.Nomination) (domain.Nomination, error)
	Get(ctx context.Context, committee string, id int64) (domain.Nomination, error)
	List(ctx context.Context, committee string) ([]domain.Nomination, error)
	Transition(ctx context.Context, committee string, id int64, ch domain.Change) (domain.Nomination, error)
}

var _ NominationStore = (*storage.Nominations)(nil)

// awardsList shows the award catalogue: codes, names, kinds, thresholds.
// With a committee at hand the thresholds are also counted in its units.
func (h *nominationHandlers) awardsList(ctx context.Context, r *bot.Request) error {
	units := 0
	if c, found, err := h.core.committeeFor(ctx, r, false); err != nil {
		return err
	} else if found {
		us, err := h.committees.Units(ctx, c.ID)
		if err != nil {
			return err
		}
		units = len(us)
	}
	var b strings.Builder
	b.WriteString(h.cat.N(r.Lang, "awards_title", len(h.awards), nil))
	for _, a := range h.awards {
		b.WriteString("\n\n")
		b.WriteString(h.cat.T(r.Lang, "awards_line", i18n.Data{
			"Code": a.Code, "Name": a.Name(r.Lang), "Kind": h.core.awardKindName(r.Lang, a.Kind),
			"Threshold": i18n.Raw(h.thresholdText(r.Lang, a.Threshold, units)),
		}))
	}
	b.WriteString("\n\n" + h.cat.T(r.Lang, "awards_footer", nil))
	return h.core.reply(ctx, r, b.String(), nil)
}

// thresholdText says how many must approve: "≥ 80% of all members (7/8
// units)" or "more than half …"; units 0 leaves the count out.
func (h *nominationHandlers) thresholdText(lang string, th domain.Threshold, units int) string {
	data := i18n.Data{"Share": th.String(), "Units": units, "Needed": th.Needed(units)}
	if th.IsMajority() {
		return h.cat.T(lang, "threshold_majority", data)
	}
	return h.cat.T(lang, "threshold_share", data)
}

// nominationInput is a nomination as a user gave it.
type nominationInput struct {
	unit, award, nominee, achievements string
	files                              []domain.Attachment
}

// nominate makes a nomination: /nominate AWARD | nominee [| achievements]
// for the caller's unit, or (admins) /nominate UNIT AWARD | …. Without the
// nominee it asks step by step, with buttons.
func (h *nominationHandlers) nominate(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	head, rest, hasNominee := strings.Cut(strings.TrimSpace(r.Args), "|")
	fields := strings.Fields(head)
	var in nominationInput
	switch len(fields) {
	case 0:
		if hasNominee {
			return h.core.reply(ctx, r, h.cat.T(r.Lang, "nominate_usage", nil), nil)
		}
	case 1:
		in.award = fields[0]
	case 2:
		in.unit, in.award = strings.ToUpper(fields[0]), fields[1]
	default:
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "nominate_usage", nil), nil)
	}
	switch {
	case in.unit != "" && !sc.admin && (sc.delegate == nil || sc.delegate.Unit != in.unit):
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "nominate_own_unit_only", i18n.Data{"Code": truncate(in.unit, 20)}), nil)
	case in.unit == "" && sc.delegate != nil:
		in.unit = sc.delegate.Unit
	case in.unit == "" && hasNominee:
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "nominate_which_unit", nil), nil)
	}
	if !hasNominee {
		given := map[string]string{}
		if in.unit != "" {
			if _, err := h.committees.Unit(ctx, sc.committee.ID, in.unit); errors.Is(err, storage.ErrNotFound) {
				return h.core.reply(ctx, r, h.cat.T(r.Lang, "unit_unknown", i18n.Data{"Code": truncate(in.unit, 40)}), nil)
			} else if err != nil {
				return err
			}
			given["unit"] = in.unit
		}
		if in.award != "" {
			a, problem := h.findAward(r.Lang, in.award)
			if problem != "" {
				return h.core.reply(ctx, r, problem, nil)
			}
			given["award"] = a.Code
		}
		return h.forms.startFormWith(ctx, r, formNominate, sc.committee, given)
	}
	in.nominee, in.achievements, _ = strings.Cut(rest, "|")
	return h.createNomination(ctx, r, sc.committee, in)
}

// findAward looks up an award code; problem explains an unknown one.
func (h *nominationHandlers) findAward(lang, code string) (domain.Award, string) {
	a, ok := domain.FindAward(h.awards, code)
	if ok {
		return a, ""
	}
	codes := make([]string, len(h.awards))
	for i, a := range h.awards {
		codes[i] = a.Code
	}
	return a, h.cat.T(lang, "nominate_unknown_award", i18n.Data{"Code": truncate(strings.TrimSpace(code), 30), "Codes": strings.Join(codes, ", ")})
}

// checkNominee checks a nominee for award a in committee c: a collective
// award takes a member unit (by code or full name; its code is returned as
// value and nomineeUnit) or a collective's name, an individual award a
// person's name but not a unit.
// problem explains a refusal.
func (h *nominationHandlers) checkNominee(ctx context.Context, lang string, c domain.Committee, a domain.Award, nominee string) (value, nomineeUnit, problem string, err error) {
	value = domain.OneLine(nominee)
	switch n := utf8.RuneCountInString(value); {
	case n == 0:
		return "", "", h.cat.T(lang, "nominate_empty_nominee", nil), nil
	case n > domain.MaxNameLen:
		return "", "", h.cat.T(lang, "nominate_nominee_too_long", i18n.Data{"Max": domain.MaxNameLen, "Len": n}), nil
	}
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return "", "", "", err
	}
	key := domain.NomineeKey(value)
	for _, u := range units {
		// A unit named by its code or its full name is that unit.
		if !strings.EqualFold(u.Code, value) && domain.NomineeKey(u.Name) != key {
			continue
		}
		if a.Kind == domain.Individual {
			return "", "", h.cat.T(lang, "nominate_individual_unit", i18n.Data{"Code": u.Code, "Award": a.Name(lang)}), nil
		}
		return u.Code, u.Code, "", nil
	}
	return value, "", "", nil
}

// checkAchievements checks the achievements text; problem explains a
// refusal.
func (h *nominationHandlers) checkAchievements(lang, s string) (value, problem string) {
	value = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(value); n > domain.MaxAchievementsLen {
		return "", h.cat.T(lang, "nominate_achievements_too_long", i18n.Data{"Max": domain.MaxAchievementsLen, "Len": n})
	}
	return value, ""
}

// createNomination checks a nomination and stores it, answering with what
// was wrong or with the command that opens it, and tells the unit's other
// delegates.
func (h *nominationHandlers) createNomination(ctx context.Context, r *bot.Request, c domain.Committee, in nominationInput) error {
	user, _ := r.Sender()
	u, err := h.committees.Unit(ctx, c.ID, in.unit)
	if errors.Is(err, storage.ErrNotFound) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "unit_unknown", i18n.Data{"Code": truncate(in.unit, 40)}), nil)
	}
	if err != nil {
		return err
	}
	a, problem := h.findAward(r.Lang, in.award)
	if problem != "" {
		return h.core.reply(ctx, r, problem, nil)
	}
	nominee, nomineeUnit, problem, err := h.checkNominee(ctx, r.Lang, c, a, in.nominee)
	if err != nil {
		return err
	}
	if problem == "" {
		in.achievements, problem = h.checkAchievements(r.Lang, in.achievements)
	}
	if problem != "" {
		return h.core.reply(ctx, r, problem+"\n\n"+h.cat.T(r.Lang, "nominate_not_stored", nil), nil)
	}
	n, err := h.nominations.Create(ctx, domain.Nomination{
		Committee: c.ID, Unit: u.Code, Award: a.Code, Nominee: nominee, NomineeUnit: nomineeUnit,
		Achievements: in.achievements, Year: c.Year, By: user.ID, ByName: user.DisplayName(), Attachments: in.files,
	})
	switch {
	case errors.Is(err, domain.ErrDuplicateNomination):
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "nominate_duplicate", i18n.Data{
			"ID": n.ID, "Nominee": n.Nominee, "Award": a.Name(r.Lang), "Year": n.Year,
			"Unit": n.Unit, "Status": i18n.Raw(h.core.statusLabel(r.Lang, n.Status)),
		}), nil)
	case errors.Is(err, storage.ErrNotFound):
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "unit_unknown", i18n.Data{"Code": u.Code}), nil)
	case err != nil:
		return err
	}
	sent, err := h.notifyUnit(ctx, c, n.Unit, user.ID, func(lang string) string {
		return h.cat.T(lang, "nomination_created_for_unit", i18n.Data{
			"ID": n.ID, "By": n.ByName, "Unit": n.Unit, "Award": awardName(h.awards, n.Award, lang), "Nominee": n.Nominee,
		})
	})
	if err != nil {
		return err
	}
	text := h.cat.T(r.Lang, "nominate_done", i18n.Data{
		"ID": n.ID, "Award": a.Name(r.Lang), "Nominee": n.Nominee, "Unit": n.Unit, "Year": n.Year,
	})
	if len(n.Attachments) > 0 {
		text += "\n" + h.cat.N(r.Lang, "nominate_done_files", len(n.Attachments), nil)
	}
	return h.core.reply(ctx, r, text+h.notifiedText(r.Lang, n.Unit, sent), nil)
}

// awardName is the name of award code in lang, or the code for an award no
// longer in the catalogue.
func awardName(awards []domain.Award, code, lang string) string {
	if a, ok := domain.FindAward(awards, code); ok {
		return a.Name(lang)
	}
	return code
}

// notifyUnit queues a private notice to each delegate of unit, in their
// own language, skipping except (who acted and got the reply), and returns
// how many were queued. The outbox delivers them; a delegate who never
// started the bot or blocked it is recorded there, and the change stands.
func (h *nominationHandlers) notifyUnit(ctx context.Context, c domain.Committee, unit string, except int64, text func(lang string) string) (queued int, err error) {
	ds, err := h.committees.UnitDelegates(ctx, c.ID, unit)
	if err != nil {
		return 0, err
	}
	for _, d := range ds {
		if d.UserID == except {
			continue
		}
		if err := h.core.sendHTML(ctx, d.UserID, text(h.core.userLang(ctx, d.UserID)), nil); err != nil {
			return queued, err
		}
		queued++
	}
	return queued, nil
}

// notifiedText is the line after an action saying who is being told; ""
// when the unit has no other delegate.
func (h *nominationHandlers) notifiedText(lang, unit string, queued int) string {
	if queued == 0 {
		return ""
	}
	return "\n" + h.cat.N(lang, "nomination_notified", queued, i18n.Data{"Unit": unit})
}

// parseNominationID reads "12" or "#12".
func parseNominationID(s string) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(s), "#"), 10, 64)
	return id, err == nil && id > 0
}

// loadNomination finds nomination id of the caller's committee; when it
// does not exist the user is told and found is false.
func (h *nominationHandlers) loadNomination(ctx context.Context, r *bot.Request, c domain.Committee, arg, usageID string) (domain.Nomination, bool, error) {
	id, ok := parseNominationID(arg)
	if !ok {
		return domain.Nomination{}, false, h.core.reply(ctx, r, h.cat.T(r.Lang, usageID, nil), nil)
	}
	n, err := h.nominations.Get(ctx, c.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return n, false, h.core.reply(ctx, r, h.cat.T(r.Lang, "nomination_unknown", i18n.Data{"ID": id}), nil)
	}
	return n, err == nil, err
}

// Register adds the nominations' buttons.
func (h *nominationHandlers) Register(rt *bot.Router) {
	register(rt,
		button{routeNomPage, h.nominationsPage},
		h.core.adminOnly(routeNomMove, h.nominationMoveButton),
	)
}
