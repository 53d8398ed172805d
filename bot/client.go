package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// redactedToken replaces the bot token wherever it would have appeared.
const redactedToken = "<redacted>"

// NewAPI is NewClient followed by a check of the token with getMe; the
// client's Self is the bot getMe described.
func NewAPI(token, endpoint string, timeout time.Duration) (*tgbotapi.BotAPI, error) {
	api, err := NewClient(token, endpoint, timeout)
	if err != nil {
		return nil, err
	}
	resp, err := api.MakeRequest("getMe", nil)
	if err != nil {
		return nil, fmt.Errorf("connect to telegram: %w", toAPIError("getMe", resp, err, token))
	}
	if err := json.Unmarshal(resp.Result, &api.Self); err != nil {
		return nil, fmt.Errorf("connect to telegram: decode getMe: %w", err)
	}
	return api, nil
}

// NewClient builds a client for the Bot API at endpoint (a format with two
// %s verbs, the token then the method; empty means Telegram's public API)
// without calling Telegram: a process can start while Telegram is
// unreachable and learn who it is later with GetMe. Its Self stays empty.
//
// tgbotapi's default HTTP client has no timeout, so one stuck connection
// would hang the bot forever; here every request is bounded by timeout,
// which must be longer than the long-poll timeout or every idle poll would
// fail. Transport errors are scrubbed of the token at the source (net/http
// puts the whole URL, token included, in them) and non-JSON error pages of
// proxies are turned into ordinary Bot API errors so that a 502 is seen as
// a retryable 502 rather than a JSON syntax error.
func NewClient(token, endpoint string, timeout time.Duration) (*tgbotapi.BotAPI, error) {
	if token == "" {
		return nil, errors.New("telegram: empty bot token")
	}
	if endpoint == "" {
		endpoint = tgbotapi.APIEndpoint
	}
	// fmt would append a surplus argument (the token) to a malformed
	// format as "%!(EXTRA …)", so the endpoint is checked up front.
	if strings.Count(endpoint, "%") != 2 || strings.Count(endpoint, "%s") != 2 {
		return nil, fmt.Errorf("telegram: endpoint %q must contain exactly two %%s (token, method)", redact(endpoint, token))
	}
	if timeout <= 0 {
		return nil, errors.New("telegram: HTTP timeout must be positive")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// The sender runs many calls to one host at once; net/http's default of
	// two idle connections per host would reconnect constantly.
	tr.MaxIdleConnsPerHost = 32
	client := &tokenSafeClient{
		client:   &http.Client{Timeout: timeout, Transport: tr},
		token:    token,
		endpoint: endpoint,
	}
	// tgbotapi.NewBotAPIWithClient would call getMe; the fields it sets
	// besides Self are these (its update channel is never used here).
	api := &tgbotapi.BotAPI{Token: token, Client: client, Buffer: 100}
	api.SetAPIEndpoint(endpoint)
	return api, nil
}

// GetMe asks Telegram who the bot is. A token Telegram refuses gives an
// error wrapping ErrTokenRejected (no retry can fix it); other failures
// (network, 5xx, 429) are worth retrying. The call ends when ctx does.
func GetMe(ctx context.Context, api Doer) (User, error) {
	token := ""
	if b, ok := api.(*tgbotapi.BotAPI); ok && b != nil {
		token = b.Token
	}
	resp, err := callContext(ctx, api, token, "getMe", nil)
	if err != nil {
		if IsTokenRejected(err) {
			return User{}, fmt.Errorf("%w: %w", ErrTokenRejected, err)
		}
		return User{}, err
	}
	var u tgbotapi.User
	if err := json.Unmarshal(resp.Result, &u); err != nil {
		return User{}, fmt.Errorf("telegram getMe: decode result: %w", err)
	}
	if u.UserName == "" {
		return User{}, errors.New("telegram getMe: the bot has no username")
	}
	return User{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Username: u.UserName, LanguageCode: u.LanguageCode}, nil
}

// ErrTokenRejected is wrapped by the errors of calls Telegram answered
// with a refusal of the bot token (GetMe, Poller.Run): no retry can fix it.
var ErrTokenRejected = errors.New("telegram rejected the bot token")

// IsTokenRejected reports a 401 (bad token) or 404 (malformed token, which
// makes the URL unknown to Telegram).
func IsTokenRejected(err error) bool {
	if errors.Is(err, ErrTokenRejected) {
		return true
	}
	ae, ok := AsAPIError(err)
	return ok && (ae.Code == 401 || ae.Code == 404)
}

type callResult struct {
	resp *tgbotapi.APIResponse
	err  error
}

// callContext performs one raw Bot API call that ends when ctx does, with
// the token scrubbed from its error. On a client built by NewClient the
// HTTP request itself is cancelled, so Telegram sees the caller go: a long
// poll given up by a replica that lost the poll lease must not linger at
// Telegram, where it would still count as that replica polling. On other
// Doers (tests' fakes) the call runs on its own goroutine and is abandoned.
func callContext(ctx context.Context, api Doer, token, method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error) {
	if b, ok := api.(*tgbotapi.BotAPI); ok && b != nil {
		if c, ok := b.Client.(*tokenSafeClient); ok {
			resp, err := c.request(ctx, method, params)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, toAPIError(method, resp, err, token)
			}
			return resp, nil
		}
	}
	resp, err := awaitCall(ctx, func() (*tgbotapi.APIResponse, error) { return api.MakeRequest(method, params) },
		func(error) bool { return true })
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			return nil, err
		}
		return nil, toAPIError(method, resp, err, token)
	}
	return resp, nil
}

// awaitCall runs call on a goroutine of its own and returns its result,
// or ctx's error once ctx has ended and giveUp accepts that error: the
// call given up runs on, and its result is dropped.
func awaitCall(ctx context.Context, call func() (*tgbotapi.APIResponse, error), giveUp func(error) bool) (*tgbotapi.APIResponse, error) {
	done := make(chan callResult, 1) // buffered: a call given up must not block
	go func() {
		resp, err := call()
		done <- callResult{resp, err}
	}()
	select {
	case r := <-done:
		return r.resp, r.err
	case <-ctx.Done():
		if giveUp(ctx.Err()) {
			return nil, ctx.Err()
		}
		r := <-done
		return r.resp, r.err
	}
}

// tokenSafeClient is the tgbotapi.HTTPClient installed by NewAPI.
type tokenSafeClient struct {
	client   *http.Client
	token    string
	endpoint string
}

// request is tgbotapi's MakeRequest with a context: the same form-encoded
// POST, the same decoding of the envelope into *tgbotapi.Error.
func (c *tokenSafeClient) request(ctx context.Context, method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error) {
	values := url.Values{}
	for k, v := range params {
		values.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf(c.endpoint, c.token, method), strings.NewReader(values.Encode()))
	if err != nil {
		return nil, Scrub(err, c.token)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var ar tgbotapi.APIResponse
	if err := json.NewDecoder(resp.Body).Decode(&ar); err != nil {
		return &ar, Scrub(err, c.token)
	}
	if !ar.Ok {
		var p tgbotapi.ResponseParameters
		if ar.Parameters != nil {
			p = *ar.Parameters
		}
		return &ar, &tgbotapi.Error{Code: ar.ErrorCode, Message: ar.Description, ResponseParameters: p}
	}
	return &ar, nil
}

// Do performs the request, scrubbing the token from transport errors and
// normalising non-JSON error responses.
func (c *tokenSafeClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, Scrub(err, c.token)
	}
	if resp.StatusCode >= 400 && !isJSONContent(resp.Header.Get("Content-Type")) {
		// Keep nothing of the proxy's page: it may be large HTML.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		body, _ := json.Marshal(tgbotapi.APIResponse{
			Ok:          false,
			ErrorCode:   resp.StatusCode,
			Description: http.StatusText(resp.StatusCode),
		})
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Type", "application/json")
	}
	return resp, nil
}

func isJSONContent(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// Scrub returns err with every occurrence of token removed from its text.
//
// net/http and tgbotapi report failures with the request URL, and the Bot
// API puts the token in the URL path ("/bot<token>/sendMessage"), so any
// transport error printed as is would leak the token into logs or chat
// replies. A *url.Error is rebuilt with a scrubbed URL so that callers can
// still inspect it (errors.As, Timeout); anything else whose text contains
// the token is replaced by an error carrying the scrubbed text that still
// answers errors.Is for the original chain (context.Canceled and friends)
// and keeps its timeout and retryable nature. Errors without the token are
// returned unchanged.
func Scrub(err error, token string) error {
	if err == nil || token == "" {
		return err
	}
	if !containsToken(err.Error(), token) {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) && error(ue) == err {
		rebuilt := &url.Error{Op: ue.Op, URL: redact(ue.URL, token), Err: Scrub(ue.Err, token)}
		if !containsToken(rebuilt.Error(), token) {
			return rebuilt
		}
	}
	re := &redactedError{
		msg:       redact(err.Error(), token),
		orig:      err,
		retryable: IsRetryable(err),
	}
	var te interface{ Timeout() bool }
	re.timeout = errors.As(err, &te) && te.Timeout()
	return re
}

// tokenForms lists how the token can appear in text: raw, and escaped the
// way URLs escape it (the colon of "123:ABC" becomes %3A in queries).
func tokenForms(token string) []string {
	forms := []string{token}
	for _, f := range []string{url.PathEscape(token), url.QueryEscape(token)} {
		if f != token {
			forms = append(forms, f)
		}
	}
	return forms
}

func containsToken(s, token string) bool {
	for _, f := range tokenForms(token) {
		if strings.Contains(s, f) {
			return true
		}
	}
	return false
}

func redact(s, token string) string {
	for _, f := range tokenForms(token) {
		s = strings.ReplaceAll(s, f, redactedToken)
	}
	return s
}

// redactedError stands in for an error whose text contained the token. It
// deliberately has no Unwrap: the original error would print the token.
type redactedError struct {
	msg       string
	orig      error
	timeout   bool
	retryable bool
}

func (e *redactedError) Error() string { return e.msg }

// Timeout keeps net.Error-style timeout detection working.
func (e *redactedError) Timeout() bool { return e.timeout }

// Is lets errors.Is see sentinels in the original chain without exposing
// the original error itself.
func (e *redactedError) Is(target error) bool {
	return target != nil && errors.Is(e.orig, target)
}
