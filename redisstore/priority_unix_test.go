//go:build unix

package redisstore_test

import (
	"fmt"
	"os/exec"
	"syscall"
)

// raisePriority asks the kernel to schedule the process pid before others
// (nice -15). It needs the privilege to (root, CAP_SYS_NICE); without it
// nothing changes.
func raisePriority(pid int) error {
	return syscall.Setpriority(syscall.PRIO_PROCESS, pid, -15)
}

// realtime puts the process pid in the real-time class (SCHED_FIFO,
// priority 1: before every ordinary process) when on is set, and back in
// the ordinary class otherwise, with chrt. It needs the privilege to (root,
// CAP_SYS_NICE) and chrt (util-linux).
func realtime(pid int, on bool) error {
	args := []string{"-o", "-p", "0", fmt.Sprint(pid)}
	if on {
		args = []string{"-f", "-p", "1", fmt.Sprint(pid)}
	}
	out, err := exec.Command("chrt", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("chrt %v: %v %s", args, err, out)
	}
	return nil
}
