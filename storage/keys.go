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
//	<p>:{g}:chat:<chatID>:committee   string  id of the committee bound to a group chat (/setup)
//	<p>:{g}:seq:<name>                string  INCR counter, e.g. seq:committee for new committee ids
//	<p>:{g}:<kind>[:<part>…]          other global keys, built with Keys.Global
//
// Telegram updates, tag {upd:<updateID>} (one slot per update: no script
// needs two of them, and a busy bot must not pile every claim onto one node):
//
//	<p>:{upd:<updateID>}              hash    claim of an update (dedupe.go): state running|done,
//	                                          owner, lease_until (unix ms), attempt, done_by,
//	                                          done_at (unix ms), lost (1 if finished after losing
//	                                          the lease); expires after the dedupe TTL (48h)
//
// Users, tag {u:<userID>}:
//
//	<p>:{u:<userID>}:profile          hash    lang (preferred language)
//	<p>:{u:<userID>}:dialog           string  JSON Dialog of the step-by-step dialogue in progress,
//	                                          with a TTL (dialog.go)
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
// Kinds reserved for committee keys (features add their exact layout here):
// meta, unit, units, member, members, covenant, meeting, meetings,
// nomination, nominations, ballot, ballots, sched (scheduler), seq.

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

// Sequence returns the key of a global counter: <p>:{g}:seq:<name>.
func (k Keys) Sequence(name string) string {
	return k.Global("seq", name)
}

// Update returns the key of the claim of a Telegram update:
// <p>:{upd:<updateID>}.
func (k Keys) Update(updateID int64) string {
	return k.prefix + ":{upd:" + itoa(updateID) + "}"
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
