package handlers

import (
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
)

// The catalogue's names of the domain's codes, each id spelled out in full
// (an id built by concatenation would escape the catalogue test, which
// checks every id of these tables). A code that has no name shows as
// itself.
var (
	roleIDs = map[string]string{
		domain.RoleHead:   "role_head",
		domain.RoleDeputy: "role_deputy",
	}
	ballotKindIDs = map[string]string{
		domain.KindElection:    "ballot_kind_election",
		domain.KindMotion:      "ballot_kind_motion",
		domain.KindNominations: "ballot_kind_nominations",
	}
	// statusIDs name a nomination's status with its emoji, e.g. "🔎 under review".
	statusIDs = map[domain.Status]string{
		domain.StatusSubmitted:   "nom_status_submitted",
		domain.StatusUnderReview: "nom_status_under_review",
		domain.StatusVoting:      "nom_status_voting",
		domain.StatusApproved:    "nom_status_approved",
		domain.StatusRejected:    "nom_status_rejected",
		domain.StatusForwarded:   "nom_status_forwarded",
		domain.StatusAwarded:     "nom_status_awarded",
		domain.StatusDeclined:    "nom_status_declined",
		domain.StatusWithdrawn:   "nom_status_withdrawn",
	}
	// optionIDs name the options every ballot of a kind has.
	optionIDs = map[string]string{
		domain.OptApprove: "opt_approve",
		domain.OptReject:  "opt_reject",
		domain.OptAbstain: "opt_abstain",
		domain.OptYes:     "opt_yes",
		domain.OptNo:      "opt_no",
	}
	awardKindIDs = map[domain.AwardKind]string{
		domain.Collective: "award_kind_collective",
		domain.Individual: "award_kind_individual",
	}
	// noticeIDs are the meeting notices, by what changed.
	noticeIDs = map[string]string{
		noticeCancelled: "notice_cancelled",
		noticeMoved:     "notice_moved",
		noticeRelocated: "notice_relocated",
	}
	// fieldIDs name the fields editField returns.
	fieldIDs = map[string]string{
		"title":    "meeting_field_title",
		"location": "meeting_field_location",
		"agenda":   "meeting_field_agenda",
		"time":     "meeting_field_time",
		"duration": "meeting_field_duration",
	}
)

// nameOf is the name of code in lang from one of the tables above.
func nameOf[K ~string](cat *i18n.Catalog, lang string, ids map[K]string, code K) string {
	if id, ok := ids[code]; ok {
		return cat.T(lang, id, nil)
	}
	return string(code)
}

func (h *core) roleName(lang, role string) string { return nameOf(h.cat, lang, roleIDs, role) }

func (h *core) ballotKindName(lang, kind string) string {
	return nameOf(h.cat, lang, ballotKindIDs, kind)
}

func (h *core) statusLabel(lang string, s domain.Status) string {
	return nameOf(h.cat, lang, statusIDs, s)
}

func (h *core) awardKindName(lang string, k domain.AwardKind) string {
	return nameOf(h.cat, lang, awardKindIDs, k)
}

// standardOption names an option every ballot of a kind has (yes, no,
// approve…); ok is false for a candidate or another option of the ballot.
func (h *core) standardOption(lang, key string) (string, bool) {
	id, ok := optionIDs[key]
	if !ok {
		return "", false
	}
	return h.cat.T(lang, id, nil), true
}

// optionLabel is what voters see for an option.
func (h *core) optionLabel(lang string, o domain.Option) string {
	if name, ok := h.standardOption(lang, o.Key); ok {
		return name
	}
	if o.Label != "" {
		return o.Label
	}
	return o.Key
}
