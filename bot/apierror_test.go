package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
)

func TestAsAPIErrorConvertsTGBotAPIErrors(t *testing.T) {
	want := &APIError{Code: 429, Description: "Too Many Requests: retry after 5", RetryAfter: 5 * time.Second}
	tg := tgbotapi.Error{Code: 429, Message: "Too Many Requests: retry after 5", ResponseParameters: tgbotapi.ResponseParameters{RetryAfter: 5}}
	tests := []struct {
		name string
		err  error
	}{
		{"pointer", &tg},
		{"value", tg},
		{"wrapped pointer", fmt.Errorf("send: %w", &tg)},
		{"already converted", fmt.Errorf("send: %w", want)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := AsAPIError(tt.err)
			if !ok {
				t.Fatalf("AsAPIError(%v) found nothing", tt.err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
		})
	}
	if _, ok := AsAPIError(errors.New("plain")); ok {
		t.Error("AsAPIError found an API error in a plain error")
	}
	if _, ok := AsAPIError(nil); ok {
		t.Error("AsAPIError(nil) found an API error")
	}
}

func TestToAPIErrorTakesCodeFromUploadResponse(t *testing.T) {
	// tgbotapi's UploadFiles leaves Error.Code at zero.
	err := toAPIError("sendDocument",
		&tgbotapi.APIResponse{ErrorCode: 403, Description: "Forbidden: bot was blocked by the user"},
		&tgbotapi.Error{Message: "Forbidden: bot was blocked by the user"}, testToken)
	want := &APIError{Method: "sendDocument", Code: 403, Description: "Forbidden: bot was blocked by the user"}
	if diff := cmp.Diff(error(want), err, cmp.Comparer(func(a, b error) bool { return a.Error() == b.Error() })); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	if !IsBlocked(err) {
		t.Error("IsBlocked = false for an upload to a blocked user")
	}
}

func TestAPIErrorMessage(t *testing.T) {
	tests := []struct {
		err  *APIError
		want string
	}{
		{&APIError{Method: "sendMessage", Code: 403, Description: "Forbidden: bot was blocked by the user"},
			"telegram sendMessage: 403 Forbidden: bot was blocked by the user"},
		{&APIError{Method: "sendMessage", Code: 429, Description: "Too Many Requests", RetryAfter: 3 * time.Second},
			"telegram sendMessage: 429 Too Many Requests (retry after 3s)"},
		{&APIError{Code: 400, Description: "Bad Request: group chat was upgraded", MigrateToChatID: -100123},
			"telegram: 400 Bad Request: group chat was upgraded (migrated to chat -100123)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestErrorHelpers(t *testing.T) {
	api := func(code int, desc string) error {
		return &tgbotapi.Error{Code: code, Message: desc}
	}
	type verdict struct {
		Blocked, NotModified, ChatNotFound, TooMany, Retryable bool
	}
	tests := []struct {
		name string
		err  error
		want verdict
	}{
		{"blocked", api(403, "Forbidden: bot was blocked by the user"), verdict{Blocked: true}},
		{"deactivated", api(403, "Forbidden: user is deactivated"), verdict{Blocked: true}},
		{"never started", api(403, "Forbidden: bot can't initiate conversation with a user"), verdict{Blocked: true}},
		{"kicked", api(403, "Forbidden: bot was kicked from the supergroup chat"), verdict{Blocked: true}},
		{"no rights is not blocked", api(403, "Forbidden: not enough rights to send text messages to the chat"), verdict{}},
		{"not modified", api(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same"), verdict{NotModified: true}},
		{"chat not found", api(400, "Bad Request: chat not found"), verdict{ChatNotFound: true}},
		{"other 400", api(400, "Bad Request: message text is empty"), verdict{}},
		{"401", api(401, "Unauthorized"), verdict{}},
		{"404", api(404, "Not Found"), verdict{}},
		{"409", api(409, "Conflict"), verdict{}},
		{"429", api(429, "Too Many Requests"), verdict{TooMany: true, Retryable: true}},
		{"500", api(500, "Internal Server Error"), verdict{Retryable: true}},
		{"502 wrapped", fmt.Errorf("x: %w", api(502, "Bad Gateway")), verdict{Retryable: true}},
		{"connection refused", &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, verdict{Retryable: true}},
		{"timeout", &url.Error{Op: "Post", URL: "http://x", Err: timeoutErr{}}, verdict{Retryable: true}},
		{"unexpected EOF", fmt.Errorf("decode: %w", io.ErrUnexpectedEOF), verdict{Retryable: true}},
		{"cancelled", &url.Error{Op: "Post", URL: "http://x", Err: context.Canceled}, verdict{}},
		{"scrubbed timeout", Scrub(fmt.Errorf("post bot%s: %w", testToken, timeoutErr{}), testToken), verdict{Retryable: true}},
		{"plain", errors.New("something else"), verdict{}},
		{"nil", nil, verdict{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, tooMany := IsTooManyRequests(tt.err)
			got := verdict{
				Blocked:      IsBlocked(tt.err),
				NotModified:  IsNotModified(tt.err),
				ChatNotFound: IsChatNotFound(tt.err),
				TooMany:      tooMany,
				Retryable:    IsRetryable(tt.err),
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
		})
	}
}
