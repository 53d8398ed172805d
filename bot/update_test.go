package bot

import (
	"encoding/json"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

func TestUpdateReadsItsForumTopic(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
		want int
	}{
		{"topic message", `{"update_id":1,"message":{"message_id":5,"message_thread_id":7,"is_topic_message":true,"chat":{"id":-100,"type":"supergroup","is_forum":true},"text":"/status"}}`, 7},
		{"reply thread outside topics", `{"update_id":2,"message":{"message_id":6,"message_thread_id":3,"chat":{"id":-100,"type":"supergroup"},"text":"ok"}}`, 0},
		{"General topic", `{"update_id":3,"message":{"message_id":8,"chat":{"id":-100,"type":"supergroup","is_forum":true},"text":"/help"}}`, 0},
		{"button under a topic message", `{"update_id":4,"callback_query":{"id":"q","from":{"id":1,"first_name":"A"},"data":"x:y","message":{"message_id":9,"message_thread_id":11,"is_topic_message":true,"chat":{"id":-100,"type":"supergroup"}}}}`, 11},
		{"private", `{"update_id":5,"message":{"message_id":1,"chat":{"id":1,"type":"private"},"text":"/start"}}`, 0},
	} {
		var u Update
		if err := json.Unmarshal([]byte(tc.raw), &u); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if u.Thread != tc.want || u.UpdateID == 0 {
			t.Errorf("%s: Thread %d, update %d; want %d", tc.name, u.Thread, u.UpdateID, tc.want)
		}
	}
	var batch []Update
	if err := json.Unmarshal([]byte(`[{"update_id":1,"message":{"message_id":5,"message_thread_id":7,"is_topic_message":true,"chat":{"id":-100,"type":"supergroup"},"text":"a"}},{"update_id":2}]`), &batch); err != nil || len(batch) != 2 || batch[0].Thread != 7 || batch[0].Message.Text != "a" {
		t.Errorf("a batch decodes to %+v, %v", batch, err)
	}
}

// One pass decodes what tgbotapi's decoding gives: the same update, field
// for field, with the topic beside it.
func TestUpdateDecodesAsTgbotapiDoes(t *testing.T) {
	for _, raw := range []string{
		`{"update_id":1,"message":{"message_id":5,"message_thread_id":7,"is_topic_message":true,"from":{"id":9,"first_name":"Á","language_code":"vi"},"chat":{"id":-100,"type":"supergroup","is_forum":true},"date":1,"text":"/status 3","entities":[{"type":"bot_command","offset":0,"length":7}],"reply_to_message":{"message_id":2,"chat":{"id":-100,"type":"supergroup"},"text":"x"}}}`,
		`{"update_id":2,"callback_query":{"id":"q","from":{"id":1,"first_name":"A"},"chat_instance":"c","data":"bvs:1:2:0","message":{"message_id":9,"from":{"id":77,"first_name":"bot","is_bot":true},"chat":{"id":1,"type":"private"},"text":"card","reply_markup":{"inline_keyboard":[[{"text":"b","callback_data":"d"}]]}}}}`,
		`{"update_id":3,"my_chat_member":{"chat":{"id":-100,"type":"group"},"from":{"id":1,"first_name":"A"},"date":1,"old_chat_member":{"user":{"id":77,"first_name":"bot"},"status":"left"},"new_chat_member":{"user":{"id":77,"first_name":"bot"},"status":"member"}}}`,
		`{"update_id":4,"edited_message":{"message_id":5,"chat":{"id":1,"type":"private"},"text":"e"}}`,
	} {
		var got Update
		if err := json.Unmarshal([]byte(raw), &got); err != nil {
			t.Fatal(err)
		}
		var want tgbotapi.Update
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatal(err)
		}
		g, _ := json.Marshal(got.Update)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("decoded\n%s\nwant\n%s", g, w)
		}
	}
}
