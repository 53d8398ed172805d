package handlers

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
)

// Page limits of /nominations. A page's raw HTML stays under pageBudget
// UTF-16 units, which bounds the parsed text Telegram counts (never longer
// than its markup) well within maxMessage.
const (
	pageBudget  = 3800
	pageEntries = 15
)

// nominationShow shows one nomination with its full history:
// /nomination <id>. Admins get buttons for the next statuses.
func (h *nominationHandlers) nominationShow(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	if strings.TrimSpace(r.Args) == "" {
		return h.pickNomination(ctx, r, sc)
	}
	n, found, err := h.loadNomination(ctx, r, sc.committee, r.Args, "nomination_usage")
	if !found || err != nil {
		return err
	}
	text, kb, err := h.nominationCardFor(ctx, r.Lang, sc, n)
	if err != nil {
		return err
	}
	return h.core.reply(ctx, r, text, kb)
}

// nominationCardFor renders the card as viewer sc sees it: admins get a
// button for each next status (withdrawal aside: it has its command).
func (h *nominationHandlers) nominationCardFor(ctx context.Context, lang string, sc scope, n domain.Nomination) (string, *tgbotapi.InlineKeyboardMarkup, error) {
	units, err := h.committees.Units(ctx, sc.committee.ID)
	if err != nil {
		return "", nil, err
	}
	text := h.nominationCard(lang, sc.committee, n, units, sc)
	if !sc.admin {
		return text, nil, nil
	}
	var row []tgbotapi.InlineKeyboardButton
	for _, to := range domain.Moves(n.Status) {
		// Approval and rejection come from a ballot (or an override typed
		// with its reason), never from a button.
		if to == domain.StatusWithdrawn || domain.DecidedByBallot(n.Status, to) {
			continue
		}
		data := routeNomMove.data(sc.committee.ID, strconv.FormatInt(n.ID, 10), string(n.Status), string(to))
		row = append(row, tgbotapi.NewInlineKeyboardButtonData("→ "+h.core.statusLabel(lang, to), data))
	}
	if len(row) == 0 {
		return text, nil, nil
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(row)
	return text, &kb, nil
}

// nominationCard renders a nomination: what, for whom, by which unit, the
// achievements, the dossier, the full history, and what the viewer may do
// next.
func (h *nominationHandlers) nominationCard(lang string, c domain.Committee, n domain.Nomination, units []domain.Unit, viewer scope) string {
	var b strings.Builder
	b.WriteString(h.cat.T(lang, "nomination_card_title", i18n.Data{"ID": n.ID, "Status": i18n.Raw(h.core.statusLabel(lang, n.Status))}))
	b.WriteString("\n")
	b.WriteString(h.nominationBody(lang, n, units, len(units)))
	b.WriteString("\n\n" + h.cat.T(lang, "nomination_history_title", nil))
	for _, ch := range n.History {
		b.WriteString("\n" + h.changeLine(lang, c, ch))
	}
	moves := domain.Moves(n.Status)
	switch {
	case viewer.admin && len(moves) > 0:
		labels := make([]string, len(moves))
		for i, m := range moves {
			labels[i] = h.cat.T(lang, "nomination_move_option", i18n.Data{"Code": string(m), "Label": i18n.Raw(h.core.statusLabel(lang, m))})
		}
		if n.Status == domain.StatusVoting {
			b.WriteString("\n\n" + h.cat.T(lang, "nomination_next_voting", i18n.Data{"ID": n.ID, "Award": n.Award, "Min": domain.MinOverrideReason}))
			break
		}
		b.WriteString("\n\n" + h.cat.T(lang, "nomination_next_admin", i18n.Data{"ID": n.ID, "Moves": i18n.Raw(strings.Join(labels, ", "))}))
	case viewer.delegate != nil && viewer.delegate.Unit == n.Unit && domain.CanMove(n.Status, domain.StatusWithdrawn):
		b.WriteString("\n\n" + h.cat.T(lang, "nomination_next_delegate", i18n.Data{"ID": n.ID}))
	}
	return b.String()
}

// nominationBody is the part of the card shared with the review before
// submitting: award, nominee, unit and year, threshold, achievements,
// documents.
func (h *nominationHandlers) nominationBody(lang string, n domain.Nomination, units []domain.Unit, electorate int) string {
	names := make(map[string]string, len(units))
	for _, u := range units {
		names[u.Code] = u.Name
	}
	award, known := domain.FindAward(h.awards, n.Award)
	var b strings.Builder
	b.WriteString(h.cat.T(lang, "nomination_award_line", i18n.Data{"Code": n.Award, "Name": awardName(h.awards, n.Award, lang)}))
	b.WriteString("\n")
	if n.NomineeUnit != "" {
		b.WriteString(h.cat.T(lang, "nomination_nominee_unit", i18n.Data{"Code": n.NomineeUnit, "Name": names[n.NomineeUnit]}))
	} else {
		b.WriteString(h.cat.T(lang, "nomination_nominee_line", i18n.Data{"Nominee": n.Nominee}))
	}
	b.WriteString("\n")
	b.WriteString(h.cat.T(lang, "nomination_unit_line", i18n.Data{"Code": n.Unit, "Name": names[n.Unit], "Year": n.Year}))
	if known {
		b.WriteString("\n" + h.cat.T(lang, "nomination_threshold_line", i18n.Data{"Threshold": i18n.Raw(h.thresholdText(lang, award.Threshold, electorate))}))
	}
	if n.Achievements != "" {
		b.WriteString("\n" + h.cat.T(lang, "nomination_achievements", i18n.Data{"Text": n.Achievements}))
	}
	if len(n.Attachments) > 0 {
		files := make([]string, len(n.Attachments))
		for i, a := range n.Attachments {
			files[i] = truncate(a.Name, 60)
		}
		b.WriteString("\n" + h.cat.N(lang, "nomination_files", len(files), i18n.Data{"Names": strings.Join(files, ", ")}))
	}
	return b.String()
}

// changeLine renders one history entry.
func (h *nominationHandlers) changeLine(lang string, c domain.Committee, ch domain.Change) string {
	by := ch.ByName
	if ch.By == 0 && by == "" {
		by = h.cat.T(lang, "nomination_by_bot", nil)
	}
	data := i18n.Data{
		"At": ch.At.In(c.Location()).Format("02/01/2006 15:04"), "By": by, "Note": ch.Note,
		"From": i18n.Raw(h.core.statusLabel(lang, ch.From)), "To": i18n.Raw(h.core.statusLabel(lang, ch.To)),
	}
	if ch.From == "" {
		return h.cat.T(lang, "nomination_history_created", data)
	}
	if ch.Override {
		return h.cat.T(lang, "nomination_history_override", data)
	}
	return h.cat.T(lang, "nomination_history_change", data)
}

// nominationFilter is what /nominations shows: everything, one status, one
// award, or one unit (nominating or nominated).
type nominationFilter struct {
	status domain.Status
	award  string
	unit   string
}

func (f nominationFilter) String() string {
	switch {
	case f.status != "":
		return string(f.status)
	case f.award != "":
		return f.award
	case f.unit != "":
		return f.unit
	}
	return "*"
}

func (f nominationFilter) keep(n domain.Nomination) bool {
	switch {
	case f.status != "":
		return n.Status == f.status
	case f.award != "":
		return n.Award == f.award
	case f.unit != "":
		return n.Unit == f.unit || n.NomineeUnit == f.unit
	}
	return true
}

// parseFilter reads the argument of /nominations: a status, an award code
// or a unit code; ok is false for anything else.
func (h *nominationHandlers) parseFilter(ctx context.Context, c domain.Committee, arg string) (nominationFilter, bool, error) {
	arg = strings.TrimSpace(arg)
	if arg == "" || arg == "*" {
		return nominationFilter{}, true, nil
	}
	if st, ok := domain.ParseStatus(arg); ok {
		return nominationFilter{status: st}, true, nil
	}
	if a, ok := domain.FindAward(h.awards, arg); ok {
		return nominationFilter{award: a.Code}, true, nil
	}
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return nominationFilter{}, false, err
	}
	for _, u := range units {
		if strings.EqualFold(u.Code, arg) {
			return nominationFilter{unit: u.Code}, true, nil
		}
	}
	return nominationFilter{}, false, nil
}

// nominationsList lists the committee's nominations grouped by status,
// with counts: /nominations [status|AWARD|UNIT]. Long lists are paged with
// ◀ ▶ buttons that edit the message in place.
func (h *nominationHandlers) nominationsList(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	f, ok, err := h.parseFilter(ctx, sc.committee, r.Args)
	if err != nil {
		return err
	}
	if !ok {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "nominations_bad_filter", i18n.Data{"Arg": truncate(strings.TrimSpace(r.Args), 30)}), nil)
	}
	text, kb, err := h.nominationsPageText(ctx, r.Lang, sc.committee, f, 0)
	if err != nil {
		return err
	}
	return h.core.reply(ctx, r, text, kb)
}

// nominationsPage turns the page: nl:<committee>:<page>:<filter>. The
// presser must be able to see the committee's nominations.
func (h *nominationHandlers) nominationsPage(ctx context.Context, r *bot.Request) error {
	p, ok := h.core.buttonParts(r, routeNomPage)
	if !ok {
		return nil
	}
	sc, ok, err := h.core.viewerScope(ctx, r, p[0])
	if !ok || err != nil {
		return err
	}
	page, perr := strconv.Atoi(p[1])
	f, fok, err := h.parseFilter(ctx, sc.committee, p[2])
	if err != nil {
		return err
	}
	if perr != nil || page < 0 || !fok {
		h.core.unknownButton(r)
		return nil
	}
	text, kb, err := h.nominationsPageText(ctx, r.Lang, sc.committee, f, page)
	if err != nil {
		return err
	}
	return h.core.editCallback(ctx, r, text, kb)
}

// nominationsPageText renders page (clamped to the last) of the list and
// its ◀ ▶ buttons.
func (h *nominationHandlers) nominationsPageText(ctx context.Context, lang string, c domain.Committee, f nominationFilter, page int) (string, *tgbotapi.InlineKeyboardMarkup, error) {
	all, err := h.nominations.List(ctx, c.ID)
	if err != nil {
		return "", nil, err
	}
	var ns []domain.Nomination
	for _, n := range all {
		if f.keep(n) {
			ns = append(ns, n)
		}
	}
	if len(ns) == 0 {
		if f == (nominationFilter{}) {
			return h.cat.T(lang, "nominations_none", nil), nil, nil
		}
		return h.cat.T(lang, "nominations_none_filtered", i18n.Data{"Filter": f.String()}), nil, nil
	}
	title := h.cat.N(lang, "nominations_title", len(ns), i18n.Data{"Name": c.Name})
	if f != (nominationFilter{}) {
		title += "\n" + h.cat.T(lang, "nominations_filter", i18n.Data{"Filter": f.String()})
	}
	pages := h.paginate(lang, c, ns, pageBudget-utf16Len(title)-100)
	page = min(page, len(pages)-1)
	text := title
	if len(pages) > 1 {
		text += "\n" + h.cat.T(lang, "nominations_page", i18n.Data{"Page": page + 1, "Pages": len(pages)})
	}
	text += pages[page]
	if page == 0 && f == (nominationFilter{}) {
		text += "\n\n" + h.cat.T(lang, "nominations_hint", nil)
	}
	if len(pages) == 1 {
		return text, nil, nil
	}
	var row []tgbotapi.InlineKeyboardButton
	if page > 0 {
		row = append(row, tgbotapi.NewInlineKeyboardButtonData("◀ "+strconv.Itoa(page), routeNomPage.data(c.ID, strconv.Itoa(page-1), f.String())))
	}
	if page < len(pages)-1 {
		row = append(row, tgbotapi.NewInlineKeyboardButtonData(strconv.Itoa(page+2)+" ▶", routeNomPage.data(c.ID, strconv.Itoa(page+1), f.String())))
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(row)
	return text, &kb, nil
}

// paginate groups nominations by status in lifecycle order and cuts the
// groups into pages of at most budget UTF-16 units and pageEntries
// entries; a group cut in two repeats its heading, marked as continued.
func (h *nominationHandlers) paginate(lang string, c domain.Committee, ns []domain.Nomination, budget int) []string {
	byStatus := map[domain.Status][]domain.Nomination{}
	for _, n := range ns {
		byStatus[n.Status] = append(byStatus[n.Status], n)
	}
	var pages []string
	var cur strings.Builder
	entries := 0
	flush := func() {
		if entries > 0 {
			pages = append(pages, cur.String())
		}
		cur.Reset()
		entries = 0
	}
	for _, st := range domain.Statuses() {
		group := byStatus[st]
		if len(group) == 0 {
			continue
		}
		heading := "\n\n" + h.cat.N(lang, "nominations_group", len(group), i18n.Data{"Status": i18n.Raw(capitalize(h.core.statusLabel(lang, st)))})
		inGroup := false
		for _, n := range group {
			line := "\n" + h.nominationLine(lang, c, n)
			need := utf16Len(line)
			if !inGroup {
				need += utf16Len(heading)
			}
			if entries > 0 && (utf16Len(cur.String())+need > budget || entries == pageEntries) {
				flush()
				inGroup = false
			}
			if !inGroup {
				if cur.Len() == 0 && n.ID != group[0].ID {
					cur.WriteString(heading + " " + h.cat.T(lang, "continued", nil))
				} else {
					cur.WriteString(heading)
				}
				inGroup = true
			}
			cur.WriteString(line)
			entries++
		}
	}
	flush()
	if len(pages) == 0 {
		pages = []string{""}
	}
	return pages
}

// nominationLine is one list entry, starting with the command that opens
// the nomination.
func (h *nominationHandlers) nominationLine(lang string, c domain.Committee, n domain.Nomination) string {
	data := i18n.Data{"ID": n.ID, "Award": n.Award, "Nominee": n.Nominee, "Unit": ""}
	if n.NomineeUnit != n.Unit {
		data["Unit"] = n.Unit
	}
	if n.Year != c.Year {
		data["Year"] = n.Year
	}
	return h.cat.T(lang, "nominations_line", data)
}

// capitalize upper-cases the first letter of s (after a leading emoji).
func capitalize(s string) string {
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsLetter(r) {
			rs[i] = unicode.ToUpper(r)
			return string(rs)
		}
	}
	return s
}

// statusNominations is the /status section: the year's nominations by
// status; nothing when there are none.
func (h *nominationHandlers) statusNominations(ctx context.Context, lang string, c domain.Committee) (string, error) {
	all, err := h.nominations.List(ctx, c.ID)
	if err != nil {
		return "", err
	}
	counts := map[domain.Status]int{}
	total := 0
	for _, n := range all {
		if n.Year == c.Year {
			counts[n.Status]++
			total++
		}
	}
	if total == 0 {
		return "", nil
	}
	var parts []string
	for _, st := range domain.Statuses() {
		if counts[st] > 0 {
			parts = append(parts, h.cat.T(lang, "status_nominations_part", i18n.Data{"Count": counts[st], "Status": i18n.Raw(h.core.statusLabel(lang, st))}))
		}
	}
	return h.cat.N(lang, "status_nominations", total, i18n.Data{"Year": c.Year, "Parts": i18n.Raw(strings.Join(parts, ", "))}), nil
}

// pickNomination answers /withdraw or /nomination sent without a number:
// a delegate's unit's nominations (an admin's: every one), newest first;
// for /withdraw only those that may still be withdrawn (not forwarded,
// not on an open ballot).
func (h *nominationHandlers) pickNomination(ctx context.Context, r *bot.Request, sc scope) error {
	all, err := h.nominations.List(ctx, sc.committee.ID)
	if err != nil {
		return err
	}
	var onBallot map[string]string
	if r.Command == "withdraw" {
		// One on an open ballot is locked until the ballot closes.
		if onBallot, err = h.nominationsInOpenBallots(ctx, sc.committee.ID); err != nil {
			return err
		}
	}
	var choices []choice
	for i := len(all) - 1; i >= 0; i-- {
		n := all[i]
		if !sc.admin && (sc.delegate == nil || sc.delegate.Unit != n.Unit) {
			continue
		}
		if r.Command == "withdraw" && (!domain.CanMove(n.Status, domain.StatusWithdrawn) || onBallot[strconv.FormatInt(n.ID, 10)] != "") {
			continue
		}
		choices = append(choices, choice{
			label: fmt.Sprintf("#%d · %s · %s · %s", n.ID, n.Award, n.Nominee, plain(h.core.statusLabel(r.Lang, n.Status))),
			arg:   strconv.FormatInt(n.ID, 10),
		})
	}
	slices.SortStableFunc(choices, func(a, b choice) int { return numericDesc(a.arg, b.arg) })
	return h.core.pickOrTell(ctx, r, sc.committee, "pick_nomination", choices, "pick_no_nomination", nil)
}

// pickAward answers /ballot_nominations sent without an award: the awards
// with nominations under review, or left in voting by a ballot that
// decided nothing, and how many.
func (h *nominationHandlers) pickAward(ctx context.Context, r *bot.Request, sc scope) error {
	all, err := h.nominations.List(ctx, sc.committee.ID)
	if err != nil {
		return err
	}
	inBallot, err := h.nominationsInOpenBallots(ctx, sc.committee.ID)
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, n := range all {
		if awaitsBallot(n, inBallot) {
			count[n.Award]++
		}
	}
	var choices []choice
	for _, a := range h.awards {
		if count[a.Code] > 0 {
			choices = append(choices, choice{label: fmt.Sprintf("%s · %s (%d)", a.Code, a.Name(r.Lang), count[a.Code]), arg: a.Code})
		}
	}
	return h.core.pickOrTell(ctx, r, sc.committee, "pick_award", choices, "pick_no_award", nil)
}
