package loadtest

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill the child if the bench dies
// without cleaning up (a crash, SIGKILL), so no redis-server or bot is
// left running.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
