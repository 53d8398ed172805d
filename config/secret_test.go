package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretMasks(t *testing.T) {
	tests := []struct {
		name   string
		secret Secret
		want   string
	}{
		{"empty", "", ""},
		{"short shows nothing", "hunter2", "****"},
		{"just under the tail threshold", "0123456789abcde", "****"},
		{"long shows last two", "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0", "****T0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.secret
			if got := s.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := s.Reveal(); got != string(tt.secret) {
				t.Errorf("Reveal() = %q, want the secret", got)
			}
			if n := len(strings.TrimPrefix(s.String(), mask)); n > 2 {
				t.Errorf("String() shows %d characters of the secret, want at most 2", n)
			}
			if tt.secret == "" {
				return
			}
			text, _ := s.MarshalText()
			js, _ := json.Marshal(struct{ S Secret }{s})
			yml, _ := s.MarshalYAML()
			formatted := []string{
				fmt.Sprint(s), fmt.Sprintf("[%s]", s), fmt.Sprintf("%v", s), fmt.Sprintf("%q", s),
				fmt.Sprintf("%#v", s), fmt.Sprintf("%x", s), fmt.Sprintf("%+v", struct{ S Secret }{s}),
				fmt.Sprintf("%#v", struct{ S Secret }{s}),
				string(text), string(js), fmt.Sprint(yml), s.LogValue().String(),
			}
			for _, f := range formatted {
				if strings.Contains(f, string(tt.secret)) || strings.Contains(f, fmt.Sprintf("%x", string(tt.secret))) {
					t.Errorf("formatted secret %q reveals it", f)
				}
			}
		})
	}
}

func TestSecretURLMasksPassword(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		{"redis://:s3cr3t-pass@redis:6379/1", "redis://:****@redis:6379/1"},
		{"rediss://bot:s3cr3t-pass@redis.example:6380/0", "rediss://bot:****@redis.example:6380/0"},
		{"redis://bot@redis:6379", "redis://bot@redis:6379"},
		{"redis://:s3cr3t-pass@redis:bad port/0", "****"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u := SecretURL(tt.in)
			if got := u.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := u.Reveal(); got != tt.in {
				t.Errorf("Reveal() = %q, want %q", got, tt.in)
			}
			js, _ := json.Marshal(u)
			text, _ := u.MarshalText()
			for _, f := range []string{fmt.Sprint(u), fmt.Sprintf("%#v", u), string(js), string(text), u.LogValue().String()} {
				if strings.Contains(f, "s3cr3t") {
					t.Errorf("formatted URL %q reveals the password", f)
				}
			}
		})
	}
}

func TestSecretsMaskedInSlog(t *testing.T) {
	token := Secret("123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0")
	redisURL := SecretURL("redis://:s3cr3t-pass@redis:6379/0")
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			cfg := &Config{Log: LogConfig{Level: "debug", Format: format}}
			cfg.Telegram.Token = token
			cfg.Redis.URL = redisURL
			log := cfg.Logger(&buf)
			log.Info("starting", "token", token, "redis", redisURL,
				slog.Any("telegram", cfg.Telegram), slog.Any("config", cfg))
			out := buf.String()
			if strings.Contains(out, token.Reveal()) || strings.Contains(out, "s3cr3t") {
				t.Errorf("log line reveals a secret:\n%s", out)
			}
			if !strings.Contains(out, "****T0") {
				t.Errorf("log line lacks the masked token:\n%s", out)
			}
		})
	}
}
