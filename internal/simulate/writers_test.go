package simulate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestWriteLogFile(t *testing.T) {
	var buf bytes.Buffer
	st, err := WriteLogFile(&buf, Options{Scenarios: []string{ScenarioAll}, Records: 1000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Records []map[string]any `json:"Records"`
	}
	if err := json.Unmarshal(buf.Bytes(), &file); err != nil {
		t.Fatalf("log file does not unmarshal: %v", err)
	}
	if got, want := len(file.Records), 1000; got != want {
		t.Fatalf("%d records, want %d", got, want)
	}
	if got, want := st.Records, int64(1000); got != want {
		t.Fatalf("stats records = %d, want %d", got, want)
	}
	for _, r := range file.Records {
		if r["eventID"] == nil || r["eventTime"] == nil {
			t.Fatalf("record without eventID or eventTime: %v", r)
		}
	}
}

func TestEmptyLogFile(t *testing.T) {
	var buf bytes.Buffer
	if _, err := WriteLogFile(&buf, Options{}); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), `{"Records":[]}`; got != want {
		t.Fatalf("empty log file = %q, want %q", got, want)
	}
}

func TestWriteEventBridge(t *testing.T) {
	var buf bytes.Buffer
	if _, err := WriteEventBridge(&buf, Options{Scenarios: []string{ScenarioAll}, Records: 2000, Seed: 1, Duplicates: 0.01}); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	lines, signIns := 0, 0
	ids := map[string]bool{}
	for sc.Scan() {
		lines++
		var ev struct {
			Version    string         `json:"version"`
			ID         string         `json:"id"`
			DetailType string         `json:"detail-type"`
			Source     string         `json:"source"`
			Account    string         `json:"account"`
			Time       string         `json:"time"`
			Region     string         `json:"region"`
			Resources  []any          `json:"resources"`
			Detail     map[string]any `json:"detail"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		if ev.Detail == nil || ev.Resources == nil || ev.Version != "0" {
			t.Fatalf("line %d lacks detail, resources or version: %s", lines, sc.Bytes())
		}
		if ids[ev.ID] {
			t.Fatalf("envelope id %s repeats", ev.ID)
		}
		ids[ev.ID] = true
		if got, want := ev.Time, ev.Detail["eventTime"]; got != want {
			t.Fatalf("time = %v, want %v", got, want)
		}
		if got, want := ev.Region, ev.Detail["awsRegion"]; got != want {
			t.Fatalf("region = %v, want %v", got, want)
		}
		if got, want := ev.Account, DefaultAccount; got != want {
			t.Fatalf("account = %v, want %v", got, want)
		}
		src := ev.Detail["eventSource"].(string)
		if src == "signin.amazonaws.com" {
			signIns++
			if ev.DetailType != "AWS Console Sign In via CloudTrail" || ev.Source != "aws.signin" {
				t.Fatalf("sign-in envelope %q from %q", ev.DetailType, ev.Source)
			}
			continue
		}
		if got, want := ev.Source, "aws."+strings.TrimSuffix(src, ".amazonaws.com"); got != want {
			t.Fatalf("source = %v, want %v", got, want)
		}
		if got, want := ev.DetailType, "AWS API Call via CloudTrail"; got != want {
			t.Fatalf("detail-type = %v, want %v", got, want)
		}
	}
	if got, want := lines, 2000; got != want {
		t.Fatalf("%d lines, want %d", got, want)
	}
	if signIns == 0 {
		t.Fatalf("no sign-in events")
	}
}

func TestEventBridgeDecodesForeignRecords(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatEventBridge)
	if err != nil {
		t.Fatal(err)
	}
	// Keys in another order, with spaces and a nested accountId.
	rec := `{"awsRegion" : "eu-west-1", "eventSource": "ec2.amazonaws.com", "userIdentity": {"accountId": "111122223333"}, "eventID": "x"}`
	if err := w.Record([]byte(rec), time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(buf.Bytes(), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["region"] != "eu-west-1" || ev["account"] != "111122223333" || ev["source"] != "aws.ec2" {
		t.Fatalf("envelope %v", ev)
	}
	if err := w.Record([]byte(rec), time.Unix(0, 0)); err != ErrClosed {
		t.Fatalf("Record after Close = %v, want ErrClosed", err)
	}
}

func TestWriteJSONLines(t *testing.T) {
	var buf bytes.Buffer
	if _, err := WriteJSONLines(&buf, Options{Scenarios: []string{ScenarioAll}, Records: 777, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if got, want := len(lines), 777; got != want {
		t.Fatalf("%d lines, want %d", got, want)
	}
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d is not JSON", i)
		}
	}
}

func TestAppendStr(t *testing.T) {
	for _, s := range []string{"plain", `q"uote\`, "tab\tnl\n\x01", "héllo ✓", "bad\xffbyte"} {
		b := appendStr(nil, s)
		if !json.Valid(b) {
			t.Fatalf("appendStr(%q) = %s, not valid JSON", s, b)
		}
		want, _ := json.Marshal(s)
		var got, w string
		json.Unmarshal(b, &got)
		json.Unmarshal(want, &w)
		if got != w {
			t.Fatalf("appendStr(%q) decodes to %q, want %q", s, got, w)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := NewWriter(&bytes.Buffer{}, Format("xml")); err == nil {
		t.Fatalf("NewWriter accepted an unknown format")
	}
}
