package handlers

import (
	"context"
	"strings"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/domain"
)

// statusSection renders one part of the /status card, or "" to leave it
// out. Features add their section (next meeting, open ballots, nominations)
// to Handlers.statusSections; the card is their sections in order.
type statusSection func(ctx context.Context, lang string, c domain.Committee) (string, error)

// status shows the committee's card.
func (h *generalHandlers) status(ctx context.Context, r *bot.Request) error {
	text, err := h.statusCard(ctx, r.Lang, scopeOf(r).committee)
	if err != nil {
		return err
	}
	return h.core.reply(ctx, r, text, nil)
}

func (h *generalHandlers) statusCard(ctx context.Context, lang string, c domain.Committee) (string, error) {
	var parts []string
	for _, s := range h.statusSections {
		text, err := s(ctx, lang, c)
		if err != nil {
			return "", err
		}
		if text != "" {
			parts = append(parts, text)
		}
	}
	return strings.Join(parts, "\n\n"), nil
}
