package telegramtest

// ExecuteWebhookReply runs the call in the body of a webhook's answer, as
// the real server does with the answers to its own deliveries, for a
// client that posts updates to the bot itself (the load tool plays
// Telegram's side of the webhook). A body without a call does nothing.
func (s *Server) ExecuteWebhookReply(body []byte) { s.runWebhookReply(body) }
