// Package outbox makes the bot's messages durable and its sending shared
// between replicas. Handlers and jobs never wait for Telegram: a Writer
// turns each call into an item in the Redis outbox (storage.Outbox) and
// returns, and the Workers of every replica deliver the items as fast as
// Telegram's limits — kept in Redis for all replicas — allow, in order
// within each chat, answers before fan-out, each item once.
//
// Item ids come from what caused the message — the update being handled
// and the reply's number, or the job and the delivery key — so a
// redelivered update or a job run again enqueues the same ids, which the
// outbox recognises: nothing is sent twice.
package outbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/storage"
)

// Enqueuer keeps items; *storage.Outbox implements it.
type Enqueuer interface {
	// Enqueue adds the item unless its id is waiting or was delivered.
	Enqueue(ctx context.Context, it storage.OutboxItem) (storage.EnqueueResult, error)
}

// Requester makes calls that are not messages (getChatMember,
// setMyCommands, answerCallbackQuery) at once, and messages when Redis is
// unreachable; *bot.Sender implements it, with limits kept in the process.
type Requester interface {
	Request(ctx context.Context, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error)
	// Call is Request for methods tgbotapi has no config for.
	Call(ctx context.Context, method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error)
}

var (
	_ Enqueuer  = (*storage.Outbox)(nil)
	_ Requester = (*bot.Sender)(nil)
)

// Writer queues the bot's messages in the outbox.
type Writer struct {
	store  Enqueuer
	direct Requester
	wake   func()
	log    *slog.Logger
}

// NewWriter returns a writer over store. direct makes the calls that are
// not messages; wake (may be nil) tells this process's workers that an
// item is waiting, so an answer leaves without waiting for their next poll.
func NewWriter(store Enqueuer, direct Requester, wake func(), log *slog.Logger) *Writer {
	if wake == nil {
		wake = func() {}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Writer{store: store, direct: direct, wake: wake, log: log}
}

// SendOption adjusts one queued call.
type SendOption func(*queued)

// queued is a call on its way into the outbox: the item, and the call
// whose parameters options may still add to.
type queued struct {
	item *storage.OutboxItem
	call *call
}

// Remember records the delivered message's id under ref, so that later
// edits can name it with EditOf before (or without) knowing the id.
func Remember(ref string) SendOption { return func(q *queued) { q.item.Ref = ref } }

// EditOf makes an edit change the message recorded under ref (see
// Remember); the call's own message_id is ignored. An edit whose message
// was never delivered is dropped.
func EditOf(ref string) SendOption {
	return func(q *queued) {
		q.item.EditRef = ref
		q.item.Coalesce = "e:" + q.item.Chat + ":r:" + ref
	}
}

// Fresh says this call was never queued before under its id: it follows a
// change Redis has just made for the first time (a vote the cast script
// recorded now, not found again), so no earlier run of the handler can
// have queued it. The outbox then skips looking for the id (see
// storage.OutboxItem.Fresh): an edit is then two Redis commands when an
// edit of its message still waits, four when none does. Wrongly given, a
// redelivered update could send its edit twice; never give it after a
// step that may have run before.
func Fresh() SendOption { return func(q *queued) { q.item.Fresh = true } }

// InThread posts a new message (not an edit) in forum topic thread of
// its chat (message_thread_id, which tgbotapi's configs lack); 0, the
// General topic, changes nothing.
func InThread(thread int) SendOption {
	return func(q *queued) {
		if thread != 0 && posts(q.call) {
			q.call.Params["message_thread_id"] = strconv.Itoa(thread)
		}
	}
}

// ReplyTo makes a new message answer message messageID of its chat
// (reply_parameters), and still go out if that message was deleted
// meanwhile; 0 changes nothing.
func ReplyTo(messageID int) SendOption {
	return func(q *queued) {
		if messageID != 0 && posts(q.call) {
			q.call.Params["reply_parameters"] = `{"message_id":` + strconv.Itoa(messageID) + `,"allow_sending_without_reply":true}`
		}
	}
}

// Send queues c and returns once it is stored in Redis: a message, an
// edit, a document or a photo (tgbotapi.FileBytes). It never waits for
// Telegram.
// Errors: the store's (Redis unreachable); an encoding error for calls
// the outbox cannot keep (no chat_id, a document read from a stream).
func (w *Writer) Send(ctx context.Context, c tgbotapi.Chattable, opts ...SendOption) error {
	cl, err := encode(c)
	if err != nil {
		return err
	}
	if cl.chat() == "" {
		return fmt.Errorf("%w (%s)", errNoChat, cl.Method)
	}
	it := storage.OutboxItem{Chat: cl.chat(), Kind: cl.kind(), Priority: storage.PriorityFanOut}
	o := originOf(ctx)
	it.ID = o.next()
	if it.Chat == o.answerChat || it.Chat == o.answerUser {
		it.Priority = storage.PriorityAnswer
	}
	it.Once = o.once
	if it.Kind == storage.OutboxEdit && cl.Params["message_id"] != "" {
		// Only the latest state of a message matters.
		it.Coalesce = "e:" + it.Chat + ":" + cl.Params["message_id"]
	}
	for _, opt := range opts {
		opt(&queued{item: &it, call: &cl})
	}
	if it.Body, err = cl.marshal(); err != nil {
		return fmt.Errorf("outbox: encode %s: %w", cl.Method, err)
	}
	if _, err := w.store.Enqueue(ctx, it); err != nil {
		if storage.IsUnavailableFor(ctx, err) && it.EditRef == "" && it.Ref == "" {
			// Redis is down: the outbox cannot keep the message, and
			// what is sent now is mostly the notice that nothing was
			// recorded. It goes straight to Telegram, paced by this
			// process's own limiter, rather than not at all. (Not when
			// the caller's own time ran out: Redis is not to blame,
			// and a call on that context would fail too.)
			w.log.WarnContext(ctx, "redis unreachable; sending without the outbox", "method", cl.Method, "chat_id", it.Chat)
			if _, derr := w.direct.Request(ctx, c); derr != nil && !bot.IsNotModified(derr) {
				return fmt.Errorf("send %s without the outbox: %w (queueing failed: %w)", cl.Method, derr, err)
			}
			return nil
		}
		return fmt.Errorf("queue %s: %w", cl.Method, err)
	}
	w.wake()
	return nil
}

// Request makes a call that is not a message at once (a query such as
// getChatMember, or a setting such as setMyCommands): those are not
// limited like messages, and their answer is needed now.
func (w *Writer) Request(ctx context.Context, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error) {
	return w.direct.Request(ctx, c)
}

// Call is Request for a method tgbotapi has no config for (such as
// setMyDescription), with raw parameters.
func (w *Writer) Call(ctx context.Context, method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error) {
	return w.direct.Call(ctx, method, params)
}

// origin is what caused the messages being queued: it names their items.
type origin struct {
	id         string
	answerChat string // the chat where the person acted; "-" for jobs
	answerUser string // their private chat; "-" for jobs
	once       bool
	n          *atomic.Int64
}

type originKey struct{}

// maxOriginLen keeps item ids within the store's 200 characters, with
// room for "#<n>".
const maxOriginLen = 180

// WithOrigin names the messages queued under ctx id#1, id#2… in the order
// they are queued: a handler run again for the same cause (a redelivered
// update) queues the same ids and so sends nothing twice. Messages to
// answerChat (the chat of the person who acted; 0 for none) go before
// fan-out. once asks for at most one delivery of each (see
// storage.OutboxItem.Once).
func WithOrigin(ctx context.Context, id string, answerChat int64, once bool) context.Context {
	return withOrigin(ctx, id, answerChat, 0, once)
}

func withOrigin(ctx context.Context, id string, answerChat, answerUser int64, once bool) context.Context {
	if len(id) > maxOriginLen {
		sum := sha256.Sum256([]byte(id))
		id = "h" + hex.EncodeToString(sum[:16])
	}
	o := origin{id: id, once: once, n: new(atomic.Int64), answerChat: "-", answerUser: "-"}
	if answerChat != 0 {
		o.answerChat = strconv.FormatInt(answerChat, 10)
	}
	if answerUser != 0 {
		o.answerUser = strconv.FormatInt(answerUser, 10)
	}
	return context.WithValue(ctx, originKey{}, o)
}

func originOf(ctx context.Context) origin {
	if o, ok := ctx.Value(originKey{}).(origin); ok {
		return o
	}
	return origin{}
}

// next is the id of the next item queued under o; without an origin, a
// random one.
func (o origin) next() string {
	if o.n == nil {
		var b [12]byte
		_, _ = rand.Read(b[:])
		return "r" + hex.EncodeToString(b[:])
	}
	return o.id + "#" + strconv.FormatInt(o.n.Add(1), 10)
}

// Origins is the middleware that names every message queued while an
// update is handled after the update ("u<update_id>"), so that handling a
// redelivered update again queues nothing new. Messages to the chat where
// the person acted, and to their private chat, are answers: they go before
// fan-out.
func Origins() bot.Middleware {
	return func(next bot.Handler) bot.Handler {
		return func(ctx context.Context, r *bot.Request) error {
			chat, _ := r.Chat()
			user, _ := r.Sender()
			return next(withOrigin(ctx, "u"+strconv.Itoa(r.UpdateID()), chat.ID, user.ID, false), r)
		}
	}
}
