// Package telemetrytest scrapes a /metrics handler the way Prometheus does
// and reads series out of the parsed exposition, for tests that assert
// metrics moved after real traffic.
package telemetrytest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Scrape GETs h's /metrics in the text format and parses it.
func Scrape(t testing.TB, h http.Handler) Families {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return parse(t, rec.Body)
}

// ScrapeURL GETs a running process's /metrics (url) and parses it.
func ScrapeURL(t testing.TB, url string) Families {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return parse(t, resp.Body)
}

func parse(t testing.TB, r io.Reader) Families {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parsing the exposition: %v", err)
	}
	return families
}

// Sum adds up the series of name whose labels include labels (nil: every
// series): counter and gauge values, a histogram's sample count. A missing
// family is a test failure: a series that was never registered must not
// read as zero.
func (f Families) Sum(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	var sum float64
	for _, m := range f.series(t, name, labels) {
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		}
	}
	return sum
}

// Histogram is the one histogram series of name with labels.
func (f Families) Histogram(t testing.TB, name string, labels map[string]string) *dto.Histogram {
	t.Helper()
	series := f.series(t, name, labels)
	if len(series) != 1 || series[0].Histogram == nil {
		t.Fatalf("%s%v: %d series, want one histogram", name, labels, len(series))
	}
	return series[0].Histogram
}

// LabelValues lists the values label takes in name's series.
func (f Families) LabelValues(t testing.TB, name, label string) []string {
	t.Helper()
	var out []string
	for _, m := range f.series(t, name, nil) {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				out = append(out, l.GetValue())
			}
		}
	}
	return out
}

func (f Families) series(t testing.TB, name string, labels map[string]string) []*dto.Metric {
	t.Helper()
	fam, ok := f[name]
	if !ok {
		t.Fatalf("no metric %s in the scrape", name)
	}
	var out []*dto.Metric
	for _, m := range fam.GetMetric() {
		if hasLabels(m, labels) {
			out = append(out, m)
		}
	}
	return out
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
