package telegramtest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

func init() {
	handlers["getMe"] = handleGetMe
	handlers["getChat"] = chatMethod(false, handleGetChatLocked)
	handlers["getChatMember"] = chatMethod(false, handleGetChatMemberLocked)
	handlers["getChatAdministrators"] = chatMethod(false, handleGetChatAdministratorsLocked)
	handlers["getChatMemberCount"] = chatMethod(false, handleGetChatMemberCountLocked)
	handlers["leaveChat"] = chatMethod(true, handleLeaveChatLocked)
	handlers["setMyCommands"] = commandsMethod(handleSetMyCommandsLocked)
	handlers["getMyCommands"] = commandsMethod(handleGetMyCommandsLocked)
	handlers["deleteMyCommands"] = commandsMethod(handleDeleteMyCommandsLocked)
}

// chatMethod is a method that acts on the chat its chat_id names: fn runs
// with the server locked and the chat resolved — one the bot can write to
// when write is set, so that a chat the bot has left or was never in
// answers as Telegram does before fn looks at it.
func chatMethod(write bool, fn func(s *Server, c *call, ch *chatState) (reply, error)) handlerFunc {
	return func(s *Server, c *call) (reply, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		resolve := s.st.resolveChatLocked
		if write {
			resolve = s.st.writableChatLocked
		}
		ch, err := resolve(c.str("chat_id"))
		if err != nil {
			return reply{}, err
		}
		return fn(s, c, ch)
	}
}

func handleGetMe(s *Server, _ *call) (reply, error) {
	u := wireUser(s.bot)
	u.CanJoinGroups = ptr(true)
	u.CanReadAllGroupMessages = ptr(false)
	u.SupportsInlineQueries = ptr(false)
	return reply{result: u}, nil
}

func handleGetChatLocked(s *Server, c *call, ch *chatState) (reply, error) {
	// ChatFullInfo: the Chat fields plus a few the current API requires.
	type fullInfo struct {
		wChat
		AccentColorID    int `json:"accent_color_id"`
		MaxReactionCount int `json:"max_reaction_count"`
	}
	return reply{result: fullInfo{wChat: s.st.wireChatLocked(ch), MaxReactionCount: 11}}, nil
}

// memberStatusLocked is the status of a user in a chat; ok is false for a
// user the server does not know.
func (st *state) memberStatusLocked(ch *chatState, userID int64) (string, bool) {
	if _, known := st.users[userID]; !known {
		return "", false
	}
	if ch.chat.Type == ChatPrivate {
		if userID == ch.chat.ID || userID == st.bot.ID {
			return StatusMember, true
		}
		return StatusLeft, true
	}
	if status, ok := ch.members[userID]; ok {
		return status, true
	}
	return StatusLeft, true
}

func handleGetChatMemberLocked(s *Server, c *call, ch *chatState) (reply, error) {
	uid, _ := c.int64("user_id")
	st, ok := s.st.memberStatusLocked(ch, uid)
	if !ok {
		return reply{}, stateError("user not found")
	}
	return reply{result: wireMember(st, s.st.users[uid].user)}, nil
}

func handleGetChatAdministratorsLocked(s *Server, c *call, ch *chatState) (reply, error) {
	if ch.chat.Type == ChatPrivate {
		return reply{}, stateError("there are no administrators in the private chat")
	}
	ids := make([]int64, 0, len(ch.members))
	for id, st := range ch.members {
		if st == StatusCreator || st == StatusAdministrator {
			ids = append(ids, id)
		}
	}
	// Creator first, then by id: a stable order for golden files.
	sort.Slice(ids, func(i, j int) bool {
		ci, cj := ch.members[ids[i]] == StatusCreator, ch.members[ids[j]] == StatusCreator
		if ci != cj {
			return ci
		}
		return ids[i] < ids[j]
	})
	out := make([]wChatMember, 0, len(ids))
	for _, id := range ids {
		out = append(out, wireMember(ch.members[id], s.st.users[id].user))
	}
	return reply{result: out}, nil
}

func handleGetChatMemberCountLocked(s *Server, c *call, ch *chatState) (reply, error) {
	if ch.chat.Type == ChatPrivate {
		return reply{result: 2}, nil
	}
	n := 0
	for _, st := range ch.members {
		if st != StatusLeft && st != StatusKicked {
			n++
		}
	}
	return reply{result: n}, nil
}

func handleLeaveChatLocked(s *Server, c *call, ch *chatState) (reply, error) {
	if ch.chat.Type == ChatPrivate {
		return reply{}, stateError("chat member status can't be changed in private chats")
	}
	ch.members[s.bot.ID] = StatusLeft
	s.bumpLocked()
	return reply{result: true}, nil
}

// commandsScopeLocked turns the scope and language_code parameters into the
// key of Server.Commands.
func (st *state) commandsScopeLocked(c *call) (scope, lang string, err error) {
	lang = c.str("language_code")
	if lang != "" && (len(lang) != 2 || !inCharset(lang, "a-z")) {
		return "", "", badRequest("invalid language code specified")
	}
	if !c.has("scope") {
		return "default", lang, nil
	}
	var sc struct {
		Type   string          `json:"type"`
		ChatID json.RawMessage `json:"chat_id"`
		UserID int64           `json:"user_id"`
	}
	if err := c.decode("scope", &sc); err != nil {
		return "", "", err
	}
	switch sc.Type {
	case "default", "all_private_chats", "all_group_chats", "all_chat_administrators":
		return sc.Type, lang, nil
	}
	chatParam, _ := jsonParamValue(sc.ChatID)
	ch, err := st.resolveChatLocked(chatParam)
	if err != nil {
		return "", "", err
	}
	switch sc.Type {
	case "chat", "chat_administrators":
		return sc.Type + ":" + strconv.FormatInt(ch.chat.ID, 10), lang, nil
	case "chat_member":
		if _, ok := st.memberStatusLocked(ch, sc.UserID); !ok {
			return "", "", stateError("user not found")
		}
		return fmt.Sprintf("chat_member:%d:%d", ch.chat.ID, sc.UserID), lang, nil
	}
	return "", "", badRequest("unsupported bot command scope type %q", sc.Type)
}

// commandsMethod is a method on the bot's command lists: fn runs with the
// server locked and the list named by the scope and language_code
// parameters.
func commandsMethod(fn func(s *Server, c *call, scope, lang string) (reply, error)) handlerFunc {
	return func(s *Server, c *call) (reply, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		scope, lang, err := s.st.commandsScopeLocked(c)
		if err != nil {
			return reply{}, err
		}
		return fn(s, c, scope, lang)
	}
}

func handleSetMyCommandsLocked(s *Server, c *call, scope, lang string) (reply, error) {
	var cmds []wBotCommand
	if err := c.decode("commands", &cmds); err != nil {
		return reply{}, err
	}
	list := make([]BotCommand, 0, len(cmds))
	for _, cmd := range cmds {
		list = append(list, BotCommand{Command: strings.TrimPrefix(cmd.Command, "/"), Description: cmd.Description})
	}
	s.setCommandsLocked(scope, lang, list)
	return reply{result: true}, nil
}

func (s *Server) setCommandsLocked(scope, lang string, list []BotCommand) {
	key := commandsKey(scope, lang)
	if len(list) == 0 {
		delete(s.st.commands, key)
	} else {
		s.st.commands[key] = list
	}
	s.emitLocked(Event{Kind: EventCommands, Commands: append([]BotCommand(nil), list...), Scope: scope, LanguageCode: lang})
	s.bumpLocked()
}

func handleGetMyCommandsLocked(s *Server, c *call, scope, lang string) (reply, error) {
	out := []wBotCommand{}
	for _, cmd := range s.st.commands[commandsKey(scope, lang)] {
		out = append(out, wBotCommand(cmd))
	}
	return reply{result: out}, nil
}

func handleDeleteMyCommandsLocked(s *Server, c *call, scope, lang string) (reply, error) {
	s.setCommandsLocked(scope, lang, nil)
	return reply{result: true}, nil
}
