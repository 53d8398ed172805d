package telegramtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
)

// updateIDs polls with the given parameters and returns the update ids.
func updateIDs(t *testing.T, s *Server, params ...string) []int {
	t.Helper()
	var ups []struct {
		UpdateID int `json:"update_id"`
	}
	if err := json.Unmarshal(mustOK(t, s, "getUpdates", params...), &ups); err != nil {
		t.Fatalf("decode updates: %v", err)
	}
	ids := []int{}
	for _, u := range ups {
		ids = append(ids, u.UpdateID)
	}
	return ids
}

// waitPolling blocks until a getUpdates request is held by the server.
func waitPolling(t *testing.T, s *Server, old *pollState) *pollState {
	t.Helper()
	ctx := testCtx(t)
	for {
		s.mu.Lock()
		p, ch := s.st.poll, s.changed
		s.mu.Unlock()
		if p != nil && p != old {
			return p
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatal("no getUpdates request arrived")
		}
	}
}

func TestGetUpdatesOffsetAndLimit(t *testing.T) {
	s := newServer(t)
	for i := range 5 {
		s.SendText(alice, alice, "m"+strconv.Itoa(i))
	}
	tests := []struct {
		name        string
		params      []string
		wantIDs     []int
		wantPending int
	}{
		{name: "no offset returns without confirming", params: nil, wantIDs: []int{1, 2, 3, 4, 5}, wantPending: 5},
		{name: "again, the same updates", params: nil, wantIDs: []int{1, 2, 3, 4, 5}, wantPending: 5},
		{name: "limit", params: []string{"limit", "2"}, wantIDs: []int{1, 2}, wantPending: 5},
		{name: "offset confirms earlier updates", params: []string{"offset", "3"}, wantIDs: []int{3, 4, 5}, wantPending: 3},
		{name: "negative offset keeps the last ones", params: []string{"offset", "-1"}, wantIDs: []int{5}, wantPending: 1},
		{name: "offset past the last confirms all", params: []string{"offset", "6"}, wantIDs: []int{}, wantPending: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.wantIDs, updateIDs(t, s, tt.params...)); diff != "" {
				t.Errorf("update ids (-want +got):\n%s", diff)
			}
			if got := s.PendingUpdates(); got != tt.wantPending {
				t.Errorf("pending = %d, want %d", got, tt.wantPending)
			}
		})
	}
}

func TestGetUpdatesAllowedUpdates(t *testing.T) {
	s := newServer(t)
	m := s.SendText(alice, alice, "text")
	s.PressButton(alice, alice, m.MessageID, "x")
	if diff := cmp.Diff([]int{2}, updateIDs(t, s, "allowed_updates", `["callback_query"]`)); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	// The filter sticks until changed; the message update was dropped.
	s.SendText(alice, alice, "more")
	if diff := cmp.Diff([]int{2}, updateIDs(t, s)); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	// An empty list restores the default kinds.
	updateIDs(t, s, "allowed_updates", "[]")
	s.SendText(alice, alice, "after reset")
	if diff := cmp.Diff([]int{2, 4}, updateIDs(t, s)); diff != "" {
		t.Errorf("after reset (-want +got):\n%s", diff)
	}
}

func TestLongPollWakesOnNewUpdate(t *testing.T) {
	s := newServer(t)
	bot := newBot(t, s)
	type result struct {
		ups []tgbotapi.Update
		err error
	}
	done := make(chan result, 1)
	go func() {
		ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 60})
		done <- result{ups, err}
	}()
	waitPolling(t, s, nil)
	s.SendText(groupID, alice, "/status")
	r := <-done
	if r.err != nil || len(r.ups) != 1 || r.ups[0].Message.Text != "/status" {
		t.Fatalf("long poll = %+v, %v; want the new message", r.ups, r.err)
	}
}

func TestSecondPollerTerminatesTheFirst(t *testing.T) {
	s := newServer(t)
	type answer struct {
		status int
		env    envelope
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		status, env, err := rawPost(s, s.Token(), "getUpdates", "timeout", "60")
		done <- answer{status, env, err}
	}()
	waitPolling(t, s, nil)
	mustOK(t, s, "getUpdates") // the second instance
	a := <-done
	want := "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	if a.err != nil || a.status != http.StatusConflict || a.env.ErrorCode != http.StatusConflict || a.env.Description != want {
		t.Errorf("first poller got %d %d %q (%v), want 409 %q", a.status, a.env.ErrorCode, a.env.Description, a.err, want)
	}
}

func TestGetUpdatesWhileWebhookIsSet(t *testing.T) {
	s := newServer(t)
	mustOK(t, s, "setWebhook", "url", "https://example.com/hook")
	status, env := post(t, s, "getUpdates")
	want := "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	if status != http.StatusConflict || env.Description != want {
		t.Errorf("got %d %q, want 409 %q", status, env.Description, want)
	}
	mustOK(t, s, "deleteWebhook")
	mustOK(t, s, "getUpdates")
}

func TestSettingWebhookEndsALongPoll(t *testing.T) {
	s := newServer(t)
	done := make(chan int, 1)
	go func() {
		status, _, _ := rawPost(s, s.Token(), "getUpdates", "timeout", "60")
		done <- status
	}()
	waitPolling(t, s, nil)
	mustOK(t, s, "setWebhook", "url", "https://example.com/hook")
	if got := <-done; got != http.StatusConflict {
		t.Errorf("poll status = %d, want 409", got)
	}
}

func TestEnqueueUpdate(t *testing.T) {
	s := newServer(t)
	first := s.EnqueueUpdate(map[string]any{"message": map[string]any{"message_id": 1, "date": 0,
		"chat": map[string]any{"id": alice, "type": "private"}, "text": "raw"}})
	replay := s.EnqueueUpdate(json.RawMessage(`{"update_id":` + strconv.Itoa(first) + `,"message":{"message_id":1,"date":0,"chat":{"id":1001,"type":"private"},"text":"raw"}}`))
	next := s.EnqueueUpdate(`{"callback_query":{"id":"q","from":{"id":1001,"is_bot":false,"first_name":"A"},"chat_instance":"c","data":"d"}}`)
	if replay != first || next != first+1 {
		t.Errorf("ids = %d, %d, %d; want %d twice then %d", first, replay, next, first, first+1)
	}
	if diff := cmp.Diff([]int{first, first, first + 1}, updateIDs(t, s)); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
}

func TestRedeliverReachesABotWhoseOffsetIsPast(t *testing.T) {
	s := newServer(t)
	m := s.SendText(alice, alice, "/start")
	if m.UpdateID != 1 {
		t.Fatalf("UpdateID = %d, want 1", m.UpdateID)
	}
	updateIDs(t, s)
	updateIDs(t, s, "offset", "2") // handled and confirmed
	for i := 0; i < 2; i++ {
		if !s.Redeliver(m.UpdateID) {
			t.Fatalf("Redeliver #%d refused a known update", i+1)
		}
	}
	if s.Redeliver(99) {
		t.Error("Redeliver accepted an update never issued")
	}
	if diff := cmp.Diff([]int{1, 1}, updateIDs(t, s, "offset", "2")); diff != "" {
		t.Errorf("redelivered ids (-want +got):\n%s", diff)
	}
	// Once returned, the offset confirms them like any other.
	if diff := cmp.Diff([]int{}, updateIDs(t, s, "offset", "2")); diff != "" {
		t.Errorf("after confirmation (-want +got):\n%s", diff)
	}
}

func TestInFlightCountsHeldCalls(t *testing.T) {
	s := newServer(t)
	s.InjectFault("sendMessage", Fault{Delay: time.Hour})
	go func() { _, _, _ = rawPost(s, s.Token(), "sendMessage", "chat_id", "1001", "text", "x") }() // ends with the server
	waitFor(t, s, func() bool { return s.InFlight("sendMessage") == 1 })
	if n := s.InFlight(""); n != 1 {
		t.Errorf("InFlight(\"\") = %d, want 1", n)
	}
	if n := s.InFlight("getMe"); n != 0 {
		t.Errorf("InFlight(getMe) = %d, want 0", n)
	}
}

func TestMostInFlightKeepsThePeak(t *testing.T) {
	s := newServer(t)
	s.InjectFault("sendMessage", Fault{Delay: time.Hour, Times: 2})
	for range 2 {
		go func() { _, _, _ = rawPost(s, s.Token(), "sendMessage", "chat_id", "1001", "text", "x") }() // ends with the server
	}
	waitFor(t, s, func() bool { return s.InFlight("sendMessage") == 2 })
	if _, _, err := rawPost(s, s.Token(), "getMe"); err != nil {
		t.Fatal(err)
	}
	if n := s.MostInFlight("sendMessage"); n != 2 {
		t.Errorf("MostInFlight(sendMessage) = %d, want 2", n)
	}
	if n := s.MostInFlight("getMe"); n != 1 {
		t.Errorf("MostInFlight(getMe) = %d after one call, want 1", n)
	}
	if n := s.MostInFlight("getChat"); n != 0 {
		t.Errorf("MostInFlight(getChat) = %d, never called, want 0", n)
	}
}
