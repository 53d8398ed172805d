package loadtest

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// referenceScript is the least a vote can cost in Redis: record who voted
// unless they did, and count the choice.
//
// KEYS[1] -> hash voter -> choice
// KEYS[2] -> hash choice -> count
// ARGV[1] -> voter
// ARGV[2] -> choice
//
// Returns 1 if the vote was recorded, 0 if the voter had voted.
var referenceScript = redis.NewScript(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
  return 1
end
return 0
`)

// referenceBallots spreads the reference's votes over this many ballots.
const referenceBallots = 64

// ReferenceResult is what the raw Redis reference measured.
type ReferenceResult struct {
	Clients   int
	Duration  time.Duration
	Ops       int
	OpsPerSec float64
	Latency   latencies
}

func runReference(ctx context.Context, e *env) (*ReferenceResult, error) {
	cfg := e.cfg
	d := min(max(cfg.Duration/2, time.Second), 5*time.Second)
	res := &ReferenceResult{Clients: cfg.ReferenceClients}
	if err := referenceScript.Load(ctx, e.rdb).Err(); err != nil {
		return nil, fmt.Errorf("load the vote script: %w", err)
	}
	e.log.Info("reference: running", "clients", cfg.ReferenceClients, "for", d)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		lat  []time.Duration
		errc = make(chan error, cfg.ReferenceClients)
	)
	start := time.Now()
	stopAt := start.Add(d)
	for c := range cfg.ReferenceClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := redis.NewClient(&redis.Options{Addr: e.redis.addr, PoolSize: 1})
			defer client.Close()
			mine := make([]time.Duration, 0, 4096)
			for seq := 0; ctx.Err() == nil && time.Now().Before(stopAt) && seq < 10_000_000; seq++ {
				b := strconv.Itoa((c + seq) % referenceBallots)
				voted, tally := "bench:ref:{b"+b+"}:voted", "bench:ref:{b"+b+"}:tally"
				t := time.Now()
				err := referenceScript.EvalSha(ctx, client, []string{voted, tally},
					strconv.Itoa(c)+":"+strconv.Itoa(seq), strconv.Itoa(seq%3)).Err()
				if err != nil {
					errc <- fmt.Errorf("reference client %d: %w", c, err)
					return
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Duration = time.Since(start)
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	res.Ops = len(lat)
	res.OpsPerSec = float64(res.Ops) / res.Duration.Seconds()
	res.Latency = summarize(lat)
	for b := range referenceBallots {
		s := strconv.Itoa(b)
		if err := e.rdb.Unlink(ctx, "bench:ref:{b"+s+"}:voted", "bench:ref:{b"+s+"}:tally").Err(); err != nil {
			return nil, fmt.Errorf("clean up the reference: %w", err)
		}
	}
	res.write(cfg.Out)
	return res, nil
}

func (r *ReferenceResult) write(w io.Writer) {
	fmt.Fprintf(w, "## reference: %d go-redis clients, EVALSHA of HSETNX + HINCRBY, same redis-server, %s\n\n", r.Clients, secs(r.Duration))
	t := newTable("measure", "value")
	t.add("votes per second", fmt.Sprintf("%.0f", r.OpsPerSec))
	t.add("latency p50 / p99 / max", fmt.Sprintf("%s / %s / %s", ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.Max)))
	t.add("votes", r.Ops)
	t.write(w)
	fmt.Fprintln(w)
}
