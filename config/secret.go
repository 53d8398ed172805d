package config

import (
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
)

// mask is what every masked secret starts with.
const mask = "****"

// revealTailMin is the shortest secret whose last two characters are shown
// when masked. Shorter secrets are masked completely, because two characters
// of a short secret give away too much of it.
const revealTailMin = 16

// Secret is a string that must never appear in logs, errors or printed
// configuration. Every way of formatting it (fmt verbs, slog, JSON, YAML,
// text marshalling) yields a masked form; only Reveal returns the value.
type Secret string

// Reveal returns the secret itself. Call it only where the value is handed
// to the component that needs it (an HTTP client, a Redis client, a cipher).
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s != "" }

// String returns the masked secret: "" when empty, otherwise "****" followed
// by at most the last two characters of a long secret, so an operator can
// tell two configured secrets apart without learning them.
func (s Secret) String() string {
	switch {
	case s == "":
		return ""
	case len(s) < revealTailMin:
		return mask
	default:
		return mask + string(s[len(s)-2:])
	}
}

// GoString masks the secret for the %#v verb too.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// LogValue implements slog.LogValuer so that a Secret logged as an
// attribute shows only its masked form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler with the masked form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON implements json.Marshaler with the masked form.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalYAML implements the YAML marshaller interface (gopkg.in/yaml and
// go.yaml.in/yaml) with the masked form.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// SecretURL is a URL that may carry a password in its user information,
// such as redis://:password@host:6379/0. Formatting it masks only the
// password, so the rest of the address stays readable in check-config
// output and logs. A URL that cannot be parsed is masked entirely, since
// where its password sits is unknown.
type SecretURL string

// Reveal returns the URL with its password.
func (u SecretURL) Reveal() string { return string(u) }

// String returns the URL with its password replaced by "****".
func (u SecretURL) String() string {
	if u == "" {
		return ""
	}
	parsed, err := url.Parse(string(u))
	if err != nil {
		return mask
	}
	if parsed.User == nil {
		return string(u)
	}
	if _, has := parsed.User.Password(); !has {
		return string(u)
	}
	// Built by hand: url.URL.String would percent-encode the asterisks.
	user := url.User(parsed.User.Username()).String()
	prefix := parsed.Scheme + "://"
	parsed.User = nil
	rest, ok := strings.CutPrefix(parsed.String(), prefix)
	if !ok {
		return mask
	}
	return prefix + user + ":" + mask + "@" + rest
}

// GoString masks the password for the %#v verb too.
func (u SecretURL) GoString() string { return `"` + u.String() + `"` }

// LogValue implements slog.LogValuer with the masked URL.
func (u SecretURL) LogValue() slog.Value { return slog.StringValue(u.String()) }

// MarshalText implements encoding.TextMarshaler with the masked URL.
func (u SecretURL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// MarshalJSON implements json.Marshaler with the masked URL.
func (u SecretURL) MarshalJSON() ([]byte, error) { return json.Marshal(u.String()) }

// MarshalYAML implements the YAML marshaller interface with the masked URL.
func (u SecretURL) MarshalYAML() (any, error) { return u.String(), nil }
