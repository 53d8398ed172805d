package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// state is everything the bot's requests act on, and the logic that reads
// and changes it. Guarded by Server.mu: its methods ending in "Locked" are
// called with Server.mu held. bot and now are set by init and never change.
type state struct {
	bot         User
	now         func() time.Time // the server's clock (WithClock)
	users       map[int64]*userState
	chats       map[int64]*chatState
	files       map[string]*Document // by file_id
	filesByPath map[string]*Document
	photos      map[string]*Photo    // by the file_id of each of its sizes
	photoFiles  map[string]*Document // a photo's file, by the file_id of each size
	fileSeq     int
	queries     map[string]*queryState
	querySeq    int
	commands    map[string][]BotCommand // by commandsKey(scope, language)
	// descriptions are the bot's description and short description, by
	// descriptionKey(kind, language).
	descriptions map[string]string

	updates      []pendingUpdate
	history      map[int]pendingUpdate // every update ever queued, for Redeliver
	nextUpdateID int
	allowed      map[string]bool // allowed_updates of the last getUpdates/setWebhook
	poll         *pollState      // the getUpdates request in flight
	webhook      *webhookState
	webhookGen   int
	// webhookTarget, when set, replaces the webhook URL for deliveries
	// (RedirectWebhook); getWebhookInfo still shows the bot's URL.
	webhookTarget string
	inFlight      map[string]int // calls being processed, by method
	mostInFlight  map[string]int // the most inFlight ever held, by method
}

type userState struct {
	user    User
	started bool // has a private chat with the bot
	blocked bool
}

type chatState struct {
	chat    Chat
	members map[int64]string // status by user id, for groups
	nextID  int
	msgs    []*Message
	byID    map[int]*Message
	// rawMarkup keeps the inline keyboard JSON of bot messages as sent, so
	// that it is served back verbatim and compared for "not modified".
	rawMarkup map[int]json.RawMessage
	// topics are a forum's topics by thread id, with their names.
	topics map[int]string
}

type queryState struct {
	answer  CallbackAnswer
	created time.Time
}

// init makes st empty but for the bot, a user it knows from the start,
// with now as its clock.
func (st *state) init(bot User, now func() time.Time) {
	st.bot = bot
	st.now = now
	st.users = map[int64]*userState{bot.ID: {user: bot}}
	st.chats = map[int64]*chatState{}
	st.files = map[string]*Document{}
	st.filesByPath = map[string]*Document{}
	st.photos = map[string]*Photo{}
	st.photoFiles = map[string]*Document{}
	st.queries = map[string]*queryState{}
	st.commands = map[string][]BotCommand{}
	st.descriptions = map[string]string{}
	st.history = map[int]pendingUpdate{}
	st.inFlight = map[string]int{}
	st.mostInFlight = map[string]int{}
	st.nextUpdateID = 1
}

func newChatState(c Chat) *chatState {
	return &chatState{
		chat:      c,
		members:   map[int64]string{},
		nextID:    1,
		byID:      map[int]*Message{},
		rawMarkup: map[int]json.RawMessage{},
		topics:    map[int]string{},
	}
}

// AddTopic creates a topic in forum supergroup chatID and returns its
// thread id (the id of the service message that opens it, as in
// Telegram).
func (s *Server) AddTopic(chatID int64, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.st.mustGroupLocked(chatID)
	if !ch.chat.IsForum {
		panic(fmt.Sprintf("telegramtest: AddTopic: chat %d is not a forum (set Chat.IsForum)", chatID))
	}
	id := ch.nextID
	ch.nextID++
	ch.topics[id] = name
	return id
}

// threadLocked resolves a call's message_thread_id in ch: 0 when absent;
// an error when ch has no such topic (Telegram: "message thread not
// found").
func threadLocked(c *call, ch *chatState) (int, error) {
	if !c.has("message_thread_id") {
		return 0, nil
	}
	id := c.int("message_thread_id")
	if _, ok := ch.topics[id]; !ok || !ch.chat.IsForum {
		return 0, stateError("message thread not found")
	}
	return id, nil
}

// AddUser registers a Telegram user. Adding an existing id replaces its
// profile and keeps its chat state. It panics on a non-positive id.
func (s *Server) AddUser(u User) {
	if u.ID <= 0 {
		panic(fmt.Sprintf("telegramtest: user id must be positive, got %d", u.ID))
	}
	if u.FirstName == "" {
		u.FirstName = "User " + strconv.FormatInt(u.ID, 10)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if us, ok := s.st.users[u.ID]; ok {
		us.user = u
		return
	}
	s.st.users[u.ID] = &userState{user: u}
}

// StartPrivate records that the user opened a private chat with the bot
// (and unblocks it), without sending an update. The private chat's id is
// the user's id. It panics if the user was not added.
func (s *Server) StartPrivate(userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.startPrivateLocked(s.st.mustUserLocked(userID))
	s.bumpLocked()
}

// startPrivateLocked records that a user opened (or reopened) their private
// chat with the bot, unblocking it, and returns the chat.
func (st *state) startPrivateLocked(us *userState) *chatState {
	us.started, us.blocked = true, false
	ch, ok := st.chats[us.user.ID]
	if !ok {
		ch = newChatState(Chat{ID: us.user.ID, Type: ChatPrivate})
		st.chats[us.user.ID] = ch
	}
	return ch
}

// BlockBot records that the user blocked the bot: sends to them answer 403
// "bot was blocked by the user". No update is sent. StartPrivate (or a
// message from the user) unblocks.
func (s *Server) BlockBot(userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.mustUserLocked(userID).blocked = true
	s.bumpLocked()
}

// AddGroup creates a group or supergroup with its members. Chat.ID must be
// negative; an empty Type means "supergroup" for ids in Telegram's -100…
// range and "group" otherwise. Members not added yet are registered with a
// placeholder profile that a later AddUser replaces. The bot is a plain
// member unless listed. It panics on a non-negative id or an unknown type
// or status.
func (s *Server) AddGroup(c Chat, members ...Member) {
	if c.ID >= 0 {
		panic(fmt.Sprintf("telegramtest: group ids are negative, got %d", c.ID))
	}
	if c.Type == "" {
		c.Type = ChatGroup
		if c.ID <= -1000000000000 {
			c.Type = ChatSupergroup
		}
	}
	if c.Type != ChatGroup && c.Type != ChatSupergroup {
		panic(fmt.Sprintf("telegramtest: AddGroup takes groups and supergroups, got %q", c.Type))
	}
	if c.Title == "" {
		c.Title = "Group " + strconv.FormatInt(-c.ID, 10)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := newChatState(c)
	ch.members[s.bot.ID] = StatusMember
	for _, m := range members {
		s.st.ensureUserLocked(m.UserID)
		ch.members[m.UserID] = checkStatus(m.Status)
	}
	s.st.chats[c.ID] = ch
	s.bumpLocked()
}

// SetMemberStatus changes a user's status in a group (the bot's too:
// StatusLeft or StatusKicked makes sends fail with 403). It panics on an
// unknown group.
func (s *Server) SetMemberStatus(chatID, userID int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.st.mustGroupLocked(chatID)
	s.st.ensureUserLocked(userID)
	ch.members[userID] = checkStatus(status)
	s.bumpLocked()
}

func checkStatus(status string) string {
	switch status {
	case StatusCreator, StatusAdministrator, StatusMember, StatusRestricted, StatusLeft, StatusKicked:
		return status
	case "":
		return StatusMember
	}
	panic(fmt.Sprintf("telegramtest: unknown member status %q", status))
}

// ensureUserLocked registers a placeholder for an id not added yet.
func (st *state) ensureUserLocked(id int64) *userState {
	if us, ok := st.users[id]; ok {
		return us
	}
	if id <= 0 {
		panic(fmt.Sprintf("telegramtest: user id must be positive, got %d", id))
	}
	us := &userState{user: User{ID: id, FirstName: "User " + strconv.FormatInt(id, 10)}}
	st.users[id] = us
	return us
}

// mustUserLocked returns a registered user; an unknown id is a mistake of
// the caller driving the stand-in, so it panics.
func (st *state) mustUserLocked(id int64) *userState {
	us, ok := st.users[id]
	if !ok {
		panic(fmt.Sprintf("telegramtest: unknown user %d (call AddUser first)", id))
	}
	return us
}

// mustGroupLocked returns a group or supergroup; it panics on an unknown
// id or a private chat.
func (st *state) mustGroupLocked(id int64) *chatState {
	ch, ok := st.chats[id]
	if !ok || ch.chat.Type == ChatPrivate {
		panic(fmt.Sprintf("telegramtest: unknown group %d (call AddGroup first)", id))
	}
	return ch
}

// Message returns a message of a chat, deleted ones included.
func (s *Server) Message(chatID int64, messageID int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.st.chats[chatID]
	if !ok {
		return Message{}, false
	}
	m, ok := ch.byID[messageID]
	if !ok {
		return Message{}, false
	}
	return m.clone(), true
}

// Messages returns every message of a chat in order, the bot's and the
// users', deleted ones included (with Deleted set).
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.messagesLocked(chatID, func(*Message) bool { return true })
}

// BotMessages returns the messages the bot sent to a chat, in order,
// deleted ones included.
func (s *Server) BotMessages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.messagesLocked(chatID, func(m *Message) bool { return m.From.ID == s.bot.ID })
}

// messagesLocked returns copies of the messages of a chat that keep
// accepts, in order.
func (st *state) messagesLocked(chatID int64, keep func(*Message) bool) []Message {
	ch, ok := st.chats[chatID]
	if !ok {
		return nil
	}
	var out []Message
	for _, m := range ch.msgs {
		if keep(m) {
			out = append(out, m.clone())
		}
	}
	return out
}

// CallbackAnswer returns the callback query made by PressButton and how
// the bot answered it.
func (s *Server) CallbackAnswer(queryID string) (CallbackAnswer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.st.queries[queryID]
	if !ok {
		return CallbackAnswer{}, false
	}
	return q.answer, true
}

// Commands returns the command list the bot set for a scope and language.
// scope is "" or "default", "all_private_chats", "all_group_chats",
// "all_chat_administrators", "chat:<chat_id>",
// "chat_administrators:<chat_id>" or "chat_member:<chat_id>:<user_id>".
// languageCode "" is the list for users without a dedicated one.
func (s *Server) Commands(languageCode, scope string) []BotCommand {
	if scope == "" {
		scope = "default"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BotCommand(nil), s.st.commands[commandsKey(scope, languageCode)]...)
}

func commandsKey(scope, lang string) string { return scope + "|" + lang }

// resolveChatLocked turns a chat_id parameter (an id or "@username") into
// a known chat.
func (st *state) resolveChatLocked(param string) (*chatState, error) {
	param = strings.TrimSpace(param)
	if name, ok := strings.CutPrefix(param, "@"); ok {
		for _, ch := range st.sortedChatsLocked() {
			if ch.chat.Username != "" && strings.EqualFold(ch.chat.Username, name) {
				return ch, nil
			}
		}
		return nil, stateError("chat not found")
	}
	id, err := strconv.ParseInt(param, 10, 64)
	if err != nil {
		return nil, stateError("chat not found")
	}
	if ch, ok := st.chats[id]; ok {
		return ch, nil
	}
	return nil, stateError("chat not found")
}

// sortedChatsLocked lists the chats by id, so that a search among them
// does not depend on map order.
func (st *state) sortedChatsLocked() []*chatState {
	out := make([]*chatState, 0, len(st.chats))
	for _, ch := range st.chats {
		out = append(out, ch)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].chat.ID < out[j].chat.ID })
	return out
}

// writableChatLocked resolves the chat the bot wants to post to or edit
// in, checking that it may: a private chat the user started and did not
// block, a group the bot is still in.
func (st *state) writableChatLocked(param string) (*chatState, error) {
	ch, err := st.resolveChatLocked(param)
	if err != nil {
		// A known user who never opened the chat is not "not found".
		id, perr := strconv.ParseInt(strings.TrimSpace(param), 10, 64)
		if us, ok := st.users[id]; perr == nil && ok && id != st.bot.ID && !us.started {
			return nil, forbidden("bot can't initiate conversation with a user")
		}
		return nil, err
	}
	if ch.chat.Type == ChatPrivate {
		us := st.users[ch.chat.ID]
		switch {
		case us == nil:
			return nil, stateError("chat not found")
		case us.blocked:
			return nil, forbidden("bot was blocked by the user")
		case !us.started:
			return nil, forbidden("bot can't initiate conversation with a user")
		}
		return ch, nil
	}
	kind := "group"
	if ch.chat.Type == ChatSupergroup {
		kind = "supergroup"
	}
	switch ch.members[st.bot.ID] {
	case StatusLeft:
		return nil, forbidden("bot is not a member of the " + kind + " chat")
	case StatusKicked:
		return nil, forbidden("bot was kicked from the " + kind + " chat")
	}
	return ch, nil
}

// addMessageLocked stores a new message in a chat and gives it the next id.
func (st *state) addMessageLocked(ch *chatState, m *Message) {
	m.MessageID = ch.nextID
	m.ChatID = ch.chat.ID
	m.Date = st.stamp()
	ch.nextID++
	ch.msgs = append(ch.msgs, m)
	ch.byID[m.MessageID] = m
}

// stamp is the current time at the one-second precision of Telegram dates.
// It reads only the clock, which never changes: no lock needed.
func (st *state) stamp() time.Time { return time.Unix(st.now().Unix(), 0).UTC() }

// newFileLocked registers an uploaded file and returns its document.
func (st *state) newFileLocked(name, mimeType string, data []byte) *Document {
	st.fileSeq++
	n := st.fileSeq
	d := &Document{
		FileID:       fmt.Sprintf("BQACAgIAAxkBAAI%08dStandIn", n),
		FileUniqueID: fmt.Sprintf("AgAD%08d", n),
		FileName:     name,
		MimeType:     mimeType,
		Data:         data,
	}
	st.files[d.FileID] = d
	st.filesByPath["documents/file_"+strconv.Itoa(n)+extOf(name)] = d
	return d
}

// filePathLocked is the download path of a stored file, "" if it has none.
func (st *state) filePathLocked(d *Document) string {
	for p, f := range st.filesByPath {
		if f == d {
			return p
		}
	}
	return ""
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 && i > strings.LastIndexByte(name, '/') {
		return strings.ToLower(name[i:])
	}
	return ""
}

// mimeByExt is a fixed table so the result does not depend on the host's
// mime.types; Telegram detects types from the file name the same way.
var mimeByExt = map[string]string{
	".ics":  "text/calendar",
	".csv":  "text/csv",
	".txt":  "text/plain",
	".md":   "text/markdown",
	".html": "text/html",
	".htm":  "text/html",
	".json": "application/json",
	".xml":  "application/xml",
	".pdf":  "application/pdf",
	".zip":  "application/zip",
	".gz":   "application/gzip",
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".gif":  "image/gif",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

// detectMime picks a document's MIME type: by extension, then by the part
// header unless it is the generic one tgbotapi always sends, then by
// sniffing the content.
func detectMime(name, header string, data []byte) string {
	if t, ok := mimeByExt[extOf(name)]; ok {
		return t
	}
	if header != "" && header != "application/octet-stream" {
		return header
	}
	t := http.DetectContentType(data)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return t
}
