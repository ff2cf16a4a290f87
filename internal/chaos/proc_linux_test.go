package chaos

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes the kernel kill the child when the test process dies
// (a test timeout panics past every t.Cleanup), so no daytrader process
// outlives its test.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
