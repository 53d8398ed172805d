package config

import "strings"

// EnvPrefix prefixes every environment variable the configuration reads.
const EnvPrefix = "COMMITTEEBOT"

// EnvConfig names the YAML file when no --config flag is given.
const EnvConfig = EnvPrefix + "_CONFIG"

// EnvTestPrefix starts the variables reserved for the project's own test
// suite (a test Redis URL, knobs of child processes); the configuration
// neither reads them nor reports them as unknown.
const EnvTestPrefix = EnvPrefix + "_TEST_"

// Configuration keys. They are the contract with operators (YAML files,
// environment variables, documentation), so they never change meaning.
const (
	KeyTelegramToken             = "telegram.token"
	KeyTelegramTokenFile         = "telegram.token_file"
	KeyTelegramAPIEndpoint       = "telegram.api_endpoint"
	KeyTelegramMode              = "telegram.mode"
	KeyTelegramPollTimeout       = "telegram.poll_timeout"
	KeyWebhookURL                = "telegram.webhook.url"
	KeyWebhookListen             = "telegram.webhook.listen"
	KeyWebhookSecretToken        = "telegram.webhook.secret_token"
	KeyWebhookSecretTokenFile    = "telegram.webhook.secret_token_file"
	KeyRedisURL                  = "redis.url"
	KeyRedisPassword             = "redis.password"
	KeyRedisPasswordFile         = "redis.password_file"
	KeyRedisKeyPrefix            = "redis.key_prefix"
	KeyRedisWaitReplicas         = "redis.wait_replicas"
	KeyRedisSentinelMaster       = "redis.sentinel.master"
	KeyRedisSentinelAddrs        = "redis.sentinel.addrs"
	KeyRedisSentinelPassword     = "redis.sentinel.password"
	KeyRedisSentinelPasswordFile = "redis.sentinel.password_file"
	KeyRedisClusterAddrs         = "redis.cluster.addrs"
	KeyBotAdmins                 = "bot.admins"
	KeyBotTimezone               = "bot.timezone"
	KeyBotLanguage               = "bot.language"
	KeyBotWorkers                = "bot.workers"
	KeyBotJoinDigest             = "bot.join_digest"
	KeyMeetingsDefaultDuration   = "meetings.default_duration"
	KeyMeetingOffsets            = "reminders.meeting_offsets"
	KeyBallotOffsets             = "reminders.ballot_offsets"
	KeyRemindersTick             = "reminders.tick"
	KeyVotingSealKey             = "voting.seal_key"
	KeyVotingSealKeyFile         = "voting.seal_key_file"
	KeyVotingMaxDeadline         = "voting.max_deadline"
	KeyHTTPListen                = "http.listen"
	KeyShutdownTimeout           = "shutdown.timeout"
	KeyLogLevel                  = "log.level"
	KeyLogFormat                 = "log.format"
)

// Default values, in the form they take in a file or the environment.
const (
	DefaultAPIEndpoint     = "https://api.telegram.org/bot%s/%s"
	DefaultMode            = ModePolling
	DefaultPollTimeout     = "50s"
	DefaultWebhookListen   = ":8443"
	DefaultRedisURL        = "redis://127.0.0.1:6379/0"
	DefaultKeyPrefix       = "cb"
	DefaultTimezone        = "Asia/Ho_Chi_Minh"
	DefaultLanguage        = "vi"
	DefaultWorkers         = 8
	DefaultJoinDigest      = "1m"
	DefaultMeetingDuration = "2h"
	DefaultMeetingOffsets  = "72h,24h,2h"
	DefaultBallotOffsets   = "24h,1h"
	DefaultTick            = "1s"
	DefaultMaxDeadline     = "90d"
	DefaultHTTPListen      = ":9090"
	// DefaultShutdownTimeout fits Kubernetes' default grace of 30 s
	// with a margin (deploy/README.md, "Shutdown").
	DefaultShutdownTimeout = "25s"
	DefaultLogLevel        = "info"
	DefaultLogFormat       = "json"
)

// Telegram update modes (telegram.mode).
const (
	ModePolling = "polling"
	ModeWebhook = "webhook"
)

// keyDef describes one configuration key.
type keyDef struct {
	name string
	// def is the default in environment form ("" for none). Every key gets
	// a default, even an empty one, because viper only unmarshals and
	// lists keys it has heard of, and an env-only key must still work.
	def any
}

// keyDefs lists every key in the order check-config prints them. A nested
// group (telegram.webhook.*) comes after the plain keys of its parent so
// the printed YAML nests cleanly.
var keyDefs = []keyDef{
	{KeyTelegramToken, ""},
	{KeyTelegramTokenFile, ""},
	{KeyTelegramAPIEndpoint, DefaultAPIEndpoint},
	{KeyTelegramMode, DefaultMode},
	{KeyTelegramPollTimeout, DefaultPollTimeout},
	{KeyWebhookURL, ""},
	{KeyWebhookListen, DefaultWebhookListen},
	{KeyWebhookSecretToken, ""},
	{KeyWebhookSecretTokenFile, ""},
	{KeyRedisURL, DefaultRedisURL},
	{KeyRedisPassword, ""},
	{KeyRedisPasswordFile, ""},
	{KeyRedisKeyPrefix, DefaultKeyPrefix},
	{KeyRedisWaitReplicas, 0},
	{KeyRedisSentinelMaster, ""},
	{KeyRedisSentinelAddrs, ""},
	{KeyRedisSentinelPassword, ""},
	{KeyRedisSentinelPasswordFile, ""},
	{KeyRedisClusterAddrs, ""},
	{KeyBotAdmins, ""},
	{KeyBotTimezone, DefaultTimezone},
	{KeyBotLanguage, DefaultLanguage},
	{KeyBotWorkers, DefaultWorkers},
	{KeyBotJoinDigest, DefaultJoinDigest},
	{KeyMeetingsDefaultDuration, DefaultMeetingDuration},
	{KeyMeetingOffsets, DefaultMeetingOffsets},
	{KeyBallotOffsets, DefaultBallotOffsets},
	{KeyRemindersTick, DefaultTick},
	{KeyVotingSealKey, ""},
	{KeyVotingSealKeyFile, ""},
	{KeyVotingMaxDeadline, DefaultMaxDeadline},
	{KeyHTTPListen, DefaultHTTPListen},
	{KeyShutdownTimeout, DefaultShutdownTimeout},
	{KeyLogLevel, DefaultLogLevel},
	{KeyLogFormat, DefaultLogFormat},
}

// envReplacer turns a key into the suffix of its environment variable.
var envReplacer = strings.NewReplacer(".", "_")

// Keys returns every configuration key, in the order check-config prints
// them.
func Keys() []string {
	out := make([]string, len(keyDefs))
	for i, k := range keyDefs {
		out[i] = k.name
	}
	return out
}

// EnvVar returns the environment variable that sets key, for example
// COMMITTEEBOT_TELEGRAM_WEBHOOK_SECRET_TOKEN for telegram.webhook.secret_token.
func EnvVar(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(envReplacer.Replace(key))
}
