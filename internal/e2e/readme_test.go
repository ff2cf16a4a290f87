package e2e

// Helpers that read the README's shell examples, so tests can run the very
// lines a reader copies.

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readmeSection returns the lines of the README section whose heading line
// starts with heading ("### With curl"), up to the next heading of the same
// or a higher level. Lines inside fenced blocks are never headings (a shell
// comment starts with "# " too).
func readmeSection(t *testing.T, heading string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	level := len(heading) - len(strings.TrimLeft(heading, "#"))
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, heading) })
	if start < 0 {
		t.Fatalf("README.md has no section %q", heading)
	}
	fenced := false
	for end := start + 1; end < len(lines); end++ {
		l := lines[end]
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
		}
		if hashes := len(l) - len(strings.TrimLeft(l, "#")); !fenced && hashes > 0 && hashes <= level &&
			strings.HasPrefix(l[hashes:], " ") {
			return lines[start+1 : end]
		}
	}
	return lines[start+1:]
}

// shBlocks returns the bodies of the ```sh fenced blocks among lines.
func shBlocks(lines []string) [][]string {
	var blocks [][]string
	var cur []string
	in := false
	for _, l := range lines {
		switch {
		case !in && strings.TrimSpace(l) == "```sh":
			in, cur = true, nil
		case in && strings.TrimSpace(l) == "```":
			in = false
			blocks = append(blocks, cur)
		case in:
			cur = append(cur, l)
		}
	}
	return blocks
}

// A curlStep is a piece of a README block and the answer documented
// under it: "# → STATUS [JSON]". JSON, when given, lists the fields of the
// answer that matter; the real answer may hold more.
type curlStep struct {
	script string
	status int
	want   any // nil: only the status is documented
}

const answerPrefix = "# → "

// curlSteps cuts a block at its answer lines. Every command must be
// followed by its answer, so nothing in the README runs unchecked.
func curlSteps(t *testing.T, block []string) []curlStep {
	t.Helper()
	var steps []curlStep
	var script []string
	for _, l := range block {
		answer, ok := strings.CutPrefix(l, answerPrefix)
		if !ok {
			script = append(script, l)
			continue
		}
		step := parseAnswer(t, answer)
		step.script = strings.Join(script, "\n")
		if strings.Count(step.script, "curl ") != 1 {
			t.Fatalf("README: the lines before %q must hold one curl call:\n%s", l, step.script)
		}
		steps = append(steps, step)
		script = nil
	}
	for _, l := range script {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			t.Fatalf("README: %q has no %q line after it", l, answerPrefix)
		}
	}
	return steps
}

func parseAnswer(t *testing.T, answer string) curlStep {
	t.Helper()
	statusText, body, _ := strings.Cut(answer, " ")
	status, err := strconv.Atoi(statusText)
	if err != nil {
		t.Fatalf("README: answer %q does not start with an HTTP status", answer)
	}
	step := curlStep{status: status}
	if body != "" {
		if err := json.Unmarshal([]byte(body), &step.want); err != nil {
			t.Fatalf("README: answer %q: %v", answer, err)
		}
	}
	return step
}

// jsonSubset reports where got lacks what want documents: every key of a
// wanted object must be in got with a matching value, a wanted array must
// have got's length and matching elements, anything else must be equal.
func jsonSubset(path string, want, got any) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %v, want an object", path, got)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s.%s: missing", path, k)
			}
			if err := jsonSubset(path+"."+k, wv, gv); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %v, want %d elements", path, got, len(w))
		}
		for i := range w {
			if err := jsonSubset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); err != nil {
				return err
			}
		}
		return nil
	default:
		if want != got {
			return fmt.Errorf("%s: got %#v, want %#v", path, got, want)
		}
		return nil
	}
}

// jsonArgs are the single-quoted JSON arguments of the lines, in order:
// the payloads a CLI or curl line sends.
func jsonArgs(t *testing.T, lines []string) []any {
	t.Helper()
	var args []any
	for _, m := range regexp.MustCompile(`(?s)'([\[{].*?)'`).FindAllStringSubmatch(strings.Join(lines, "\n"), -1) {
		var v any
		if err := json.Unmarshal([]byte(m[1]), &v); err != nil {
			t.Fatalf("README: %s: %v", m[1], err)
		}
		args = append(args, v)
	}
	return args
}

// commandsIn collects every object with a "txNum" inside v, depth first in
// document order: the account commands a payload carries.
func commandsIn(v any) []map[string]any {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["txNum"]; ok {
			return []map[string]any{x}
		}
		// A request carries its commands under one key (signalInput,
		// input, args), so the key order only has to be deterministic.
		var out []map[string]any
		for _, k := range slices.Sorted(maps.Keys(x)) {
			out = append(out, commandsIn(x[k])...)
		}
		return out
	case []any:
		var out []map[string]any
		for _, e := range x {
			out = append(out, commandsIn(e)...)
		}
		return out
	}
	return nil
}
