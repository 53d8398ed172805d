package telegramtest

import (
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Forum supergroups: a user's message in a topic carries the topic; the
// bot posts into a topic with message_thread_id, which must name one of
// the chat's topics; a reply goes to the topic of the message it answers.
func TestForumTopics(t *testing.T) {
	s := newServer(t)
	const forum, plain = -1001900, -1001901
	s.AddUser(User{ID: 5, FirstName: "An"})
	s.AddGroup(Chat{ID: forum, Title: "Khối", IsForum: true}, Member{UserID: 5, Status: StatusMember})
	s.AddGroup(Chat{ID: plain, Title: "Nhóm"}, Member{UserID: 5, Status: StatusMember})
	topic := s.AddTopic(forum, "Thi đua")

	cmd := s.SendTextInTopic(forum, 5, topic, "/status")
	if cmd.Thread != topic {
		t.Fatalf("the user's message is in topic %d, want %d", cmd.Thread, topic)
	}
	var ups []struct {
		Message struct {
			ThreadID int  `json:"message_thread_id"`
			IsTopic  bool `json:"is_topic_message"`
			Chat     struct {
				IsForum bool `json:"is_forum"`
			} `json:"chat"`
		} `json:"message"`
	}
	if err := json.Unmarshal(mustOK(t, s, "getUpdates"), &ups); err != nil || len(ups) != 1 {
		t.Fatalf("getUpdates: %v (%d updates)", err, len(ups))
	}
	if m := ups[0].Message; m.ThreadID != topic || !m.IsTopic || !m.Chat.IsForum {
		t.Errorf("the update reads %+v, want topic %d of a forum", m, topic)
	}

	chat := strconv.Itoa(forum)
	mustOK(t, s, "sendMessage", "chat_id", chat, "message_thread_id", strconv.Itoa(topic), "text", "in the topic")
	mustOK(t, s, "sendMessage", "chat_id", chat, "text", "in General")
	mustOK(t, s, "sendMessage", "chat_id", chat, "text", "a reply",
		"reply_parameters", `{"message_id":`+strconv.Itoa(cmd.MessageID)+`,"allow_sending_without_reply":true}`)
	got := map[string]int{}
	for _, m := range s.BotMessages(forum) {
		got[m.Text] = m.Thread
	}
	if want := map[string]int{"in the topic": topic, "in General": 0, "a reply": topic}; !maps.Equal(got, want) {
		t.Errorf("threads of the bot's messages %v, want %v", got, want)
	}
	for _, tc := range []struct {
		chat, thread string
	}{{chat, "999"}, {strconv.Itoa(plain), strconv.Itoa(topic)}} {
		status, env := post(t, s, "sendMessage", "chat_id", tc.chat, "message_thread_id", tc.thread, "text", "x")
		if status != http.StatusBadRequest || !strings.Contains(env.Description, "message thread not found") {
			t.Errorf("topic %s of chat %s: %d %q, want 400 message thread not found", tc.thread, tc.chat, status, env.Description)
		}
	}
}
