package storage

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/storage/redistest"
)

// eventually waits (up to ten seconds) for cond, which depends on a
// message crossing Redis's pub/sub: no step clock reaches into that.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (k *keptLangs) isActive() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.active
}

// TestLanguagesAreKeptUntilChanged: a process watching the changes
// answers a language it read from memory, forgets it when any process
// changes it, and forgets everything when its subscription is lost.
func TestLanguagesAreKeptUntilChanged(t *testing.T) {
	t.Parallel()
	rt := redistest.New(t, redistest.WithOwnServer())
	ctx := context.Background()
	k := NewKeys(rt.Prefix())
	watched := func() *Users {
		u := NewUsers(rt.Client(), k)
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); u.Watch(wctx) }()
		t.Cleanup(func() { cancel(); <-done })
		eventually(t, "subscribed", u.kept.isActive)
		return u
	}
	a, b := watched(), watched()
	lang := func(u *Users) string {
		t.Helper()
		chosen, _, err := u.Languages(ctx, 42)
		if err != nil {
			t.Fatal(err)
		}
		return chosen
	}
	chat := func(u *Users) string {
		t.Helper()
		l, _ := u.ChatLanguage(ctx, -100)
		return l
	}
	if err := a.SetLanguage(ctx, 42, "en"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetChatLanguage(ctx, -100, "en"); err != nil {
		t.Fatal(err)
	}
	if lang(a) != "en" || chat(a) != "en" {
		t.Fatal("the languages set are not read back")
	}
	// Written behind the store's back (no message): a keeps what it read.
	rt.Client().HSet(ctx, k.UserProfile(42), fieldLang, "xx")
	rt.Client().HSet(ctx, k.ChatProfile(-100), fieldLang, "xx")
	if got := lang(a); got != "en" {
		t.Errorf("a read the user's language again (%q) instead of keeping it", got)
	}
	if got := chat(a); got != "en" {
		t.Errorf("a read the chat's language again (%q) instead of keeping it", got)
	}
	// Changed by another process: a hears of it.
	if err := b.SetLanguage(ctx, 42, "vi"); err != nil {
		t.Fatal(err)
	}
	if err := b.SetChatLanguage(ctx, -100, "vi"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a answers the user's new language", func() bool { return lang(a) == "vi" })
	eventually(t, "a answers the chat's new language", func() bool { return chat(a) == "vi" })
	// The subscription lost: a forgets what it kept, then keeps again.
	rt.Client().HSet(ctx, k.UserProfile(42), fieldLang, "fr")
	if err := rt.Client().ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a reads again after losing its subscription", func() bool { return lang(a) == "fr" })
	eventually(t, "a subscribed again", a.kept.isActive)
	if err := b.SetLanguage(ctx, 42, "en"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a hears of changes again", func() bool { return lang(a) == "en" })
}

// TestLanguagesAreReadEachTimeWithoutWatch: a store that does not watch
// the changes keeps nothing.
func TestLanguagesAreReadEachTimeWithoutWatch(t *testing.T) {
	t.Parallel()
	rt := redistest.New(t)
	ctx := context.Background()
	k := NewKeys(rt.Prefix())
	u := NewUsers(rt.Client(), k)
	if err := u.SetLanguage(ctx, 7, "en"); err != nil {
		t.Fatal(err)
	}
	rt.Client().HSet(ctx, k.UserProfile(7), fieldLang, "vi")
	if l, err := u.Language(ctx, 7); err != nil || l != "vi" {
		t.Errorf("Language = %q, %v; want vi, read again", l, err)
	}
}

// TestLanguagesWithoutPubSub: a Redis user the ACL denies pub/sub still
// sets languages, and its store keeps nothing.
func TestLanguagesWithoutPubSub(t *testing.T) {
	t.Parallel()
	rt := redistest.New(t, redistest.WithOwnServer())
	ctx := context.Background()
	if err := rt.Client().Do(ctx, "ACL", "SETUSER", "nopub", "on", ">pw", "~*", "resetchannels", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: rt.Addr(), Username: "nopub", Password: "pw"})
	t.Cleanup(func() { _ = c.Close() })
	k := NewKeys(rt.Prefix())
	u := NewUsers(c, k)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); u.Watch(wctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := u.SetLanguage(ctx, 5, "en"); err != nil {
		t.Fatalf("SetLanguage without pub/sub: %v", err)
	}
	if l, err := u.Language(ctx, 5); err != nil || l != "en" {
		t.Fatalf("Language = %q, %v; want en", l, err)
	}
	rt.Client().HSet(ctx, k.UserProfile(5), fieldLang, "vi")
	if l, _ := u.Language(ctx, 5); l != "vi" || u.kept.isActive() {
		t.Errorf("Language = %q (keeping: %v); want vi, read again", l, u.kept.isActive())
	}
}
