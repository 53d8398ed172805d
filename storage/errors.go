package storage

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// Sentinel errors returned by the repositories of this package. Callers test
// them with errors.Is; the repositories always wrap them with context.
var (
	// ErrNotFound means the requested record does not exist (or has
	// expired). redis.Nil never leaves this package: it becomes ErrNotFound.
	ErrNotFound = errors.New("storage: not found")

	// ErrConflict means the write was refused because the stored state
	// does not allow it (a concurrent change, a claim held by someone else,
	// a record that already exists).
	ErrConflict = errors.New("storage: conflict")

	// ErrInvalid means the caller passed a value the store refuses to keep
	// (an empty language, a dialogue without a name, a non-positive TTL).
	// It is a programming error rather than a user error.
	ErrInvalid = errors.New("storage: invalid argument")

	// ErrLeaseLost is returned by Updates.Done when the caller's claim had
	// expired and another owner had taken the update over. The update is
	// still marked done (the caller did finish it), but the handler may
	// have run twice: the lease is too short for that handler.
	ErrLeaseLost = errors.New("storage: update claim lease lost")

	// ErrUnavailable marks an error as "Redis could not be reached". The
	// package does not return it itself (it keeps go-redis's own errors in
	// the chain), but IsUnavailable recognises it so that fakes in other
	// packages' tests can simulate an outage.
	ErrUnavailable = errors.New("storage: redis unavailable")
)

// IsUnavailableFor is IsUnavailable for the error of a call made with
// ctx, but false once ctx itself has ended: a call whose caller's time ran
// out (a handler past its deadline) failed for the caller, not for Redis.
// It is what to ask before blaming Redis — counting a Redis error, or
// falling back to a path that works without Redis.
func IsUnavailableFor(ctx context.Context, err error) bool {
	return ctx.Err() == nil && IsUnavailable(err)
}

// IsUnavailable reports whether err means that Redis could not be reached or
// could not serve the request right now (connection refused or reset,
// timeouts, including the caller's context deadline — IsUnavailableFor
// leaves that one out —, an exhausted or closed
// pool, a server still LOADING its dataset, a failover in progress), as
// opposed to a logic error such as ErrNotFound or ErrConflict; also a
// write refused because Redis is full or cut off from its replicas (see
// deploy/README.md, "Redis memory and replicas"). A cancelled
// context (shutdown) is not unavailability.
//
// The bot uses it to tell a user that their action was not recorded and is
// safe to repeat: every write in this package is a single command or a single
// idempotent script, so repeating it never applies it twice, even when a
// timed-out write did reach Redis.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	switch {
	case errors.Is(err, ErrUnavailable),
		errors.Is(err, redis.ErrClosed),
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrPoolExhausted),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, net.ErrClosed):
		return true
	}
	// Server replies that mean "not now" rather than "no"; among them a
	// full Redis under maxmemory-policy noeviction (OOM) and a primary
	// cut off from its replicas under min-replicas-to-write (NOREPLICAS):
	// both refuse the write before running it, so nothing was recorded.
	if redis.IsLoadingError(err) || redis.IsReadOnlyError(err) ||
		redis.IsClusterDownError(err) || redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) || redis.IsMaxClientsError(err) ||
		redis.IsOOMError(err) || redis.IsNoReplicasError(err) {
		return true
	}
	// Any other network-level failure: DNS, dial, i/o timeout.
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	// Sentinel mode when no sentinel answers; go-redis has no sentinel
	// value for it, only this message.
	return hasMessage(err, "redis: all sentinels specified in configuration are unreachable")
}

// hasMessage reports whether the message of any error in err's tree starts
// with msg.
func hasMessage(err error, msg string) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.HasPrefix(e.Error(), msg) {
			return true
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				if hasMessage(inner, msg) {
					return true
				}
			}
			return false
		}
	}
	return false
}

// notFound maps redis.Nil to ErrNotFound and leaves every other error as is.
func notFound(err error) error {
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	return err
}
