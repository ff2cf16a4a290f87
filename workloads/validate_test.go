package workloads

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/testenv"
)

// TestValidateXMLStreams: a DUMPLOG is checked without holding it. xmllint
// builds the whole document in memory unless it streams: 11 times the
// file's size (4.75 GiB for a 1,000,000-command run's 431 MB), more than
// the stack that wrote it. Here the xmllint command validateXML runs must
// never hold as much as the 25 MiB log it checks (its high-water mark, read
// from /proc while it runs), and validateXML must still find the log valid,
// and a bad record in another.
func TestValidateXMLStreams(t *testing.T) {
	xsd := filepath.Join(testenv.SharedDir(t), "spec", "logfile.xsd")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	good := writeLog(t, filepath.Join(dir, "good.xml"), 120_000, -1)
	info, err := os.Stat(good)
	if err != nil {
		t.Fatal(err)
	}
	fileKiB := info.Size() / 1024
	if peak := peakKiBOf(t, xmllint(ctx, xsd, good)); peak <= 0 || peak >= fileKiB {
		t.Errorf("xmllint held %d KiB at most for a %d KiB log: want more than 0 and less than the file", peak, fileKiB)
	}
	if valid, msg := validateXML(ctx, xsd, good); !valid {
		t.Errorf("a valid log: not valid: %s", msg)
	}
	bad := writeLog(t, filepath.Join(dir, "bad.xml"), 1_000, 700)
	if valid, msg := validateXML(ctx, xsd, bad); valid || !strings.Contains(msg, "transactionNum") {
		t.Errorf("a log with a bad transaction number: valid %v, %q; want not valid, naming the element", valid, msg)
	}
}

// peakKiBOf runs cmd and returns the highest VmHWM (peak resident memory,
// KiB) its /proc status showed while it ran, read every 10 ms.
func peakKiBOf(t *testing.T, cmd *exec.Cmd) int64 {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var peak int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", cmd, err)
			}
			return peak
		case <-tick.C:
			b, err := os.ReadFile(status)
			if err != nil {
				continue // it has just exited
			}
			for _, line := range strings.Split(string(b), "\n") {
				var kib int64
				if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kib); err == nil {
					peak = max(peak, kib)
				}
			}
		}
	}
}

// writeLog writes a log of n userCommand records; record bad (if in range)
// has a transaction number the schema refuses.
func writeLog(t *testing.T, path string, n, bad int) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, `<?xml version="1.0" encoding="UTF-8"?>`)
	fmt.Fprintln(w, "<log>")
	for i := range n {
		tx := fmt.Sprint(i + 1)
		if i == bad {
			tx = "x" + tx
		}
		fmt.Fprintf(w, " <userCommand>\n  <timestamp>%d</timestamp>\n  <server>vm</server>\n  <transactionNum>%s</transactionNum>\n"+
			"  <command>ADD</command>\n  <username>user%06d</username>\n  <funds>%d.25</funds>\n </userCommand>\n",
			1796311977768+int64(i), tx, i, i)
	}
	fmt.Fprintln(w, "</log>")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
