package workloads

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/testenv"
)

// TestValidateXMLStreams: a DUMPLOG is checked without holding it. xmllint
// builds the whole document in memory unless it streams: 11 times the
// file's size (4.75 GiB for a 1,000,000-command run's 431 MB), more than
// the stack that wrote it. Here xmllint must find a 25 MiB log valid
// without ever holding as much as the file (its high-water mark, read from
// /proc while it runs), the report must say how much it held, and a bad
// record in another log must still be found.
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
	fileMiB := float64(info.Size()) / (1 << 20)
	v := validateXML(ctx, xsd, good)
	if !v.valid {
		t.Fatalf("a valid log: not valid: %s", v.message)
	}
	if v.peakRSSMiB <= 0 || v.peakRSSMiB >= fileMiB {
		t.Errorf("xmllint held %.1f MiB at most for a %.1f MiB log: want more than 0 and less than the file", v.peakRSSMiB, fileMiB)
	}
	var rep strings.Builder
	writeDumps(&rep, []DumpReport{{Filename: "./testLOG", Valid: &v.valid, ValidatorPeakRSSMiB: v.peakRSSMiB}})
	if want := fmt.Sprintf("; valid (xmllint, peak RSS %.0f MiB)\n", v.peakRSSMiB); !strings.HasSuffix(rep.String(), want) {
		t.Errorf("report %q does not end with %q", rep.String(), want)
	}
	bad := writeLog(t, filepath.Join(dir, "bad.xml"), 1_000, 700)
	if v := validateXML(ctx, xsd, bad); v.valid || !strings.Contains(v.message, "transactionNum") {
		t.Errorf("a log with a bad transaction number: valid %v, %q; want not valid, naming the element", v.valid, v.message)
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
