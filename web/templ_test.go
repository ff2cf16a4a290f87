package web

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedTemplatesAreCurrent fails when a *_templ.go file is not what
// `go tool templ generate` makes of its .templ file: someone edited a
// template without regenerating (or edited the generated code by hand).
func TestGeneratedTemplatesAreCurrent(t *testing.T) {
	sources, err := filepath.Glob("*.templ")
	if err != nil || len(sources) == 0 {
		t.Fatalf("no .templ files found (%v)", err)
	}
	for _, src := range sources {
		generated := strings.TrimSuffix(src, ".templ") + "_templ.go"
		cmd := exec.Command("go", "tool", "templ", "generate", "-f", src, "-stdout")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		want, err := cmd.Output()
		if err != nil {
			t.Fatalf("go tool templ generate -f %s: %v\n%s", src, err, stderr.String())
		}
		got, err := os.ReadFile(generated)
		if err != nil {
			t.Errorf("%s has no generated %s: run `go tool templ generate -path web`", src, generated)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `go tool templ generate -path web` and commit the result", generated)
		}
	}
	// A generated file whose template is gone would still compile in.
	generatedFiles, _ := filepath.Glob("*_templ.go")
	for _, g := range generatedFiles {
		if _, err := os.Stat(strings.TrimSuffix(g, "_templ.go") + ".templ"); err != nil {
			t.Errorf("%s has no .templ source: delete it", g)
		}
	}
}
