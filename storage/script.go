package storage

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Option tunes a repository of this package. Options are for optional knobs
// only; required dependencies are constructor arguments.
type Option func(*settings)

// settings collects what Options set.
type settings struct {
	now    func() time.Time
	sealer *Sealer
}

// WithClock makes a repository read the current time from now instead of
// time.Now. Scripts receive that time as an argument, so tests can move it.
func WithClock(now func() time.Time) Option {
	return func(s *settings) {
		if now != nil {
			s.now = now
		}
	}
}

// WithSealer gives Ballots the key that seals secret ballots (CastSecret,
// CastOpen and OpenBox need it).
func WithSealer(sl *Sealer) Option {
	return func(s *settings) { s.sealer = sl }
}

func newSettings(opts []Option) settings {
	s := settings{now: time.Now}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// store is what the repositories of this package share: the client, the
// key layout and the clock (WithClock) whose time their scripts are given.
type store struct {
	c   redis.UniversalClient
	k   Keys
	now func() time.Time
}

func newStore(c redis.UniversalClient, k Keys, s settings) store {
	return store{c: c, k: k, now: s.now}
}

// runScript runs s (EVALSHA, falling back to EVAL after a Redis restart
// emptied the script cache) and maps redis.Nil to ErrNotFound.
func runScript(ctx context.Context, c redis.Scripter, s *redis.Script, keys []string, args ...any) (any, error) {
	v, err := s.Run(ctx, c, keys, args...).Result()
	if err != nil {
		return nil, notFound(err)
	}
	return v, nil
}

// unixMilli is the form in which times are passed to scripts and stored.
func unixMilli(t time.Time) int64 { return t.UnixMilli() }

// fromUnixMilli is the inverse of unixMilli; 0 is the zero time.
func fromUnixMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// hashInt reads field of a stored hash as an integer, 0 when it is missing
// or empty. One that does not parse is 0 too, and its error is appended to
// errs: a decoder reports every bad field at once.
func hashInt(h map[string]string, field string, errs *[]error) int64 {
	v := h[field]
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("field %s %q is not an integer", field, v))
	}
	return n
}

// reply decodes the array a script returned.
type reply []any

// asReply checks that v is an array of exactly n elements.
func asReply(v any, n int) (reply, error) {
	a, ok := v.([]any)
	if !ok || len(a) != n {
		return nil, fmt.Errorf("unexpected script reply %T (want %d-element array)", v, n)
	}
	return reply(a), nil
}

// int returns element i as an integer (Lua numbers arrive as int64, strings
// as string).
func (r reply) int(i int) (int64, error) {
	switch x := r[i].(type) {
	case int64:
		return x, nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("script reply [%d] %q is not an integer", i, x)
		}
		return n, nil
	case nil:
		return 0, nil
	default:
		return 0, fmt.Errorf("script reply [%d] has type %T, want integer", i, x)
	}
}

// str returns element i as a string; a nil (Lua false) becomes "".
func (r reply) str(i int) (string, error) {
	switch x := r[i].(type) {
	case string:
		return x, nil
	case nil:
		return "", nil
	default:
		return "", fmt.Errorf("script reply [%d] has type %T, want string", i, x)
	}
}
