package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/storage"
)

// BallotStore keeps ballots and their votes; see storage.Ballots for the
// errors of each method.
type BallotStore interface {
	Open(ctx context.Context, b domain.Ballot) (domain.Ballot, error)
	Get(ctx context.Context, committeeID, ballotID string) (domain.Ballot, error)
	// GetWithPost is Get with the ballot's group post, in the same read.
	GetWithPost(ctx context.Context, committeeID, ballotID string) (domain.Ballot, storage.Post, error)
	List(ctx context.Context, committeeID string) ([]domain.Ballot, error)
	SetPost(ctx context.Context, committeeID, ballotID string, chatID int64, messageID int) error
	// CastSecret and CastOpen cast a submission (see storage.Submission);
	// errors: domain.ErrBallotClosed, ErrDeadlinePassed, ErrNotEligible,
	// ErrAlreadyVoted.
	CastSecret(ctx context.Context, b domain.Ballot, v storage.Submission) (receipt string, res storage.CastResult, err error)
	CastOpen(ctx context.Context, b domain.Ballot, v storage.Submission) (storage.CastResult, error)
	Voted(ctx context.Context, committeeID, ballotID string) ([]string, error)
	Close(ctx context.Context, committeeID, ballotID string) (bool, error)
	// OpenBox unseals a secret ballot's box: the choices, and the receipts
	// with their choices sorted by code.
	OpenBox(ctx context.Context, b domain.Ballot) ([]domain.Choice, []domain.Receipt, error)
	OpenVotes(ctx context.Context, committeeID, ballotID string) ([]domain.OpenVote, error)
	// OpenVoteOf is one elector's open vote; storage.ErrNotFound if none.
	OpenVoteOf(ctx context.Context, committeeID, ballotID, voter string) (domain.OpenVote, error)
	SaveResult(ctx context.Context, committeeID, ballotID string, r domain.Result) (domain.Result, error)
	Result(ctx context.Context, committeeID, ballotID string) (domain.Result, error)
	TakeEditSlot(ctx context.Context, committeeID, ballotID string, interval time.Duration) (bool, time.Time, error)
	// ForVoting is the ballot for a vote, without a read when the store
	// holds its document (a document does not change once open; the cast
	// checks it); its status may be old, and its post is the cast's
	// (CastResult). ErrNotFound if none.
	ForVoting(ctx context.Context, committeeID, ballotID string) (domain.Ballot, error)
	// GetForVoter reads the committee, the user's delegation and the
	// ballot in one round trip; ErrNotFound if either is missing.
	GetForVoter(ctx context.Context, committeeID, ballotID string, userID int64) (storage.VoterView, error)
	// MinutesInfo and SetMinutesInfo read and write what the secretariat
	// records for a ballot's minutes (chair, secretary, counters…).
	MinutesInfo(ctx context.Context, committeeID, ballotID string) (domain.MinutesInfo, error)
	SetMinutesInfo(ctx context.Context, committeeID, ballotID string, info domain.MinutesInfo, fields []domain.MinutesField) error
}

var _ BallotStore = (*storage.Ballots)(nil)

// votingHandlers are the ballots up to their close: opening one (/elect,
// /motion, /ballot_nominations), its group post and the refreshes of it,
// the personal ballot and the vote (its fast path, voteSubmit), and the
// lists (/ballots, /ballot, the /status section).
type votingHandlers struct {
	core *core
	// results closes a ballot its last vote completes.
	results *resultHandlers
	// nominationRoom says which nominations a nominations ballot takes.
	nominationRoom *nominationHandlers
	cat            *i18n.Catalog
	committees     CommitteeStore
	current        CurrentCommittees
	ballots        BallotStore
	nominations    NominationStore
	awards         []domain.Award
	jobs           JobScheduler
	// ballotOffsets are when, before a ballot's deadline, non-voters are
	// reminded; maxDeadline is the furthest a deadline may lie ahead.
	ballotOffsets []time.Duration
	maxDeadline   time.Duration
	admins        map[int64]bool
	log           *slog.Logger
	now           func() time.Time
	send          Sender
}

// elect opens an election: /elect head|deputy|<title> [CODE,CODE…] [options].
func (h *votingHandlers) elect(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	rest, opts := splitOptions(r.Args)
	o, err := h.ballotOptions(opts, sc.committee)
	if err != nil {
		return h.replyOptionError(ctx, r, err)
	}
	if rest == "" {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "elect_usage", nil), nil)
	}
	units, err := h.committees.Units(ctx, sc.committee.ID)
	if err != nil {
		return err
	}
	what, list := rest, ""
	if i := strings.LastIndex(rest, " "); i > 0 && looksLikeCodes(rest[i+1:]) {
		what, list = rest[:i], rest[i+1:]
	} else if looksLikeCodes(rest) && strings.Contains(rest, ",") {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "elect_usage", nil), nil)
	}
	candidates := units
	if list != "" {
		candidates = nil
		for _, code := range strings.Split(list, ",") {
			code = strings.TrimSpace(code)
			u, ok := findUnit(units, code)
			if !ok {
				return h.core.reply(ctx, r, h.cat.T(r.Lang, "unit_unknown", i18n.Data{"Code": truncate(code, 40)}), nil)
			}
			candidates = append(candidates, u)
		}
	}
	if len(candidates) < 2 {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "elect_two_candidates", nil), nil)
	}
	if len(candidates) > maxOptions {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "elect_too_many", i18n.Data{"Max": maxOptions}), nil)
	}
	year := o.year
	if year == 0 {
		year = sc.committee.Year + 1
	}
	b := domain.Ballot{Kind: domain.KindElection, Year: year}
	switch strings.ToLower(what) {
	case domain.RoleHead, domain.RoleDeputy:
		b.Role = strings.ToLower(what)
		titleID := "elect_title_head"
		if b.Role == domain.RoleDeputy {
			titleID = "elect_title_deputy"
		}
		b.Title = h.cat.T(h.cat.Default(), titleID, i18n.Data{"Year": year})
	default:
		if domain.ValidName(what) != nil {
			return h.core.reply(ctx, r, h.cat.T(r.Lang, "bad_name", i18n.Data{"Max": domain.MaxNameLen}), nil)
		}
		b.Title = strings.TrimSpace(what)
	}
	q := domain.Question{ID: "1", Text: b.Title}
	for _, u := range candidates {
		q.Options = append(q.Options, domain.Option{Key: u.Code, Label: u.Code + " — " + u.Name})
	}
	if o.threshold != nil {
		q.Threshold = *o.threshold
	} else {
		q.Threshold = domain.Majority()
	}
	b.Questions = []domain.Question{q}
	return h.openBallot(ctx, r, b, o, true)
}

func looksLikeCodes(s string) bool {
	for _, c := range strings.Split(s, ",") {
		if domain.ValidUnitCode(strings.TrimSpace(c)) != nil {
			return false
		}
	}
	return s != ""
}

func findUnit(units []domain.Unit, code string) (domain.Unit, bool) {
	for _, u := range units {
		if u.Code == code {
			return u, true
		}
	}
	return domain.Unit{}, false
}

// motion opens a yes / no / abstain vote: /motion <question> [options].
func (h *votingHandlers) motion(ctx context.Context, r *bot.Request) error {
	sc := scopeOf(r)
	rest, opts := splitOptions(r.Args)
	o, err := h.ballotOptions(opts, sc.committee)
	if err != nil {
		return h.replyOptionError(ctx, r, err)
	}
	if n := len([]rune(rest)); n == 0 || n > 500 {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "motion_usage", nil), nil)
	}
	q := domain.Question{ID: "1", Text: rest, Threshold: domain.Majority(), Options: []domain.Option{
		{Key: domain.OptYes}, {Key: domain.OptNo}, {Key: domain.OptAbstain},
	}}
	if o.threshold != nil {
		q.Threshold = *o.threshold
	}
	b := domain.Ballot{Kind: domain.KindMotion, Title: rest, Year: sc.committee.Year, Questions: []domain.Question{q}}
	return h.openBallot(ctx, r, b, o, false)
}

func (h *votingHandlers) replyOptionError(ctx context.Context, r *bot.Request, err error) error {
	var oe *optionError
	if !errors.As(err, &oe) {
		return err
	}
	if errors.Is(oe.err, errDeadlineFar) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "ballot_deadline_far", i18n.Data{"Option": truncate(oe.key+"="+oe.value, 60), "Days": int(h.maxDeadline.Hours() / 24)}), nil)
	}
	return h.core.reply(ctx, r, h.cat.T(r.Lang, "ballot_bad_option", i18n.Data{"Option": truncate(oe.key+"="+oe.value, 60)}), nil)
}

// openBallot fixes the electorate, stores the ballot, schedules its
// deadline and posts it in the group.
func (h *votingHandlers) openBallot(ctx context.Context, r *bot.Request, b domain.Ballot, o ballotOptions, secretByDefault bool) error {
	sc := scopeOf(r)
	user, _ := r.Sender()
	b.Committee, b.By = sc.committee.ID, user.ID
	b.Secret = secretByDefault
	if o.secret != nil {
		b.Secret = *o.secret
	}
	b.Electorate = domain.ElectorateUnits
	if o.electorate != "" {
		b.Electorate = o.electorate
	}
	b.Quorum = domain.TwoThirds()
	if o.quorum != nil {
		b.Quorum = *o.quorum
	}
	b.Deadline = o.deadline
	voters, err := h.electorate(ctx, sc.committee.ID, b.Electorate)
	if err != nil {
		return err
	}
	if len(voters) == 0 {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "ballot_no_electorate", nil), nil)
	}
	b.Voters = voters
	b, err = h.ballots.Open(ctx, b)
	if errors.Is(err, domain.ErrRunoffExists) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "runoff_exists", i18n.Data{"ID": b.Parent, "Runoff": b.ID}), nil)
	}
	if err != nil {
		return err
	}
	if err := h.scheduleBallot(ctx, b); err != nil {
		return err
	}
	if err := h.postBallot(ctx, sc.committee, b); err != nil {
		return err
	}
	if !inBlocTopic(r, sc.committee) {
		return h.core.reply(ctx, r, h.cat.T(r.Lang, "ballot_opened", i18n.Data{"ID": b.ID, "Title": b.Title}), nil)
	}
	return nil
}

// electorate lists the electors of a new ballot: every unit, or every
// delegate.
func (h *votingHandlers) electorate(ctx context.Context, committeeID, kind string) ([]string, error) {
	if kind == domain.ElectorateMembers {
		ds, err := h.committees.Delegates(ctx, committeeID)
		if err != nil {
			return nil, err
		}
		out := make([]string, 0, len(ds))
		for _, d := range ds {
			out = append(out, fmt.Sprint(d.UserID))
		}
		return out, nil
	}
	units, err := h.committees.Units(ctx, committeeID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(units))
	for _, u := range units {
		out = append(out, u.Code)
	}
	return out, nil
}

// scheduleBallot arranges the automatic close at the deadline and the
// reminders before it; a ballot without a deadline closes by /close or
// when everyone voted.
func (h *votingHandlers) scheduleBallot(ctx context.Context, b domain.Ballot) error {
	if b.Deadline.IsZero() {
		return nil
	}
	return h.scheduleBallotJobs(ctx, b)
}

// ballotLink is the deep link that opens a ballot in a private chat.
func (h *votingHandlers) ballotLink(b domain.Ballot) string {
	return h.core.deepLink("vote_" + b.Committee + "_" + b.ID)
}

// postBallot announces the ballot in the committee's group with the
// turnout and a Vote button, and remembers the message to keep it current.
func (h *votingHandlers) postBallot(ctx context.Context, c domain.Committee, b domain.Ballot) error {
	if c.ChatID == 0 {
		return nil
	}
	lang := h.core.chatLang(ctx, c.ChatID)
	text, kb := h.ballotPost(lang, c, b, 0)
	msg := tgbotapi.NewMessage(c.ChatID, text)
	msg.ParseMode = tgbotapi.ModeHTML
	msg.DisableWebPagePreview = true
	if kb != nil {
		msg.ReplyMarkup = *kb
	}
	if err := h.send.Send(ctx, msg, outbox.Remember(ballotPostRef(c.ID, b.ID)), inTopic(c)); err != nil {
		return err
	}
	return h.ballots.SetPost(ctx, c.ID, b.ID, c.ChatID, 0)
}

// ballotPostRef names a ballot's group post in the outbox, which records
// its message id once Telegram has it.
func ballotPostRef(committeeID, ballotID string) string {
	return "bpost:" + committeeID + ":" + ballotID
}

// editBallotPost queues an edit of a ballot's group post.
func (h *votingHandlers) editBallotPost(ctx context.Context, b domain.Ballot, post storage.Post, edit tgbotapi.EditMessageTextConfig) error {
	if post.Message != 0 {
		return h.send.Send(ctx, edit)
	}
	return h.send.Send(ctx, edit, outbox.EditOf(ballotPostRef(b.Committee, b.ID)))
}

// ballotPost renders the group post: what is asked, how, until when, and
// the turnout — never a running count of choices.
func (h *votingHandlers) ballotPost(lang string, c domain.Committee, b domain.Ballot, voted int) (string, *tgbotapi.InlineKeyboardMarkup) {
	var s strings.Builder
	s.WriteString(h.cat.T(lang, "ballot_post_title", i18n.Data{"Title": b.Title, "ID": b.ID}))
	s.WriteString("\n" + h.ballotManner(lang, b))
	if b.Kind != domain.KindMotion {
		for i, q := range b.Questions {
			if b.Kind == domain.KindElection {
				for _, o := range q.Options {
					s.WriteString("\n   • " + escape(o.Label))
				}
				continue
			}
			s.WriteString(fmt.Sprintf("\n%d. %s", i+1, escape(q.Text)))
		}
	}
	// The pass mark before anyone votes (the quorum is in the manner
	// line): against the whole electorate, as the rules count.
	if n := len(b.Voters); len(b.Questions) > 0 {
		s.WriteString("\n" + h.cat.T(lang, "ballot_marks", i18n.Data{"Need": b.Questions[0].Threshold.Needed(n), "Total": n}))
	}
	if b.Deadline.IsZero() {
		s.WriteString("\n" + h.cat.T(lang, "ballot_no_deadline", i18n.Data{"ID": b.ID}))
	} else {
		s.WriteString("\n" + h.cat.T(lang, "ballot_deadline", i18n.Data{"At": b.Deadline.In(c.Location()).Format("15:04 02/01/2006")}))
	}
	if b.Status == domain.BallotClosed {
		s.WriteString("\n" + h.cat.T(lang, "ballot_post_closed", i18n.Data{"ID": b.ID, "Voted": voted, "Total": len(b.Voters)}))
		return s.String(), nil
	}
	s.WriteString("\n" + h.turnoutLine(lang, b, voted))
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonURL(h.cat.T(lang, "btn_vote", nil), h.ballotLink(b)),
	))
	return s.String(), &kb
}

func (h *votingHandlers) turnoutLine(lang string, b domain.Ballot, voted int) string {
	id := "ballot_turnout_units"
	if b.Electorate == domain.ElectorateMembers {
		id = "ballot_turnout_members"
	}
	return h.cat.T(lang, id, i18n.Data{"Voted": voted, "Total": len(b.Voters)})
}

// ballotManner says the kind, secrecy, electorate, quorum and threshold.
func (h *votingHandlers) ballotManner(lang string, b domain.Ballot) string {
	secrecy := "ballot_open_vote"
	if b.Secret {
		secrecy = "ballot_secret_vote"
	}
	elect := "ballot_per_unit"
	if b.Electorate == domain.ElectorateMembers {
		elect = "ballot_per_member"
	}
	return h.cat.T(lang, "ballot_manner", i18n.Data{
		"Kind":    i18n.Raw(h.core.ballotKindName(lang, b.Kind)),
		"Secrecy": i18n.Raw(h.cat.T(lang, secrecy, nil)),
		"Per":     i18n.Raw(h.cat.T(lang, elect, nil)),
		"Quorum":  b.Quorum.Needed(len(b.Voters)),
		"Total":   len(b.Voters),
	})
}

// postEvery is the least time between two edits of a ballot's group post.
const postEvery = 3 * time.Second

// scheduleRefresh plans the trailing edit of a ballot's post for when its
// edit slot frees.
func (h *votingHandlers) scheduleRefresh(ctx context.Context, committeeID, ballotID string, until time.Time) error {
	if h.jobs == nil {
		return nil
	}
	p, err := json.Marshal(ballotPayload{Committee: committeeID, Ballot: ballotID})
	if err != nil {
		return err
	}
	return h.jobs.Schedule(ctx, storage.Job{
		ID: fmt.Sprintf("bref.%s.%s", committeeID, ballotID), Kind: JobBallotRefresh, Payload: p, DueAt: until,
	})
}

// afterVote keeps the group post current after a vote whose cast took
// the post's edit slot (storage.Cast.PostEvery): it edits the post now
// with the turnout the cast returned, or schedules the one trailing edit
// of the slot, or does nothing when that is planned already. c is the
// committee when the caller has it; else it is read, only to edit now.
func (h *votingHandlers) afterVote(ctx context.Context, c *domain.Committee, b domain.Ballot, res storage.CastResult) error {
	switch {
	case !res.Post.Asked:
		return nil
	case res.Post.Free:
		if c == nil {
			got, err := h.committees.Get(ctx, b.Committee)
			if err != nil {
				return err
			}
			c = &got
		}
		return h.editPostWith(ctx, *c, b, res.GroupPost(), res.Voted)
	case res.Post.Plan:
		return h.scheduleRefresh(ctx, b.Committee, b.ID, res.Post.Until)
	}
	return nil
}

// editPost renders the group post anew and edits it in place; "not
// modified" is success.
func (h *votingHandlers) editPost(ctx context.Context, committeeID, ballotID string) error {
	b, post, err := h.ballots.GetWithPost(ctx, committeeID, ballotID)
	if err != nil || !post.Posted() || b.Status != domain.BallotOpen {
		return err
	}
	c, err := h.committees.Get(ctx, committeeID)
	if err != nil {
		return err
	}
	voted, err := h.ballots.Voted(ctx, committeeID, ballotID)
	if err != nil {
		return err
	}
	return h.editPostWith(ctx, c, b, post, len(voted))
}

// editPostWith edits post, the group post of b, to show voted electors.
func (h *votingHandlers) editPostWith(ctx context.Context, c domain.Committee, b domain.Ballot, post storage.Post, voted int) error {
	lang := h.core.chatLang(ctx, post.Chat)
	text, kb := h.ballotPost(lang, c, b, voted)
	edit := tgbotapi.NewEditMessageText(post.Chat, post.Message, text)
	edit.ParseMode = tgbotapi.ModeHTML
	edit.DisableWebPagePreview = true
	edit.ReplyMarkup = kb
	return h.editBallotPost(ctx, b, post, edit)
}

// Register adds the personal ballot's buttons.
func (h *votingHandlers) Register(rt *bot.Router) {
	register(rt,
		button{routeVotePick, h.votePick},
		button{routeVoteReview, h.voteReview},
		button{routeVoteSubmit, h.voteSubmit},
	)
}
