package handlers

import (
	"log/slog"
	"time"

	"github.com/committeebot/committeebot/i18n"
)

// core is the plumbing every room shares: which committee a request is
// about and what the caller may do there (scope.go, scope_admins.go), the
// language of a reply (language.go), replies and edits (reply.go), button
// routes (routes.go), pickers (pickers.go), the command guard
// (commands.go), the error table (errors.go), the catalogue's names of
// domain codes (catalog_names.go) and the delivery of a job's messages
// (jobs.go). Rooms hold it in a field named core.
type core struct {
	send        Sender
	cat         *i18n.Catalog
	prefs       Prefs
	committees  CommitteeStore
	current     CurrentCommittees
	log         *slog.Logger
	now         func() time.Time
	botUsername string
	// admins are the global admins (bot.admins).
	admins      map[int64]bool
	groupAdmins *adminCache
	// commands are every room's commands, for the pickers, which run a
	// command with the chosen argument (set by New once the rooms exist).
	commands []command
}
