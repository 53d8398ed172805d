// Package apptest runs the real bot for end-to-end tests: the App on a
// real redis-server, talking through the real tgbotapi client to the
// Telegram stand-in (bot/telegramtest), with the people, chats and steps
// (set up a bloc, open a ballot, press a button, wait for a reply) that
// the tests of package app and of app/lifecycle share.
package apptest

import (
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"testing"

	"github.com/committeebot/committeebot/storage"
	"github.com/committeebot/committeebot/storage/redistest"
)

// Main is the TestMain of a package of end-to-end tests. It doubles as
// the bot process of the crash tests: started with ChildEnv set (see
// Harness.StartChild), the test binary runs the bot from its environment
// instead of the tests, so that a test can SIGKILL it like a real crash.
// Otherwise it runs the tests beside the package's shared redis-server
// (redistest.Main).
func Main(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	// go-redis logs every failed dial of the Redis-outage test; keep the
	// test output readable.
	storage.SetRedisLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	// A hundred bots in one process under the race detector: collecting
	// garbage a quarter as often costs about 8 % less CPU for about
	// 0.5 GB more memory (the environment's GOGC, if set, wins).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	redistest.Main(m)
}
