package apptest

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/committeebot/committeebot/app"
)

// Replica is an App started by StartReplica.
type Replica struct {
	Name string
	App  *app.App
	// stop shuts it down as SIGTERM would and checks that it stopped
	// cleanly; the test's clean-up calls it too (only the first call
	// acts).
	Stop func()
}

// StartReplica runs one more App on the harness's Redis and stand-in, as
// another replica of the bot would. Its log lines carry its name.
func (h *Harness) StartReplica(name string, opts ...app.Option) *Replica {
	h.t.Helper()
	log := slog.New(slog.NewJSONHandler(h.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("replica", name)
	a, err := app.New(h.Cfg, log, append([]app.Option{app.WithoutOps(), app.WithInstanceID(name), h.chartDelay()}, opts...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	r := &Replica{Name: name, App: a, Stop: func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					h.t.Errorf("replica %s: Run returned %v", name, err)
				}
			case <-time.After(30 * time.Second):
				h.t.Errorf("replica %s did not shut down", name)
			}
		})
	}}
	h.t.Cleanup(r.Stop)
	return r
}
