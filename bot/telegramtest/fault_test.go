package telegramtest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

func TestInjectedFaults(t *testing.T) {
	type attempt struct {
		method     string
		wantStatus int
		wantDesc   string
		wantRetry  int
	}
	send := func(status int, desc string) attempt {
		return attempt{method: "sendMessage", wantStatus: status, wantDesc: desc}
	}
	tests := []struct {
		name     string
		method   string
		fault    Fault
		attempts []attempt
		wantSent int
	}{
		{
			name:     "500 once, then success",
			method:   "sendMessage",
			fault:    Fault{Status: 500},
			attempts: []attempt{send(500, "Internal Server Error"), send(200, "")},
			wantSent: 1,
		},
		{
			name:     "502 twice",
			method:   "sendMessage",
			fault:    Fault{Status: 502, Times: 2},
			attempts: []attempt{send(502, "Bad Gateway"), send(502, "Bad Gateway"), send(200, "")},
			wantSent: 1,
		},
		{
			name:   "429 with retry_after",
			method: "sendMessage",
			fault:  Fault{Status: 429, RetryAfter: 7},
			attempts: []attempt{
				{method: "sendMessage", wantStatus: 429, wantDesc: "Too Many Requests: retry after 7", wantRetry: 7},
				send(200, ""),
			},
			wantSent: 1,
		},
		{
			name:     "other methods unaffected",
			method:   "editMessageText",
			fault:    Fault{Status: 500},
			attempts: []attempt{send(200, "")},
			wantSent: 1,
		},
		{
			name:   "any method",
			method: "",
			fault:  Fault{Status: 500, Description: "Internal Server Error: restart"},
			attempts: []attempt{
				{method: "getMe", wantStatus: 500, wantDesc: "Internal Server Error: restart"},
				send(200, ""),
			},
			wantSent: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.InjectFault(tt.method, tt.fault)
			for i, a := range tt.attempts {
				params := []string{"chat_id", "1001", "text", "x"}
				if a.method != "sendMessage" {
					params = nil
				}
				status, env := post(t, s, a.method, params...)
				if status != a.wantStatus || (a.wantDesc != "" && env.Description != a.wantDesc) || env.Parameters.RetryAfter != a.wantRetry {
					t.Errorf("attempt %d: %d %q retry %d, want %d %q retry %d", i, status, env.Description,
						env.Parameters.RetryAfter, a.wantStatus, a.wantDesc, a.wantRetry)
				}
			}
			if got := len(s.BotMessages(alice)); got != tt.wantSent {
				t.Errorf("messages stored = %d, want %d: faulted calls must not change state", got, tt.wantSent)
			}
		})
	}
}

func TestFaultDelayLetsTheClientTimeOut(t *testing.T) {
	s := newServer(t)
	s.InjectFault("sendMessage", Fault{Delay: time.Hour})
	bot, err := tgbotapi.NewBotAPIWithClient(s.Token(), s.Endpoint(), &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	patient := bot.Client
	bot.Client = &http.Client{Transport: giveUpWhenHeld{s: s, method: "sendMessage"}}
	_, err = bot.Send(tgbotapi.NewMessage(alice, "slow"))
	var ue interface{ Timeout() bool }
	if !errors.As(err, &ue) || !ue.Timeout() {
		t.Fatalf("error = %v, want a client timeout", err)
	}
	// The abandoned call has no effect; the next one goes through.
	waitFor(t, s, func() bool {
		r := s.Requests()
		return len(r) > 0 && r[len(r)-1].Method == "sendMessage"
	})
	bot.Client = patient
	if _, err := bot.Send(tgbotapi.NewMessage(alice, "fast")); err != nil {
		t.Fatalf("second send: %v", err)
	}
	msgs := s.BotMessages(alice)
	if len(msgs) != 1 || msgs[0].Text != "fast" {
		t.Errorf("messages = %+v, want only the second", msgs)
	}
}

// giveUpWhenHeld is a client that times out on a call of method as soon as
// the stand-in holds it. A client timeout of a fixed length could run out
// on a loaded machine before the request even reached the stand-in (seen
// once in twenty full runs with 50 ms), leaving it nothing to abandon.
type giveUpWhenHeld struct {
	s      *Server
	method string
}

// clientTimeout is the error of a call the client gave up on.
type clientTimeout struct{}

func (clientTimeout) Error() string { return "client timeout: gave up waiting for the answer" }
func (clientTimeout) Timeout() bool { return true }

func (g giveUpWhenHeld) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	defer cancel(nil)
	go func() {
		for {
			ch := g.s.changes()
			if g.s.InFlight(g.method) > 0 {
				cancel(clientTimeout{})
				return
			}
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
		}
	}()
	resp, err := (&http.Transport{}).RoundTrip(req.WithContext(ctx))
	if errors.Is(context.Cause(ctx), clientTimeout{}) {
		return nil, clientTimeout{}
	}
	return resp, err
}

func TestFaultDelayWithPatientClient(t *testing.T) {
	s := newServer(t)
	s.InjectFault("getMe", Fault{Delay: time.Millisecond})
	newBot(t, s) // calls getMe
	if r := s.Requests(); len(r) != 1 || r[0].Status != http.StatusOK {
		t.Errorf("requests = %+v, want one successful getMe", r)
	}
}

func TestFaultWithRawBody(t *testing.T) {
	s := newServer(t)
	bot := newBot(t, s)
	s.InjectFault("sendMessage", Fault{Status: 502, Body: "<html><body>502 Bad Gateway</body></html>"})
	_, err := bot.Send(tgbotapi.NewMessage(alice, "x"))
	var te *tgbotapi.Error
	if err == nil || errors.As(err, &te) {
		t.Errorf("error = %v, want a decoding error (not a Bot API error)", err)
	}
}

func TestInjectFaultUnknownMethodPanics(t *testing.T) {
	s := newServer(t)
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "sendMessages") {
			t.Errorf("recover() = %v, want a panic naming the method", r)
		}
	}()
	s.InjectFault("sendMessages", Fault{Status: 500})
}

func TestCloseEndsWaits(t *testing.T) {
	s := New()
	s.AddUser(User{ID: alice})
	done := make(chan error, 1)
	go func() {
		_, err := s.WaitBotMessage(context.Background(), alice, nil)
		done <- err
	}()
	s.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("wait error = %v, want ErrClosed", err)
	}
}
