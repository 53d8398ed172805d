package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
)

// minutesInfo shows or records what only the secretariat knows for a
// ballot's minutes: /minutes_info <id> [chair=… | secretary=… |
// counters=A, B | place=… | opinions=…]. Named fields change, the others
// stay; an empty value clears one. Without an id it lists the ballots.
func (h *resultHandlers) minutesInfo(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	b, ok, err := h.voting.ballotArg(ctx, r, sc)
	if !ok || err != nil {
		return err
	}
	info, err := h.ballots.MinutesInfo(ctx, b.Committee, b.ID)
	if err != nil {
		return err
	}
	_, rest, _ := strings.Cut(strings.TrimSpace(r.Args), " ")
	saved := false
	if rest = strings.TrimSpace(rest); rest != "" {
		fields, problem := h.parseMinutesInfo(r.Lang, rest, &info)
		if problem != "" {
			return h.core.reply(ctx, r, problem+"\n\n"+h.cat.T(r.Lang, "minutes_info_usage", i18n.Data{"ID": b.ID}), nil)
		}
		if err := h.ballots.SetMinutesInfo(ctx, b.Committee, b.ID, info, fields); err != nil {
			return err
		}
		saved = true
	}
	var text strings.Builder
	if saved {
		text.WriteString(h.cat.T(r.Lang, "minutes_info_saved", nil) + "\n")
	}
	text.WriteString(h.minutesInfoText(r.Lang, b, info))
	if b.Status == domain.BallotClosed {
		text.WriteString("\n\n" + h.cat.T(r.Lang, "minutes_info_closed", i18n.Data{"ID": b.ID}))
	} else {
		text.WriteString("\n\n" + h.cat.T(r.Lang, "minutes_info_open", nil))
	}
	text.WriteString("\n\n" + h.cat.T(r.Lang, "minutes_info_usage", i18n.Data{"ID": b.ID}))
	return h.core.reply(ctx, r, text.String(), nil)
}

// parseMinutesInfo applies "name=value | name=value…" to info and returns
// the fields named, or a localized problem (info is then unusable).
func (h *resultHandlers) parseMinutesInfo(lang, text string, info *domain.MinutesInfo) ([]domain.MinutesField, string) {
	var fields []domain.MinutesField
	for _, part := range strings.Split(text, "|") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, value, found := strings.Cut(part, "=")
		f, known := domain.ParseMinutesField(name)
		if !found || !known {
			names := make([]string, 0, len(domain.MinutesFields()))
			for _, k := range domain.MinutesFields() {
				names = append(names, "<code>"+string(k)+"</code>")
			}
			return nil, h.cat.T(lang, "minutes_info_bad_part", i18n.Data{"Part": truncate(strings.TrimSpace(part), 40), "Fields": i18n.Raw(strings.Join(names, ", "))})
		}
		// The field is known: what is left is a value too long, or too
		// many counters.
		if err := info.Set(f, value); errors.Is(err, domain.ErrTooManyCounters) {
			return nil, h.cat.T(lang, "minutes_info_too_many", i18n.Data{"Max": domain.MaxMinutesCounters})
		} else if err != nil {
			return nil, h.cat.T(lang, "minutes_info_too_long", i18n.Data{"Field": string(f), "Max": f.Limit()})
		}
		fields = append(fields, f)
	}
	return fields, ""
}

// minutesInfoText lists a ballot's minutes information.
func (h *resultHandlers) minutesInfoText(lang string, b domain.Ballot, info domain.MinutesInfo) string {
	unset := i18n.Raw(h.cat.T(lang, "minutes_info_unset", nil))
	val := func(s string) any {
		if s == "" {
			return unset
		}
		return s
	}
	place := val(info.Place)
	if info.Place == "" {
		place = i18n.Raw(h.cat.T(lang, "minutes_info_place_default", i18n.Data{"Place": plain(h.cat.T(lang, "min_place_value", nil))}))
	}
	opinions := any(info.Opinions)
	if info.Opinions == "" {
		opinions = plain(h.cat.T(lang, "min_no_opinions", nil))
	}
	return h.cat.T(lang, "minutes_info_show", i18n.Data{
		"ID": b.ID, "Title": b.Title, "Chair": val(info.Chair), "Secretary": val(info.Secretary),
		"Counters": val(info.Get(domain.MinutesCounters)), "Place": place, "Opinions": opinions,
	})
}
