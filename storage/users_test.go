package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// newUsers returns a Users store on a fresh key prefix.
func newUsers(t *testing.T) *storage.Users {
	t.Helper()
	rt := redistest.New(t)
	return storage.NewUsers(rt.Client(), storage.NewKeys(rt.Prefix()))
}

// newDialogs returns a Dialogs store on a fresh key prefix, and its Redis.
func newDialogs(t *testing.T) (*storage.Dialogs, *redistest.Instance) {
	t.Helper()
	rt := redistest.New(t)
	return storage.NewDialogs(rt.Client(), storage.NewKeys(rt.Prefix())), rt
}

func TestUsersLanguageRoundTrip(t *testing.T) {
	t.Parallel()
	users := newUsers(t)
	ctx := context.Background()

	if _, err := users.Language(ctx, 42); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Language before any choice = %v, want ErrNotFound", err)
	}
	for _, lang := range []string{"en", "vi"} {
		if err := users.SetLanguage(ctx, 42, lang); err != nil {
			t.Fatalf("SetLanguage(%q): %v", lang, err)
		}
		if got, err := users.Language(ctx, 42); err != nil || got != lang {
			t.Errorf("Language = %q, %v; want %q", got, err, lang)
		}
	}
	if _, err := users.Language(ctx, 43); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Language of another user = %v, want ErrNotFound", err)
	}
	if err := users.SetLanguage(ctx, 42, ""); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("SetLanguage(\"\") = %v, want ErrInvalid", err)
	}
}

func TestUsersChatLanguageIsSeparateFromUsers(t *testing.T) {
	t.Parallel()
	users := newUsers(t)
	ctx := context.Background()

	// A private chat has the user's id as its chat id: the two must not mix.
	if err := users.SetLanguage(ctx, 42, "en"); err != nil {
		t.Fatalf("SetLanguage: %v", err)
	}
	if _, err := users.ChatLanguage(ctx, 42); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ChatLanguage = %v, want ErrNotFound", err)
	}
	if err := users.SetChatLanguage(ctx, -100123, "vi"); err != nil {
		t.Fatalf("SetChatLanguage: %v", err)
	}
	if got, err := users.ChatLanguage(ctx, -100123); err != nil || got != "vi" {
		t.Errorf("ChatLanguage = %q, %v; want vi", got, err)
	}
	if err := users.SetChatLanguage(ctx, -100123, ""); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("SetChatLanguage(\"\") = %v, want ErrInvalid", err)
	}
}

func TestDialogsRoundTrip(t *testing.T) {
	t.Parallel()
	dialogs, rt := newDialogs(t)
	ctx := context.Background()

	if _, err := dialogs.Get(ctx, 7); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get before Set = %v, want ErrNotFound", err)
	}
	want := storage.Dialog{Name: "nominate", Step: 2, Data: map[string]string{"award": "CSTD", "nominee": "Toà án"}}
	if err := dialogs.Set(ctx, 7, want, 15*time.Minute); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got, err := dialogs.Get(ctx, 7)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	ttl, err := rt.Client().PTTL(ctx, storage.NewKeys(rt.Prefix()).Dialog(7)).Result()
	if err != nil || ttl <= 0 || ttl > 15*time.Minute {
		t.Errorf("TTL = %v, %v; want within (0, 15m]", ttl, err)
	}

	// A new dialogue replaces the old one.
	next := storage.Dialog{Name: "meeting_new"}
	if err := dialogs.Set(ctx, 7, next, time.Minute); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got, err := dialogs.Get(ctx, 7); err != nil || !cmp.Equal(next, got) {
		t.Errorf("Get after replacing = %+v, %v; want %+v", got, err, next)
	}

	for i, want := range []bool{true, false} {
		if got, err := dialogs.Clear(ctx, 7); err != nil || got != want {
			t.Errorf("Clear #%d = %v, %v; want %v", i+1, got, err, want)
		}
	}
	if _, err := dialogs.Get(ctx, 7); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get after Clear = %v, want ErrNotFound", err)
	}
}

func TestDialogsRejectInvalid(t *testing.T) {
	t.Parallel()
	dialogs, _ := newDialogs(t)
	tests := []struct {
		name string
		dlg  storage.Dialog
		ttl  time.Duration
	}{
		{"no name", storage.Dialog{Step: 1}, time.Minute},
		{"no ttl", storage.Dialog{Name: "x"}, 0},
		{"negative ttl", storage.Dialog{Name: "x"}, -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := dialogs.Set(context.Background(), 7, tt.dlg, tt.ttl); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("Set = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestCurrentCommitteeRoundTrip(t *testing.T) {
	t.Parallel()
	u := newUsers(t)
	ctx := context.Background()
	if _, err := u.CurrentCommittee(ctx, 7); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unset: err = %v, want ErrNotFound", err)
	}
	if err := u.SetCurrentCommittee(ctx, 7, ""); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("empty id: err = %v, want ErrInvalid", err)
	}
	if err := u.SetCurrentCommittee(ctx, 7, "3"); err != nil {
		t.Fatal(err)
	}
	if err := u.SetLanguage(ctx, 7, "en"); err != nil {
		t.Fatal(err)
	}
	got, err := u.CurrentCommittee(ctx, 7)
	if err != nil || got != "3" {
		t.Errorf("CurrentCommittee = %q, %v; want 3", got, err)
	}
}
