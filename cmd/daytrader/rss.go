package main

import "syscall"

// peakRSSMiB is this process's peak resident set size so far, in MiB (the
// kernel's ru_maxrss, in KiB on Linux): with --embedded the whole stack,
// otherwise the starter alone. 0 when the kernel does not say.
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
