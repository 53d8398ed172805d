package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/internal/clocktest"
)

// Fixture ids used across the tests.
const (
	alice   int64 = 1001 // started the bot
	bob     int64 = 1002 // never started the bot
	carol   int64 = 1003 // started, then blocked the bot
	groupID int64 = -1001234567890
)

// newServer starts a stand-in with alice, bob, carol and a supergroup in
// which alice is creator and carol a member.
func newServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := New(opts...)
	t.Cleanup(s.Close)
	s.AddUser(User{ID: alice, FirstName: "Alice", Username: "alice", LanguageCode: "vi"})
	s.AddUser(User{ID: bob, FirstName: "Bob"})
	s.AddUser(User{ID: carol, FirstName: "Carol"})
	s.StartPrivate(alice)
	s.StartPrivate(carol)
	s.BlockBot(carol)
	s.AddGroup(Chat{ID: groupID, Title: "Khối thi đua"},
		Member{UserID: alice, Status: StatusCreator}, Member{UserID: carol, Status: StatusMember})
	return s
}

// newBot connects the real tgbotapi client to the stand-in.
func newBot(t *testing.T, s *Server) *tgbotapi.BotAPI {
	t.Helper()
	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(s.Token(), s.Endpoint())
	if err != nil {
		t.Fatalf("connect tgbotapi: %v", err)
	}
	return bot
}

// envelope is the decoded answer of a raw call.
type envelope struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// post posts a form-encoded request the way tgbotapi does and decodes the
// answer. params alternate keys and values.
func post(t *testing.T, s *Server, method string, params ...string) (int, envelope) {
	t.Helper()
	return callToken(t, s, s.Token(), method, params...)
}

func callToken(t *testing.T, s *Server, token, method string, params ...string) (int, envelope) {
	t.Helper()
	status, env, err := rawPost(s, token, method, params...)
	if err != nil {
		t.Fatalf("call %s: %v", method, err)
	}
	return status, env
}

// rawPost is post without a *testing.T, for use in goroutines.
func rawPost(s *Server, token, method string, params ...string) (int, envelope, error) {
	if len(params)%2 != 0 {
		return 0, envelope{}, fmt.Errorf("odd number of params")
	}
	vals := url.Values{}
	for i := 0; i < len(params); i += 2 {
		vals.Set(params[i], params[i+1])
	}
	resp, err := http.Post(s.URL()+"/bot"+token+"/"+method, "application/x-www-form-urlencoded", strings.NewReader(vals.Encode()))
	if err != nil {
		return 0, envelope{}, err
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return resp.StatusCode, env, fmt.Errorf("decode answer: %w", err)
	}
	return resp.StatusCode, env, nil
}

// mustOK fails the test unless the call succeeded, and returns its result.
func mustOK(t *testing.T, s *Server, method string, params ...string) json.RawMessage {
	t.Helper()
	status, env := post(t, s, method, params...)
	if status != http.StatusOK || !env.OK {
		t.Fatalf("%s: got %d %q, want success", method, status, env.Description)
	}
	return env.Result
}

// testCtx is a context bounded generously; tests never rely on its timing.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is a settable clock for WithClock.
// fakeClock is the step clock the stand-in under test reads.
type fakeClock = clocktest.Clock

func newFakeClock() *fakeClock { return clocktest.New(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)) }
