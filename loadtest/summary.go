package loadtest

import (
	"fmt"
	"io"
	"time"
)

// writeSummary prints the figures of every scenario run as one Markdown
// table, ready for docs/PERFORMANCE.md.
func (r *Report) writeSummary(w io.Writer) {
	fmt.Fprint(w, "## Summary\n\n")
	fmt.Fprintf(w, "Machine: %s.\n\n", r.Machine)
	t := newTable("scenario", "figure", "value")
	if b := r.Burst; b != nil {
		name := fmt.Sprintf("burst (%d voters, %d committees, presses within %s)", b.Presses, b.Committees, secs(b.PressWindow))
		counted := "never"
		if b.AllCounted > 0 {
			counted = ms(b.AllCounted)
		}
		t.add(name, "every vote counted (Redis) after the first press", counted)
		t.add("", "button answered after the POST p50 / p99 / max", fmt.Sprintf("%s / %s / %s", ms(b.AnswerFromPost.P50), ms(b.AnswerFromPost.P99), ms(b.AnswerFromPost.Max)))
		t.add("", "every receipt delivered / floor at 30 msg/s", fmt.Sprintf("%s / %s", secs(b.AllReceipts), secs(b.Floor)))
		t.add("", "429 answers", b.TooMany)
		t.add("", "lost / doubled votes", fmt.Sprintf("%d / %d", b.Lost, b.Doubled))
	}
	if s := r.Sustained; s != nil {
		name := fmt.Sprintf("sustained (%d voters, %d ballots, %s)", s.Voters, s.Ballots, secs(s.Elapsed))
		t.add(name, "casts recorded / answered per second", fmt.Sprintf("%.0f / %.0f", s.RecordedPerSec, s.AnsweredPerSec))
		t.add("", "button answered after the POST p50 / p99", fmt.Sprintf("%s / %s", ms(s.Answer.P50), ms(s.Answer.P99)))
		t.add("", "bot CPU per cast", ms(s.CPUPerCast))
		t.add("", "Redis commands / Redis CPU per cast", fmt.Sprintf("%.1f / %.0f µs", s.RedisPerCast, float64(s.RedisCPUPerCast)/float64(time.Microsecond)))
		t.add("", "bot peak RSS", fmt.Sprintf("%.1f MiB", float64(s.PeakRSS)/(1<<20)))
	}
	if l := r.Limits; l != nil {
		name := fmt.Sprintf("limits (%d messages, %d replicas, %d restarts)", l.Expected, l.Replicas, len(l.Restarts))
		done := secs(l.FanOut)
		if !l.Completed {
			done += " (incomplete)"
		}
		t.add(name, "fan-out duration / floor at 30 msg/s", fmt.Sprintf("%s / %s", done, secs(l.Floor)))
		t.add("", "max accepted in any 1 s / in any 60 s in a group", fmt.Sprintf("%d / %d", l.MaxPerSec, l.MaxPerMinGroup))
		t.add("", "429 answers (to the group / to private chats)", fmt.Sprintf("%d (%d / %d)", l.TooMany, l.TooManyGroup, l.TooManyPrivate))
		t.add("", "reminders lost / delivered twice", fmt.Sprintf("%d / %d", l.Lost, l.Doubled))
		t.add("", "/status answered in the group during the fan-out / in all", fmt.Sprintf("%d / %d of %d", l.ChatterAnswers, l.ChatterAll, l.Chatter))
	}
	if f := r.Reference; f != nil {
		name := fmt.Sprintf("reference (%d clients, raw EVALSHA)", f.Clients)
		t.add(name, "votes per second", fmt.Sprintf("%.0f", f.OpsPerSec))
		t.add("", "latency p50 / p99", fmt.Sprintf("%s / %s", ms(f.Latency.P50), ms(f.Latency.P99)))
	}
	t.add("all", "requests the stand-in rejected (contract)", r.Rejections)
	t.write(w)
	fmt.Fprintln(w)
}
