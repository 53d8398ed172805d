package config

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/committeebot/committeebot/domain"
)

// slogLevels maps log.level values to slog levels.
var slogLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// Logger builds the program's logger from log.level and log.format,
// writing to w. An invalid level falls back to info and an invalid format
// to JSON, so a logger exists even to report that the configuration is bad.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	level, ok := slogLevels[c.Log.Level]
	if !ok {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Print writes the effective configuration to w as YAML, every key with
// its value and secrets masked, for committeebot check-config. With the
// secrets left empty, the output loads back to the same configuration.
func (c *Config) Print(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "# committeebot effective configuration; secrets are masked.")
	values := c.values()
	var prev []string
	for _, k := range keyDefs {
		parts := strings.Split(k.name, ".")
		parents := parts[:len(parts)-1]
		common := 0
		for common < len(parents) && common < len(prev) && parents[common] == prev[common] {
			common++
		}
		for i := common; i < len(parents); i++ {
			fmt.Fprintf(bw, "%s%s:\n", strings.Repeat("  ", i), parents[i])
		}
		fmt.Fprintf(bw, "%s%s: %s\n", strings.Repeat("  ", len(parents)), parts[len(parts)-1], values[k.name])
		prev = parents
	}
	c.printAwards(bw)
	return bw.Flush()
}

// values renders every key's value as a YAML scalar or flow sequence.
func (c *Config) values() map[string]string {
	t, r := c.Telegram, c.Redis
	return map[string]string{
		KeyTelegramToken:             quote(t.Token.String()),
		KeyTelegramTokenFile:         quote(t.TokenFile),
		KeyTelegramAPIEndpoint:       quote(t.APIEndpoint),
		KeyTelegramMode:              quote(t.Mode),
		KeyTelegramPollTimeout:       quote(domain.FormatDuration(t.PollTimeout)),
		KeyWebhookURL:                quote(t.Webhook.URL),
		KeyWebhookListen:             quote(t.Webhook.Listen),
		KeyWebhookSecretToken:        quote(t.Webhook.SecretToken.String()),
		KeyWebhookSecretTokenFile:    quote(t.Webhook.SecretTokenFile),
		KeyRedisURL:                  quote(r.URL.String()),
		KeyRedisPassword:             quote(r.Password.String()),
		KeyRedisPasswordFile:         quote(r.PasswordFile),
		KeyRedisKeyPrefix:            quote(r.KeyPrefix),
		KeyRedisWaitReplicas:         strconv.Itoa(r.WaitReplicas),
		KeyRedisSentinelMaster:       quote(r.Sentinel.Master),
		KeyRedisSentinelAddrs:        flow(r.Sentinel.Addrs, quote),
		KeyRedisSentinelPassword:     quote(r.Sentinel.Password.String()),
		KeyRedisSentinelPasswordFile: quote(r.Sentinel.PasswordFile),
		KeyRedisClusterAddrs:         flow(r.Cluster.Addrs, quote),
		KeyBotAdmins:                 flow(c.Bot.Admins, func(id int64) string { return strconv.FormatInt(id, 10) }),
		KeyBotTimezone:               quote(c.Bot.Timezone),
		KeyBotLanguage:               quote(c.Bot.Language),
		KeyBotWorkers:                strconv.Itoa(c.Bot.Workers),
		KeyBotJoinDigest:             quoteDuration(c.Bot.JoinDigest),
		KeyMeetingsDefaultDuration:   quoteDuration(c.Meetings.DefaultDuration),
		KeyMeetingOffsets:            flow(c.Reminders.MeetingOffsets, quoteDuration),
		KeyBallotOffsets:             flow(c.Reminders.BallotOffsets, quoteDuration),
		KeyRemindersTick:             quoteDuration(c.Reminders.Tick),
		KeyVotingSealKey:             quote(c.Voting.SealKey.String()),
		KeyVotingSealKeyFile:         quote(c.Voting.SealKeyFile),
		KeyVotingMaxDeadline:         quoteDuration(c.Voting.MaxDeadline),
		KeyHTTPListen:                quote(c.HTTP.Listen),
		KeyShutdownTimeout:           quoteDuration(c.Shutdown.Timeout),
		KeyLogLevel:                  quote(c.Log.Level),
		KeyLogFormat:                 quote(c.Log.Format),
	}
}

// quote writes s as a YAML double-quoted scalar; Go's escapes (\n, \t,
// \xXX, \uXXXX, \UXXXXXXXX) are all valid there.
func quote(s string) string { return strconv.Quote(s) }

func quoteDuration(d time.Duration) string { return quote(domain.FormatDuration(d)) }

// flow writes a YAML flow sequence.
func flow[T any](items []T, format func(T) string) string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = format(it)
	}
	return "[" + strings.Join(out, ", ") + "]"
}
