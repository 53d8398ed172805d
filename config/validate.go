package config

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/committeebot/committeebot/domain"
)

// Commands Validate checks a configuration for. What is required depends
// on what the binary is about to do.
const (
	// CommandServe runs the bot for real: the token and seal key are
	// required, and webhook mode needs its URL and secret token.
	CommandServe = "serve"
	// CommandDemo runs offline against an embedded Redis and a Telegram
	// stand-in: nothing is required and the telegram.webhook.* settings
	// are not needed.
	CommandDemo = "demo"
	// CommandCheck checks what serve would, except that the token and the
	// seal key may be absent (check-config runs where secrets are not).
	CommandCheck = "check"
)

// SealKeySize is the length in bytes of the decoded voting.seal_key.
const SealKeySize = 32

// Problem is one invalid configuration value.
type Problem struct {
	// Key is the configuration key at fault, e.g. "telegram.mode", or
	// "--config" for the file itself.
	Key string
	// Message says what is wrong; it never contains a secret.
	Message string
}

// Error formats the problem as "key: message".
func (p Problem) Error() string { return p.Key + ": " + p.Message }

// ValidationError lists every problem found in a configuration. main
// prints each on its own line and exits with status 2.
type ValidationError struct {
	Problems []Problem
}

// Error joins the problems one per line, as errors.Join does.
func (e *ValidationError) Error() string { return errors.Join(e.Unwrap()...).Error() }

// Unwrap returns each problem as an error, so errors.As can find a Problem.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

var (
	keyPrefixRE   = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
	secretTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

// Validate checks the configuration for command (CommandServe, CommandDemo
// or CommandCheck) and returns a *ValidationError listing every problem,
// those found by Load included, or nil. An unknown command is a
// programming error and returned as a plain error.
func (c *Config) Validate(command string) error {
	switch command {
	case CommandServe, CommandDemo, CommandCheck:
	default:
		return fmt.Errorf("config: validate for unknown command %q", command)
	}
	v := validator{cfg: c, command: command}
	v.problems = append(v.problems, c.problems...)
	v.telegram()
	v.redis()
	v.bot()
	v.meetings()
	v.reminders()
	v.voting()
	v.listeners()
	v.shutdown()
	v.log()
	v.awards()
	if len(v.problems) == 0 {
		return nil
	}
	// Report in the order of the key table (the order of the docs and of
	// check-config), whichever step found the problem.
	slices.SortStableFunc(v.problems, func(a, b Problem) int {
		return cmp.Compare(keyIndex(a.Key), keyIndex(b.Key))
	})
	return &ValidationError{Problems: v.problems}
}

// keyIndex is the position of key in keyDefs (the awards list after every
// key), -1 for anything else.
func keyIndex(key string) int {
	if key == KeyAwards {
		return len(keyDefs) // the awards list is printed last, in order
	}
	if i, ok := awardIndex(key); ok {
		return len(keyDefs) + 1 + i
	}
	return slices.IndexFunc(keyDefs, func(k keyDef) bool { return k.name == key })
}

type validator struct {
	cfg      *Config
	command  string
	problems []Problem
}

// addf records a problem unless key already has one from Load.
func (v *validator) addf(key, format string, args ...any) {
	if v.cfg.unparsed[key] {
		return
	}
	v.problems = append(v.problems, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) telegram() {
	t := v.cfg.Telegram
	switch {
	case t.Token == "":
		if v.command == CommandServe {
			v.addf(KeyTelegramToken, "required to serve (set telegram.token or telegram.token_file)")
		}
	case strings.ContainsAny(t.Token.Reveal(), " \t\r\n/?#%"):
		// The token goes into the URL path; say what is wrong, never what
		// the token is.
		v.addf(KeyTelegramToken, "contains spaces or URL characters a bot token cannot have")
	}

	v.apiEndpoint(t.APIEndpoint)

	webhookNeeded := false
	switch t.Mode {
	case ModePolling:
	case ModeWebhook:
		webhookNeeded = v.command != CommandDemo
	default:
		v.addf(KeyTelegramMode, "unknown mode %q (want %s or %s)", t.Mode, ModePolling, ModeWebhook)
	}

	if t.PollTimeout < 0 || t.PollTimeout%time.Second != 0 {
		v.addf(KeyTelegramPollTimeout, "%s is not a whole, non-negative number of seconds", domain.FormatDuration(t.PollTimeout))
	}

	w := t.Webhook
	if w.URL == "" {
		if webhookNeeded {
			v.addf(KeyWebhookURL, "required in webhook mode")
		}
	} else if u, err := url.Parse(w.URL); err != nil || u.Host == "" || (u.Scheme != "https" && (u.Scheme != "http" || !localBotAPI(t.APIEndpoint))) {
		if localBotAPI(t.APIEndpoint) {
			v.addf(KeyWebhookURL, "%q is not an http:// or https:// URL", w.URL)
		} else {
			v.addf(KeyWebhookURL, "%q is not an https:// URL (Telegram only delivers webhooks over HTTPS; http:// works with a local Bot API server, see telegram.api_endpoint)", w.URL)
		}
	}
	if w.Listen == "" {
		if webhookNeeded {
			v.addf(KeyWebhookListen, "required in webhook mode")
		}
	} else if msg := checkHostPort(w.Listen); msg != "" {
		v.addf(KeyWebhookListen, "%s", msg)
	}
	if w.SecretToken == "" {
		if webhookNeeded {
			v.addf(KeyWebhookSecretToken, "required in webhook mode (1-256 characters of A-Z a-z 0-9 _ -)")
		}
	} else if !secretTokenRE.MatchString(w.SecretToken.Reveal()) {
		v.addf(KeyWebhookSecretToken, "must be 1-256 characters of A-Z a-z 0-9 _ -")
	}
	if webhookNeeded && w.Listen != "" && w.Listen == v.cfg.HTTP.Listen {
		v.addf(KeyWebhookListen, "%q is also http.listen; the two servers need different addresses", w.Listen)
	}
}

// localBotAPI reports whether endpoint is not Telegram's own: a local Bot
// API server, which may deliver webhooks over plain HTTP inside a private
// network.
func localBotAPI(endpoint string) bool {
	u, err := url.Parse(strings.ReplaceAll(endpoint, "%s", "x"))
	return err == nil && u.Host != "" && !strings.EqualFold(u.Hostname(), "api.telegram.org")
}

func (v *validator) apiEndpoint(s string) {
	if s == "" {
		v.addf(KeyTelegramAPIEndpoint, "required")
		return
	}
	if n := strings.Count(s, "%s"); n != 2 || strings.Count(s, "%") != 2 {
		v.addf(KeyTelegramAPIEndpoint, "%q must contain exactly two %%s (token, then method) and no other %% verbs", s)
		return
	}
	u, err := url.Parse(fmt.Sprintf(s, "TOKEN", "getMe"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.addf(KeyTelegramAPIEndpoint, "%q is not an http:// or https:// URL format", s)
	}
}

func (v *validator) redis() {
	r := v.cfg.Redis
	topology := r.Topology()

	if r.URL == "" {
		if topology == RedisSingle {
			v.addf(KeyRedisURL, "required unless redis.sentinel.* or redis.cluster.addrs is set")
		}
	} else if msg := checkRedisURL(r.URL.Reveal()); msg != "" {
		v.addf(KeyRedisURL, "%s", msg)
	}

	if !keyPrefixRE.MatchString(r.KeyPrefix) {
		v.addf(KeyRedisKeyPrefix, "%q must be 1-32 characters of a-z 0-9 _ -", r.KeyPrefix)
	}

	if r.WaitReplicas < 0 && !v.cfg.unparsed[KeyRedisWaitReplicas] {
		v.addf(KeyRedisWaitReplicas, "%d: want 0 or more replicas", r.WaitReplicas)
	}
	if r.WaitReplicas > 0 && topology == RedisCluster {
		v.addf(KeyRedisWaitReplicas, "not available with redis.cluster.addrs (a write and its WAIT must go to one node); use a single node or Sentinel")
	}

	s := r.Sentinel
	if s.Master != "" && len(s.Addrs) == 0 {
		v.addf(KeyRedisSentinelAddrs, "required when redis.sentinel.master is set")
	}
	if s.Master == "" && len(s.Addrs) > 0 {
		v.addf(KeyRedisSentinelMaster, "required when redis.sentinel.addrs is set")
	}
	v.addrs(KeyRedisSentinelAddrs, s.Addrs)
	if s.Password != "" && topology != RedisSentinel {
		v.addf(KeyRedisSentinelPassword, "set without redis.sentinel.master and redis.sentinel.addrs")
	}

	v.addrs(KeyRedisClusterAddrs, r.Cluster.Addrs)
	if len(r.Cluster.Addrs) > 0 && (s.Master != "" || len(s.Addrs) > 0) {
		v.addf(KeyRedisClusterAddrs, "cannot be combined with redis.sentinel.*; choose one topology")
	}
}

func (v *validator) addrs(key string, addrs []string) {
	for _, a := range addrs {
		if msg := checkHostPort(a); msg != "" {
			v.addf(key, "%s", msg)
			return
		}
		if host, _, _ := net.SplitHostPort(a); host == "" {
			v.addf(key, "%q has no host", a)
			return
		}
	}
}

func (v *validator) bot() {
	b := v.cfg.Bot
	if b.JoinDigest < 0 && !v.cfg.unparsed[KeyBotJoinDigest] {
		v.addf(KeyBotJoinDigest, "must not be negative (0 tells each join at once)")
	}
	for _, id := range b.Admins {
		if id <= 0 {
			v.addf(KeyBotAdmins, "%d is not a Telegram user id (user ids are positive)", id)
			break
		}
	}
	if b.Timezone == "" {
		v.addf(KeyBotTimezone, "required (an IANA time zone such as %s)", DefaultTimezone)
	} else if _, err := time.LoadLocation(b.Timezone); err != nil {
		v.addf(KeyBotTimezone, "unknown time zone %q (want an IANA name such as %s)", b.Timezone, DefaultTimezone)
	}
	if b.Language != "vi" && b.Language != "en" {
		v.addf(KeyBotLanguage, "unknown language %q (want vi or en)", b.Language)
	}
	if b.Workers < 1 || b.Workers > 1024 {
		v.addf(KeyBotWorkers, "%d is out of range (want 1 to 1024)", b.Workers)
	}
}

func (v *validator) meetings() {
	if v.cfg.unparsed[KeyMeetingsDefaultDuration] {
		return
	}
	if d := v.cfg.Meetings.DefaultDuration; domain.ValidMeetingDuration(d) != nil {
		v.addf(KeyMeetingsDefaultDuration, "%s is out of range (want %s to %s)", domain.FormatDuration(d),
			domain.FormatDuration(domain.MinMeetingDuration), domain.FormatDuration(domain.MaxMeetingDuration))
	}
}

func (v *validator) reminders() {
	r := v.cfg.Reminders
	v.offsets(KeyMeetingOffsets, r.MeetingOffsets)
	v.offsets(KeyBallotOffsets, r.BallotOffsets)
	if r.Tick < 10*time.Millisecond {
		v.addf(KeyRemindersTick, "%s is too short (want at least 10ms)", domain.FormatDuration(r.Tick))
	}
}

func (v *validator) offsets(key string, ds []time.Duration) {
	seen := make(map[time.Duration]bool, len(ds))
	for _, d := range ds {
		if d <= 0 {
			v.addf(key, "%s is not a positive duration", domain.FormatDuration(d))
			return
		}
		if seen[d] {
			v.addf(key, "%s is listed twice", domain.FormatDuration(d))
			return
		}
		seen[d] = true
	}
}

func (v *validator) voting() {
	if d := v.cfg.Voting.MaxDeadline; d <= 0 && !v.cfg.unparsed[KeyVotingMaxDeadline] {
		v.addf(KeyVotingMaxDeadline, "must be positive (e.g. 90d)")
	}
	k := v.cfg.Voting.SealKey
	if k == "" {
		if v.command == CommandServe {
			v.addf(KeyVotingSealKey, "required to serve (base64 of %d random bytes, e.g. from `openssl rand -base64 32`)", SealKeySize)
		}
		return
	}
	if _, err := v.cfg.Voting.SealKeyBytes(); err != nil {
		v.addf(KeyVotingSealKey, "%v", err)
	}
}

func (v *validator) listeners() {
	// Always needed: /healthz and /readyz are how orchestrators see the bot.
	if l := v.cfg.HTTP.Listen; l == "" {
		v.addf(KeyHTTPListen, "required (the /healthz, /readyz and /metrics address)")
	} else if msg := checkHostPort(l); msg != "" {
		v.addf(KeyHTTPListen, "%s", msg)
	}
}

// Bounds of shutdown.timeout: under a second leaves no time to finish
// anything; past ten minutes it is most likely a slip (25m for 25s).
const (
	minShutdownTimeout = time.Second
	maxShutdownTimeout = 10 * time.Minute
)

func (v *validator) shutdown() {
	if d := v.cfg.Shutdown.Timeout; d < minShutdownTimeout || d > maxShutdownTimeout {
		v.addf(KeyShutdownTimeout, "%s is out of range (want %s to %s)", domain.FormatDuration(d),
			domain.FormatDuration(minShutdownTimeout), domain.FormatDuration(maxShutdownTimeout))
	}
}

func (v *validator) log() {
	l := v.cfg.Log
	if _, ok := slogLevels[l.Level]; !ok {
		v.addf(KeyLogLevel, "unknown level %q (want debug, info, warn or error)", l.Level)
	}
	if l.Format != "json" && l.Format != "text" {
		v.addf(KeyLogFormat, "unknown format %q (want json or text)", l.Format)
	}
}

// SealKeyBytes decodes SealKey. It accepts standard or URL-safe base64,
// padded or not, and fails unless the key is exactly SealKeySize bytes.
// The error never contains the key.
func (v VotingConfig) SealKeyBytes() ([]byte, error) {
	s := strings.TrimSpace(v.SealKey.Reveal())
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		key, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) != SealKeySize {
			return nil, fmt.Errorf("decodes to %d bytes, want exactly %d", len(key), SealKeySize)
		}
		return key, nil
	}
	return nil, fmt.Errorf("is not base64 (want %d random bytes in base64)", SealKeySize)
}

// checkHostPort returns what is wrong with a listen or dial address, or "".
func checkHostPort(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q is not a host:port address", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("%q has no valid port number", addr)
	}
	return ""
}

// checkRedisURL returns what is wrong with a Redis URL, or "". The message
// never repeats the URL, which may hold a password.
func checkRedisURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error quotes the whole URL, password included
		}
		return fmt.Sprintf("malformed URL: %v", err)
	}
	switch u.Scheme {
	case "redis", "rediss":
	case "unix":
		if u.Path == "" {
			return "unix:// URL has no socket path"
		}
		return ""
	default:
		return fmt.Sprintf("unknown scheme %q (want redis, rediss or unix)", u.Scheme)
	}
	if u.Hostname() == "" {
		return "malformed URL: no host"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("malformed URL: bad port %q", p)
		}
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return fmt.Sprintf("malformed URL: database %q is not a number", db)
		}
	}
	return ""
}
