package telegramtest

import (
	"maps"
	"slices"
)

// Profile is what a bot has set about itself — its command menus and its
// descriptions — which Telegram keeps between the bot's runs. Take one
// with Server.Profile and start another stand-in with it (WithProfile) to
// face a bot with what an earlier run of it left, as a restarted bot
// finds it.
type Profile struct {
	commands     map[string][]BotCommand
	descriptions map[string]string
}

// Profile returns the command menus and descriptions set so far.
func (s *Server) Profile() Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := Profile{commands: make(map[string][]BotCommand, len(s.st.commands)), descriptions: maps.Clone(s.st.descriptions)}
	for k, cmds := range s.st.commands {
		p.commands[k] = slices.Clone(cmds)
	}
	return p
}

// Empty reports whether the profile holds no menu and no description.
func (p Profile) Empty() bool { return len(p.commands) == 0 && len(p.descriptions) == 0 }

// WithProfile starts the stand-in with p's command menus and descriptions,
// as if the bot had set them in an earlier run.
func WithProfile(p Profile) Option { return func(c *config) { c.profile = p } }

// restoreLocked puts p's menus and descriptions in the state.
func (st *state) restoreLocked(p Profile) {
	for k, cmds := range p.commands {
		st.commands[k] = slices.Clone(cmds)
	}
	maps.Copy(st.descriptions, p.descriptions)
}
