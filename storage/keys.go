package storage

// Key schema
//
// Every key starts with the configured prefix <p> (redis.key_prefix, default
// "cb") and carries a Redis Cluster hash tag in braces right after it. All
// keys that one Lua script touches share a tag, so the script's keys hash to
// one slot and it runs unchanged on a single node, under Sentinel and on
// Cluster. Identifiers inside keys are decimal Telegram ids or short ids made
// of letters, digits, '_' and '-' (never ':', '{' or '}').
//
// Global, tag {g} (one slot: only small keys that need no spreading):
//
//	<p>:{g}:chat:<chatID>:committee   string  id of the committee bound to a group chat (/setup);
//	                                          valid only while the committee's meta.chat agrees
//	                                          (committee.go explains the two-step binding)
//	<p>:{g}:seq:<name>                string  INCR counter, e.g. seq:committee for new committee ids
//	<p>:{g}:invite:<token>            string  id of the committee that issued an invite token; PX
//	                                          invite TTL + grace (the invite itself is in the
//	                                          committee's invites hash)
//	<p>:{g}:poll:lease                string  "<until, unix ms>|<owner>": the replica that may call
//	                                          getUpdates (pollease.go); PX twice the lease
//	<p>:{g}:<kind>[:<part>…]          other global keys, built with Keys.Global
//
// Telegram updates, tag {upd:<updateID>} (one slot per update: no script
// needs two of them, and a busy bot must not pile every claim onto one node):
//
//	<p>:{upd:<updateID>}:claim        string  claim of an update (dedupe.go):
//	                                          "r|<lease until>|<attempt>|<owner>" while running,
//	                                          "d|<done at>|<lost 0|1>|<owner>" once done (unix ms;
//	                                          lost 1 if finished after losing the lease); expires
//	                                          after the dedupe TTL (48h)
//
// Users, tag {u:<userID>}:
//
//	<p>:{u:<userID>}:profile          hash    lang (preferred language)
//	<p>:{u:<userID>}:dialog           string  JSON Dialog of the step-by-step dialogue in progress,
//	                                          with a TTL (dialog.go)
//	<p>:{u:<userID>}:committees       set     ids of committees where the user is a delegate; an
//	                                          index updated after the committee's own write, so
//	                                          readers check each id against the committee
//
// Chats, tag {ch:<chatID>}:
//
//	<p>:{ch:<chatID>}:profile         hash    lang (language of a group chat)
//
// Committees, tag {c:<committeeID>} (every key of one committee in one slot,
// so a script may check membership, a ballot and its box together):
//
//	<p>:{c:<committeeID>}:<kind>[:<part>…]   built with Keys.Committee
//
// Committee, units, delegates, roles, invites and covenants (committee.go,
// units.go, invites.go, covenant.go). Records kept as JSON are encoded by Go
// (role changes and member log entries are concatenated by scripts from
// ARGV strings and unit codes, names encoded by Go or cjson); scripts only
// decode them, so ids and times never pass through Lua's floating-point
// number formatting. Times are unix ms. Invites are
// kept 30 days past their expiry.
//
//	<p>:{c:<id>}:meta                 hash    id, chat (0 while detached), title, name, tz, lang,
//	                                          year, created, by
//	<p>:{c:<id>}:unit                 hash    unit code -> JSON {name, added}
//	<p>:{c:<id>}:units                zset    unit codes, scored by the order they were added
//	<p>:{c:<id>}:members              hash    user id -> JSON delegate {unit, name, username, joined}
//	<p>:{c:<id>}:roles                hash    "<year>:head" / "<year>:deputy" -> unit code
//	<p>:{c:<id>}:rolelog              list    JSON role changes {year, role, unit, previous, by, at},
//	                                          oldest first
//	<p>:{c:<id>}:memberlog            list    JSON changes of the delegates {event (join, move, leave,
//	                                          remove, unit_removed; missing: move), user, name, from,
//	                                          to, by, at}, oldest first (the join digest reads
//	                                          its joins here)
//	<p>:{c:<id>}:invites              hash    token -> JSON {unit, by, created, expires};
//	                                          "<token>:used" -> "<userID>:<at>" once redeemed;
//	                                          pruned a grace period after expiry
//	<p>:{c:<id>}:covenants            zset    years that have a covenant (score = year)
//	<p>:{c:<id>}:covenant:<year>      hash    title, opened, by, completed_by, completed_at
//	<p>:{c:<id>}:covenant:<year>:signed  hash unit code -> JSON signature {user_id, name, at}
//	<p>:{c:<id>}:covenant:<year>:order   list unit codes in signing order
//
// Nominations (nominations.go, nominations_change.go):
//
//	<p>:{c:<id>}:seq:nomination       string  INCR counter of the committee's nomination ids
//	<p>:{c:<id>}:nominations          zset    nomination ids (score = id)
//	<p>:{c:<id>}:nominations:index    hash    "<award>|<year>|<nominee key>" -> id, the duplicate
//	                                          index; a withdrawn nomination's entry is removed
//	<p>:{c:<id>}:nomination:<n>       hash    id, unit, award, nominee, nominee_unit, achievements,
//	                                          year, status, created, by, by_name, dupkey, changed
//	<p>:{c:<id>}:nomination:<n>:history  list JSON changes {from, to, by, by_name, at, note},
//	                                          oldest first (the first is the submission)
//	<p>:{c:<id>}:nomination:<n>:files    list JSON attachments {file_id, name}
//
// Meetings (meetings.go, meetings_rsvp.go):
//
//	<p>:{c:<id>}:seq:meeting          string  INCR counter of the committee's meeting ids
//	<p>:{c:<id>}:meetings             zset    meeting ids (score = start, unix ms)
//	<p>:{c:<id>}:meeting:<m>          hash    id, title, loc, agenda (JSON list), start, status, seq
//	                                          (RFC 5545 SEQUENCE), created, by, updated, offsets (JSON
//	                                          seconds of the reminders scheduled), chat, msg (the group
//	                                          announcement), cancelled_by, cancelled_at
//	<p>:{c:<id>}:meeting:<m>:rsvp     hash    user id -> JSON {unit, name, username, attend, at}
//	<p>:{c:<id>}:meeting:<m>:gate     string  unix ms until which the announcement is not edited again
//
// Scheduler (scheduler.go, scheduler_claim.go), tag {sched}: one slot for
// every job, because the claim script finds job ids in the due set and
// builds their keys itself:
//
//	<p>:{sched}:due                   zset    job id -> due time, or lease expiry while claimed (ms)
//	<p>:{sched}:fence                 string  INCR counter of fencing tokens
//	<p>:{sched}:job:<id>              hash    kind, payload, due, state (ready|claimed|done), token,
//	                                          attempt, failures, owner, claimed_at; a done job expires
//	                                          after the done TTL (7 days)
//	<p>:{sched}:job:<id>:dlv          hash    delivery key -> "p:<token>" reserved, "d:<ref>" sent,
//	                                          "f:<reason>" undeliverable
//
// Outbox (outbox.go), tag {ob}: one slot for every queued message and the
// counts of Telegram's limits, because the claim script checks both at
// once; the full layout is at the top of outbox.go:
//
//	<p>:{ob}:i:<id>, q:<chat>, ready:0|1, flight, d:<id>, coal, refs, hold, seq,
//	<p>:{ob}:rl:g, rl:w:<chat>, rl:c:<chat>, rl:e:<chat>
//
// Kinds reserved for committee keys (features add their exact layout here):
// meta, unit, units, member, members, memberlog, joins, roles, rolelog, invites, covenant,
// covenants, meeting, meetings, nomination, nominations, ballot, ballots,
// sched (scheduler), seq.

import (
	"strconv"
	"strings"
)

// DefaultKeyPrefix is the prefix NewKeys uses when given an empty one; it
// matches the default of redis.key_prefix.
const DefaultKeyPrefix = "cb"

// Keys builds every Redis key of the bot from one prefix. It is the only
// place key strings are assembled; see the key schema at the top of keys.go.
// The zero value is not useful: use NewKeys.
type Keys struct {
	prefix string
}

// NewKeys returns the key builder for prefix, or for DefaultKeyPrefix if
// prefix is empty. The prefix must not contain braces (see
// Options.Validate), or it would break the hash tags.
func NewKeys(prefix string) Keys {
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	return Keys{prefix: prefix}
}

// Prefix returns the namespace every key starts with (without the trailing
// colon).
func (k Keys) Prefix() string { return k.prefix }

// Committee returns the key of kind (and optional sub-parts) belonging to
// one committee: <p>:{c:<committeeID>}:<kind>[:<part>…]. All keys of a
// committee share its hash tag, so one script may touch any of them.
func (k Keys) Committee(committeeID, kind string, parts ...string) string {
	return k.join("{c:"+committeeID+"}", kind, parts)
}

// Global returns a key in the global slot: <p>:{g}:<kind>[:<part>…].
func (k Keys) Global(kind string, parts ...string) string {
	return k.join("{g}", kind, parts)
}

// ChatCommittee returns the key holding the id of the committee bound to a
// group chat: <p>:{g}:chat:<chatID>:committee.
func (k Keys) ChatCommittee(chatID int64) string {
	return k.Global("chat", itoa(chatID), "committee")
}

// FormerCommittee returns the key remembering which committee a group was
// bound to before the bot left it: <p>:{g}:chat:<chatID>:former.
func (k Keys) FormerCommittee(chatID int64) string {
	return k.Global("chat", itoa(chatID), "former")
}

// Sequence returns the key of a global counter: <p>:{g}:seq:<name>.
func (k Keys) Sequence(name string) string {
	return k.Global("seq", name)
}

// UpdateClaim returns the key of the claim of a Telegram update:
// <p>:{upd:<updateID>}:claim.
func (k Keys) UpdateClaim(updateID int64) string {
	return k.prefix + ":{upd:" + itoa(updateID) + "}:claim"
}

// UserProfile returns the hash of a user's preferences:
// <p>:{u:<userID>}:profile.
func (k Keys) UserProfile(userID int64) string {
	return k.join("{u:"+itoa(userID)+"}", "profile", nil)
}

// Dialog returns the key of a user's dialogue in progress:
// <p>:{u:<userID>}:dialog.
func (k Keys) Dialog(userID int64) string {
	return k.join("{u:"+itoa(userID)+"}", "dialog", nil)
}

// ChatProfile returns the hash of a chat's settings:
// <p>:{ch:<chatID>}:profile.
func (k Keys) ChatProfile(chatID int64) string {
	return k.join("{ch:"+itoa(chatID)+"}", "profile", nil)
}

// join assembles <prefix>:<tag>:<kind>[:<part>…].
func (k Keys) join(tag, kind string, parts []string) string {
	var b strings.Builder
	n := len(k.prefix) + len(tag) + len(kind) + 2
	for _, p := range parts {
		n += len(p) + 1
	}
	b.Grow(n)
	b.WriteString(k.prefix)
	b.WriteByte(':')
	b.WriteString(tag)
	b.WriteByte(':')
	b.WriteString(kind)
	for _, p := range parts {
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// CommitteeMeta returns the hash of a committee's own fields (name, bound
// chat, year…): <p>:{c:<id>}:meta.
func (k Keys) CommitteeMeta(committeeID string) string {
	return k.Committee(committeeID, "meta")
}

// UnitRecords returns the hash of a committee's units, code -> JSON record:
// <p>:{c:<id>}:unit.
func (k Keys) UnitRecords(committeeID string) string {
	return k.Committee(committeeID, "unit")
}

// UnitOrder returns the sorted set of a committee's unit codes in the order
// they were added: <p>:{c:<id>}:units.
func (k Keys) UnitOrder(committeeID string) string {
	return k.Committee(committeeID, "units")
}

// Members returns the hash of a committee's delegates, user id -> JSON
// record: <p>:{c:<id>}:members.
func (k Keys) Members(committeeID string) string {
	return k.Committee(committeeID, "members")
}

// Roles returns the hash of head and deputy units per year:
// <p>:{c:<id>}:roles.
func (k Keys) Roles(committeeID string) string {
	return k.Committee(committeeID, "roles")
}

// RoleLog returns the list of a committee's role changes, oldest first:
// <p>:{c:<id>}:rolelog.
func (k Keys) RoleLog(committeeID string) string {
	return k.Committee(committeeID, "rolelog")
}

// MemberLog returns the list of a committee's delegate changes (joins,
// moves between units, leaves, removals), oldest first:
// <p>:{c:<id>}:memberlog.
func (k Keys) MemberLog(committeeID string) string {
	return k.Committee(committeeID, "memberlog")
}

// Invites returns the hash of a committee's invites: <p>:{c:<id>}:invites.
func (k Keys) Invites(committeeID string) string {
	return k.Committee(committeeID, "invites")
}

// InvitePrune returns the sorted set of a committee's invite tokens by
// when each may be pruned (its expiry plus the grace period, unix ms):
// <p>:{c:<id>}:inviteprune.
func (k Keys) InvitePrune(committeeID string) string {
	return k.Committee(committeeID, "inviteprune")
}

// InviteCommittee returns the global key that maps an invite token to the
// committee that issued it: <p>:{g}:invite:<token>. It is global because a
// token arrives (in /start) without its committee.
func (k Keys) InviteCommittee(token string) string {
	return k.Global("invite", token)
}

// Covenants returns the sorted set of the years for which a committee has a
// covenant: <p>:{c:<id>}:covenants.
func (k Keys) Covenants(committeeID string) string {
	return k.Committee(committeeID, "covenants")
}

// Covenant returns the hash of one year's covenant:
// <p>:{c:<id>}:covenant:<year>.
func (k Keys) Covenant(committeeID string, year int) string {
	return k.Committee(committeeID, "covenant", strconv.Itoa(year))
}

// CovenantSigned returns the hash of one year's signatures, unit code ->
// JSON: <p>:{c:<id>}:covenant:<year>:signed.
func (k Keys) CovenantSigned(committeeID string, year int) string {
	return k.Committee(committeeID, "covenant", strconv.Itoa(year), "signed")
}

// CovenantOrder returns the list of units in the order they signed one
// year's covenant: <p>:{c:<id>}:covenant:<year>:order.
func (k Keys) CovenantOrder(committeeID string, year int) string {
	return k.Committee(committeeID, "covenant", strconv.Itoa(year), "order")
}

// UserCommittees returns the set of ids of the committees where a user is
// a delegate: <p>:{u:<userID>}:committees. It is an index that may hold
// stale ids (see Committees.UserCommittees).
func (k Keys) UserCommittees(userID int64) string {
	return k.join("{u:"+itoa(userID)+"}", "committees", nil)
}
