package telegramtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
)

// ExecuteWebhookReply runs the method call in the body of a webhook's
// answer ({"method": "sendMessage", ...}), as the real server does with the
// answers to its own deliveries (the stand-in's webhook loop calls it), for
// a client that posts updates to the bot itself (the load tool plays
// Telegram's side of the webhook). A body without a call does nothing. The
// call's result is not reported anywhere but Requests.
func (s *Server) ExecuteWebhookReply(body []byte) {
	var probe struct {
		Method string `json:"method"`
	}
	if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &probe) != nil || probe.Method == "" {
		return
	}
	params := map[string]string{}
	if err := jsonParams(body, params); err != nil {
		return
	}
	delete(params, "method")
	rec := Request{Method: probe.Method, Params: params, Time: s.now()}
	_, err := s.invoke(s.poster.ctx, probe.Method, params, nil, &rec)
	rec.Status = http.StatusOK
	var ae *apiError
	if errors.As(err, &ae) {
		rec.Status, rec.Description, rec.Rejected = ae.code, ae.desc, ae.rejected
	}
	s.record(rec)
}
