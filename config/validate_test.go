package config

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const sealKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// problemKeys returns the keys of a *ValidationError's problems, or nil
// for a nil error; any other error fails the test.
func problemKeys(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	keys := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		keys[i] = p.Key
	}
	return keys
}

// serveEnv is the least a serve configuration needs.
func serveEnv() map[string]string {
	return map[string]string{
		"COMMITTEEBOT_TELEGRAM_TOKEN":  "123456:abc",
		"COMMITTEEBOT_VOTING_SEAL_KEY": sealKey,
	}
}

func TestValidateBadValueNamesKey(t *testing.T) {
	isolateEnv(t)
	tests := []struct {
		env     string // variable suffix after COMMITTEEBOT_
		value   string
		wantKey string
		wantMsg string // a fragment of the message
	}{
		{"TELEGRAM_MODE", "foo", KeyTelegramMode, `unknown mode "foo" (want polling or webhook)`},
		{"TELEGRAM_TOKEN", "12 34", KeyTelegramToken, "spaces"},
		{"TELEGRAM_API_ENDPOINT", "https://api.telegram.org/bot%s", KeyTelegramAPIEndpoint, "two %s"},
		{"TELEGRAM_API_ENDPOINT", "https://x/bot%s/%s?%d", KeyTelegramAPIEndpoint, "two %s"},
		{"TELEGRAM_API_ENDPOINT", "ftp://x/bot%s/%s", KeyTelegramAPIEndpoint, "URL"},
		{"TELEGRAM_POLL_TIMEOUT", "soon", KeyTelegramPollTimeout, `invalid duration "soon"`},
		{"TELEGRAM_POLL_TIMEOUT", "1500ms", KeyTelegramPollTimeout, "whole"},
		{"TELEGRAM_WEBHOOK_URL", "http://bot.example.org/hook", KeyWebhookURL, "https"},
		{"TELEGRAM_WEBHOOK_LISTEN", "8443", KeyWebhookListen, "host:port"},
		{"TELEGRAM_WEBHOOK_SECRET_TOKEN", "has space", KeyWebhookSecretToken, "A-Z"},
		{"TELEGRAM_WEBHOOK_SECRET_TOKEN", strings.Repeat("a", 257), KeyWebhookSecretToken, "1-256"},
		{"REDIS_URL", "redis://:pw@host:port/0", KeyRedisURL, "malformed"},
		{"REDIS_URL", "http://redis:6379", KeyRedisURL, "scheme"},
		{"REDIS_URL", "redis://redis:6379/db", KeyRedisURL, "database"},
		{"REDIS_URL", "redis:///0", KeyRedisURL, "no host"},
		{"REDIS_KEY_PREFIX", "Has.Dots", KeyRedisKeyPrefix, "a-z"},
		{"REDIS_KEY_PREFIX", strings.Repeat("a", 33), KeyRedisKeyPrefix, "1-32"},
		{"REDIS_SENTINEL_MASTER", "mymaster", KeyRedisSentinelAddrs, "required"},
		{"REDIS_SENTINEL_ADDRS", "s0:26379", KeyRedisSentinelMaster, "required"},
		{"REDIS_SENTINEL_PASSWORD", "pw", KeyRedisSentinelPassword, "without"},
		{"REDIS_CLUSTER_ADDRS", "c0", KeyRedisClusterAddrs, "host:port"},
		{"REDIS_CLUSTER_ADDRS", ":6379", KeyRedisClusterAddrs, "no host"},
		{"BOT_ADMINS", "1,two", KeyBotAdmins, `"two" is not a Telegram user id`},
		{"BOT_ADMINS", "-5", KeyBotAdmins, "positive"},
		{"BOT_TIMEZONE", "Mars/Olympus_Mons", KeyBotTimezone, "unknown time zone"},
		{"BOT_LANGUAGE", "fr", KeyBotLanguage, `unknown language "fr"`},
		{"BOT_WORKERS", "many", KeyBotWorkers, "whole number"},
		{"BOT_WORKERS", "0", KeyBotWorkers, "out of range"},
		{"MEETINGS_DEFAULT_DURATION", "long", KeyMeetingsDefaultDuration, `invalid duration "long"`},
		{"MEETINGS_DEFAULT_DURATION", "0s", KeyMeetingsDefaultDuration, "0s is out of range (want 5m to 168h)"},
		{"MEETINGS_DEFAULT_DURATION", "8d", KeyMeetingsDefaultDuration, "out of range"},
		{"REMINDERS_MEETING_OFFSETS", "72h,tomorrow", KeyMeetingOffsets, `invalid duration "tomorrow"`},
		{"REMINDERS_MEETING_OFFSETS", "24h,1d", KeyMeetingOffsets, "twice"},
		{"REMINDERS_BALLOT_OFFSETS", "-1h", KeyBallotOffsets, "positive"},
		{"REMINDERS_TICK", "1ms", KeyRemindersTick, "too short"},
		{"REMINDERS_TICK", "often", KeyRemindersTick, "invalid duration"},
		{"VOTING_SEAL_KEY", "not base64!", KeyVotingSealKey, "not base64"},
		{"VOTING_SEAL_KEY", "AAECAwQFBgcICQoLDA0ODw==", KeyVotingSealKey, "16 bytes"},
		{"HTTP_LISTEN", "localhost:http-alt", KeyHTTPListen, "port"},
		{"SHUTDOWN_TIMEOUT", "soon", KeyShutdownTimeout, "invalid duration"},
		{"SHUTDOWN_TIMEOUT", "500ms", KeyShutdownTimeout, "500ms is out of range (want 1s to 10m)"},
		{"SHUTDOWN_TIMEOUT", "25m", KeyShutdownTimeout, "out of range"},
		{"LOG_LEVEL", "verbose", KeyLogLevel, `unknown level "verbose"`},
		{"LOG_FORMAT", "xml", KeyLogFormat, `unknown format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			env := serveEnv()
			env["COMMITTEEBOT_"+tt.env] = tt.value
			err := mustLoad(t, "", env).Validate(CommandServe)
			if diff := cmp.Diff([]string{tt.wantKey}, problemKeys(t, err)); diff != "" {
				t.Fatalf("problem keys mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.wantKey+": ") || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("error %q does not name %s and say %q", msg, tt.wantKey, tt.wantMsg)
			}
		})
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	isolateEnv(t)
	path := writeFile(t, "c.yaml", `
telegram:
  mode: webhook
  poll_timeout: forever
bot:
  timezone: Nowhere/Special
  language: de
reminders:
  tick: -1s
log:
  format: xml
`)
	cfg := mustLoad(t, path, map[string]string{"COMMITTEEBOT_REDIS_URL": "redis://[::1"})
	err := cfg.Validate(CommandServe)
	want := []string{
		KeyTelegramToken,
		KeyTelegramPollTimeout, // unparsable: found by Load, listed in key order
		KeyWebhookURL,
		KeyWebhookSecretToken,
		KeyRedisURL,
		KeyBotTimezone,
		KeyBotLanguage,
		KeyRemindersTick,
		KeyVotingSealKey,
		KeyLogFormat,
	}
	if diff := cmp.Diff(want, problemKeys(t, err)); diff != "" {
		t.Errorf("problem keys mismatch (-want +got):\n%s\nerror:\n%v", diff, err)
	}
	if got := strings.Count(err.Error(), "\n") + 1; got != len(want) {
		t.Errorf("error has %d lines, want one per problem:\n%v", got, err)
	}
	var p Problem
	if !errors.As(err, &p) || p.Key != KeyTelegramToken {
		t.Errorf("errors.As(err, *Problem) = %v, want the first problem", p)
	}
}

func TestValidateByCommand(t *testing.T) {
	isolateEnv(t)
	webhook := map[string]string{"COMMITTEEBOT_TELEGRAM_MODE": "webhook"}
	completeWebhook := map[string]string{
		"COMMITTEEBOT_TELEGRAM_MODE":                 "webhook",
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_URL":          "https://bot.example.org/hook",
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_SECRET_TOKEN": "secret",
	}
	sameListen := map[string]string{
		"COMMITTEEBOT_TELEGRAM_MODE":                 "webhook",
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_URL":          "https://bot.example.org/hook",
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_SECRET_TOKEN": "secret",
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_LISTEN":       ":9090",
	}
	tests := []struct {
		name    string
		env     map[string]string
		command string
		want    []string
	}{
		{"serve needs token and seal key", nil, CommandServe, []string{KeyTelegramToken, KeyVotingSealKey}},
		{"serve with both", serveEnv(), CommandServe, nil},
		{"check needs neither", nil, CommandCheck, nil},
		{"demo needs neither", nil, CommandDemo, nil},
		{"serve webhook needs url and secret", merge(serveEnv(), webhook), CommandServe, []string{KeyWebhookURL, KeyWebhookSecretToken}},
		{"check webhook needs url and secret", webhook, CommandCheck, []string{KeyWebhookURL, KeyWebhookSecretToken}},
		{"demo ignores webhook settings", webhook, CommandDemo, nil},
		{"serve complete webhook", merge(serveEnv(), completeWebhook), CommandServe, nil},
		{"webhook and http on one address", sameListen, CommandCheck, []string{KeyWebhookListen}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mustLoad(t, "", tt.env).Validate(tt.command)
			if diff := cmp.Diff(tt.want, problemKeys(t, err), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("problem keys mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestValidateUnknownCommand(t *testing.T) {
	isolateEnv(t)
	err := mustLoad(t, "", nil).Validate("launch")
	var ve *ValidationError
	if err == nil || errors.As(err, &ve) {
		t.Errorf("Validate(launch) = %v, want a plain error", err)
	}
}

func TestValidateNeverRevealsSecrets(t *testing.T) {
	isolateEnv(t)
	env := map[string]string{
		"COMMITTEEBOT_TELEGRAM_TOKEN":                "123:tok en/SECRETTOKEN",
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_SECRET_TOKEN": "bad SECRETHOOK",
		"COMMITTEEBOT_REDIS_URL":                     "redis://:SECRETPW@host:notaport/0",
		"COMMITTEEBOT_VOTING_SEAL_KEY":               "SECRETKEYSECRETKEY",
	}
	err := mustLoad(t, "", env).Validate(CommandServe)
	if diff := cmp.Diff([]string{KeyTelegramToken, KeyWebhookSecretToken, KeyRedisURL, KeyVotingSealKey}, problemKeys(t, err)); diff != "" {
		t.Fatalf("problem keys mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("validation error reveals a secret:\n%v", err)
	}
}

func TestSealKeyBytes(t *testing.T) {
	tests := []struct {
		name    string
		key     Secret
		wantLen int
		wantErr bool
	}{
		{"standard", sealKey, 32, false},
		{"unpadded", Secret(strings.TrimRight(sealKey, "=")), 32, false},
		{"url-safe", "_-8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 32, false},
		{"too short", "AAAA", 0, true},
		{"not base64", "%%%", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := VotingConfig{SealKey: tt.key}.SealKeyBytes()
			if (err != nil) != tt.wantErr || len(key) != tt.wantLen {
				t.Errorf("SealKeyBytes() = %d bytes, %v; want %d bytes, error %v", len(key), err, tt.wantLen, tt.wantErr)
			}
		})
	}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// A local Bot API server delivers webhooks over plain HTTP inside a private
// network; Telegram's own servers only over HTTPS.
func TestPlainHTTPWebhookOnlyWithALocalBotAPIServer(t *testing.T) {
	isolateEnv(t)
	hook := map[string]string{
		EnvVar(KeyTelegramMode):       "webhook",
		EnvVar(KeyWebhookURL):         "http://committeebot:8443/telegram",
		EnvVar(KeyWebhookSecretToken): "s3cret",
	}
	if keys := problemKeys(t, mustLoad(t, "", hook).Validate(CommandCheck)); !slices.Contains(keys, KeyWebhookURL) {
		t.Errorf("http:// with Telegram's servers accepted: %v", keys)
	}
	hook[EnvVar(KeyTelegramAPIEndpoint)] = "http://telegram-bot-api:8081/bot%s/%s"
	if keys := problemKeys(t, mustLoad(t, "", hook).Validate(CommandCheck)); slices.Contains(keys, KeyWebhookURL) {
		t.Errorf("http:// with a local Bot API server refused: %v", keys)
	}
	hook[EnvVar(KeyWebhookURL)] = "ftp://committeebot/telegram"
	if keys := problemKeys(t, mustLoad(t, "", hook).Validate(CommandCheck)); !slices.Contains(keys, KeyWebhookURL) {
		t.Errorf("ftp:// accepted: %v", keys)
	}
}
