package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCmd runs mfabot in-process and returns its exit code and output.
func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, streams{strings.NewReader(stdin), &out, &errOut})
	return code, out.String(), errOut.String()
}

func decodeLines(t *testing.T, out string) []incidentJSON {
	t.Helper()
	var incs []incidentJSON
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var inc incidentJSON
		if err := json.Unmarshal(sc.Bytes(), &inc); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		incs = append(incs, inc)
	}
	return incs
}

// fixtures is absolute, so tests may change directory.
var fixtures, _ = filepath.Abs("../../internal/cloudtrail/testdata")

func TestReplayJSON(t *testing.T) {
	t.Chdir(t.TempDir()) // no mfabot.yml here
	code, out, errOut := runCmd(t, "", "replay", "--json", filepath.Join(fixtures, "log_mixed.json"), filepath.Join(fixtures, "eventbridge.jsonl"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	incs := decodeLines(t, out)
	got := make([]string, len(incs))
	for i, inc := range incs {
		prior := "null"
		if inc.PriorMFASuccess != nil {
			prior = *inc.PriorMFASuccess
		}
		got[i] = strings.Join([]string{inc.ID, string(inc.Subject.Kind), inc.Subject.User, string(inc.Classification),
			string(inc.Severity), string(inc.Stage), inc.FirstSeen, inc.LastSeen, strings.Join(inc.SourceIPs, " "), prior, string(inc.Status)}, "|")
	}
	want := []string{
		"INC-1|user|noor.haddad|token_expiry_likely|medium|mfa|2026-05-11T09:07:12Z|2026-05-11T09:10:12Z|198.51.100.40|2026-05-11T09:00:05Z|open",
		"INC-2|root||isolated_failure|high|mfa|2026-05-11T09:09:00Z|2026-05-11T09:09:00Z|203.0.113.70|null|open",
		"INC-3|identity_center_user|mei.tanaka|isolated_failure|medium|mfa|2026-05-11T09:11:00Z|2026-05-11T09:11:00Z|198.51.100.90|null|open",
	}
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Fatalf("incidents:\ngot:\n%s\nwant:\n%s", g, w)
	}
	if incs[0].Failures != 4 {
		t.Errorf("failures: got %d, want 4", incs[0].Failures)
	}
	for _, w := range []string{"13 records", "2 skipped", "3 incidents", "eventbridge.jsonl: record 2 (line 3): unterminated string"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("summary lacks %q:\n%s", w, errOut)
		}
	}
}

func TestReplayIsIdempotentOnAStore(t *testing.T) {
	t.Chdir(t.TempDir())
	db := filepath.Join(t.TempDir(), "m.db")
	in := filepath.Join(fixtures, "log_mixed.json")
	_, first, _ := runCmd(t, "", "replay", "--json", "--db", db, in)
	code, second, errOut := runCmd(t, "", "replay", "--json", "--db", db, in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if first != second {
		t.Fatalf("second replay changed the incidents:\n%s\nvs\n%s", first, second)
	}
	if !strings.Contains(errOut, "6 duplicates") {
		t.Fatalf("second replay should see every sign-in as a duplicate:\n%s", errOut)
	}
}

func TestReplayStdinAndTable(t *testing.T) {
	t.Chdir(t.TempDir())
	in, err := os.ReadFile(filepath.Join(fixtures, "log_mixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, string(in), "replay", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "ID ") || !strings.Contains(out, "noor.haddad@123456789012") {
		t.Fatalf("table:\n%s", out)
	}
}

func TestReplayErrors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("detection:\n  spray_users: 1\n  group_gap: 0s\n  colour: blue\n"), 0o644)
	unreadable := filepath.Join(dir, "garbage.json.gz")
	os.WriteFile(unreadable, []byte("\x1f\x8b garbage"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing path", []string{"replay", "/no/such/file.json"}, 1, "no such file or directory"},
		{"no input", []string{"replay"}, 2, "no input"},
		{"unknown flag", []string{"replay", "--jsn", "x"}, 2, "flag provided but not defined"},
		{"unknown config key", []string{"replay", "--config", bad, "-"}, 1, "field colour not found"},
		{"unreadable file", []string{"replay", unreadable}, 1, "1 file(s) could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", code, errOut, tt.code, tt.want)
			}
		})
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.yml")
	os.WriteFile(p, []byte("detection:\n  spray_users: 1\n  group_gap: 0s\n"), 0o644)
	_, err := loadConfig(p, true)
	if err == nil || !strings.Contains(err.Error(), "spray_users") || !strings.Contains(err.Error(), "group_gap") {
		t.Fatalf("got %v, want both spray_users and group_gap named", err)
	}
}
