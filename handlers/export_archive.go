package handlers

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

// exportFormat names the layout of the JSON archive, so that a reader can
// tell versions apart. docs/EXPORT.md describes it; version 2 added roles,
// the delegates' history, meetings with attendance and ballots.
const exportFormat = "committeebot-export/2"

// archive is the JSON export of a committee (docs/EXPORT.md). Times are
// RFC 3339 in the committee's time zone. The CSV tables are made from it,
// so both say the same and the ballots' disclosure rule is applied once.
type archive struct {
	Format          string                `json:"format"`
	ExportedAt      string                `json:"exported_at"`
	ExportedBy      archivePerson         `json:"exported_by"`
	Committee       archiveCommittee      `json:"committee"`
	Units           []archiveUnit         `json:"units"`
	Roles           []archiveYearRoles    `json:"roles"`
	RoleHistory     []archiveRoleChange   `json:"role_history"`
	Delegates       []archiveDelegate     `json:"delegates"`
	DelegateHistory []archiveMemberChange `json:"delegate_history"`
	Covenant        *archiveCovenant      `json:"covenant,omitempty"`
	Awards          []archiveAward        `json:"awards"`
	Meetings        []archiveMeeting      `json:"meetings"`
	Nominations     []archiveNomination   `json:"nominations"`
	Ballots         []archiveBallot       `json:"ballots"`
}

type archivePerson struct {
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
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

// archiveYearRoles are the head and deputy units of one emulation year.
type archiveYearRoles struct {
	Year   int    `json:"year"`
	Head   string `json:"head,omitempty"`
	Deputy string `json:"deputy,omitempty"`
}

type archiveRoleChange struct {
	Year     int    `json:"year"`
	Role     string `json:"role"`
	Unit     string `json:"unit"`     // "" when the role was cleared
	Previous string `json:"previous"` // "" if nobody held it
	By       int64  `json:"by"`       // 0: the bot (a removed unit's roles)
	At       string `json:"at"`
}

type archiveDelegate struct {
	UserID   int64  `json:"user_id"`
	Unit     string `json:"unit"`
	Name     string `json:"name"`
	Username string `json:"username,omitempty"`
	Joined   string `json:"joined"`
}

type archiveMemberChange struct {
	Event  string `json:"event"`
	UserID int64  `json:"user_id"`
	Name   string `json:"name,omitempty"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	By     int64  `json:"by,omitempty"`
	At     string `json:"at"`
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

type archiveMeeting struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Location string   `json:"location"`
	Agenda   []string `json:"agenda"`
	Start    string   `json:"start"`
	// DurationMinutes is how long it lasts, 0 (left out) for a meeting
	// stored before durations were kept.
	DurationMinutes int    `json:"duration_minutes,omitempty"`
	Status          string `json:"status"`
	CancelledAt     string `json:"cancelled_at,omitempty"`
	Sequence        int    `json:"sequence"`
	Created         string `json:"created"`
	By              int64  `json:"by"`
	Updated         string `json:"updated"`
	// Attending and Declined count people; UnitsAttending are the units
	// with someone attending, in the order of the committee's units.
	Attending      int             `json:"attending"`
	Declined       int             `json:"declined"`
	UnitsAttending []string        `json:"units_attending"`
	Answers        []archiveAnswer `json:"answers"`
}

type archiveAnswer struct {
	UserID   int64  `json:"user_id"`
	Unit     string `json:"unit"`
	Name     string `json:"name"`
	Username string `json:"username,omitempty"`
	Answer   string `json:"answer"` // attend or decline
	At       string `json:"at"`
}

// Answers to a meeting, as the archive spells them.
const (
	answerAttend  = "attend"
	answerDecline = "decline"
)

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
	// Override: an approval or rejection recorded by a person, not by a
	// ballot's result; Note is the reason.
	Override bool `json:"override,omitempty"`
}

// archiveBallot is a ballot with what may be published of its votes: for
// a secret ballot never who voted what, and its counts only when
// domain.Ballot.Disclosed allows them.
type archiveBallot struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	Title      string            `json:"title"`
	Role       string            `json:"role,omitempty"`
	Year       int               `json:"year,omitempty"`
	Award      string            `json:"award,omitempty"`
	Round      int               `json:"round"`
	Parent     string            `json:"parent,omitempty"`
	Secret     bool              `json:"secret"`
	Electorate string            `json:"electorate"`
	Electors   []string          `json:"electors"`
	Quorum     string            `json:"quorum"`
	Status     string            `json:"status"`
	Opened     string            `json:"opened"`
	Deadline   string            `json:"deadline,omitempty"`
	Closed     string            `json:"closed,omitempty"`
	By         int64             `json:"by"`
	Questions  []archiveQuestion `json:"questions"`
	// Turnout is how many electors have voted (so far, while open).
	Turnout int            `json:"turnout"`
	Result  *archiveResult `json:"result,omitempty"`
	// Votes is the roll of an open (not secret) ballot, public in its
	// /ballot card and minutes; never present for a secret ballot.
	Votes []archiveVote `json:"votes,omitempty"`
	// Minutes are the facts of the minutes the secretariat recorded
	// (/minutes_info); absent when none were.
	Minutes *archiveMinutes `json:"minutes,omitempty"`
}

type archiveMinutes struct {
	Chair     string   `json:"chair,omitempty"`
	Secretary string   `json:"secretary,omitempty"`
	Counters  []string `json:"counters,omitempty"`
	Place     string   `json:"place,omitempty"`
	Opinions  string   `json:"opinions,omitempty"`
}

type archiveQuestion struct {
	ID         string          `json:"id"`
	Text       string          `json:"text"`
	Nomination string          `json:"nomination,omitempty"`
	Threshold  string          `json:"threshold"`
	Options    []archiveOption `json:"options"`
}

type archiveOption struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

type archiveResult struct {
	Electorate   int  `json:"electorate"`
	Turnout      int  `json:"turnout"`
	QuorumNeeded int  `json:"quorum_needed"`
	Valid        bool `json:"valid"`
	// Disclosed: the counts and the choices next to receipts are given;
	// false for a secret ballot that is not valid or had fewer than
	// domain.MinDisclosedSecret ballots (turnout and outcome only).
	Disclosed bool                    `json:"disclosed"`
	Questions []archiveQuestionResult `json:"questions"`
	// Receipts are a secret ballot's receipt codes, with their choices
	// when disclosed: no voter is named.
	Receipts []archiveReceipt `json:"receipts,omitempty"`
}

type archiveQuestionResult struct {
	Question string         `json:"question"`
	Needed   int            `json:"needed"`
	Outcome  string         `json:"outcome"`
	Winner   string         `json:"winner,omitempty"`
	Tied     []string       `json:"tied,omitempty"`
	Counts   []archiveCount `json:"counts,omitempty"`
}

type archiveCount struct {
	Option  string  `json:"option"`
	Votes   int     `json:"votes"`
	Percent float64 `json:"percent"` // of the whole electorate
}

type archiveReceipt struct {
	Code   string            `json:"code"`
	Choice map[string]string `json:"choice,omitempty"`
}

type archiveVote struct {
	Voter  string            `json:"voter"`
	UserID int64             `json:"user_id"`
	Name   string            `json:"name"`
	Choice map[string]string `json:"choice"`
	At     string            `json:"at"`
}

// archiveTime formats times for the archive: RFC 3339 in the committee's
// time zone, "" for none.
type archiveTime struct{ loc *time.Location }

func (a archiveTime) of(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(a.loc).Format(time.RFC3339)
}

// buildArchive collects the committee's data for user, labels (ballot
// options) in lang.
func (h *exportHandlers) buildArchive(ctx context.Context, c domain.Committee, user bot.User, lang string) (archive, error) {
	ts := archiveTime{c.Location()}
	a := archive{
		Format: exportFormat, ExportedAt: ts.of(h.now()),
		ExportedBy: archivePerson{UserID: user.ID, Name: user.DisplayName()},
		Committee: archiveCommittee{
			ID: c.ID, Name: c.Name, ChatID: c.ChatID, Timezone: c.Timezone, Year: c.Year,
			Head: c.Head, Deputy: c.Deputy, Created: ts.of(c.Created),
		},
	}
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return a, err
	}
	a.Units = make([]archiveUnit, 0, len(units))
	for _, u := range units {
		a.Units = append(a.Units, archiveUnit{Code: u.Code, Name: u.Name, Added: ts.of(u.Added)})
	}
	if err := h.archiveMembers(ctx, c, ts, &a); err != nil {
		return a, err
	}
	if a.Covenant, err = h.archiveCovenant(ctx, c, ts); err != nil {
		return a, err
	}
	a.Awards = make([]archiveAward, 0, len(h.awards))
	for _, aw := range h.awards {
		a.Awards = append(a.Awards, archiveAward{Code: aw.Code, Kind: string(aw.Kind), Threshold: aw.Threshold.String(), VI: aw.NameVI, EN: aw.NameEN})
	}
	if a.Meetings, err = h.archiveMeetings(ctx, c, ts, units); err != nil {
		return a, err
	}
	if a.Nominations, err = h.archiveNominations(ctx, c, ts); err != nil {
		return a, err
	}
	if a.Ballots, err = h.archiveBallots(ctx, c, ts, lang); err != nil {
		return a, err
	}
	return a, nil
}

// archiveMembers fills the roles per year, the role history, the
// delegates and their history.
func (h *exportHandlers) archiveMembers(ctx context.Context, c domain.Committee, ts archiveTime, a *archive) error {
	roles, err := h.committees.RoleHistory(ctx, c.ID)
	if err != nil {
		return err
	}
	a.Roles, a.RoleHistory = yearRoles(roles), make([]archiveRoleChange, 0, len(roles))
	for _, ch := range roles {
		a.RoleHistory = append(a.RoleHistory, archiveRoleChange{Year: ch.Year, Role: ch.Role, Unit: ch.Unit,
			Previous: ch.Previous, By: ch.By, At: ts.of(ch.At)})
	}
	ds, err := h.committees.Delegates(ctx, c.ID)
	if err != nil {
		return err
	}
	a.Delegates = make([]archiveDelegate, 0, len(ds))
	for _, d := range ds {
		a.Delegates = append(a.Delegates, archiveDelegate{UserID: d.UserID, Unit: d.Unit, Name: d.Name, Username: d.Username, Joined: ts.of(d.Joined)})
	}
	hist, err := h.committees.MemberHistory(ctx, c.ID)
	if err != nil {
		return err
	}
	a.DelegateHistory = make([]archiveMemberChange, 0, len(hist))
	for _, ch := range hist {
		a.DelegateHistory = append(a.DelegateHistory, archiveMemberChange{Event: ch.Event, UserID: ch.UserID, Name: ch.Name,
			From: ch.From, To: ch.To, By: ch.By, At: ts.of(ch.At)})
	}
	return nil
}

// yearRoles replays the role history (every change of a role is in it)
// into the head and deputy of each year, oldest year first.
func yearRoles(hist []domain.RoleChange) []archiveYearRoles {
	byYear := map[int]*archiveYearRoles{}
	for _, ch := range hist {
		y := byYear[ch.Year]
		if y == nil {
			y = &archiveYearRoles{Year: ch.Year}
			byYear[ch.Year] = y
		}
		switch ch.Role {
		case domain.RoleHead:
			y.Head = ch.Unit
		case domain.RoleDeputy:
			y.Deputy = ch.Unit
		}
	}
	out := make([]archiveYearRoles, 0, len(byYear))
	for _, y := range byYear {
		if y.Head != "" || y.Deputy != "" {
			out = append(out, *y)
		}
	}
	slices.SortFunc(out, func(a, b archiveYearRoles) int { return cmp.Compare(a.Year, b.Year) })
	return out
}

// archiveCovenant is the latest covenant, nil if there is none.
func (h *exportHandlers) archiveCovenant(ctx context.Context, c domain.Committee, ts archiveTime) (*archiveCovenant, error) {
	cov, err := h.committees.Covenant(ctx, c.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ac := &archiveCovenant{Year: cov.Year, Title: cov.Title, Opened: ts.of(cov.Opened), Signed: []archiveSignature{}, Pending: cov.Pending}
	for _, s := range cov.Signed {
		ac.Signed = append(ac.Signed, archiveSignature{Unit: s.Unit, UserID: s.UserID, Name: s.Name, At: ts.of(s.At)})
	}
	if ac.Pending == nil {
		ac.Pending = []string{}
	}
	return ac, nil
}

// archiveMeetings lists every meeting, past and upcoming, cancelled ones
// included, with every answer.
func (h *exportHandlers) archiveMeetings(ctx context.Context, c domain.Committee, ts archiveTime, units []domain.Unit) ([]archiveMeeting, error) {
	out := []archiveMeeting{}
	if h.meetings == nil {
		return out, nil
	}
	ms, err := h.meetings.All(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	rank := make(map[string]int, len(units))
	for i, u := range units {
		rank[u.Code] = i
	}
	for _, m := range ms {
		rsvps, err := h.meetings.RSVPs(ctx, c.ID, m.ID)
		if err != nil {
			return nil, err
		}
		am := archiveMeeting{ID: m.ID, Title: m.Title, Location: m.Location, Agenda: m.Agenda, Start: ts.of(m.Start),
			DurationMinutes: int(m.Duration / time.Minute), Status: m.Status, Sequence: m.Sequence, Created: ts.of(m.Created), By: m.By, Updated: ts.of(m.Updated),
			UnitsAttending: []string{}, Answers: make([]archiveAnswer, 0, len(rsvps))}
		if am.Agenda == nil {
			am.Agenda = []string{}
		}
		if m.Cancelled() {
			// A cancelled meeting changes no more: its last update is
			// the cancellation.
			am.CancelledAt = ts.of(m.Updated)
		}
		for _, r := range rsvps {
			answer := answerDecline
			if r.Attend {
				answer = answerAttend
				am.Attending++
				if !slices.Contains(am.UnitsAttending, r.Unit) {
					am.UnitsAttending = append(am.UnitsAttending, r.Unit)
				}
			} else {
				am.Declined++
			}
			am.Answers = append(am.Answers, archiveAnswer{UserID: r.UserID, Unit: r.Unit, Name: r.Name, Username: r.Username,
				Answer: answer, At: ts.of(r.At)})
		}
		slices.SortFunc(am.UnitsAttending, func(a, b string) int {
			ra, okA := rank[a]
			rb, okB := rank[b]
			if !okA {
				ra = len(units)
			}
			if !okB {
				rb = len(units)
			}
			return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a, b))
		})
		out = append(out, am)
	}
	return out, nil
}

// archiveNominations lists the nominations with their history.
func (h *exportHandlers) archiveNominations(ctx context.Context, c domain.Committee, ts archiveTime) ([]archiveNomination, error) {
	ns, err := h.nominations.List(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]archiveNomination, 0, len(ns))
	for _, n := range ns {
		an := archiveNomination{
			ID: n.ID, Year: n.Year, Award: n.Award, Unit: n.Unit, Nominee: n.Nominee, NomineeUnit: n.NomineeUnit,
			Achievements: n.Achievements, Status: string(n.Status), Created: ts.of(n.Created), By: n.By, ByName: n.ByName,
			History: make([]archiveChange, 0, len(n.History)),
		}
		for _, f := range n.Attachments {
			an.Attachments = append(an.Attachments, archiveAttachment{FileID: f.FileID, Name: f.Name})
		}
		for _, ch := range n.History {
			an.History = append(an.History, archiveChange{From: string(ch.From), To: string(ch.To), By: ch.By, ByName: ch.ByName, At: ts.of(ch.At), Note: ch.Note,
				Override: ch.Override})
		}
		out = append(out, an)
	}
	return out, nil
}

// archiveBallots lists every ballot, oldest first: a closed one with its
// stored result (counted now if it was not yet, as /results would), an
// open one with its turnout so far. Who voted what is given for open
// ballots only; a secret ballot's counts only when it is disclosed.
func (h *exportHandlers) archiveBallots(ctx context.Context, c domain.Committee, ts archiveTime, lang string) ([]archiveBallot, error) {
	bs, err := h.ballots.List(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	slices.Reverse(bs) // List is newest first
	out := make([]archiveBallot, 0, len(bs))
	for _, b := range bs {
		ab := archiveBallot{ID: b.ID, Kind: b.Kind, Title: b.Title, Role: b.Role, Year: b.Year, Award: b.Award,
			Round: b.Round, Parent: b.Parent, Secret: b.Secret, Electorate: b.Electorate, Electors: b.Voters,
			Quorum: b.Quorum.String(), Status: b.Status, Opened: ts.of(b.Opened), Deadline: ts.of(b.Deadline),
			Closed: ts.of(b.Closed), By: b.By, Questions: make([]archiveQuestion, 0, len(b.Questions))}
		if ab.Electors == nil {
			ab.Electors = []string{}
		}
		for _, q := range b.Questions {
			aq := archiveQuestion{ID: q.ID, Text: q.Text, Nomination: q.Nomination, Threshold: q.Threshold.String(),
				Options: make([]archiveOption, 0, len(q.Options))}
			for _, o := range q.Options {
				aq.Options = append(aq.Options, archiveOption{Key: o.Key, Label: plain(h.core.optionLabel(lang, o))})
			}
			ab.Questions = append(ab.Questions, aq)
		}
		var votes []domain.OpenVote
		if b.Status == domain.BallotClosed {
			r, err := h.results.result(ctx, b)
			if err != nil {
				return nil, err
			}
			ab.Turnout, ab.Result, votes = r.Turnout, archiveResultOf(b, r), r.Votes
		} else {
			voted, err := h.ballots.Voted(ctx, c.ID, b.ID)
			if err != nil {
				return nil, err
			}
			ab.Turnout = len(voted)
			if !b.Secret {
				if votes, err = h.ballots.OpenVotes(ctx, c.ID, b.ID); err != nil {
					return nil, err
				}
			}
		}
		info, err := h.ballots.MinutesInfo(ctx, c.ID, b.ID)
		if err != nil {
			return nil, err
		}
		if info.Chair != "" || info.Secretary != "" || len(info.Counters) > 0 || info.Place != "" || info.Opinions != "" {
			ab.Minutes = &archiveMinutes{Chair: info.Chair, Secretary: info.Secretary, Counters: info.Counters,
				Place: info.Place, Opinions: info.Opinions}
		}
		if !b.Secret {
			for _, v := range votes {
				ab.Votes = append(ab.Votes, archiveVote{Voter: v.Voter, UserID: v.UserID, Name: v.Name, Choice: v.Choice, At: ts.of(v.At)})
			}
		}
		out = append(out, ab)
	}
	return out, nil
}

// archiveResultOf is what may be published of a closed ballot's result:
// the same as its result post and minutes (Ballot.Disclosed).
func archiveResultOf(b domain.Ballot, r domain.Result) *archiveResult {
	disclosed := b.Disclosed(r)
	ar := &archiveResult{Electorate: r.Electorate, Turnout: r.Turnout, QuorumNeeded: r.QuorumNeed, Valid: r.Valid,
		Disclosed: disclosed, Questions: make([]archiveQuestionResult, 0, len(r.Questions))}
	for _, qr := range r.Questions {
		aq := archiveQuestionResult{Question: qr.Question, Needed: qr.Needed, Outcome: qr.Outcome, Winner: qr.Winner, Tied: qr.Tied}
		if disclosed {
			for _, cnt := range qr.Counts {
				aq.Counts = append(aq.Counts, archiveCount{Option: cnt.Key, Votes: cnt.Votes, Percent: cnt.Percent})
			}
		}
		ar.Questions = append(ar.Questions, aq)
	}
	if b.Secret {
		for _, rc := range r.Receipts {
			ac := archiveReceipt{Code: rc.Code}
			if disclosed {
				ac.Choice = rc.Choice
			}
			ar.Receipts = append(ar.Receipts, ac)
		}
	}
	return ar
}
