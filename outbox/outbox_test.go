package outbox_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// rig is a real outbox on a real Redis, a worker and the Telegram stand-in.
type rig struct {
	tg     *telegramtest.Server
	box    *storage.Outbox
	writer *outbox.Writer
	worker *outbox.Worker
}

// newRig starts a worker; the stand-in holds users 1 and 2 with private
// chats open.
func newRig(t *testing.T, opts ...outbox.WorkerOption) *rig {
	t.Helper()
	tg := telegramtest.New()
	t.Cleanup(tg.Close)
	for _, id := range []int64{1, 2} {
		tg.AddUser(telegramtest.User{ID: id, FirstName: fmt.Sprint("U", id)})
		tg.StartPrivate(id)
	}
	api, err := bot.NewAPI(tg.Token(), tg.Endpoint(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rd := redistest.New(t)
	box := storage.NewOutbox(rd.Client(), storage.NewKeys(rd.Prefix()), storage.OutboxLimits{})
	sender := bot.NewSender(api)
	w := outbox.NewWorker(box, sender, nil, append([]outbox.WorkerOption{outbox.WithPoll(20 * time.Millisecond)}, opts...)...)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	return &rig{tg: tg, box: box, writer: outbox.NewWriter(box, sender, w.Wake, nil), worker: w}
}

// drained waits until nothing is queued or in flight.
func (r *rig) drained(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		n, err := r.box.Pending(ctx)
		if err == nil && n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("outbox not drained: %d left, %v", n, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func texts(ms []telegramtest.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
		if m.Document != nil {
			out[i] = "doc:" + m.Document.FileName
		}
	}
	return out
}

func TestMessagesEditsAndDocumentsArriveInOrderOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := outbox.WithOrigin(context.Background(), "u7", 1, false)
	for i := range 3 {
		if err := r.writer.Send(ctx, tgbotapi.NewMessage(1, fmt.Sprint("tin ", i))); err != nil {
			t.Fatal(err)
		}
	}
	doc := tgbotapi.NewDocument(1, tgbotapi.FileBytes{Name: "minutes.csv", Bytes: []byte("a,b\n1,2\n")})
	if err := r.writer.Send(ctx, doc); err != nil {
		t.Fatal(err)
	}
	r.drained(t)
	// The same cause queued again (a redelivered update) sends nothing.
	again := outbox.WithOrigin(context.Background(), "u7", 1, false)
	for i := range 3 {
		if err := r.writer.Send(again, tgbotapi.NewMessage(1, fmt.Sprint("tin ", i))); err != nil {
			t.Fatal(err)
		}
	}
	r.drained(t)
	got := strings.Join(texts(r.tg.BotMessages(1)), "|")
	if got != "tin 0|tin 1|tin 2|doc:minutes.csv" {
		t.Errorf("chat 1 received %q", got)
	}
}

func TestAnEditNamesAMessageByReferenceBeforeItsIDIsKnown(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	if err := r.writer.Send(ctx, tgbotapi.NewMessage(2, "0/8 đã bỏ phiếu"), outbox.Remember("post")); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		edit := tgbotapi.NewEditMessageText(2, 0, fmt.Sprintf("%d/8 đã bỏ phiếu", i))
		if err := r.writer.Send(ctx, edit, outbox.EditOf("post")); err != nil {
			t.Fatal(err)
		}
	}
	r.drained(t)
	ms := r.tg.BotMessages(2)
	if len(ms) != 1 || ms[0].Text != "3/8 đã bỏ phiếu" {
		t.Fatalf("chat 2 holds %q, want one message edited to 3/8", texts(ms))
	}
	// An edit of a message that was never delivered is dropped.
	if err := r.writer.Send(ctx, tgbotapi.NewEditMessageText(2, 0, "x"), outbox.EditOf("never")); err != nil {
		t.Fatal(err)
	}
	r.drained(t)
	if rej := r.tg.Rejections(); len(rej) != 0 {
		t.Errorf("Telegram rejected %+v", rej)
	}
}

func TestRefusalsAreFinalAndFloodControlIsWaitedOut(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	r.tg.InjectFault("sendMessage", telegramtest.Fault{Status: 429, RetryAfter: 1})
	if err := r.writer.Send(ctx, tgbotapi.NewMessage(1, "sau khi chờ")); err != nil {
		t.Fatal(err)
	}
	r.drained(t)
	r.tg.BlockBot(2)
	if err := r.writer.Send(ctx, tgbotapi.NewMessage(2, "bị chặn")); err != nil {
		t.Fatal(err)
	}
	r.drained(t)
	if got := texts(r.tg.BotMessages(1)); len(got) != 1 || got[0] != "sau khi chờ" {
		t.Errorf("after a 429 chat 1 holds %q, want the message once", got)
	}
	blocked, flooded := 0, 0
	for _, q := range r.tg.Requests() {
		switch {
		case q.Params["chat_id"] == "2":
			blocked++
		case q.Status == 429:
			flooded++
		}
	}
	if blocked != 1 || flooded != 1 {
		t.Errorf("%d calls to the blocked chat (want 1, never retried), %d answered 429 (want 1)", blocked, flooded)
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.tg.InjectFault("sendMessage", telegramtest.Fault{Status: 502})
	if err := r.writer.Send(context.Background(), tgbotapi.NewMessage(1, "lần hai")); err != nil {
		t.Fatal(err)
	}
	r.drained(t)
	if got := texts(r.tg.BotMessages(1)); len(got) != 1 {
		t.Errorf("after a 502 chat 1 holds %q, want the message once", got)
	}
}

func TestAnswersGoBeforeFanOut(t *testing.T) {
	t.Parallel()
	tg := telegramtest.New()
	t.Cleanup(tg.Close)
	rd := redistest.New(t)
	// One message a second in all, and no worker yet: everything waits.
	box := storage.NewOutbox(rd.Client(), storage.NewKeys(rd.Prefix()), storage.OutboxLimits{GlobalMax: 1, GlobalWindow: time.Hour})
	w := outbox.NewWriter(box, nil, nil, nil)
	job := outbox.WithOrigin(context.Background(), "job", 0, false)
	for u := int64(10); u < 15; u++ {
		if err := w.Send(job, tgbotapi.NewMessage(u, "nhắc")); err != nil {
			t.Fatal(err)
		}
	}
	answer := outbox.WithOrigin(context.Background(), "u1", 99, false)
	if err := w.Send(answer, tgbotapi.NewMessage(99, "trả lời")); err != nil {
		t.Fatal(err)
	}
	c, err := box.Claim(context.Background(), 10, time.Minute)
	ds := c.Items
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Chat != "99" {
		t.Fatalf("the one slot went to %+v, want the answer to chat 99", ds)
	}
}

// A photo is kept in Redis with its bytes until Telegram has it, arrives
// once with its caption, and one read from a stream (which the outbox
// could not keep) is refused at once.
func TestPhotosAreKeptWithTheirBytesAndArriveOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	img := image.NewGray(image.Rect(0, 0, 40, 30))
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	photo := tgbotapi.NewPhoto(1, tgbotapi.FileBytes{Name: "chart.png", Bytes: buf.Bytes()})
	photo.Caption, photo.ParseMode = "<b>Biểu đồ</b> kết quả", tgbotapi.ModeHTML
	for range 2 { // the same update handled twice
		ctx := outbox.WithOrigin(context.Background(), "u8", 1, false)
		if err := r.writer.Send(ctx, photo); err != nil {
			t.Fatal(err)
		}
	}
	r.drained(t)
	ms := r.tg.BotMessages(1)
	if len(ms) != 1 || ms[0].Photo == nil || !bytes.Equal(ms[0].Photo.Data, buf.Bytes()) || ms[0].Photo.Caption != "Biểu đồ kết quả" {
		t.Fatalf("chat 1 holds %+v, want the photo once", ms)
	}
	stream := tgbotapi.NewPhoto(1, tgbotapi.FileReader{Name: "x.png", Reader: bytes.NewReader(buf.Bytes())})
	if err := r.writer.Send(context.Background(), stream); err == nil {
		t.Error("a photo read from a stream was queued")
	}
	if rej := r.tg.Rejections(); len(rej) != 0 {
		t.Errorf("Telegram rejected %+v", rej)
	}
}

// A message goes into a forum topic and answers a message there; an edit
// ignores both options, which its method does not take.
func TestMessagesGoIntoATopicAndReply(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	const forum = -1001990
	r.tg.AddGroup(telegramtest.Chat{ID: forum, Title: "Khối", IsForum: true}, telegramtest.Member{UserID: 1, Status: telegramtest.StatusMember})
	topic := r.tg.AddTopic(forum, "Thi đua")
	cmd := r.tg.SendTextInTopic(forum, 1, topic, "/status")
	ctx := context.Background()
	if err := r.writer.Send(ctx, tgbotapi.NewMessage(forum, "trả lời"), outbox.InThread(topic), outbox.ReplyTo(cmd.MessageID), outbox.Remember("answer")); err != nil {
		t.Fatal(err)
	}
	if err := r.writer.Send(ctx, tgbotapi.NewMessage(forum, "thông báo"), outbox.InThread(0)); err != nil {
		t.Fatal(err)
	}
	if err := r.writer.Send(ctx, tgbotapi.NewEditMessageText(forum, 0, "trả lời (sửa)"), outbox.EditOf("answer"), outbox.InThread(topic), outbox.ReplyTo(cmd.MessageID)); err != nil {
		t.Fatal(err)
	}
	r.drained(t)
	ms := r.tg.BotMessages(forum)
	if len(ms) != 2 || ms[0].Thread != topic || ms[0].ReplyToMessageID != cmd.MessageID || ms[0].Text != "trả lời (sửa)" || ms[1].Thread != 0 {
		t.Errorf("the forum holds %+v", ms)
	}
	if rej := r.tg.Rejections(); len(rej) != 0 {
		t.Errorf("Telegram rejected %+v", rej)
	}
}

// A message for a forum topic that no longer exists goes to General
// instead of being lost.
func TestAMessageForAGoneTopicGoesToGeneral(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	const forum = -1001991
	r.tg.AddGroup(telegramtest.Chat{ID: forum, Title: "Khối", IsForum: true})
	if err := r.writer.Send(context.Background(), tgbotapi.NewMessage(forum, "nhắc lịch"), outbox.InThread(42)); err != nil {
		t.Fatal(err)
	}
	r.drained(t)
	if ms := r.tg.BotMessages(forum); len(ms) != 1 || ms[0].Thread != 0 || ms[0].Text != "nhắc lịch" {
		t.Errorf("the forum holds %+v, want the message in General", ms)
	}
}

// commandCounter counts the commands a client sends (a script is one).
type commandCounter struct {
	mu    sync.Mutex
	names []string
}

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.mu.Lock()
		c.names = append(c.names, cmd.Name())
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (c *commandCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.names
	c.names = nil
	return out
}

// A fresh edit of a message is one round trip, the enqueue script alone,
// whether an edit of the message waits (it merges) or not (it queues).
func TestAFreshEditIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	rd := redistest.New(t)
	opt, err := redis.ParseURL(rd.URL())
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })
	counter := &commandCounter{}
	client.AddHook(counter)
	// No worker claims from this outbox: what is queued stays queued.
	box := storage.NewOutbox(client, storage.NewKeys(rd.Prefix()), storage.OutboxLimits{})
	send := func(w *outbox.Writer, update, chat int64, msg int, text string) []string {
		t.Helper()
		ctx := outbox.WithOrigin(context.Background(), fmt.Sprint("u", update), chat, false)
		if err := w.Send(ctx, tgbotapi.NewEditMessageText(chat, msg, text), outbox.Fresh()); err != nil {
			t.Fatal(err)
		}
		return counter.take()
	}
	w := outbox.NewWriter(box, nil, nil, nil)
	send(w, 1, 3, 7, "loads the script") // the first EVALSHA may be answered NOSCRIPT
	if got := send(w, 2, 1, 5, "card: picked"); strings.Join(got, " ") != "evalsha" {
		t.Errorf("a first edit of message 5: %v; want the enqueue script alone", got)
	}
	if got := send(w, 3, 1, 5, "card: recorded"); strings.Join(got, " ") != "evalsha" {
		t.Errorf("an edit of message 5, whose edit waits: %v; want the enqueue script alone", got)
	}
	if got := send(outbox.NewWriter(box, nil, nil, nil), 4, 1, 5, "card: changed"); strings.Join(got, " ") != "evalsha" {
		t.Errorf("an edit of message 5 by another writer: %v; want the enqueue script alone", got)
	}
	if n, err := box.Pending(context.Background()); err != nil || n != 2 {
		t.Errorf("Pending = %d, %v; want one edit of each message", n, err)
	}
}

// With Redis down a message goes straight to Telegram, but not when the
// caller's own time has run out: Redis is not to blame then, and the call
// would fail on that context too.
func TestRedisDownSendsDirectlyButASpentCallerDoesNot(t *testing.T) {
	t.Parallel()
	tg := telegramtest.New()
	t.Cleanup(tg.Close)
	tg.AddUser(telegramtest.User{ID: 1, FirstName: "U1"})
	tg.StartPrivate(1)
	api, err := bot.NewAPI(tg.Token(), tg.Endpoint(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rd := redistest.New(t, redistest.WithOwnServer())
	var logs bytes.Buffer
	w := outbox.NewWriter(storage.NewOutbox(rd.Client(), storage.NewKeys(rd.Prefix()), storage.OutboxLimits{}),
		bot.NewSender(api), nil, slog.New(slog.NewTextHandler(&logs, nil)))

	spent, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if err := w.Send(spent, tgbotapi.NewMessage(1, "late")); err == nil {
		t.Error("Send on a spent context succeeded")
	}
	if strings.Contains(logs.String(), "redis unreachable") {
		t.Errorf("a spent caller was logged as Redis being down:\n%s", logs.String())
	}

	rd.Stop()
	if err := w.Send(context.Background(), tgbotapi.NewMessage(1, "direct")); err != nil {
		t.Fatalf("Send with Redis down: %v", err)
	}
	if got := texts(tg.BotMessages(1)); len(got) != 1 || got[0] != "direct" {
		t.Errorf("the user got %q, want the message sent directly and nothing else", got)
	}
}
