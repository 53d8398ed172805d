package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// APIError is a refusal by the Bot API (a response with "ok": false). It
// carries the data callers act on — the code, Telegram's description, how
// long flood control wants us to wait, and where a migrated group went — so
// nobody has to parse tgbotapi's bare string errors.
type APIError struct {
	// Method is the Bot API method that was called, e.g. "sendMessage";
	// empty when the error was converted without knowing the call.
	Method string
	// Code is Telegram's error_code, usually the HTTP status.
	Code int
	// Description is Telegram's human-readable reason, e.g.
	// "Forbidden: bot was blocked by the user".
	Description string
	// RetryAfter is set on 429 Too Many Requests.
	RetryAfter time.Duration
	// MigrateToChatID is set when a group was upgraded to a supergroup: the
	// call must be repeated with this chat id, and stored ids updated.
	MigrateToChatID int64
}

// Error describes the refusal. It never contains the bot token: Telegram's
// descriptions do not echo the URL.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("telegram")
	if e.Method != "" {
		b.WriteString(" ")
		b.WriteString(e.Method)
	}
	fmt.Fprintf(&b, ": %d", e.Code)
	if e.Description != "" {
		b.WriteString(" ")
		b.WriteString(e.Description)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.MigrateToChatID != 0 {
		fmt.Fprintf(&b, " (migrated to chat %d)", e.MigrateToChatID)
	}
	return b.String()
}

// AsAPIError finds a Bot API refusal in err's chain, whether it is already an
// *APIError or still tgbotapi's Error (pointer or value), so the helpers
// below work on errors from the sender and from a bare tgbotapi call alike.
func AsAPIError(err error) (*APIError, bool) {
	if err == nil {
		return nil, false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae, true
	}
	var pe *tgbotapi.Error
	if errors.As(err, &pe) && pe != nil {
		return fromTGError("", *pe, nil), true
	}
	var ve tgbotapi.Error
	if errors.As(err, &ve) {
		return fromTGError("", ve, nil), true
	}
	return nil, false
}

// fromTGError converts tgbotapi's error. tgbotapi leaves Code at zero for
// multipart uploads, so the code is taken from the response when it has one.
func fromTGError(method string, e tgbotapi.Error, resp *tgbotapi.APIResponse) *APIError {
	code := e.Code
	if code == 0 && resp != nil {
		code = resp.ErrorCode
	}
	desc := e.Message
	if desc == "" && resp != nil {
		desc = resp.Description
	}
	return &APIError{
		Method:          method,
		Code:            code,
		Description:     desc,
		RetryAfter:      time.Duration(e.RetryAfter) * time.Second,
		MigrateToChatID: e.MigrateToChatID,
	}
}

// toAPIError turns the outcome of one tgbotapi call into the error that
// leaves the package: an *APIError for refusals (with method and code
// filled in), otherwise the token-scrubbed transport error wrapped with the
// method name. It returns nil for a nil err.
func toAPIError(method string, resp *tgbotapi.APIResponse, err error, token string) error {
	if err == nil {
		return nil
	}
	var pe *tgbotapi.Error
	if errors.As(err, &pe) && pe != nil {
		return fromTGError(method, *pe, resp)
	}
	var ve tgbotapi.Error
	if errors.As(err, &ve) {
		return fromTGError(method, ve, resp)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Method == "" {
			cp := *ae
			cp.Method = method
			return &cp
		}
		return ae
	}
	return fmt.Errorf("telegram %s: %w", method, Scrub(err, token))
}

// hasDescription reports whether err is a refusal with the given code whose
// description contains one of the phrases (case-insensitive). Telegram's
// codes are too coarse on their own: 400 covers both "message is not
// modified" and "chat not found".
func hasDescription(err error, code int, phrases ...string) bool {
	ae, ok := AsAPIError(err)
	if !ok || ae.Code != code {
		return false
	}
	d := strings.ToLower(ae.Description)
	for _, p := range phrases {
		if strings.Contains(d, p) {
			return true
		}
	}
	return false
}

// IsBlocked reports whether the user or chat can no longer be written to:
// the user blocked the bot, deleted their account, never started a private
// chat with it, or the bot was removed from the group. Callers should stop
// messaging that chat (e.g. mark the delegate unreachable) rather than retry.
func IsBlocked(err error) bool {
	return hasDescription(err, 403,
		"blocked",
		"deactivated",
		"can't initiate conversation",
		"kicked",
		"bot is not a member",
		"chat was deleted",
	)
}

// IsNotModified reports whether an edit was refused because the message
// already looks like that. It is harmless — typically a double click on a
// button — and callers should treat it as success.
func IsNotModified(err error) bool {
	return hasDescription(err, 400, "message is not modified")
}

// IsChatNotFound reports whether Telegram does not know the chat, e.g. a
// stored chat id that was never valid or a group that was deleted.
func IsChatNotFound(err error) bool {
	return hasDescription(err, 400, "chat not found")
}

// IsTooManyRequests reports whether Telegram's flood control refused the
// call, and how long it asked to wait.
func IsTooManyRequests(err error) (time.Duration, bool) {
	ae, ok := AsAPIError(err)
	if !ok || ae.Code != 429 {
		return 0, false
	}
	return ae.RetryAfter, true
}

// IsRetryable reports whether repeating the same call later may succeed:
// Telegram's own failures (5xx), flood control (429, after its wait),
// network errors and timeouts. Refusals about the request itself (400, 401,
// 403, 404, 409) and a cancelled context are final.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if ae, ok := AsAPIError(err); ok {
		return ae.Code == 429 || ae.Code >= 500
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var re *redactedError
	if errors.As(err, &re) {
		return re.retryable
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue)
}
