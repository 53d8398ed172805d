package loadtest

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/bot/telegramtest"
)

// Telegram's limits as the stand-in enforces them (bot/telegramtest
// ratelimit.go): a token bucket of 30 messages a second with a burst of
// 30 overall, 1 a second (burst 3) per chat, 20 a minute per group.
const (
	tgGlobalRate  = 30
	tgGlobalBurst = 30
	tgGroupLimit  = 20
)

// latencies summarises a set of durations.
type latencies struct {
	N             int
	P50, P99, Max time.Duration
}

func summarize(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return latencies{N: len(s), P50: percentile(s, 0.50), P99: percentile(s, 0.99), Max: s[len(s)-1]}
}

// percentile of sorted values, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// maxInWindow is the largest number of times within any window of length
// w (a half-open interval [t, t+w)).
func maxInWindow(times []time.Time, w time.Duration) int {
	s := slices.Clone(times)
	slices.SortFunc(s, func(a, b time.Time) int { return a.Compare(b) })
	best, j := 0, 0
	for i := range s {
		for s[i].Sub(s[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// floorFor is the shortest time Telegram's global limit allows for n
// messages: the first burst at once, then 30 a second.
func floorFor(n int) time.Duration {
	if n <= tgGlobalBurst {
		return 0
	}
	return time.Duration(float64(n-tgGlobalBurst) / tgGlobalRate * float64(time.Second))
}

// traffic sums up the requests the stand-in answered in a phase.
type traffic struct {
	Requests int
	Accepted int // messages (see telegramtest.CountsAsMessage) accepted
	Edits    int // edits accepted
	TooMany  int // 429 answers, any method
	// TooManyGroup and TooManyPrivate split TooMany by the chat_id of
	// the refused call (groups have negative ids).
	TooManyGroup, TooManyPrivate int
	Rejected                     int // contract violations (Request.Rejected)
	Errors                       int // other non-2xx answers
	MaxPerSec                    int // most messages accepted in any 1 s
	MaxPerMin                    int // most messages accepted in one group in any 60 s
	sendTimes                    []time.Time
	groupTimes                   map[int64][]time.Time
}

func measureTraffic(reqs []telegramtest.Request) traffic {
	t := traffic{Requests: len(reqs), groupTimes: map[int64][]time.Time{}}
	for _, r := range reqs {
		chat, chatErr := strconv.ParseInt(r.Params["chat_id"], 10, 64)
		switch {
		case r.Status == 429:
			t.TooMany++
			if chatErr == nil && chat < 0 {
				t.TooManyGroup++
			} else if chatErr == nil {
				t.TooManyPrivate++
			}
		case r.Rejected:
			t.Rejected++
		case r.Status/100 != 2:
			t.Errors++
		case telegramtest.CountsAsMessage(r.Method):
			t.Accepted++
			t.sendTimes = append(t.sendTimes, r.Time)
			if chatErr == nil && chat < 0 {
				t.groupTimes[chat] = append(t.groupTimes[chat], r.Time)
			}
		case strings.HasPrefix(r.Method, "edit"):
			t.Edits++
		}
	}
	t.MaxPerSec = maxInWindow(t.sendTimes, time.Second)
	for _, ts := range t.groupTimes {
		t.MaxPerMin = max(t.MaxPerMin, maxInWindow(ts, time.Minute))
	}
	return t
}

// hlenSum is the total length of the hashes.
func hlenSum(ctx context.Context, rdb *redis.Client, keys []string) (int, error) {
	pipe := rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.HLen(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("count votes: %w", err)
	}
	n := 0
	for _, c := range cmds {
		n += int(c.Val())
	}
	return n, nil
}

// commandCalls reads INFO commandstats: calls by command. Commands that
// scripts run are counted too, besides the EVALSHA that ran them.
func commandCalls(ctx context.Context, rdb *redis.Client) (map[string]int64, error) {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, fmt.Errorf("redis commandstats: %w", err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for _, f := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(f, "calls="); ok {
				out[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.ParseInt(v, 10, 64)
			}
		}
	}
	return out, nil
}

// redisCPU is the CPU time the redis-server process has used (INFO cpu:
// used_cpu_user + used_cpu_sys), its own account of its cost, network
// and AOF included.
func redisCPU(ctx context.Context, rdb *redis.Client) (time.Duration, error) {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, fmt.Errorf("redis cpu: %w", err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("redis cpu: %s: %w", k, err)
			}
			total += f
		}
	}
	return time.Duration(total * float64(time.Second)), nil
}

// table writes a Markdown table.
type table struct {
	head []string
	rows [][]string
}

func newTable(head ...string) *table { return &table{head: head} }

func (t *table) add(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = fmt.Sprint(c)
	}
	t.rows = append(t.rows, row)
}

func (t *table) write(w io.Writer) {
	widths := make([]int, len(t.head))
	for i, h := range t.head {
		widths[i] = len([]rune(h))
	}
	for _, r := range t.rows {
		for i, c := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], len([]rune(c)))
			}
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i := range widths {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			b.WriteString(" " + c + strings.Repeat(" ", widths[i]-len([]rune(c))) + " |")
		}
		fmt.Fprintln(w, b.String())
	}
	line(t.head)
	sep := make([]string, len(widths))
	for i, wd := range widths {
		sep[i] = strings.Repeat("-", wd)
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
}

// ms formats a duration for tables: milliseconds below 10 s, else seconds.
func ms(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
