package telegramtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned by waits interrupted by Server.Close.
var ErrClosed = errors.New("telegramtest: server closed")

// subscriber buffers events without bound so that a slow reader never
// blocks the server nor loses an event.
type subscriber struct {
	mu     sync.Mutex
	queue  []Event
	signal chan struct{} // capacity 1: "queue is not empty"
	out    chan Event
	done   chan struct{}
	once   sync.Once
}

// Subscribe returns a channel receiving every Event from now on, in order,
// and a cancel function that closes it. Close also closes it.
func (s *Server) Subscribe() (<-chan Event, func()) {
	sub := &subscriber{signal: make(chan struct{}, 1), out: make(chan Event), done: make(chan struct{})}
	go sub.pump()
	// Checked under s.mu: Close swaps the subscriber set under it after
	// closing s.closing, so a subscriber is either stopped here or there.
	s.mu.Lock()
	select {
	case <-s.closing:
		s.mu.Unlock()
		sub.stop()
		return sub.out, func() {}
	default:
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	cancel := func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
		sub.stop()
	}
	return sub.out, cancel
}

func (sub *subscriber) push(ev Event) {
	sub.mu.Lock()
	sub.queue = append(sub.queue, ev)
	sub.mu.Unlock()
	select {
	case sub.signal <- struct{}{}:
	default:
	}
}

func (sub *subscriber) pump() {
	defer close(sub.out)
	for {
		sub.mu.Lock()
		if len(sub.queue) == 0 {
			sub.mu.Unlock()
			select {
			case <-sub.signal:
				continue
			case <-sub.done:
				return
			}
		}
		ev := sub.queue[0]
		sub.queue = sub.queue[1:]
		sub.mu.Unlock()
		select {
		case sub.out <- ev:
		case <-sub.done:
			return
		}
	}
}

func (sub *subscriber) stop() { sub.once.Do(func() { close(sub.done) }) }

// emitLocked hands an event to every subscriber. s.mu must be held, which
// keeps events in the order changes were applied.
func (s *Server) emitLocked(ev Event) {
	s.eventSeq++
	ev.Seq = s.eventSeq
	for sub := range s.subs {
		sub.push(ev)
	}
}

// LastEventSeq is the Seq of the last event so far (0 before any). A
// subscriber whose last event has this Seq has nothing in transit: the
// events reach it through a goroutine, so that the stand-in never waits for
// a slow reader, and may lag a moment behind the change they report.
func (s *Server) LastEventSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eventSeq
}

// WaitBotMessage waits until a message the bot sent to the chat (earlier
// or later, not deleted) satisfies match, and returns it. Edits wake it
// too, so it can wait for a message to be edited into shape. A nil match
// accepts any message. It returns ctx's error or ErrClosed if those come
// first.
func (s *Server) WaitBotMessage(ctx context.Context, chatID int64, match func(Message) bool) (Message, error) {
	return s.WaitBotMessageAfter(ctx, chatID, 0, match)
}

// WaitBotMessageAfter is WaitBotMessage limited to messages with an id
// above afterMessageID — typically the id of the user message the bot is
// expected to answer.
func (s *Server) WaitBotMessageAfter(ctx context.Context, chatID int64, afterMessageID int, match func(Message) bool) (Message, error) {
	for {
		s.mu.Lock()
		var cands []Message
		if ch, ok := s.st.chats[chatID]; ok {
			for _, m := range ch.msgs {
				if m.From.ID == s.bot.ID && m.MessageID > afterMessageID && !m.Deleted {
					cands = append(cands, m.clone())
				}
			}
		}
		changed := s.changed
		s.mu.Unlock()
		for _, m := range cands {
			if match == nil || match(m) {
				return m, nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("telegramtest: wait for a bot message in chat %d: %w", chatID, ctx.Err())
		case <-s.closing:
			return Message{}, ErrClosed
		}
	}
}
