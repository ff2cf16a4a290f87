//go:build !linux

package chaos

import "os/exec"

// dieWithTest needs Linux's parent-death signal; elsewhere a process left
// by a test that timed out must be stopped by hand.
func dieWithTest(cmd *exec.Cmd) {}
