package telegramtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

func init() {
	handlers["setWebhook"] = handleSetWebhook
	handlers["deleteWebhook"] = handleDeleteWebhook
	handlers["getWebhookInfo"] = handleGetWebhookInfo
}

// webhookState is the webhook set by setWebhook.
type webhookState struct {
	url            string
	secret         string
	maxConnections int
	allowed        []string
	ipAddress      string
	lastErrorDate  time.Time
	lastErrorMsg   string
	// gen changes with every setWebhook, so that a delivery started for
	// an older webhook does not touch the new one's state.
	gen int
}

// secretHeader carries setWebhook's secret_token on every delivery.
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// webhookPoster posts updates to the bot's webhook. Server.Close cancels
// its context, which ends a delivery under way and the calls made by the
// webhook's answers.
type webhookPoster struct {
	client *http.Client
	ctx    context.Context
	cancel context.CancelFunc
}

// newWebhookPoster makes a poster whose deliveries take at most timeout.
func newWebhookPoster(timeout time.Duration) webhookPoster {
	ctx, cancel := context.WithCancel(context.Background())
	return webhookPoster{
		client: &http.Client{Timeout: timeout, Transport: &http.Transport{}},
		ctx:    ctx,
		cancel: cancel,
	}
}

func handleSetWebhook(s *Server, c *call) (reply, error) {
	raw := c.str("url")
	var allowed []string
	if err := c.decode("allowed_updates", &allowed); err != nil {
		return reply{}, err
	}
	if raw != "" {
		// The real server wants HTTPS on ports 443, 80, 88 or 8443; the
		// stand-in also takes plain HTTP so tests can use httptest.
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return reply{}, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.bool("drop_pending_updates") {
		s.st.updates = nil
	}
	if raw == "" {
		return s.deleteWebhookLocked(), nil
	}
	if c.has("allowed_updates") {
		s.st.setAllowedLocked(allowed)
	}
	old := s.st.webhook
	s.st.webhookGen++
	s.st.webhook = &webhookState{
		url:            raw,
		secret:         c.str("secret_token"),
		maxConnections: 40,
		allowed:        allowed,
		ipAddress:      c.str("ip_address"),
		gen:            s.st.webhookGen,
	}
	if c.has("max_connections") {
		s.st.webhook.maxConnections = c.int("max_connections")
	}
	s.bumpLocked()
	if old != nil && old.url == raw {
		return reply{result: true, description: "Webhook is already set"}, nil
	}
	return reply{result: true, description: "Webhook was set"}, nil
}

func (s *Server) deleteWebhookLocked() reply {
	if s.st.webhook == nil {
		return reply{result: true, description: "Webhook is already deleted"}
	}
	s.st.webhook = nil
	s.bumpLocked()
	return reply{result: true, description: "Webhook was deleted"}
}

func handleDeleteWebhook(s *Server, c *call) (reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.bool("drop_pending_updates") {
		s.st.updates = nil
	}
	return s.deleteWebhookLocked(), nil
}

type wWebhookInfo struct {
	URL                  string   `json:"url"`
	HasCustomCertificate bool     `json:"has_custom_certificate"`
	PendingUpdateCount   int      `json:"pending_update_count"`
	IPAddress            string   `json:"ip_address,omitempty"`
	LastErrorDate        int64    `json:"last_error_date,omitempty"`
	LastErrorMessage     string   `json:"last_error_message,omitempty"`
	MaxConnections       int      `json:"max_connections,omitempty"`
	AllowedUpdates       []string `json:"allowed_updates,omitempty"`
}

func handleGetWebhookInfo(s *Server, _ *call) (reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := wWebhookInfo{PendingUpdateCount: len(s.st.updates)}
	if wh := s.st.webhook; wh != nil {
		info.URL = wh.url
		info.IPAddress = wh.ipAddress
		info.MaxConnections = wh.maxConnections
		info.AllowedUpdates = wh.allowed
		info.LastErrorMessage = wh.lastErrorMsg
		if !wh.lastErrorDate.IsZero() {
			info.LastErrorDate = wh.lastErrorDate.Unix()
		}
	}
	return reply{result: info}, nil
}

// WebhookURL is the URL the bot set with setWebhook, "" when none.
func (s *Server) WebhookURL() string {
	u, _ := s.WebhookInfo()
	return u
}

// RedirectWebhook makes deliveries go to target instead of the URL the bot
// set — the public URL a test cannot serve — while getWebhookInfo keeps
// showing the bot's URL. It lasts across setWebhook calls; "" ends it.
func (s *Server) RedirectWebhook(target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.webhookTarget = target
	s.bumpLocked()
}

// WebhookInfo reports the webhook URL ("" when none) and the last delivery
// error, as getWebhookInfo would.
func (s *Server) WebhookInfo() (url, lastError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if wh := s.st.webhook; wh != nil {
		return wh.url, wh.lastErrorMsg
	}
	return "", ""
}

// webhookLoop delivers queued updates to the webhook one at a time, in
// order. A failed delivery (network error, timeout, non-2xx) is recorded
// for getWebhookInfo and retried after a backoff that doubles from whMin
// to whMax; the update stays queued meanwhile.
func (s *Server) webhookLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		s.mu.Lock()
		var (
			up  *pendingUpdate
			whc webhookState
		)
		if wh := s.st.webhook; wh != nil {
			whc = *wh
			if s.st.webhookTarget != "" {
				whc.url = s.st.webhookTarget
			}
			kept := s.st.updates[:0]
			for _, u := range s.st.updates {
				if s.st.allowedLocked(u.kind) {
					kept = append(kept, u)
				}
			}
			s.st.updates = kept
			if len(kept) > 0 {
				u := kept[0]
				up = &u
			}
		}
		changed := s.changed
		s.mu.Unlock()

		if up == nil {
			select {
			case <-changed:
				continue
			case <-s.closing:
				return
			}
		}
		body, err := s.poster.deliver(whc.url, whc.secret, up.raw)
		s.mu.Lock()
		wh := s.st.webhook
		current := wh != nil && wh.gen == whc.gen
		if err == nil {
			backoff = 0
			if current {
				for i, u := range s.st.updates {
					if u.id == up.id {
						s.st.updates = append(s.st.updates[:i], s.st.updates[i+1:]...)
						break
					}
				}
			}
		} else {
			if current {
				wh.lastErrorDate = s.now()
				wh.lastErrorMsg = err.Error()
			}
			backoff = min(max(backoff*2, s.whMin), s.whMax)
		}
		s.bumpLocked()
		s.mu.Unlock()

		if err == nil {
			s.ExecuteWebhookReply(body)
			continue
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-s.closing:
			t.Stop()
			return
		}
	}
}

// deliver posts one update and returns the response body of a 2xx answer.
// Errors use the wording getWebhookInfo shows for them.
func (p webhookPoster) deliver(target, secret string, update []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(p.ctx, http.MethodPost, target, bytes.NewReader(update))
	if err != nil {
		return nil, officialf("Failed to resolve host: Name or service not known")
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(secretHeader, secret)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, officialf("Read timeout expired")
		}
		if errors.Is(err, context.Canceled) {
			return nil, officialf("Connection closed")
		}
		return nil, officialf("Connection refused")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, officialf("Wrong response from the webhook: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return body, nil
}
