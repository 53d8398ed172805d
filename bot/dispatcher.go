package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// ErrStopped is returned by Dispatcher.Handle once the dispatcher stopped.
var ErrStopped = errors.New("dispatcher stopped")

type job struct {
	update Update
	done   func(error)
}

// Dispatcher runs handlers on a fixed number of workers. An update goes to
// worker ChatKey % N, so updates of one chat are handled in order while
// different chats proceed in parallel, and the number of goroutines stays
// bounded whatever the load.
type Dispatcher struct {
	handler     Handler
	botUsername string
	timeout     time.Duration
	log         *slog.Logger

	queues []chan job
	wg     sync.WaitGroup

	mu      sync.RWMutex
	stopped bool
}

// NewDispatcher returns a dispatcher with n workers; each update's handler
// gets at most timeout to finish.
func NewDispatcher(h Handler, botUsername string, n int, timeout time.Duration, log *slog.Logger) *Dispatcher {
	if n < 1 {
		n = 1
	}
	d := &Dispatcher{handler: h, botUsername: botUsername, timeout: timeout, log: log}
	d.queues = make([]chan job, n)
	for i := range d.queues {
		d.queues[i] = make(chan job, 64)
		d.wg.Add(1)
		go d.work(d.queues[i])
	}
	return d
}

func (d *Dispatcher) work(q chan job) {
	defer d.wg.Done()
	for j := range q {
		j.done(d.run(j.update))
	}
}

// run handles one update on a context detached from the caller's
// cancellation: a shutdown lets in-flight handlers finish instead of cutting
// them off half-way through a write.
func (d *Dispatcher) run(u Update) error {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	r := NewRequest(u.Update, d.botUsername)
	r.thread = u.Thread
	r.reply = u.reply
	return d.handler(ctx, r)
}

func (d *Dispatcher) queue(u Update) chan job {
	k := ChatKey(u.Update)
	if k < 0 {
		k = -k
	}
	return d.queues[k%int64(len(d.queues))]
}

// Handle handles one update and waits for its handler. It returns an
// error only when the update was not handled — ErrStopped after Stop, or
// ctx's error if ctx ended before the update was queued — so that a webhook
// asks Telegram to deliver it again. A handler's own error was already
// answered and logged by the middleware; delivering the update again would
// only repeat that answer.
func (d *Dispatcher) Handle(ctx context.Context, u Update) error {
	res := make(chan error, 1)
	if err := d.enqueue(ctx, u, func(err error) { res <- err }); err != nil {
		return err
	}
	if err := <-res; errors.Is(err, ErrNotClaimed) {
		return err
	}
	return nil
}

// HandleBatch handles updates in order per chat and returns when all of
// them have been handled, with the lowest update_id that was not (its
// claim failed: ErrNotClaimed), or 0. If ctx ends or the dispatcher stops
// first, the rest of the batch is dropped; the poller then stops without
// confirming the batch to Telegram, which delivers it again to the next
// instance, and the Dedupe middleware skips the updates that were handled.
func (d *Dispatcher) HandleBatch(ctx context.Context, updates []Update) (unhandled int) {
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for _, u := range updates {
		wg.Add(1)
		id := u.UpdateID
		err := d.enqueue(ctx, u, func(err error) {
			if errors.Is(err, ErrNotClaimed) {
				mu.Lock()
				if unhandled == 0 || id < unhandled {
					unhandled = id
				}
				mu.Unlock()
			}
			wg.Done()
		})
		if err != nil {
			wg.Done()
			break
		}
	}
	wg.Wait()
	return unhandled
}

func (d *Dispatcher) enqueue(ctx context.Context, u Update, done func(error)) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.stopped {
		return ErrStopped
	}
	select {
	case d.queue(u) <- job{update: u, done: done}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop stops taking updates and waits for queued and running handlers.
func (d *Dispatcher) Stop() {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return
	}
	d.stopped = true
	for _, q := range d.queues {
		close(q)
	}
	d.mu.Unlock()
	d.wg.Wait()
}
