// Package storage keeps all of the bot's state in Redis: the key schema
// (keys.go), the client (client.go), the error vocabulary (errors.go) and one
// repository per feature (dedupe.go, users.go, dialog.go, …).
//
// Conventions every repository follows:
//   - it is a concrete type built over an injected redis.UniversalClient and a
//     Keys value; it never creates its own client;
//   - every read-check-write is one Lua script, a package-level redis.NewScript
//     whose header lists KEYS, ARGV and return values; every key it touches is
//     passed in KEYS, and all keys of one script share a hash tag so the script
//     runs on Redis Cluster;
//   - scripts never call TIME: the current time comes in as ARGV (unix
//     milliseconds) from an injectable clock, so tests control time;
//   - scripts are idempotent: go-redis may run a script twice when a reply is
//     lost, and a user may repeat an action the bot reported as not recorded;
//   - redis.Nil becomes ErrNotFound at the package boundary, and errors are
//     wrapped with %w so IsUnavailable still recognises an outage.
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timeouts applied by NewClient unless the Redis URL sets its own
// (dial_timeout, read_timeout, write_timeout, pool_timeout query
// parameters). They are short on purpose: when Redis is down the bot must
// answer "not recorded, try again" within a few seconds, not hang.
const (
	DefaultDialTimeout  = 5 * time.Second
	DefaultReadTimeout  = 3 * time.Second
	DefaultWriteTimeout = 3 * time.Second
	DefaultPoolTimeout  = 4 * time.Second
)

// Options selects and configures the Redis deployment. The config package
// fills it from viper; this package sees only plain values.
//
// Exactly one mode is used:
//   - Sentinel, when SentinelMaster is set (SentinelAddrs required);
//   - Cluster, when ClusterAddrs is set;
//   - otherwise a single node at URL.
//
// In Sentinel and Cluster mode URL is optional; when given, its user name,
// password, database number (Sentinel only; Cluster has only database 0),
// TLS scheme (rediss://) and timeout parameters apply, and its host is
// ignored.
type Options struct {
	// URL of a single node: redis://[user:password@]host:port/db or
	// rediss:// for TLS or unix:///path/to/socket.
	URL string
	// SentinelMaster is the name of the master monitored by Sentinel.
	SentinelMaster string
	// SentinelAddrs are host:port addresses of the Sentinel processes.
	SentinelAddrs []string
	// SentinelPassword authenticates to the Sentinel processes (not to the
	// data nodes; see Password).
	SentinelPassword string
	// ClusterAddrs are host:port seed addresses of a Redis Cluster.
	ClusterAddrs []string
	// Password authenticates to the data nodes. When set it overrides the
	// password in URL.
	Password string
	// KeyPrefix namespaces every key (see NewKeys). NewClient does not use
	// it; it is here so one value describes the whole Redis setup.
	KeyPrefix string
	// WaitReplicas, when positive, makes every write wait until that many
	// replicas hold it (WAIT), for WaitTimeout (DefaultWaitTimeout if
	// zero); fewer is ErrNotReplicated. Not with a cluster.
	WaitReplicas int
	WaitTimeout  time.Duration
}

// Validate reports every problem with o, joined, or nil. It is what
// NewClient checks first; the config package may call it to name bad keys
// early.
func (o Options) Validate() error {
	var errs []error
	sentinel := o.SentinelMaster != "" || len(o.SentinelAddrs) > 0
	cluster := len(o.ClusterAddrs) > 0
	switch {
	case sentinel && cluster:
		errs = append(errs, errors.New("redis: sentinel and cluster are both configured; choose one"))
	case o.SentinelMaster != "" && len(o.SentinelAddrs) == 0:
		errs = append(errs, errors.New("redis: sentinel master name set but no sentinel addresses"))
	case o.SentinelMaster == "" && len(o.SentinelAddrs) > 0:
		errs = append(errs, errors.New("redis: sentinel addresses set but no sentinel master name"))
	case !sentinel && !cluster && o.URL == "":
		errs = append(errs, errors.New("redis: url is empty"))
	}
	for _, a := range append(append([]string(nil), o.SentinelAddrs...), o.ClusterAddrs...) {
		if a == "" || !strings.Contains(a, ":") {
			errs = append(errs, fmt.Errorf("redis: address %q is not host:port", a))
		}
	}
	if o.URL != "" {
		if base, err := parseURL(o.URL); err != nil {
			errs = append(errs, err)
		} else if cluster && base.DB != 0 {
			errs = append(errs, fmt.Errorf("redis: cluster mode supports only database 0, url selects %d", base.DB))
		}
	}
	if o.WaitReplicas < 0 {
		errs = append(errs, fmt.Errorf("redis: wait_replicas %d is negative", o.WaitReplicas))
	}
	if o.WaitReplicas > 0 && cluster {
		errs = append(errs, errors.New("redis: wait_replicas needs a single node or Sentinel, not a cluster"))
	}
	if strings.ContainsAny(o.KeyPrefix, "{}") || strings.ContainsFunc(o.KeyPrefix, isSpaceOrControl) {
		errs = append(errs, fmt.Errorf("redis: key prefix %q must not contain braces, spaces or control characters", o.KeyPrefix))
	}
	return errors.Join(errs...)
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// NewClient builds the Redis client described by o. It does not contact
// Redis: the client connects lazily and reconnects by itself, so the bot can
// start (and answer "try again later") while Redis is down. Use Ping to check
// readiness.
//
// The caller owns the client and closes it on shutdown.
func NewClient(o Options) (redis.UniversalClient, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("new redis client: %w", err)
	}
	base := &redis.Options{}
	if o.URL != "" {
		var err error
		if base, err = parseURL(o.URL); err != nil {
			return nil, fmt.Errorf("new redis client: %w", err)
		}
	}
	if o.Password != "" {
		base.Password = o.Password
	}
	setTimeouts(base)

	var c redis.UniversalClient
	switch {
	case o.SentinelMaster != "":
		c = redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:       o.SentinelMaster,
			SentinelAddrs:    o.SentinelAddrs,
			SentinelPassword: o.SentinelPassword,
			Username:         base.Username,
			Password:         base.Password,
			DB:               base.DB,
			TLSConfig:        base.TLSConfig,
			DialTimeout:      base.DialTimeout,
			ReadTimeout:      base.ReadTimeout,
			WriteTimeout:     base.WriteTimeout,
			PoolTimeout:      base.PoolTimeout,
		})
	case len(o.ClusterAddrs) > 0:
		c = redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:        o.ClusterAddrs,
			Username:     base.Username,
			Password:     base.Password,
			TLSConfig:    base.TLSConfig,
			DialTimeout:  base.DialTimeout,
			ReadTimeout:  base.ReadTimeout,
			WriteTimeout: base.WriteTimeout,
			PoolTimeout:  base.PoolTimeout,
		})
	default:
		c = redis.NewClient(base)
	}
	if o.WaitReplicas > 0 {
		if err := waitReplicas(c, o.WaitReplicas, o.WaitTimeout); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("new redis client: %w", err)
		}
	}
	return c, nil
}

// setTimeouts fills the timeouts the URL left unset.
func setTimeouts(o *redis.Options) {
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.PoolTimeout == 0 {
		o.PoolTimeout = DefaultPoolTimeout
	}
}

// parseURL wraps redis.ParseURL so that a malformed URL never puts its
// password into an error message (net/url quotes the whole input).
func parseURL(raw string) (*redis.Options, error) {
	o, err := redis.ParseURL(raw)
	if err == nil {
		return o, nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if secret := userinfo(raw); secret != "" {
		msg = strings.ReplaceAll(msg, secret, "xxxxx")
	}
	return nil, fmt.Errorf("redis: malformed url: %s", msg)
}

// userinfo returns the "user:password" part of a URL-like string, found
// without parsing it (it may be malformed).
func userinfo(raw string) string {
	rest := raw
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.LastIndex(rest, "@"); i > 0 {
		return rest[:i]
	}
	return ""
}

// Ping checks that Redis answers. It is what /readyz calls.
func Ping(ctx context.Context, c redis.UniversalClient) error {
	if err := c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// SetRedisLogger sends go-redis's own log lines (failed dials, pool
// trouble), which it otherwise prints to stderr with the standard log
// package, to l as warnings with component=go-redis. It sets go-redis's
// process-wide logger, so call it once from main before creating clients.
func SetRedisLogger(l *slog.Logger) {
	redis.SetLogger(redisLogger{l: l})
}

// redisLogger adapts slog to go-redis's logging interface.
type redisLogger struct{ l *slog.Logger }

// Printf implements go-redis's logging interface.
func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, fmt.Sprintf(format, v...), slog.String("component", "go-redis"))
}
