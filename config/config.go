// Package config loads committeebot's configuration from an optional YAML
// file and COMMITTEEBOT_* environment variables, checks it, and hands the
// rest of the program a plain typed struct.
//
// It is the only package that imports viper: everything else receives
// values from Config. Keys, defaults and environment variable names are
// part of the operator contract and listed in Keys.
//
// Loading and checking are separate steps so the caller can collect every
// problem at once: Load fails only when the file itself cannot be read,
// and Validate reports every bad value (including those Load could not
// parse) naming its key.
package config

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	// The time zone database is embedded so bot.timezone works in minimal
	// containers (distroless, scratch) that ship no /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/committeebot/committeebot/domain"
)

// Config is the effective configuration of committeebot. Load fills it;
// Validate checks it. Secrets are of type Secret or SecretURL and mask
// themselves whenever formatted.
type Config struct {
	Telegram  TelegramConfig
	Redis     RedisConfig
	Bot       BotConfig
	Meetings  MeetingsConfig
	Reminders RemindersConfig
	Voting    VotingConfig
	HTTP      HTTPConfig
	Shutdown  ShutdownConfig
	Log       LogConfig
	// Awards is the award catalogue of the file's awards list; nil when
	// the file has none (AwardCatalogue then gives the default).
	Awards []AwardConfig

	// problems found while loading (values that could not be parsed, an
	// unreadable token file); Validate reports them first.
	problems []Problem
	// unparsed holds the keys those problems already explain, so Validate
	// does not report the zero value left in their fields a second time.
	unparsed map[string]bool
}

// TelegramConfig is the telegram.* section.
type TelegramConfig struct {
	// Token is the bot token (telegram.token, or read from TokenFile).
	Token Secret
	// TokenFile is the file the token was read from (telegram.token_file),
	// e.g. a mounted Kubernetes or Docker secret.
	TokenFile string
	// APIEndpoint is the Bot API URL format with two %s verbs: token, then
	// method (telegram.api_endpoint).
	APIEndpoint string
	// Mode is ModePolling or ModeWebhook (telegram.mode).
	Mode string
	// PollTimeout is the long-polling timeout sent to getUpdates
	// (telegram.poll_timeout); the HTTP client's timeout must exceed it.
	PollTimeout time.Duration
	// Webhook configures webhook mode.
	Webhook WebhookConfig
}

// WebhookConfig is the telegram.webhook.* section.
type WebhookConfig struct {
	// URL is the public HTTPS URL Telegram posts updates to
	// (telegram.webhook.url).
	URL string
	// Listen is the local address of the webhook HTTP server
	// (telegram.webhook.listen).
	Listen string
	// SecretToken is sent by Telegram in X-Telegram-Bot-Api-Secret-Token
	// with every update (telegram.webhook.secret_token, or read from
	// SecretTokenFile).
	SecretToken Secret
	// SecretTokenFile is the file SecretToken was read from
	// (telegram.webhook.secret_token_file).
	SecretTokenFile string
}

// RedisConfig is the redis.* section. Exactly one topology applies:
// Sentinel when redis.sentinel.* is set, a cluster when Cluster.Addrs is
// set, otherwise the single node at URL (see Topology); Validate refuses
// Sentinel and cluster together.
type RedisConfig struct {
	// URL is the single-node address, redis://[user:password@]host:port/db,
	// rediss:// for TLS or unix:///path (redis.url). With Sentinel or a
	// cluster its host is ignored; its user, password, database and scheme
	// still apply.
	URL SecretURL
	// Password authenticates to the data nodes; when set it takes
	// precedence over a password inside URL (redis.password, or read from
	// PasswordFile).
	Password Secret
	// PasswordFile is the file Password was read from (redis.password_file).
	PasswordFile string
	// KeyPrefix namespaces every key the bot writes (redis.key_prefix).
	KeyPrefix string
	// WaitReplicas is how many replicas must hold a write that records a
	// vote or a state change before the user is told (redis.wait_replicas;
	// 0: the primary's answer is enough).
	WaitReplicas int
	// Sentinel configures a Sentinel-managed primary.
	Sentinel SentinelConfig
	// Cluster configures Redis Cluster.
	Cluster ClusterConfig
}

// SentinelConfig is the redis.sentinel.* section.
type SentinelConfig struct {
	// Master is the name Sentinel knows the primary by
	// (redis.sentinel.master).
	Master string
	// Addrs are the Sentinels' host:port addresses (redis.sentinel.addrs).
	Addrs []string
	// Password authenticates to the Sentinels themselves, not the data
	// nodes (redis.sentinel.password, or read from PasswordFile).
	Password Secret
	// PasswordFile is the file Password was read from
	// (redis.sentinel.password_file).
	PasswordFile string
}

// ClusterConfig is the redis.cluster.* section.
type ClusterConfig struct {
	// Addrs are seed host:port addresses of the cluster
	// (redis.cluster.addrs).
	Addrs []string
}

// Redis topologies returned by RedisConfig.Topology.
const (
	RedisSingle   = "single"
	RedisSentinel = "sentinel"
	RedisCluster  = "cluster"
)

// Topology reports which Redis deployment the section describes:
// RedisSentinel, RedisCluster or RedisSingle.
func (r RedisConfig) Topology() string {
	switch {
	case r.Sentinel.Master != "" || len(r.Sentinel.Addrs) > 0:
		return RedisSentinel
	case len(r.Cluster.Addrs) > 0:
		return RedisCluster
	default:
		return RedisSingle
	}
}

// BotConfig is the bot.* section.
type BotConfig struct {
	// Admins are the Telegram user ids of global admins (bot.admins).
	Admins []int64
	// Timezone is the IANA name of the default committee time zone
	// (bot.timezone).
	Timezone string
	// Location is Timezone loaded by Load; nil if it did not load.
	Location *time.Location
	// Language is the default language, "vi" or "en" (bot.language).
	Language string
	// Workers is how many update workers run; updates of one chat always
	// go to the same worker (bot.workers).
	Workers int
	// JoinDigest gathers the group's notices of new delegates into one
	// message per period (bot.join_digest); 0 announces each at once.
	JoinDigest time.Duration
}

// MeetingsConfig is the meetings.* section.
type MeetingsConfig struct {
	// DefaultDuration is how long a meeting lasts when its creator gives
	// no duration=, and how long a meeting stored before durations were
	// kept is taken to last (meetings.default_duration): the end of the
	// calendar event and of the meeting card.
	DefaultDuration time.Duration
}

// RemindersConfig is the reminders.* section.
type RemindersConfig struct {
	// MeetingOffsets are how long before a meeting reminders go out,
	// longest first (reminders.meeting_offsets).
	MeetingOffsets []time.Duration
	// BallotOffsets are how long before a ballot deadline non-voters are
	// reminded, longest first (reminders.ballot_offsets).
	BallotOffsets []time.Duration
	// Tick is how often due reminders are claimed (reminders.tick).
	Tick time.Duration
}

// VotingConfig is the voting.* section.
type VotingConfig struct {
	// SealKey is the base64 encoding of the 32-byte key that seals secret
	// ballots at rest (voting.seal_key, or read from SealKeyFile). Use
	// SealKeyBytes to decode it.
	SealKey Secret
	// SealKeyFile is the file SealKey was read from (voting.seal_key_file).
	SealKeyFile string
	// MaxDeadline is the furthest a ballot's deadline may lie ahead
	// (voting.max_deadline).
	MaxDeadline time.Duration
}

// HTTPConfig is the http.* section.
type HTTPConfig struct {
	// Listen is the address of the /healthz, /readyz and /metrics server
	// (http.listen).
	Listen string
}

// ShutdownConfig is the shutdown.* section.
type ShutdownConfig struct {
	// Timeout is the whole time a shutdown may take from SIGTERM to exit
	// (shutdown.timeout): every stage — stop taking updates, drain the
	// handlers, the job runner and the sends in flight, release the poll
	// lease, close Redis — gets what is left of it, and what is not done
	// by then is cut short. It must fit the orchestrator's grace before
	// SIGKILL (terminationGracePeriodSeconds, TimeoutStopSec,
	// stop_grace_period).
	Timeout time.Duration
}

// LogConfig is the log.* section.
type LogConfig struct {
	// Level is debug, info, warn or error (log.level).
	Level string
	// Format is json or text (log.format).
	Format string
}

// Load reads the configuration: defaults, then the YAML file at path (none
// if path is ""), then environment variables, each layer overriding the one
// before. getenv looks up environment variables (os.Getenv in production,
// a map in tests; nil means os.Getenv). Variables are also read from the
// process environment through viper, so a value given by getenv takes
// precedence but cannot hide a variable that is really set.
//
// Load returns a *ValidationError naming the file when it cannot be read or
// is not valid YAML. Values that cannot be parsed do not fail Load: they
// are kept as problems that Validate reports together with every other
// problem, so always call Validate before using the result.
func Load(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	v := newViper()

	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, &ValidationError{Problems: []Problem{{Key: "--config", Message: err.Error()}}}
		}
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, &ValidationError{Problems: []Problem{{
				Key:     "--config",
				Message: fmt.Sprintf("%s is not valid YAML: %v", path, err),
			}}}
		}
	}
	// An explicit Set outranks file and environment in viper, so values
	// from getenv land above the file as the environment should.
	for _, k := range keyDefs {
		if val := strings.TrimSpace(getenv(EnvVar(k.name))); val != "" {
			v.Set(k.name, val)
		}
	}

	l := loader{v: v, cfg: &Config{unparsed: map[string]bool{}}}
	if path != "" {
		l.unknownFileKeys(path)
	}
	l.load()
	return l.cfg, nil
}

// LoadEnviron is Load for the program itself: environ is the process
// environment ("KEY=value", as os.Environ returns it). The file is path,
// else the one COMMITTEEBOT_CONFIG names; and a COMMITTEEBOT_* variable
// that sets no key is a problem, named with the nearest known variable
// (those starting COMMITTEEBOT_TEST_ belong to the test suite and are
// left alone).
func LoadEnviron(path string, environ []string) (*Config, error) {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	if path == "" {
		path = strings.TrimSpace(vars[EnvConfig])
	}
	cfg, err := Load(path, func(k string) string { return vars[k] })
	if err != nil {
		return nil, err
	}
	known := map[string]bool{EnvConfig: true}
	names := []string{EnvConfig}
	for _, k := range keyDefs {
		known[EnvVar(k.name)] = true
		names = append(names, EnvVar(k.name))
	}
	var unknown []string
	for k := range vars {
		if strings.HasPrefix(k, EnvPrefix+"_") && !strings.HasPrefix(k, EnvTestPrefix) && !known[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		cfg.problems = append(cfg.problems, Problem{Key: k, Message: "unknown variable" + suggest(k, names)})
	}
	return cfg, nil
}

// unknownFileKeys reports every key of the file that is not a known key or
// a section holding known keys, with the nearest known name. The file was
// read and parsed by Load already.
func (l *loader) unknownFileKeys(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var doc map[string]any
	if yaml.Unmarshal(data, &doc) != nil {
		return
	}
	leaves := map[string]bool{KeyAwards: true}
	sections := map[string]bool{}
	names := []string{KeyAwards}
	for _, k := range keyDefs {
		leaves[k.name] = true
		names = append(names, k.name)
		parts := strings.Split(k.name, ".")
		for i := 1; i < len(parts); i++ {
			sections[strings.Join(parts[:i], ".")] = true
		}
	}
	for s := range sections {
		names = append(names, s)
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			switch {
			case leaves[name]:
			case sections[name]:
				if sub, ok := m[k].(map[string]any); ok {
					walk(name, sub)
				} else if m[k] != nil {
					l.fail(name, "want a section of keys")
				}
			default:
				l.fail(name, "unknown key"+suggest(name, names))
			}
		}
	}
	walk("", doc)
}

// suggest is ` (did you mean "x"?)` for the known name nearest to name,
// or "" when none is near.
func suggest(name string, known []string) string {
	best, bestD := "", -1
	for _, k := range known {
		if d := editDistance(strings.ToLower(name), strings.ToLower(k)); bestD < 0 || d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if bestD < 0 || bestD > max(3, len(name)/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// newViper returns a viper that knows every key, with its default and its
// environment variable.
func newViper() *viper.Viper {
	v := viper.New()
	v.SetConfigType("yaml")
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(envReplacer)
	v.AutomaticEnv()
	for _, k := range keyDefs {
		v.SetDefault(k.name, k.def)
		// BindEnv only fails without a key; the table always has one.
		_ = v.BindEnv(k.name, EnvVar(k.name))
	}
	return v
}

// loader turns viper's loosely typed values into Config fields, recording
// a problem for every value it cannot parse.
type loader struct {
	v   *viper.Viper
	cfg *Config
}

func (l *loader) load() {
	c := l.cfg

	c.Telegram.TokenFile = l.secret(KeyTelegramToken, KeyTelegramTokenFile, &c.Telegram.Token)
	c.Telegram.APIEndpoint = l.str(KeyTelegramAPIEndpoint)
	c.Telegram.Mode = strings.ToLower(l.str(KeyTelegramMode))
	c.Telegram.PollTimeout = l.duration(KeyTelegramPollTimeout)
	c.Telegram.Webhook.URL = l.str(KeyWebhookURL)
	c.Telegram.Webhook.Listen = l.str(KeyWebhookListen)
	c.Telegram.Webhook.SecretTokenFile = l.secret(KeyWebhookSecretToken, KeyWebhookSecretTokenFile, &c.Telegram.Webhook.SecretToken)

	c.Redis.URL = SecretURL(l.str(KeyRedisURL))
	c.Redis.PasswordFile = l.secret(KeyRedisPassword, KeyRedisPasswordFile, &c.Redis.Password)
	c.Redis.KeyPrefix = l.str(KeyRedisKeyPrefix)
	c.Redis.WaitReplicas = l.int(KeyRedisWaitReplicas)
	c.Redis.Sentinel.Master = l.str(KeyRedisSentinelMaster)
	c.Redis.Sentinel.Addrs = l.list(KeyRedisSentinelAddrs)
	c.Redis.Sentinel.PasswordFile = l.secret(KeyRedisSentinelPassword, KeyRedisSentinelPasswordFile, &c.Redis.Sentinel.Password)
	c.Redis.Cluster.Addrs = l.list(KeyRedisClusterAddrs)

	c.Bot.Admins = l.int64s(KeyBotAdmins)
	c.Bot.Timezone = l.str(KeyBotTimezone)
	if loc, err := time.LoadLocation(c.Bot.Timezone); err == nil && c.Bot.Timezone != "" {
		c.Bot.Location = loc
	}
	c.Bot.Language = strings.ToLower(l.str(KeyBotLanguage))
	c.Bot.Workers = l.int(KeyBotWorkers)
	c.Bot.JoinDigest = l.duration(KeyBotJoinDigest)

	c.Meetings.DefaultDuration = l.duration(KeyMeetingsDefaultDuration)

	c.Reminders.MeetingOffsets = l.durations(KeyMeetingOffsets)
	c.Reminders.BallotOffsets = l.durations(KeyBallotOffsets)
	c.Reminders.Tick = l.duration(KeyRemindersTick)

	c.Voting.SealKeyFile = l.secret(KeyVotingSealKey, KeyVotingSealKeyFile, &c.Voting.SealKey)
	c.Voting.MaxDeadline = l.duration(KeyVotingMaxDeadline)
	c.HTTP.Listen = l.str(KeyHTTPListen)
	c.Shutdown.Timeout = l.duration(KeyShutdownTimeout)
	c.Log.Level = strings.ToLower(l.str(KeyLogLevel))
	c.Log.Format = strings.ToLower(l.str(KeyLogFormat))
	l.awards()
}

// secret reads a secret that may come from its key or, for mounted
// Kubernetes or Docker secrets, from the file its _file twin names (the
// trimmed content). It returns the file's name.
func (l *loader) secret(key, fileKey string, dst *Secret) string {
	*dst = Secret(l.str(key))
	file := l.str(fileKey)
	if file == "" {
		return ""
	}
	if *dst != "" {
		l.fail(fileKey, fmt.Sprintf("set either %s or %s, not both", key, fileKey))
		return file
	}
	// A file that fails explains why the secret is missing; saying
	// "<key>: required" as well would only add noise.
	data, err := os.ReadFile(file)
	if err != nil {
		// The *PathError names the file and the reason, never its content.
		l.fail(fileKey, err.Error())
		l.cfg.unparsed[key] = true
		return file
	}
	*dst = Secret(strings.TrimSpace(string(data)))
	if *dst == "" {
		l.fail(fileKey, fmt.Sprintf("%s is empty", file))
		l.cfg.unparsed[key] = true
	}
	return file
}

func (l *loader) fail(key, msg string) {
	l.cfg.problems = append(l.cfg.problems, Problem{Key: key, Message: msg})
	l.cfg.unparsed[key] = true
}

// str returns a scalar value as a trimmed string.
func (l *loader) str(key string) string {
	switch val := l.v.Get(key).(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(val)
	case []any, map[string]any, []string:
		l.fail(key, "want a single value, not a list or a section")
		return ""
	default:
		return fmt.Sprint(val)
	}
}

// list returns a list value: a YAML sequence, or a comma-separated string
// as environment variables carry it. Empty items are dropped.
func (l *loader) list(key string) []string {
	var raw []string
	switch val := l.v.Get(key).(type) {
	case nil:
		return nil
	case string:
		raw = strings.Split(val, ",")
	case []string:
		raw = val
	case []any:
		for _, item := range val {
			switch item.(type) {
			case []any, map[string]any:
				l.fail(key, "want a list of single values")
				return nil
			case nil:
				continue
			}
			raw = append(raw, fmt.Sprint(item))
		}
	case map[string]any:
		l.fail(key, "want a list, not a section")
		return nil
	default:
		raw = []string{fmt.Sprint(val)}
	}
	var out []string
	for _, s := range raw {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (l *loader) int(key string) int {
	s := l.str(key)
	if l.cfg.unparsed[key] {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		l.fail(key, fmt.Sprintf("%q is not a whole number", s))
		return 0
	}
	return n
}

func (l *loader) int64s(key string) []int64 {
	items := l.list(key)
	if l.cfg.unparsed[key] {
		return nil
	}
	var out []int64
	for _, s := range items {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			l.fail(key, fmt.Sprintf("%q is not a Telegram user id", s))
			return nil
		}
		out = append(out, n)
	}
	return out
}

func (l *loader) duration(key string) time.Duration {
	s := l.str(key)
	if l.cfg.unparsed[key] {
		return 0
	}
	d, err := domain.ParseDuration(s)
	if err != nil {
		l.fail(key, durationHint(err))
		return 0
	}
	return d
}

// durations parses a list of durations and sorts it longest first, the
// order in which the reminders fire.
func (l *loader) durations(key string) []time.Duration {
	items := l.list(key)
	if l.cfg.unparsed[key] {
		return nil
	}
	var out []time.Duration
	for _, s := range items {
		d, err := domain.ParseDuration(s)
		if err != nil {
			l.fail(key, durationHint(err))
			return nil
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	return out
}

func durationHint(err error) string {
	return err.Error() + " (want e.g. 90m, 2h, 3d, 1d12h)"
}
