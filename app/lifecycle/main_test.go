// Package lifecycle_test tests the bot as a process that is deployed and
// operated: starting with Telegram or Redis down, shutting down within
// its budget, crashing and restarting, replicas sharing the work, Redis
// topologies (Sentinel, Cluster), and loads and fan-outs kept within
// Telegram's limits. The tests of what the bot does for its users are in
// package app; both run the real bot through package apptest.
package lifecycle_test

import (
	"testing"

	"github.com/committeebot/committeebot/app/apptest"
)

func TestMain(m *testing.M) { apptest.Main(m) }
