// Package loadtest measures the bot the way it runs in production: the
// real binary (`committeebot serve`, webhook mode, configured by
// environment variables only) on a real redis-server with AOF, talking to
// the Telegram stand-in (bot/telegramtest) with Telegram's flood limits
// on, served on a loopback HTTP listener. `committeebot bench` runs it.
//
// The bench plays Telegram's side itself: users, groups, messages and
// button presses are created in the stand-in, so that everything the bot
// sends back is checked and accepted there, but the updates are posted to
// the bot's webhook by the bench (with the secret header, over at most 40
// connections like Telegram), so the bench decides when they arrive.
// Committees are set up with the bot's own commands.
//
// Scenarios:
//   - burst: hundreds of voters in a score of committees press "submit" on
//     their personal ballots within one second;
//   - sustained: as many casts a second as the bot records, for a while;
//   - limits: a fan-out of about a thousand reminders while three replicas
//     share one Redis and one of them is restarted twice;
//   - reference: what the same redis-server does with a two-command vote
//     script and no bot in between.
//
// Everything is bounded in count and time, listens on and talks to
// 127.0.0.1 only, and is removed at the end: child processes are killed,
// the temporary directory deleted.
package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/committeebot/committeebot/bot/telegramtest"
)

// Scenario names.
const (
	ScenarioBurst     = "burst"
	ScenarioSustained = "sustained"
	ScenarioLimits    = "limits"
	ScenarioReference = "reference"
	ScenarioAll       = "all"
)

// Scenarios lists the scenarios in the order "all" runs them.
var Scenarios = []string{ScenarioBurst, ScenarioSustained, ScenarioLimits, ScenarioReference}

// Config says what to run. The zero value of a field means its default
// (see Defaults), except Restarts and Chatter, where zero means none.
type Config struct {
	// Scenarios to run, from Scenarios ("all" for every one).
	Scenarios []string
	// Binary is the committeebot binary to run; empty builds it at the
	// module root as releases are (`go build -trimpath`, CGO_ENABLED=0).
	Binary string
	// Voters and Committees of the burst (300 over 22).
	Voters     int
	Committees int
	// PressWindow is the time over which the burst's presses are spread
	// (1 s).
	PressWindow time.Duration
	// Duration of the sustained load (10 s); the reference runs half of
	// it, at most 5 s.
	Duration time.Duration
	// SustainedVoters, SustainedCommittees and SustainedBallots shape
	// the sustained load: every voter is a member of every committee,
	// which opens SustainedBallots motions (400 voters, 4 × 5 ballots).
	SustainedVoters     int
	SustainedCommittees int
	SustainedBallots    int
	// Replicas of the limits scenario (3), restarts of the replica sending
	// the fan-out (2: SIGKILL, then SIGTERM), delegates reminded (1000)
	// and /status commands typed in the group meanwhile (25).
	Replicas int
	Restarts int
	FanOut   int
	Chatter  int
	// ReferenceClients running the vote script (50).
	ReferenceClients int
	// Out receives the tables; Log the progress.
	Out io.Writer
	Log *slog.Logger
}

// Defaults are the figures of docs/PERFORMANCE.md.
var Defaults = Config{
	Scenarios:           []string{ScenarioAll},
	Voters:              300,
	Committees:          22,
	PressWindow:         time.Second,
	Duration:            10 * time.Second,
	SustainedVoters:     400,
	SustainedCommittees: 4,
	SustainedBallots:    5,
	Replicas:            3,
	Restarts:            2,
	FanOut:              1000,
	Chatter:             25,
	ReferenceClients:    50,
}

func (c Config) withDefaults() Config {
	d := Defaults
	if len(c.Scenarios) == 0 {
		c.Scenarios = d.Scenarios
	}
	pos := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pos(&c.Voters, d.Voters)
	pos(&c.Committees, d.Committees)
	pos(&c.SustainedVoters, d.SustainedVoters)
	pos(&c.SustainedCommittees, d.SustainedCommittees)
	pos(&c.SustainedBallots, d.SustainedBallots)
	pos(&c.Replicas, d.Replicas)
	pos(&c.FanOut, d.FanOut)
	pos(&c.ReferenceClients, d.ReferenceClients)
	if c.Restarts < 0 {
		c.Restarts = 0
	}
	if c.Chatter < 0 {
		c.Chatter = 0
	}
	if c.PressWindow <= 0 {
		c.PressWindow = d.PressWindow
	}
	if c.Duration <= 0 {
		c.Duration = d.Duration
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a configuration the bench cannot run.
func (c Config) Validate() error {
	var errs []error
	for _, s := range c.Scenarios {
		if s != ScenarioAll && !contains(Scenarios, s) {
			errs = append(errs, fmt.Errorf("unknown scenario %q (want %s or %s)", s, strings.Join(Scenarios, ", "), ScenarioAll))
		}
	}
	if c.Committees > 0 && c.Voters > 0 && c.Voters < c.Committees {
		errs = append(errs, fmt.Errorf("%d voters cannot fill %d committees", c.Voters, c.Committees))
	}
	if c.Committees > 0 && c.Voters > 0 && (c.Voters+c.Committees-1)/c.Committees > maxUnitsPerBloc {
		errs = append(errs, fmt.Errorf("%d voters over %d committees is more than %d a committee: a group takes 20 messages a minute, and each delegate joining is one", c.Voters, c.Committees, maxUnitsPerBloc))
	}
	return errors.Join(errs...)
}

func (c Config) runs(s string) bool {
	return contains(c.Scenarios, s) || contains(c.Scenarios, ScenarioAll)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Report holds what the scenarios measured; a scenario not run is nil.
type Report struct {
	Machine   Machine
	Burst     *BurstResult
	Sustained *SustainedResult
	Limits    *LimitsResult
	Reference *ReferenceResult
	// Rejections is the number of requests the stand-in refused as
	// breaking the Bot API contract, over the whole run.
	Rejections int
}

// Machine describes where the figures were measured.
type Machine struct {
	CPU, Kernel, Go, Redis, Bot string
	Cores                       int
}

// env is what every scenario shares: the binary, one redis-server, one
// stand-in.
type env struct {
	cfg     Config
	log     *slog.Logger
	dir     string
	binary  string
	redis   *redisServer
	rdb     *redis.Client
	tg      *telegramtest.Server
	secret  string
	sealKey string
	bots    []*botProc
}

// Run runs the configured scenarios, prints a table for each and a
// Markdown summary to cfg.Out, and returns the figures. A scenario that
// fails is reported in the error; the others still run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "committeebot-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)
	e := &env{cfg: cfg, log: cfg.Log, dir: dir, secret: randomToken(32)}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	e.sealKey = base64.StdEncoding.EncodeToString(key)
	defer e.stopBots()

	e.binary = cfg.Binary
	if e.binary == "" {
		e.log.Info("building the bot", "cmd", "go build -o <tmp>/committeebot .")
		if e.binary, err = buildBinary(ctx, dir); err != nil {
			return nil, err
		}
	}
	if e.redis, err = startRedis(ctx, dir); err != nil {
		return nil, err
	}
	defer e.redis.stop()
	e.rdb = redis.NewClient(&redis.Options{Addr: e.redis.addr, PoolSize: 64})
	defer e.rdb.Close()
	e.tg = telegramtest.New(telegramtest.WithRateLimits(true), telegramtest.WithBotUser("committee_bench_bot"))
	defer e.tg.Close()

	rep := &Report{Machine: e.machine(ctx)}
	fmt.Fprintf(cfg.Out, "# committeebot bench\n\n%s\n\n", rep.Machine)
	var errs []error
	run := func(name string, limit time.Duration, f func(context.Context) error) {
		if !cfg.runs(name) || ctx.Err() != nil {
			return
		}
		sctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		e.log.Info("scenario", "name", name)
		if err := f(sctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			fmt.Fprintf(cfg.Out, "## %s\n\nfailed: %v\n\n", name, err)
		}
		e.stopBots()
	}
	run(ScenarioBurst, 15*time.Minute, func(ctx context.Context) (err error) {
		rep.Burst, err = runBurst(ctx, e)
		return err
	})
	run(ScenarioSustained, 10*time.Minute, func(ctx context.Context) (err error) {
		rep.Sustained, err = runSustained(ctx, e)
		return err
	})
	run(ScenarioLimits, 15*time.Minute, func(ctx context.Context) (err error) {
		rep.Limits, err = runLimits(ctx, e)
		return err
	})
	run(ScenarioReference, 2*time.Minute, func(ctx context.Context) (err error) {
		rep.Reference, err = runReference(ctx, e)
		return err
	})
	rep.Rejections = len(e.tg.Rejections())
	for i, r := range e.tg.Rejections() {
		if i == 5 {
			break
		}
		e.log.Warn("the stand-in rejected a request", "method", r.Method, "status", r.Status, "description", r.Description)
	}
	rep.writeSummary(cfg.Out)
	return rep, errors.Join(errs...)
}

// newBot prepares one replica on prefix: its own webhook listener and
// ops port, the shared Redis and stand-in.
// startBotWithDriver starts one bot process and a driver posting updates
// to its webhook; the caller closes the driver.
func (e *env) startBotWithDriver(ctx context.Context, name, prefix string, admins []int64) (*botProc, *driver, error) {
	b, err := e.newBot(name, prefix, admins, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := b.start(ctx); err != nil {
		return nil, nil, err
	}
	d := newDriver(e.tg, e.secret)
	d.setTargets(b.webhook)
	return b, d, nil
}

func (e *env) newBot(name, prefix string, admins []int64, extra map[string]string) (*botProc, error) {
	wh, err := freeAddr()
	if err != nil {
		return nil, err
	}
	ops, err := freeAddr()
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(admins))
	for i, a := range admins {
		ids[i] = strconv.FormatInt(a, 10)
	}
	vars := map[string]string{
		"COMMITTEEBOT_TELEGRAM_TOKEN":        e.tg.Token(),
		"COMMITTEEBOT_TELEGRAM_API_ENDPOINT": e.tg.Endpoint(),
		"COMMITTEEBOT_TELEGRAM_MODE":         "webhook",
		// The URL the bot registers with setWebhook. The stand-in never
		// delivers to it: the bench posts every update itself.
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_URL":          "https://" + wh + "/telegram",
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_LISTEN":       wh,
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_SECRET_TOKEN": e.secret,
		"COMMITTEEBOT_REDIS_URL":                     e.redis.url(),
		"COMMITTEEBOT_REDIS_KEY_PREFIX":              prefix,
		"COMMITTEEBOT_VOTING_SEAL_KEY":               e.sealKey,
		"COMMITTEEBOT_BOT_ADMINS":                    strings.Join(ids, ","),
		"COMMITTEEBOT_HTTP_LISTEN":                   ops,
		"COMMITTEEBOT_LOG_LEVEL":                     "warn",
		"COMMITTEEBOT_LOG_FORMAT":                    "json",
	}
	for k, v := range extra {
		vars[k] = v
	}
	var environ []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COMMITTEEBOT_") {
			environ = append(environ, kv)
		}
	}
	for k, v := range vars {
		environ = append(environ, k+"="+v)
	}
	b := &botProc{
		name: name, binary: e.binary, env: environ,
		webhook: "http://" + wh + "/telegram", ops: "http://" + ops,
		logPath: filepath.Join(e.dir, name+".log"),
	}
	e.bots = append(e.bots, b)
	return b, nil
}

// stopBots stops every replica still running, gracefully.
func (e *env) stopBots() {
	for _, b := range e.bots {
		if b.pid() != 0 {
			b.stop(syscall.SIGTERM, stopGrace)
		}
	}
	e.bots = nil
}

func (e *env) machine(ctx context.Context) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if raw, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(raw))
	}
	if info, err := e.rdb.Info(ctx, "server").Result(); err == nil {
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				m.Redis = "Redis " + v
			}
		}
	}
	vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(vctx, e.binary, "version").Output(); err == nil {
		m.Bot = strings.TrimSpace(string(out))
	}
	return m
}

func (m Machine) String() string {
	return fmt.Sprintf("%s; %d cores; %s; %s; %s (appendonly yes, appendfsync everysec); %s",
		orUnknown(m.CPU), m.Cores, orUnknown(m.Kernel), m.Go, orUnknown(m.Redis), orUnknown(m.Bot))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// randomToken is n characters of A-Z a-z 0-9, the alphabet of webhook
// secret tokens.
func randomToken(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
