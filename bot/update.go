package bot

import (
	"encoding/json"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Update is one Telegram update as the bot receives it: tgbotapi's
// decoding, plus the fields of the current Bot API that the library
// predates.
type Update struct {
	tgbotapi.Update
	// Thread is the forum topic the update's message belongs to (its
	// message_thread_id when is_topic_message is set; for a button, the
	// topic of the message under it), 0 outside topics (General
	// included).
	Thread int

	// reply, set by the Webhook, takes the one call the bot may make in
	// its answer to the webhook request (see AutoRespond).
	reply *webhookReply
}

// topicFields are the forum fields of a Message.
type topicFields struct {
	ThreadID int  `json:"message_thread_id"`
	IsTopic  bool `json:"is_topic_message"`
}

func (t *topicFields) thread() int {
	if t == nil || !t.IsTopic {
		return 0
	}
	return t.ThreadID
}

// topicMessage is a Message with its forum fields.
type topicMessage struct {
	tgbotapi.Message
	topicFields
}

// wireUpdate decodes an update in one pass: its message and its button's
// message, at a shallower depth than tgbotapi.Update's own, take their
// place and add the forum fields (encoding/json lets the shallower field
// win).
type wireUpdate struct {
	tgbotapi.Update
	Message       *topicMessage `json:"message,omitempty"`
	CallbackQuery *struct {
		tgbotapi.CallbackQuery
		Message *topicMessage `json:"message,omitempty"`
	} `json:"callback_query,omitempty"`
}

// UnmarshalJSON decodes an update as tgbotapi does and reads its topic,
// in one pass over the bytes (every update of a burst goes through it).
func (u *Update) UnmarshalJSON(b []byte) error {
	var w wireUpdate
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	u.Update, u.Thread = w.Update, 0
	if m := w.Message; m != nil {
		u.Update.Message = &m.Message
		u.Thread = m.thread()
	}
	if cq := w.CallbackQuery; cq != nil {
		u.Update.CallbackQuery = &cq.CallbackQuery
		if m := cq.Message; m != nil {
			u.Update.CallbackQuery.Message = &m.Message
			if u.Thread == 0 {
				u.Thread = m.thread()
			}
		}
	}
	return nil
}
