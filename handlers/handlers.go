// Package handlers holds the bot's command and button handlers: what each
// command does, who may use it and what it answers. Handlers talk to Telegram
// only through the small Sender interface, to Redis only through the store
// interfaces declared here, and to users only through the i18n catalogue.
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/storage"
)

// Sender queues messages for Telegram and makes queries. *outbox.Writer
// implements it: Send stores the call in the Redis outbox and returns at
// once — handlers never wait for Telegram's rate limits — and delivery
// (in order per chat, once, within Telegram's limits) is the outbox
// workers' job. Send therefore does not report Telegram's refusals; a
// blocked user or a deleted chat is recorded by the outbox. Request makes
// calls that are not messages (getChatMember, setMyCommands) at once.
type Sender interface {
	Send(ctx context.Context, c tgbotapi.Chattable, opts ...outbox.SendOption) error
	Request(ctx context.Context, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error)
	// Call is Request for methods tgbotapi has no config for.
	Call(ctx context.Context, method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error)
}

// Prefs stores language preferences. Language and ChatLanguage return
// storage.ErrNotFound when nothing was chosen.
type Prefs interface {
	// Language is the language the user chose, else the one their
	// Telegram app was last seen to use; storage.ErrNotFound if neither.
	Language(ctx context.Context, userID int64) (string, error)
	// Languages returns both, "" when unknown, in one read.
	Languages(ctx context.Context, userID int64) (chosen, seen string, err error)
	SetTelegramLanguage(ctx context.Context, userID int64, lang string) error
	SetLanguage(ctx context.Context, userID int64, lang string) error
	ChatLanguage(ctx context.Context, chatID int64) (string, error)
	SetChatLanguage(ctx context.Context, chatID int64, lang string) error
}

// Dialogs stores the step-by-step dialogue a user is in. Get returns
// storage.ErrNotFound when there is none.
type Dialogs interface {
	Get(ctx context.Context, userID int64) (storage.Dialog, error)
	Set(ctx context.Context, userID int64, d storage.Dialog, ttl time.Duration) error
	Clear(ctx context.Context, userID int64) (bool, error)
}

var (
	_ Sender  = (*outbox.Writer)(nil)
	_ Prefs   = (*storage.Users)(nil)
	_ Dialogs = (*storage.Dialogs)(nil)
)

// Deps are the handlers' required dependencies.
type Deps struct {
	Sender     Sender
	Catalog    *i18n.Catalog
	Prefs      Prefs
	Dialogs    Dialogs
	Committees CommitteeStore
	Current    CurrentCommittees
	Ballots    BallotStore
	// JoinDigest gathers the group's notices of new delegates into one
	// message per period (a group takes 20 messages a minute); zero
	// announces each join at once.
	JoinDigest time.Duration
	// MaxDeadline is the furthest a ballot's deadline may lie ahead
	// (voting.max_deadline); zero means 90 days.
	MaxDeadline time.Duration
	// BallotOffsets are when, before a ballot's deadline, non-voters are
	// reminded (reminders.ballot_offsets).
	BallotOffsets []time.Duration
	// Nominations keeps award nominations.
	Nominations NominationStore
	// Awards is the award catalogue (awards: in the configuration); nil
	// means domain.DefaultAwards.
	Awards []domain.Award
	// Meetings keeps meetings and answers; Jobs schedules their reminders
	// and notices (nil for both leaves the meeting commands unavailable).
	Meetings MeetingStore
	Jobs     JobScheduler
	// Reminders are reminders.meeting_offsets, longest first.
	Reminders []time.Duration
	// ChartDelay is how long a ballot result's chart waits after its text,
	// so that drawing it (about 0.1 s of CPU) does not take a core from
	// the votes of a burst that closed several ballots at once (see
	// DefaultChartDelay; zero sends it at once).
	ChartDelay time.Duration
	// MeetingLength is how long a meeting lasts when no duration is given
	// (meetings.default_duration); zero means 2 hours.
	MeetingLength time.Duration
	// Location is the default committee time zone (bot.timezone).
	Location    *time.Location
	Log         *slog.Logger
	Now         func() time.Time
	BotUsername string
	// Admins are the global admins (bot.admins).
	Admins []int64
}

// Handlers is the bot's commands, buttons and jobs, one room per
// feature: general commands, the committee (units, delegates, roles,
// covenant, invites), meetings, nominations, ballots and export. Each room
// holds only the dependencies it uses and the shared plumbing (*core:
// scope and rights, language, replies, pickers); New builds them and
// Register wires them to a router.
type Handlers struct {
	core           *core
	forms          *formRunner
	general        *generalHandlers
	committee      *committeeHandlers
	meetings       *meetingHandlers
	nominationRoom *nominationHandlers
	voting         *votingHandlers
	results        *resultHandlers
	export         *exportHandlers
}

// DefaultChartDelay is the usual Deps.ChartDelay.
const DefaultChartDelay = 3 * time.Second

// New checks the dependencies and builds the handlers.
func New(d Deps) (*Handlers, error) {
	var errs []error
	for _, dep := range []struct {
		name    string
		missing bool
	}{
		{"Sender", d.Sender == nil},
		{"Catalog", d.Catalog == nil},
		{"Prefs", d.Prefs == nil},
		{"Dialogs", d.Dialogs == nil},
		{"Committees", d.Committees == nil},
		{"Current", d.Current == nil},
		{"Ballots", d.Ballots == nil},
		{"Nominations", d.Nominations == nil},
		{"Log", d.Log == nil},
		{"Now", d.Now == nil},
	} {
		if dep.missing {
			errs = append(errs, errors.New("handlers: "+dep.name+" is required"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	awards := d.Awards
	if awards == nil {
		awards = domain.DefaultAwards()
	}
	meetingLength := d.MeetingLength
	if meetingLength <= 0 {
		meetingLength = 2 * time.Hour
	}
	maxDeadline := d.MaxDeadline
	if maxDeadline <= 0 {
		maxDeadline = 90 * 24 * time.Hour
	}
	co := &core{
		send:        d.Sender,
		cat:         d.Catalog,
		prefs:       d.Prefs,
		committees:  d.Committees,
		current:     d.Current,
		log:         d.Log,
		now:         d.Now,
		botUsername: d.BotUsername,
		admins:      make(map[int64]bool, len(d.Admins)),
		groupAdmins: newAdminCache(d.Now, time.Minute),
	}
	for _, id := range d.Admins {
		co.admins[id] = true
	}
	forms := &formRunner{core: co, cat: d.Catalog, committees: d.Committees, dialogs: d.Dialogs}
	h := &Handlers{
		core:  co,
		forms: forms,
		committee: &committeeHandlers{
			core: co, forms: forms, cat: d.Catalog, prefs: d.Prefs, committees: d.Committees, current: d.Current,
			jobs: d.Jobs, joinDigest: d.JoinDigest, groupAdmins: co.groupAdmins,
			loc: loc, log: d.Log, now: d.Now, botUsername: d.BotUsername,
		},
		meetings: &meetingHandlers{
			core: co, forms: forms, cat: d.Catalog, committees: d.Committees, meetings: d.Meetings, jobs: d.Jobs,
			meetingOffsets: d.Reminders, meetingLength: meetingLength, log: d.Log, now: d.Now, send: d.Sender,
			botUsername: d.BotUsername,
			text:        &meetingText{cat: d.Catalog, now: d.Now, meetingLength: meetingLength},
		},
		nominationRoom: &nominationHandlers{
			core: co, forms: forms, cat: d.Catalog, committees: d.Committees, nominations: d.Nominations,
			ballots: d.Ballots, awards: awards,
		},
	}
	h.voting = &votingHandlers{
		core: co, nominationRoom: h.nominationRoom, cat: d.Catalog, committees: d.Committees, current: d.Current,
		ballots: d.Ballots, nominations: d.Nominations, awards: awards, jobs: d.Jobs,
		ballotOffsets: d.BallotOffsets, maxDeadline: maxDeadline, admins: co.admins, log: d.Log, now: d.Now, send: d.Sender,
	}
	h.results = &resultHandlers{
		core: co, voting: h.voting, nominationRoom: h.nominationRoom, cat: d.Catalog, committees: d.Committees,
		ballots: d.Ballots, jobs: d.Jobs, chartSlot: make(chan struct{}, 1), chartDelay: d.ChartDelay,
		log: d.Log, now: d.Now, send: d.Sender,
	}
	h.voting.results = h.results
	h.general = &generalHandlers{
		core: co, forms: forms, committee: h.committee, voting: h.voting,
		cat: d.Catalog, prefs: d.Prefs, dialogs: d.Dialogs, committees: d.Committees, send: d.Sender,
		admins: co.admins, botUsername: d.BotUsername,
	}
	h.export = &exportHandlers{
		core: co, results: h.results, cat: d.Catalog, committees: d.Committees, ballots: d.Ballots,
		meetings: d.Meetings, nominations: d.Nominations, awards: awards, now: d.Now, send: d.Sender,
	}
	commands := h.commandTable()
	co.commands, h.general.commands = commands, commands
	forms.formsByName = h.formTable()
	// The /status card, most pressing first: who leads, what is next,
	// what is being voted, where nominations stand, the covenant.
	h.general.statusSections = []statusSection{h.committee.statusHeader, h.meetings.statusNextMeeting, h.voting.statusBallots, h.nominationRoom.statusNominations, h.committee.statusCovenant}
	return h, nil
}

// Register adds the middleware that must run after the transport's own
// (localization and error replies), every command of commandTable
// (through the guard), and each room's buttons and update kinds.
func (h *Handlers) Register(rt *bot.Router) {
	rt.Use(h.core.Localize, h.core.Errors)
	for _, c := range h.core.commands {
		rt.Command(c.name, h.core.guard(c))
	}
	h.core.Register(rt, h.forms)
	h.general.Register(rt)
	h.committee.Register(rt)
	h.meetings.Register(rt)
	h.nominationRoom.Register(rt)
	h.voting.Register(rt)
	h.results.Register(rt)
}

// ScheduleYearTurns makes sure every committee has its next year turn
// scheduled (at start; committees made before the turn existed have none).
func (h *Handlers) ScheduleYearTurns(ctx context.Context) error {
	return h.committee.scheduleYearTurns(ctx)
}
