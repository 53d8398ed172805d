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

// UnmarshalJSON decodes an update as tgbotapi does and reads its topic.
func (u *Update) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &u.Update); err != nil {
		return err
	}
	var extra struct {
		Message       *topicFields `json:"message"`
		CallbackQuery *struct {
			Message *topicFields `json:"message"`
		} `json:"callback_query"`
	}
	if err := json.Unmarshal(b, &extra); err != nil {
		return err
	}
	u.Thread = extra.Message.thread()
	if extra.CallbackQuery != nil && u.Thread == 0 {
		u.Thread = extra.CallbackQuery.Message.thread()
	}
	return nil
}
