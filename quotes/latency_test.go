package quotes

import (
	"math"
	"slices"
	"testing"
	"time"
)

// TestLegacyLatencyDistribution draws 20,000 delays straight from the model
// and checks them against the 2017 measurements in the spec.
func TestLegacyLatencyDistribution(t *testing.T) {
	const n = 20_000
	l, err := NewLatencySampler(LatencyLegacy, 42)
	if err != nil {
		t.Fatal(err)
	}
	var fast []time.Duration
	var total time.Duration
	extraSeconds := map[int]int{}
	for range n {
		d := l.Sample()
		total += d
		seconds := int(d / time.Second)
		network := d - time.Duration(seconds)*time.Second
		if network < legacyNetMin || network > legacyNetMax {
			t.Fatalf("delay %v: network part %v outside [7ms, 26ms]", d, network)
		}
		if seconds == 0 {
			fast = append(fast, d)
		} else {
			extraSeconds[seconds]++
		}
	}

	// 65.75 % fast: the binomial standard deviation over 20,000 draws is
	// 0.34 %, so ±1.35 % is four of them.
	share := float64(len(fast)) / n
	if math.Abs(share-0.6575) > 0.0135 {
		t.Errorf("fast share = %.4f, want 0.6575 ± 0.0135", share)
	}
	slices.Sort(fast)
	minD, median, maxD := fast[0], fast[len(fast)/2], fast[len(fast)-1]
	if minD < 7*time.Millisecond || minD > 7500*time.Microsecond {
		t.Errorf("fast min = %v, want 7ms..7.5ms", minD)
	}
	if median < 8500*time.Microsecond || median > 9500*time.Microsecond {
		t.Errorf("fast median = %v, want 9ms ± 0.5ms", median)
	}
	if maxD < 20*time.Millisecond || maxD > 26*time.Millisecond {
		t.Errorf("fast max = %v, want 20ms..26ms", maxD)
	}
	mean := total / n
	if mean < 507*time.Millisecond || mean > 619*time.Millisecond {
		t.Errorf("mean = %v, want 563ms ± 10%%", mean)
	}
	for k := range extraSeconds {
		if k < 1 || k > 4 {
			t.Errorf("%d replies got %d extra seconds, want 1..4", extraSeconds[k], k)
		}
	}
	// Each slow bucket within four standard deviations of its weight.
	for k, weight := range map[int]float64{1: 0.2020, 2: 0.0880, 3: 0.0350, 4: 0.0175} {
		got := float64(extraSeconds[k]) / n
		if sd := math.Sqrt(weight * (1 - weight) / n); math.Abs(got-weight) > 4*sd {
			t.Errorf("share with %d extra seconds = %.4f, want %.4f ± %.4f", k, got, weight, 4*sd)
		}
	}
	t.Logf("legacy model over %d draws: fast %.2f%% (min %v, median %v, max %v), +1s..+4s %v, mean %v",
		n, 100*share, minD, median, maxD, extraSeconds, mean)
}

func TestLatencySamplerSeeded(t *testing.T) {
	a, _ := NewLatencySampler(LatencyLegacy, 7)
	b, _ := NewLatencySampler(LatencyLegacy, 7)
	c, _ := NewLatencySampler(LatencyLegacy, 8)
	same, differ := true, false
	for range 100 {
		da, db, dc := a.Sample(), b.Sample(), c.Sample()
		same = same && da == db
		differ = differ || da != dc
	}
	if !same {
		t.Error("two samplers with the same seed drew different delays")
	}
	if !differ {
		t.Error("samplers with seeds 7 and 8 drew the same 100 delays")
	}
	none, _ := NewLatencySampler(LatencyNone, 7)
	if d := none.Sample(); d != 0 {
		t.Errorf("none model delay = %v, want 0", d)
	}
	if _, err := NewLatencySampler("slow", 1); err == nil {
		t.Error("unknown latency model accepted")
	}
	if _, err := ParseLatencyModel("legacy"); err != nil {
		t.Error(err)
	}
}
