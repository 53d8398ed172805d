package handlers

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/outbox"
	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// newTestHandlers builds the real handlers over a real sender, the
// Telegram stand-in and a real Redis.
func newTestHandlers(t *testing.T) (*Handlers, *telegramtest.Server) {
	t.Helper()
	tg := telegramtest.New()
	t.Cleanup(tg.Close)
	api, err := bot.NewAPI(tg.Token(), tg.Endpoint(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rd := redistest.New(t)
	rdb, err := storage.NewClient(storage.Options{URL: rd.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	keys := storage.NewKeys(rd.Prefix())
	cat, err := i18n.New("vi")
	if err != nil {
		t.Fatal(err)
	}
	users := storage.NewUsers(rdb, keys)
	sealer, err := storage.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	box := storage.NewOutbox(rdb, keys, storage.OutboxLimits{})
	sender := bot.NewSender(api)
	w := outbox.NewWorker(box, sender, nil)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	h, err := New(Deps{
		Sender:      outbox.NewWriter(box, sender, w.Wake, nil),
		Catalog:     cat,
		Prefs:       users,
		Dialogs:     storage.NewDialogs(rdb, keys),
		Committees:  storage.NewCommittees(rdb, keys),
		Current:     users,
		Nominations: storage.NewNominations(rdb, keys),
		Ballots:     storage.NewBallots(rdb, keys, storage.WithSealer(sealer)),
		Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:         time.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, tg
}

func TestLongReplyIsSplitIntoMessagesTelegramAccepts(t *testing.T) {
	h, tg := newTestHandlers(t)
	tg.AddUser(telegramtest.User{ID: 5, FirstName: "An"})
	tg.StartPrivate(5)

	var b strings.Builder
	for i := 0; b.Len() < 5000*2; i++ {
		b.WriteString("<b>Dòng</b> " + strings.Repeat("x&amp;", 10) + "\n")
	}
	text := b.String()
	if err := h.core.sendHTML(context.Background(), 5, text, nil); err != nil {
		t.Fatalf("sendHTML: %v", err)
	}
	// Delivered by the outbox worker: wait until the last part is there.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	last := 0
	for i := range len(splitMessage(text, maxMessage)) {
		m, err := tg.WaitBotMessageAfter(ctx, 5, last, func(telegramtest.Message) bool { return true })
		if err != nil {
			t.Fatalf("part %d never arrived: %v", i+1, err)
		}
		last = m.MessageID
	}
	msgs := tg.BotMessages(5)
	if len(msgs) < 2 {
		t.Fatalf("%d messages, want the text split in several", len(msgs))
	}
	var got strings.Builder
	for _, m := range msgs {
		got.WriteString(m.HTML)
		got.WriteString("\n")
	}
	if strings.ReplaceAll(got.String(), "\n", "") != strings.ReplaceAll(text, "\n", "") {
		t.Error("the parts do not add up to the text")
	}
	if rej := tg.Rejections(); len(rej) != 0 {
		t.Errorf("Telegram rejected %d parts: %+v", len(rej), rej[0])
	}
}

func TestNewRequiresEveryDependency(t *testing.T) {
	_, err := New(Deps{})
	if err == nil {
		t.Fatal("New with no dependencies succeeded")
	}
	for _, want := range []string{"Sender", "Catalog", "Prefs", "Dialogs", "Committees", "Current", "Nominations", "Ballots", "Log", "Now"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
