package bot

import (
	"encoding/json"
	"testing"
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
