package domain

import (
	"errors"
	"sort"
	"strings"
	"time"
)

// Ballot kinds.
const (
	KindElection    = "election"    // one choice among candidate units
	KindNominations = "nominations" // approve / reject / abstain per nomination
	KindMotion      = "motion"      // yes / no / abstain
)

// Electorates: one vote per member unit (cast by any one of its
// delegates; the unit's first cast counts), or one vote per delegate.
const (
	ElectorateUnits   = "units"
	ElectorateMembers = "members"
)

// Ballot states.
const (
	BallotOpen   = "open"
	BallotClosed = "closed"
)

// Option keys of approval questions.
const (
	OptApprove = "approve"
	OptReject  = "reject"
	OptAbstain = "abstain"
	OptYes     = "yes"
	OptNo      = "no"
)

// MaxRounds is how many rounds an election may take: after a second round
// without a winner, the bloc's head and deputy decide (RULES: at most two
// ballots per selection round).
const MaxRounds = 2

// MinDisclosedSecret is the fewest ballots cast for which a secret
// ballot's per-option counts, and the choices next to its receipts, are
// published (see Ballot.Disclosed).
const MinDisclosedSecret = 3

// TwoThirds is the default quorum: two thirds of the whole electorate.
func TwoThirds() Threshold {
	t, _ := Fraction(2, 3)
	return t
}

// MarshalText writes a threshold as ParseThreshold reads it, so ballots
// keep their thresholds when stored as JSON.
func (t Threshold) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads what MarshalText wrote; "" is the zero threshold.
func (t *Threshold) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = Threshold{}
		return nil
	}
	v, err := ParseThreshold(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Option is one answer to a question.
type Option struct {
	Key   string // stable key in votes: a unit code, approve, yes…
	Label string // shown to voters; for approval options the handler localizes Key
}

// Question is one thing a ballot asks.
type Question struct {
	ID         string // "1", "2"…
	Text       string
	Options    []Option
	Threshold  Threshold // share of the electorate an option needs (zero: majority)
	Nomination string    // nomination id, for nomination ballots
}

// Ballot is an election, an approval vote on nominations, or a motion.
type Ballot struct {
	ID         string
	Committee  string
	Kind       string
	Title      string
	Role       string // head or deputy, for elections of a role
	Year       int
	Award      string // award code, for nomination ballots
	Questions  []Question
	Secret     bool
	Electorate string
	Voters     []string // electors fixed at opening: unit codes, or user ids
	Quorum     Threshold
	Opened     time.Time
	Deadline   time.Time // zero: no deadline
	Closed     time.Time // zero while open
	Status     string
	Round      int    // 1, or 2 for a runoff
	Parent     string // the ballot this one is a runoff of
	By         int64
}

// Validate checks a ballot before it opens.
func (b Ballot) Validate() error {
	var errs []error
	if b.Electorate != ElectorateUnits && b.Electorate != ElectorateMembers {
		errs = append(errs, ErrElectorate)
	}
	if len(b.Questions) == 0 {
		errs = append(errs, ErrNoOptions)
	}
	for _, q := range b.Questions {
		if n := len([]rune(strings.TrimSpace(q.Text))); n == 0 || n > 500 {
			errs = append(errs, ErrQuestion)
		}
		if len(q.Options) < 2 {
			errs = append(errs, ErrNoOptions)
		}
	}
	return errors.Join(errs...)
}

// Choice is one elector's answers: question id → option key.
type Choice map[string]string

// Valid reports whether c answers every question of b with one of its
// options, and nothing else.
func (b Ballot) Valid(c Choice) bool {
	if len(c) != len(b.Questions) {
		return false
	}
	for _, q := range b.Questions {
		ok := false
		for _, o := range q.Options {
			if c[q.ID] == o.Key {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Outcomes of a question.
const (
	OutcomePassed = "passed" // approved / elected
	OutcomeFailed = "failed" // not enough votes
	OutcomeTie    = "tie"    // candidates tied at the top: a runoff decides
	OutcomeVoid   = "void"   // quorum not reached: nothing is decided
)

// Count is the number of votes for an option.
type Count struct {
	Key     string
	Votes   int
	Percent float64 // of the whole electorate
}

// QuestionResult is the count and outcome of one question.
type QuestionResult struct {
	Question string
	Counts   []Count // in option order
	Needed   int     // votes an option needed
	Outcome  string
	Winner   string   // the passing option (elections: the unit)
	Tied     []string // options tied at the top, for a runoff
}

// Receipt pairs a voter's receipt code with their answers, for the minutes.
type Receipt struct {
	Code   string
	Choice Choice
}

// Result is a closed ballot's tally.
type Result struct {
	Electorate int
	Turnout    int // electors who voted
	QuorumNeed int
	Valid      bool // quorum reached
	Questions  []QuestionResult
	Receipts   []Receipt // secret ballots: sorted by code
	Votes      []OpenVote
}

// OpenVote is who voted what on an open ballot.
type OpenVote struct {
	Voter  string // unit code or user id
	UserID int64
	Name   string
	Choice Choice
	At     time.Time
}

// Tally counts choices against the whole electorate. Thresholds and quorum
// count against everyone entitled to vote (the law's "tổng số thành
// viên"), not against votes cast.
func (b Ballot) Tally(choices []Choice) Result {
	n := len(b.Voters)
	r := Result{Electorate: n, Turnout: len(choices), QuorumNeed: b.Quorum.Needed(n)}
	r.Valid = r.Turnout >= r.QuorumNeed
	for _, q := range b.Questions {
		qr := QuestionResult{Question: q.ID, Needed: q.Threshold.Needed(n)}
		votes := map[string]int{}
		for _, c := range choices {
			votes[c[q.ID]]++
		}
		for _, o := range q.Options {
			pct := 0.0
			if n > 0 {
				pct = 100 * float64(votes[o.Key]) / float64(n)
			}
			qr.Counts = append(qr.Counts, Count{Key: o.Key, Votes: votes[o.Key], Percent: pct})
		}
		switch {
		case !r.Valid:
			qr.Outcome = OutcomeVoid
		case b.Kind == KindElection:
			decideElection(&qr)
		default:
			yes := OptApprove
			if b.Kind == KindMotion {
				yes = OptYes
			}
			qr.Outcome = OutcomeFailed
			if votes[yes] >= qr.Needed {
				qr.Outcome, qr.Winner = OutcomePassed, yes
			}
		}
		r.Questions = append(r.Questions, qr)
	}
	return r
}

// decideElection: the candidate with most votes wins if it has the votes
// needed; candidates tied at the top call for a runoff; a single leader
// short of the threshold leaves the question failed (a runoff between the
// two leaders may follow).
func decideElection(qr *QuestionResult) {
	ranked := append([]Count(nil), qr.Counts...)
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].Votes > ranked[j].Votes })
	top := ranked[0].Votes
	var tied []string
	for _, c := range ranked {
		if c.Votes == top {
			tied = append(tied, c.Key)
		}
	}
	switch {
	case top == 0:
		qr.Outcome = OutcomeFailed
	case len(tied) > 1:
		qr.Outcome, qr.Tied = OutcomeTie, tied
	case top >= qr.Needed:
		qr.Outcome, qr.Winner = OutcomePassed, ranked[0].Key
	default:
		qr.Outcome = OutcomeFailed
		qr.Tied = []string{ranked[0].Key}
		if len(ranked) > 1 && ranked[1].Votes > 0 {
			qr.Tied = append(qr.Tied, ranked[1].Key)
		}
	}
}

// RunoffCandidates are the units a second round is between, or nil when
// the result needs none (or allows none: a second round is the last).
func (b Ballot) RunoffCandidates(r Result) []string {
	if b.Kind != KindElection || b.Round >= MaxRounds || !r.Valid || len(r.Questions) == 0 {
		return nil
	}
	q := r.Questions[0]
	if q.Outcome == OutcomePassed || len(q.Tied) < 2 {
		return nil
	}
	return q.Tied
}

// Disclosed reports whether the per-option counts of b's result r, and the
// choice next to each receipt, may be published. An open ballot's are. A
// secret ballot's only when it is valid and at least MinDisclosedSecret
// ballots were cast: with one or two ballots (or an invalid ballot's few)
// the counts would tell everyone who knows the turnout how each voter
// voted. Turnout, the outcome and the receipt codes (without choices, so
// that voters can check their ballot was counted) are always published.
func (b Ballot) Disclosed(r Result) bool {
	return !b.Secret || (r.Valid && r.Turnout >= MinDisclosedSecret)
}
