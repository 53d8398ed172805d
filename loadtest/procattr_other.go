//go:build !linux

package loadtest

import "os/exec"

// setParentDeathSignal is a no-op where the kernel has no parent-death
// signal; the bench still stops its children on every normal exit.
func setParentDeathSignal(*exec.Cmd) {}
