package redistest

import (
	"os/exec"
	"strings"
	"testing"
)

// A server whose port another redis-server took between freePort and its
// bind must not pass for started: that other server answers, but it is
// not this one.
func TestWaitReadyRefusesAnotherServerOnThePort(t *testing.T) {
	requireServer(t)
	other, err := startFree(t.TempDir(), config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.kill)

	// This server's process is still alive (it has not yet failed to
	// bind) while the other answers on its port.
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	s := &server{dir: t.TempDir(), port: other.port, cmd: cmd}
	err = s.waitReady(make(chan struct{}), cmd.Process.Pid)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("waitReady = %v, want an error saying the port is in use (so that the caller tries another)", err)
	}
	if err := other.waitReady(other.exited, other.cmd.Process.Pid); err != nil {
		t.Errorf("the server on its own port: %v", err)
	}
}
