package bot

import (
	"context"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

func TestRouterRoutesByCommandCallbackAndKind(t *testing.T) {
	var got []string
	record := func(name string) Handler {
		return func(_ context.Context, _ *Request) error { got = append(got, name); return nil }
	}
	mark := func(name string) Middleware {
		return func(next Handler) Handler {
			return func(ctx context.Context, r *Request) error { got = append(got, name); return next(ctx, r) }
		}
	}
	rt := NewRouter()
	rt.Use(mark("global1"), mark("global2"))
	rt.Command("help", record("help"), mark("route"))
	rt.Callback("lang", record("lang-button"))
	rt.On(KindText, record("text"))
	rt.NotFound(record("not-found"))
	h := rt.Handler()

	cb := tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{ID: "1", From: &tgbotapi.User{ID: 1}, Data: "lang:en"}}
	unknownCb := tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{ID: "2", From: &tgbotapi.User{ID: 1}, Data: "zzz:1"}}
	tests := []struct {
		name string
		u    tgbotapi.Update
		want []string
	}{
		{"command", message(1, "private", "/help"), []string{"global1", "global2", "route", "help"}},
		{"unknown command", message(1, "private", "/nope"), []string{"global1", "global2", "not-found"}},
		{"other bot's command", message(-1, "group", "/help@other"), []string{"global1", "global2"}},
		{"text", message(1, "private", "hi"), []string{"global1", "global2", "text"}},
		{"button", cb, []string{"global1", "global2", "lang-button"}},
		{"unknown button", unknownCb, []string{"global1", "global2", "not-found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			if err := h(context.Background(), NewRequest(tt.u, "me")); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ran %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("ran %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestRouterPanicsOnBadRegistration(t *testing.T) {
	ok := func(context.Context, *Request) error { return nil }
	tests := []struct {
		name string
		reg  func(rt *Router)
	}{
		{"duplicate command", func(rt *Router) { rt.Command("help", ok); rt.Command("help", ok) }},
		{"empty command", func(rt *Router) { rt.Command("", ok) }},
		{"upper-case command", func(rt *Router) { rt.Command("Help", ok) }},
		{"nil handler", func(rt *Router) { rt.Command("help", nil) }},
		{"duplicate callback", func(rt *Router) { rt.Callback("x", ok); rt.Callback("x", ok) }},
		{"empty callback", func(rt *Router) { rt.Callback("", ok) }},
		{"command kind via On", func(rt *Router) { rt.On(KindCommand, ok) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("registration did not panic")
				}
			}()
			tt.reg(NewRouter())
		})
	}
}
