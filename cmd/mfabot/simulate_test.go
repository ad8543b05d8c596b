package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runSimulate runs "mfabot simulate args..." in-process and returns the
// exit code, stdout and stderr.
func runSimulate(t *testing.T, args ...string) (int, []byte, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"simulate"}, args...), streams{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
	return code, stdout.Bytes(), stderr.String()
}

// logRecords unmarshals a CloudTrail log file.
func logRecords(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var file struct {
		Records []map[string]any `json:"Records"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("output is not a CloudTrail log file: %v", err)
	}
	return file.Records
}

func TestSimulateLogToStdout(t *testing.T) {
	code, out, stderr := runSimulate(t, "--records", "1500", "--seed", "7")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, want := len(logRecords(t, out)), 1500; got != want {
		t.Fatalf("%d records, want %d", got, want)
	}
	if !strings.Contains(stderr, "1500 records") {
		t.Fatalf("summary %q does not count the records", stderr)
	}
}

func TestSimulateScenariosOnly(t *testing.T) {
	code, out, stderr := runSimulate(t, "--scenario", "wrong-code,unknown-user", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if got, want := len(lines), 3; got != want {
		t.Fatalf("%d records, want %d", got, want)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line is not JSON: %s", l)
		}
	}
}

func TestSimulateEventBridge(t *testing.T) {
	code, out, stderr := runSimulate(t, "--records", "300", "--format", "eventbridge", "--start", "2026-02-01T00:00:00Z")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if got, want := len(lines), 300; got != want {
		t.Fatalf("%d events, want %d", got, want)
	}
	var ev struct {
		DetailType string         `json:"detail-type"`
		Time       string         `json:"time"`
		Detail     map[string]any `json:"detail"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.DetailType == "" || ev.Detail == nil || !strings.HasPrefix(ev.Time, "2026-02-01T") {
		t.Fatalf("first event %s", lines[0])
	}
}

func TestSimulateGzipFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "corpus")
	code, _, stderr := runSimulate(t, "--records", "4000", "--format", "gz", "--files", "4", "--out", dir, "--duplicates", "0.05")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(entries), 4; got != want {
		t.Fatalf("%d files, want %d", got, want)
	}
	name := regexp.MustCompile(`^731946208517_CloudTrail_[a-z]+-[a-z]+-\d_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$`)
	total := 0
	for _, e := range entries {
		if !name.MatchString(e.Name()) {
			t.Fatalf("file name %q is not a CloudTrail object name", e.Name())
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		data, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		total += len(logRecords(t, data))
	}
	if got, want := total, 4000; got != want {
		t.Fatalf("%d records in the files, want %d", got, want)
	}
	if !strings.Contains(stderr, "4 file(s)") {
		t.Fatalf("summary %q", stderr)
	}
}

func TestSimulateSameSeedSameOutput(t *testing.T) {
	_, a, _ := runSimulate(t, "--records", "500", "--seed", "3", "--format", "jsonl")
	_, b, _ := runSimulate(t, "--records", "500", "--seed", "3", "--format", "jsonl")
	if !bytes.Equal(a, b) {
		t.Fatalf("same seed, different output")
	}
}

func TestSimulateBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--format", "xml"},
		{"--scenario", "nope"},
		{"--files", "0"},
		{"--files", "3"},
		{"--records", "-5"},
		{"--records", "5"},
		{"--duplicates", "0.9"},
		{"--start", "yesterday"},
		{"--account", "123"},
		{"--bogus"},
		{"extra"},
	} {
		code, _, stderr := runSimulate(t, args...)
		if code != 2 {
			t.Fatalf("%v: exit %d, want 2 (%s)", args, code, stderr)
		}
		if !strings.Contains(stderr, "mfabot simulate:") {
			t.Fatalf("%v: stderr %q does not explain", args, stderr)
		}
	}
}
