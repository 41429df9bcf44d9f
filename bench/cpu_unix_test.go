//go:build unix

package bench_test

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time the process has used, user and system.
// Unlike wall time it does not grow while other processes hold the CPU, so
// on a shared machine it compares middlewares more steadily than ns/op.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
