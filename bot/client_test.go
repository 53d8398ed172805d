package bot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestScrub(t *testing.T) {
	escaped := url.QueryEscape(testToken)
	tests := []struct {
		name         string
		err          error
		wantText     string
		wantURLError bool // errors.As(*url.Error) still works
		wantCanceled bool // errors.Is(context.Canceled) still works
		wantTimeout  bool
	}{
		{
			name:     "no token",
			err:      errors.New("boom"),
			wantText: "boom",
		},
		{
			name:         "url error",
			err:          &url.Error{Op: "Post", URL: "https://api.telegram.org/bot" + testToken + "/sendMessage", Err: context.DeadlineExceeded},
			wantText:     `Post "https://api.telegram.org/bot<redacted>/sendMessage": context deadline exceeded`,
			wantURLError: true,
			wantTimeout:  true,
		},
		{
			name:         "wrapped url error",
			err:          fmt.Errorf("send: %w", &url.Error{Op: "Post", URL: "http://h/bot" + testToken + "/x", Err: context.Canceled}),
			wantText:     `send: Post "http://h/bot<redacted>/x": context canceled`,
			wantCanceled: true,
		},
		{
			name:     "escaped token",
			err:      errors.New("GET /file?token=" + escaped),
			wantText: "GET /file?token=<redacted>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Scrub(tt.err, testToken)
			if got.Error() != tt.wantText {
				t.Errorf("text = %q, want %q", got.Error(), tt.wantText)
			}
			assertNoToken(t, "scrubbed error", got.Error())
			var ue *url.Error
			if errors.As(got, &ue) != tt.wantURLError {
				t.Errorf("errors.As(*url.Error) = %v, want %v", !tt.wantURLError, tt.wantURLError)
			}
			if ue != nil {
				assertNoToken(t, "unwrapped url.Error", ue.Error())
			}
			if errors.Is(got, context.Canceled) != tt.wantCanceled {
				t.Errorf("errors.Is(context.Canceled) = %v, want %v", !tt.wantCanceled, tt.wantCanceled)
			}
			var te interface{ Timeout() bool }
			if isTimeout := errors.As(got, &te) && te.Timeout(); isTimeout != tt.wantTimeout {
				t.Errorf("timeout = %v, want %v", isTimeout, tt.wantTimeout)
			}
			// Nothing reachable by unwrapping may print the token.
			for e := got; e != nil; e = errors.Unwrap(e) {
				assertNoToken(t, "error chain", e.Error())
			}
		})
	}
	if Scrub(nil, testToken) != nil {
		t.Error("Scrub(nil) != nil")
	}
}

func TestNewAPI(t *testing.T) {
	srv := newScriptServer(t, nil, func(apiCall) reply { return okReply("true") })
	tests := []struct {
		name     string
		token    string
		endpoint string
		timeout  time.Duration
		wantErr  string
	}{
		{"ok", testToken, srv.Endpoint(), time.Minute, ""},
		{"empty token", "", srv.Endpoint(), time.Minute, "empty bot token"},
		{"endpoint without verbs", testToken, srv.srv.URL + "/bot" + testToken, time.Minute, "exactly two %s"},
		{"endpoint with one verb", testToken, srv.srv.URL + "/bot" + testToken + "/%s", time.Minute, "exactly two %s"},
		{"no timeout", testToken, srv.Endpoint(), 0, "timeout"},
		{"rejected token", "999:WRONG", srv.Endpoint(), time.Minute, "401"},
		{"unreachable", testToken, "http://127.0.0.1:1/bot%s/%s", time.Minute, "connect to telegram"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, err := NewAPI(tt.token, tt.endpoint, tt.timeout)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewAPI: %v", err)
				}
				if api.Self.UserName != "test_bot" {
					t.Errorf("Self.UserName = %q, want test_bot", api.Self.UserName)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewAPI error = %v, want one containing %q", err, tt.wantErr)
			}
			assertNoToken(t, "error", err.Error())
			if strings.Contains(err.Error(), "WRONG") {
				t.Errorf("error contains the rejected token: %v", err)
			}
		})
	}
}
