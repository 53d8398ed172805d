package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// cmpConfig compares Configs field by field; locations compare by name.
var cmpConfig = cmp.Options{
	cmpopts.IgnoreUnexported(Config{}),
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b *time.Location) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.String() == b.String()
	}),
}

// isolateEnv blanks every COMMITTEEBOT_* variable of the real process
// environment for the test, since viper reads it as well as getenv (an
// empty variable counts as unset).
func isolateEnv(t *testing.T) {
	t.Helper()
	for _, k := range Keys() {
		t.Setenv(EnvVar(k), "")
	}
}

// envFunc returns a getenv over m.
func envFunc(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

// writeFile writes content to a file in a temporary directory and returns
// its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, path string, env map[string]string) *Config {
	t.Helper()
	cfg, err := Load(path, envFunc(env))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

// printed is what cfg.Print writes.
func printed(t *testing.T, cfg *Config) string {
	t.Helper()
	var buf bytes.Buffer
	if err := cfg.Print(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func location(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// defaults is the configuration with nothing set.
func defaults(t *testing.T) Config {
	t.Helper()
	return Config{
		Telegram: TelegramConfig{
			APIEndpoint: "https://api.telegram.org/bot%s/%s",
			Mode:        "polling",
			PollTimeout: 50 * time.Second,
			Webhook:     WebhookConfig{Listen: ":8443"},
		},
		Redis: RedisConfig{URL: "redis://127.0.0.1:6379/0", KeyPrefix: "cb"},
		Bot: BotConfig{
			Timezone:   "Asia/Ho_Chi_Minh",
			Location:   location(t, "Asia/Ho_Chi_Minh"),
			Language:   "vi",
			Workers:    8,
			JoinDigest: time.Minute,
		},
		Meetings: MeetingsConfig{DefaultDuration: 2 * time.Hour},
		Reminders: RemindersConfig{
			MeetingOffsets: []time.Duration{72 * time.Hour, 24 * time.Hour, 2 * time.Hour},
			BallotOffsets:  []time.Duration{24 * time.Hour, time.Hour},
			Tick:           time.Second,
		},
		Voting:   VotingConfig{MaxDeadline: 90 * 24 * time.Hour},
		HTTP:     HTTPConfig{Listen: ":9090"},
		Shutdown: ShutdownConfig{Timeout: 25 * time.Second},
		Log:      LogConfig{Level: "info", Format: "json"},
	}
}

func TestLoadDefaults(t *testing.T) {
	isolateEnv(t)
	got := mustLoad(t, "", nil)
	if diff := cmp.Diff(defaults(t), *got, cmpConfig); diff != "" {
		t.Errorf("Load defaults mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(CommandCheck); err != nil {
		t.Errorf("defaults do not validate for check: %v", err)
	}
	if err := got.Validate(CommandDemo); err != nil {
		t.Errorf("defaults do not validate for demo: %v", err)
	}
}

const fullYAML = `
telegram:
  token: "123456:file-token"
  api_endpoint: "http://127.0.0.1:8081/bot%s/%s"
  mode: webhook
  poll_timeout: 30s
  webhook:
    url: https://bot.example.org/telegram
    listen: ":8443"
    secret_token: s3cr3t_TOKEN-1
redis:
  url: redis://:pw@redis:6379/2
  password: data-pw
  key_prefix: bloc_1
  sentinel:
    master: mymaster
    addrs: [sentinel-0:26379, sentinel-1:26379]
    password: sentinel-pw
bot:
  admins: [111, 222]
  timezone: Europe/Paris
  language: en
  workers: 4
  join_digest: 2m
meetings:
  default_duration: 1d12h
reminders:
  meeting_offsets: [2h, 3d, 1d12h]
  ballot_offsets: "12h, 30m"
  tick: 250ms
voting:
  seal_key: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
  max_deadline: 30d
http:
  listen: 127.0.0.1:9091
shutdown:
  timeout: 40s
log:
  level: DEBUG
  format: text
`

func TestLoadFile(t *testing.T) {
	isolateEnv(t)
	got := mustLoad(t, writeFile(t, "committeebot.yaml", fullYAML), nil)
	want := Config{
		Telegram: TelegramConfig{
			Token:       "123456:file-token",
			APIEndpoint: "http://127.0.0.1:8081/bot%s/%s",
			Mode:        "webhook",
			PollTimeout: 30 * time.Second,
			Webhook: WebhookConfig{
				URL:         "https://bot.example.org/telegram",
				Listen:      ":8443",
				SecretToken: "s3cr3t_TOKEN-1",
			},
		},
		Redis: RedisConfig{
			URL:       "redis://:pw@redis:6379/2",
			Password:  "data-pw",
			KeyPrefix: "bloc_1",
			Sentinel: SentinelConfig{
				Master:   "mymaster",
				Addrs:    []string{"sentinel-0:26379", "sentinel-1:26379"},
				Password: "sentinel-pw",
			},
		},
		Bot: BotConfig{
			Admins:     []int64{111, 222},
			Timezone:   "Europe/Paris",
			Location:   location(t, "Europe/Paris"),
			Language:   "en",
			Workers:    4,
			JoinDigest: 2 * time.Minute,
		},
		Meetings: MeetingsConfig{DefaultDuration: 36 * time.Hour},
		Reminders: RemindersConfig{
			MeetingOffsets: []time.Duration{72 * time.Hour, 36 * time.Hour, 2 * time.Hour},
			BallotOffsets:  []time.Duration{12 * time.Hour, 30 * time.Minute},
			Tick:           250 * time.Millisecond,
		},
		Voting:   VotingConfig{SealKey: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", MaxDeadline: 30 * 24 * time.Hour},
		HTTP:     HTTPConfig{Listen: "127.0.0.1:9091"},
		Shutdown: ShutdownConfig{Timeout: 40 * time.Second},
		Log:      LogConfig{Level: "debug", Format: "text"},
	}
	if diff := cmp.Diff(want, *got, cmpConfig); diff != "" {
		t.Errorf("Load file mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(CommandServe); err != nil {
		t.Errorf("full file does not validate for serve: %v", err)
	}
}

// envOnlyCases sets each key from the environment alone, with no file.
var envOnlyCases = []struct {
	key   string
	value string
	want  func(c *Config)
}{
	{KeyTelegramToken, "123:abc", func(c *Config) { c.Telegram.Token = "123:abc" }},
	{KeyTelegramAPIEndpoint, "http://localhost:8081/bot%s/%s", func(c *Config) { c.Telegram.APIEndpoint = "http://localhost:8081/bot%s/%s" }},
	{KeyTelegramMode, "webhook", func(c *Config) { c.Telegram.Mode = "webhook" }},
	{KeyTelegramPollTimeout, "20s", func(c *Config) { c.Telegram.PollTimeout = 20 * time.Second }},
	{KeyWebhookURL, "https://bot.example.org/hook", func(c *Config) { c.Telegram.Webhook.URL = "https://bot.example.org/hook" }},
	{KeyWebhookListen, ":8088", func(c *Config) { c.Telegram.Webhook.Listen = ":8088" }},
	{KeyWebhookSecretToken, "abc_DEF-123", func(c *Config) { c.Telegram.Webhook.SecretToken = "abc_DEF-123" }},
	{KeyRedisURL, "redis://redis:6379/3", func(c *Config) { c.Redis.URL = "redis://redis:6379/3" }},
	{KeyRedisPassword, "pw", func(c *Config) { c.Redis.Password = "pw" }},
	{KeyRedisKeyPrefix, "test", func(c *Config) { c.Redis.KeyPrefix = "test" }},
	{KeyRedisWaitReplicas, "2", func(c *Config) { c.Redis.WaitReplicas = 2 }},
	{KeyRedisSentinelMaster, "mymaster", func(c *Config) { c.Redis.Sentinel.Master = "mymaster" }},
	{KeyRedisSentinelAddrs, "s0:26379, s1:26379,s2:26379", func(c *Config) {
		c.Redis.Sentinel.Addrs = []string{"s0:26379", "s1:26379", "s2:26379"}
	}},
	{KeyRedisSentinelPassword, "spw", func(c *Config) { c.Redis.Sentinel.Password = "spw" }},
	{KeyRedisClusterAddrs, "c0:6379,c1:6379", func(c *Config) { c.Redis.Cluster.Addrs = []string{"c0:6379", "c1:6379"} }},
	{KeyBotAdmins, "1,2,3", func(c *Config) { c.Bot.Admins = []int64{1, 2, 3} }},
	{KeyBotTimezone, "UTC", func(c *Config) { c.Bot.Timezone = "UTC"; c.Bot.Location = time.UTC }},
	{KeyBotLanguage, "en", func(c *Config) { c.Bot.Language = "en" }},
	{KeyBotWorkers, "16", func(c *Config) { c.Bot.Workers = 16 }},
	{KeyBotJoinDigest, "0s", func(c *Config) { c.Bot.JoinDigest = 0 }},
	{KeyMeetingsDefaultDuration, "1h30m", func(c *Config) { c.Meetings.DefaultDuration = 90 * time.Minute }},
	{KeyMeetingOffsets, "2h,72h,24h,3d12h", func(c *Config) {
		c.Reminders.MeetingOffsets = []time.Duration{84 * time.Hour, 72 * time.Hour, 24 * time.Hour, 2 * time.Hour}
	}},
	{KeyBallotOffsets, "1h", func(c *Config) { c.Reminders.BallotOffsets = []time.Duration{time.Hour} }},
	{KeyRemindersTick, "500ms", func(c *Config) { c.Reminders.Tick = 500 * time.Millisecond }},
	{KeyVotingSealKey, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", func(c *Config) {
		c.Voting.SealKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	}},
	{KeyVotingMaxDeadline, "30d", func(c *Config) { c.Voting.MaxDeadline = 30 * 24 * time.Hour }},
	{KeyHTTPListen, ":9191", func(c *Config) { c.HTTP.Listen = ":9191" }},
	{KeyShutdownTimeout, "1m30s", func(c *Config) { c.Shutdown.Timeout = 90 * time.Second }},
	{KeyLogLevel, "warn", func(c *Config) { c.Log.Level = "warn" }},
	{KeyLogFormat, "text", func(c *Config) { c.Log.Format = "text" }},
	// The _file twins are covered by TestLoadSecretFiles: they need files.
}

func TestLoadEnvOnly(t *testing.T) {
	isolateEnv(t)
	for _, tt := range envOnlyCases {
		t.Run(tt.key, func(t *testing.T) {
			got := mustLoad(t, "", map[string]string{EnvVar(tt.key): tt.value})
			want := defaults(t)
			tt.want(&want)
			if diff := cmp.Diff(want, *got, cmpConfig); diff != "" {
				t.Errorf("%s=%s mismatch (-want +got):\n%s", EnvVar(tt.key), tt.value, diff)
			}
		})
	}
}

// TestLoadRealEnvironment checks the path production takes: viper reading
// the process environment, with os.Getenv as getenv.
func TestLoadRealEnvironment(t *testing.T) {
	isolateEnv(t)
	for _, tt := range envOnlyCases {
		t.Setenv(EnvVar(tt.key), tt.value)
	}
	got, err := Load("", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	want := defaults(t)
	for _, tt := range envOnlyCases {
		tt.want(&want)
	}
	if diff := cmp.Diff(want, *got, cmpConfig); diff != "" {
		t.Errorf("Load from process environment mismatch (-want +got):\n%s", diff)
	}
}

func TestEveryKeyHasAnEnvOnlyCase(t *testing.T) {
	covered := map[string]bool{KeyTelegramTokenFile: true, KeyWebhookSecretTokenFile: true, KeyRedisPasswordFile: true,
		KeyRedisSentinelPasswordFile: true, KeyVotingSealKeyFile: true}
	for _, tt := range envOnlyCases {
		covered[tt.key] = true
	}
	for _, k := range Keys() {
		if !covered[k] {
			t.Errorf("key %s has no environment-only test case", k)
		}
	}
}

func TestEnvVar(t *testing.T) {
	tests := map[string]string{
		"telegram.token":                "COMMITTEEBOT_TELEGRAM_TOKEN",
		"telegram.webhook.secret_token": "COMMITTEEBOT_TELEGRAM_WEBHOOK_SECRET_TOKEN",
		"redis.sentinel.addrs":          "COMMITTEEBOT_REDIS_SENTINEL_ADDRS",
		"reminders.meeting_offsets":     "COMMITTEEBOT_REMINDERS_MEETING_OFFSETS",
	}
	for key, want := range tests {
		if got := EnvVar(key); got != want {
			t.Errorf("EnvVar(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestEnvOverridesFile(t *testing.T) {
	isolateEnv(t)
	path := writeFile(t, "c.yaml", fullYAML)
	got := mustLoad(t, path, map[string]string{
		"COMMITTEEBOT_TELEGRAM_TOKEN":                "999:env-token",
		"COMMITTEEBOT_TELEGRAM_WEBHOOK_SECRET_TOKEN": "from-env",
		"COMMITTEEBOT_BOT_ADMINS":                    "7",
		"COMMITTEEBOT_REMINDERS_MEETING_OFFSETS":     "1h",
		"COMMITTEEBOT_LOG_FORMAT":                    "json",
		"COMMITTEEBOT_BOT_WORKERS":                   "  ", // blank counts as unset
	})
	type picked struct {
		Token, Secret Secret
		Admins        []int64
		Offsets       []time.Duration
		Format        string
		Workers       int
		Language      string
	}
	want := picked{"999:env-token", "from-env", []int64{7}, []time.Duration{time.Hour}, "json", 4, "en"}
	gotPicked := picked{got.Telegram.Token, got.Telegram.Webhook.SecretToken, got.Bot.Admins,
		got.Reminders.MeetingOffsets, got.Log.Format, got.Bot.Workers, got.Bot.Language}
	if diff := cmp.Diff(want, gotPicked); diff != "" {
		t.Errorf("env over file mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadTokenFile(t *testing.T) {
	isolateEnv(t)
	tokenPath := writeFile(t, "token", "  123456:from-file\n")
	emptyPath := writeFile(t, "empty", "\n")
	tests := []struct {
		name      string
		env       map[string]string
		wantToken Secret
		wantKeys  []string // keys of the problems Validate(serve) reports
	}{
		{
			name:      "read and trimmed",
			env:       map[string]string{"COMMITTEEBOT_TELEGRAM_TOKEN_FILE": tokenPath},
			wantToken: "123456:from-file",
		},
		{
			name:      "both token and file",
			env:       map[string]string{"COMMITTEEBOT_TELEGRAM_TOKEN_FILE": tokenPath, "COMMITTEEBOT_TELEGRAM_TOKEN": "1:x"},
			wantToken: "1:x",
			wantKeys:  []string{KeyTelegramTokenFile},
		},
		{
			name:     "missing file",
			env:      map[string]string{"COMMITTEEBOT_TELEGRAM_TOKEN_FILE": filepath.Join(t.TempDir(), "nope")},
			wantKeys: []string{KeyTelegramTokenFile},
		},
		{
			name:     "empty file",
			env:      map[string]string{"COMMITTEEBOT_TELEGRAM_TOKEN_FILE": emptyPath},
			wantKeys: []string{KeyTelegramTokenFile},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["COMMITTEEBOT_VOTING_SEAL_KEY"] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
			cfg := mustLoad(t, "", tt.env)
			if cfg.Telegram.Token != tt.wantToken {
				t.Errorf("Token = %q, want %q", cfg.Telegram.Token.Reveal(), tt.wantToken.Reveal())
			}
			if diff := cmp.Diff(tt.wantKeys, problemKeys(t, cfg.Validate(CommandServe)), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("problem keys mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	isolateEnv(t)
	tests := map[string]string{
		"missing": filepath.Join(t.TempDir(), "missing.yaml"),
		"bad":     writeFile(t, "bad.yaml", "telegram: [unclosed\n"),
	}
	for name, path := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Load(path, envFunc(nil))
			if diff := cmp.Diff([]string{"--config"}, problemKeys(t, err)); diff != "" {
				t.Errorf("problem keys mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrint(t *testing.T) {
	isolateEnv(t)
	out := printed(t, mustLoad(t, writeFile(t, "c.yaml", fullYAML), nil))
	for _, secret := range []string{"file-token", "s3cr3t_TOKEN", ":pw@", "data-pw", "sentinel-pw", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="} {
		if strings.Contains(out, secret) {
			t.Errorf("Print reveals %q:\n%s", secret, out)
		}
	}
	for _, k := range Keys() {
		parts := strings.Split(k, ".")
		if !strings.Contains(out, parts[len(parts)-1]+":") {
			t.Errorf("Print lacks key %s:\n%s", k, out)
		}
	}
	for _, line := range []string{
		"telegram:\n  token: \"****en\"\n",
		"  webhook:\n    url: \"https://bot.example.org/telegram\"\n",
		"redis:\n  url: \"redis://:****@redis:6379/2\"\n",
		"    addrs: [\"sentinel-0:26379\", \"sentinel-1:26379\"]\n",
		"  admins: [111, 222]\n",
		"  meeting_offsets: [\"72h\", \"36h\", \"2h\"]\n",
		"meetings:\n  default_duration: \"36h\"\n",
		"shutdown:\n  timeout: \"40s\"\n",
		"  seal_key: \"****8=\"\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("Print lacks %q:\n%s", line, out)
		}
	}
}

// TestPrintLoadsBack checks that check-config output is real YAML that
// describes the same configuration (secrets aside).
// Every key has a printed value, so that a file saved from check-config
// keeps it.
func TestPrintHasAValueForEveryKey(t *testing.T) {
	isolateEnv(t)
	values := mustLoad(t, writeFile(t, "c.yaml", fullYAML), nil).values()
	for _, k := range Keys() {
		if _, ok := values[k]; !ok {
			t.Errorf("Print has no value for %s", k)
		}
	}
}

func TestPrintLoadsBack(t *testing.T) {
	isolateEnv(t)
	yaml := strings.NewReplacer(
		`token: "123456:file-token"`, `token: ""`,
		"secret_token: s3cr3t_TOKEN-1", "",
		"redis://:pw@redis", "redis://redis",
		"password: data-pw", "",
		"password: sentinel-pw", "",
		"seal_key: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "",
	).Replace(fullYAML)
	want := mustLoad(t, writeFile(t, "c.yaml", yaml), nil)
	out := printed(t, want)
	got := mustLoad(t, writeFile(t, "printed.yaml", out), nil)
	if diff := cmp.Diff(want, got, cmpConfig); diff != "" {
		t.Errorf("printed configuration loads back differently (-want +got):\n%s\nprinted:\n%s", diff, out)
	}
}

func TestRedisTopology(t *testing.T) {
	tests := []struct {
		name string
		r    RedisConfig
		want string
	}{
		{"single", RedisConfig{URL: "redis://x:6379"}, RedisSingle},
		{"sentinel", RedisConfig{Sentinel: SentinelConfig{Master: "m", Addrs: []string{"s:26379"}}}, RedisSentinel},
		{"cluster", RedisConfig{Cluster: ClusterConfig{Addrs: []string{"c:6379"}}}, RedisCluster},
	}
	for _, tt := range tests {
		if got := tt.r.Topology(); got != tt.want {
			t.Errorf("%s: Topology() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLogger(t *testing.T) {
	tests := []struct {
		level, format string
		wantDebug     bool
		wantPrefix    string
	}{
		{"debug", "json", true, "{"},
		{"info", "text", false, "time="},
		{"bogus", "bogus", false, "{"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		log := (&Config{Log: LogConfig{Level: tt.level, Format: tt.format}}).Logger(&buf)
		log.Debug("d")
		log.Info("i")
		out := buf.String()
		if got := strings.Contains(out, `"d"`) || strings.Contains(out, "msg=d"); got != tt.wantDebug {
			t.Errorf("level %q: debug logged = %v, want %v", tt.level, got, tt.wantDebug)
		}
		if !strings.HasPrefix(out, tt.wantPrefix) {
			t.Errorf("format %q: output %q does not start with %q", tt.format, out, tt.wantPrefix)
		}
	}
}

func TestLoadSecretFiles(t *testing.T) {
	isolateEnv(t)
	seal := writeFile(t, "seal", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n")
	hook := writeFile(t, "hook", "abc_DEF-123\n")
	redisPW := writeFile(t, "redis", " pw \n")
	sentinelPW := writeFile(t, "sentinel", "spw")
	cfg := mustLoad(t, "", map[string]string{
		EnvVar(KeyVotingSealKeyFile):         seal,
		EnvVar(KeyWebhookSecretTokenFile):    hook,
		EnvVar(KeyRedisPasswordFile):         redisPW,
		EnvVar(KeyRedisSentinelPasswordFile): sentinelPW,
	})
	for name, got := range map[string][2]string{
		"seal key":          {cfg.Voting.SealKey.Reveal(), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
		"webhook secret":    {cfg.Telegram.Webhook.SecretToken.Reveal(), "abc_DEF-123"},
		"redis password":    {cfg.Redis.Password.Reveal(), "pw"},
		"sentinel password": {cfg.Redis.Sentinel.Password.Reveal(), "spw"},
	} {
		if got[0] != got[1] {
			t.Errorf("%s = %q, want %q", name, got[0], got[1])
		}
	}
	if cfg.Voting.SealKeyFile != seal {
		t.Errorf("SealKeyFile = %q", cfg.Voting.SealKeyFile)
	}
	// Both a secret and its file: refused, naming the file key.
	cfg = mustLoad(t, "", map[string]string{EnvVar(KeyVotingSealKeyFile): seal, EnvVar(KeyVotingSealKey): "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="})
	if diff := cmp.Diff([]string{KeyVotingSealKeyFile}, problemKeys(t, cfg.Validate(CommandCheck))); diff != "" {
		t.Errorf("problem keys mismatch (-want +got):\n%s", diff)
	}
	// A missing file says so once, not also "seal key required".
	cfg = mustLoad(t, "", map[string]string{EnvVar(KeyVotingSealKeyFile): filepath.Join(t.TempDir(), "nope"), EnvVar(KeyTelegramToken): "1:x"})
	if diff := cmp.Diff([]string{KeyVotingSealKeyFile}, problemKeys(t, cfg.Validate(CommandServe))); diff != "" {
		t.Errorf("problem keys mismatch (-want +got):\n%s", diff)
	}
}

func TestUnknownKeysAndVariablesAreErrorsWithTheNearestKnownOne(t *testing.T) {
	isolateEnv(t)
	path := writeFile(t, "c.yaml", "telegram:\n  pol_timeout: 20s\n  webhook:\n    urll: https://x\nlogg:\n  level: warn\nredis:\n  url: redis://r:6379/0\n")
	cfg, err := LoadEnviron(path, []string{
		"COMMITTEEBOT_LOG_LEVELL=debug",
		"COMMITTEEBOT_LOG_LEVEL=warn",
		"COMMITTEEBOT_TEST_REDIS_URL=redis://x",
		"HOME=/root",
	})
	if err != nil {
		t.Fatal(err)
	}
	verr := cfg.Validate(CommandCheck)
	var ve *ValidationError
	if !errors.As(verr, &ve) {
		t.Fatalf("Validate = %v, want the unknown keys", verr)
	}
	got := map[string]string{}
	for _, p := range ve.Problems {
		got[p.Key] = p.Message
	}
	for key, hint := range map[string]string{
		"telegram.pol_timeout":    KeyTelegramPollTimeout,
		"telegram.webhook.urll":   KeyWebhookURL,
		"logg":                    "log",
		"COMMITTEEBOT_LOG_LEVELL": EnvVar(KeyLogLevel),
	} {
		if !strings.Contains(got[key], hint) {
			t.Errorf("problem for %s = %q, want it to name %s", key, got[key], hint)
		}
	}
	if _, ok := got["COMMITTEEBOT_TEST_REDIS_URL"]; ok {
		t.Error("a variable of the test suite was reported")
	}
	if len(got) != 4 {
		t.Errorf("problems = %v, want exactly the four unknown names", got)
	}
}

func TestConfigFileFromTheEnvironment(t *testing.T) {
	isolateEnv(t)
	path := writeFile(t, "c.yaml", "log:\n  level: debug\n")
	cfg, err := LoadEnviron("", []string{EnvConfig + "=" + path})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Level != "debug" {
		t.Errorf("log.level = %q, want debug from %s", cfg.Log.Level, EnvConfig)
	}
	// --config wins over the variable.
	other := writeFile(t, "d.yaml", "log:\n  level: error\n")
	if cfg, err = LoadEnviron(other, []string{EnvConfig + "=" + path}); err != nil || cfg.Log.Level != "error" {
		t.Errorf("with --config: %v, level %q; want error", err, cfg.Log.Level)
	}
}
