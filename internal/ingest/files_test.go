package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

func TestReplayFilesSortsDedupesAndRecords(t *testing.T) {
	dir := t.TempDir()
	a := consoleLogin("1a2b3c4d-0020-4e5f-8a9b-0c1d2e3f4a5b", "nadia.okoro", "198.51.100.23", "Failure", fBase.Add(3*time.Minute))
	b := consoleLogin("1a2b3c4d-0021-4e5f-8a9b-0c1d2e3f4a5b", "nadia.okoro", "198.51.100.23", "Success", fBase.Add(1*time.Minute))
	c := consoleLogin("1a2b3c4d-0022-4e5f-8a9b-0c1d2e3f4a5b", "li.wei", "203.0.113.9", "Failure", fBase.Add(2*time.Minute))

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprintf(zw, `{"Records":[%s,%s]}`, a, b)
	zw.Close()
	writeFile(t, filepath.Join(dir, "123456789012_CloudTrail_us-east-1_20260511T0815Z_abc.json.gz"), gz.Bytes())
	// JSON Lines of EventBridge events: c, a repeat of a, and a bad line.
	writeFile(t, filepath.Join(dir, "events.jsonl"), []byte(eventBridge("AWS Console Sign In via CloudTrail", "aws.signin", c)+"\n"+
		eventBridge("AWS Console Sign In via CloudTrail", "aws.signin", a)+"\n"+
		`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","userIdentity":"bad"}`+"\n"))

	sink := &recSink{}
	logger, logs := testLogger()
	st, err := ReplayFiles(context.Background(), []string{dir}, sink, logger)
	if err != nil {
		t.Fatalf("ReplayFiles: got %v, want nil", err)
	}
	if st.SignIns != 4 || st.Skipped != 1 {
		t.Fatalf("stats: got %+v, want 4 sign-ins, 1 skipped", st)
	}
	_, events := sink.snapshot()
	var ids []string
	for _, e := range events {
		ids = append(ids, e.EventID[9:13])
	}
	if got, want := strings.Join(ids, ","), "0021,0022,0020"; got != want {
		t.Fatalf("recorded events: got %s, want %s (oldest first, no repeat)", got, want)
	}
	if !strings.Contains(logs.String(), "record skipped") {
		t.Fatalf("log lacks the bad record:\n%s", logs.String())
	}
}

func TestReplayFilesBatches(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	for i := range 2500 {
		id := fmt.Sprintf("1a2b3c4d-%04d-4e5f-8a9b-0c1d2e3f4a5b", i)
		buf.WriteString(consoleLogin(id, "nadia.okoro", "198.51.100.23", "Failure", fBase.Add(time.Duration(2500-i)*time.Second)))
		buf.WriteByte('\n')
	}
	writeFile(t, filepath.Join(dir, "many.jsonl"), buf.Bytes())
	sink := &recSink{}
	if _, err := ReplayFiles(context.Background(), []string{dir}, sink, nil); err != nil {
		t.Fatalf("ReplayFiles: got %v, want nil", err)
	}
	if got := fmt.Sprint(sink.sizes); got != "[1000 1000 500]" {
		t.Fatalf("batch sizes: got %s, want [1000 1000 500]", got)
	}
	_, events := sink.snapshot()
	for i := 1; i < len(events); i++ {
		if events[i].Time.Before(events[i-1].Time) {
			t.Fatalf("event %d at %v is before event %d at %v", i, events[i].Time, i-1, events[i-1].Time)
		}
	}
}

func TestReplayFilesRecordError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "one.json"), []byte(consoleLogin("1a2b3c4d-0030-4e5f-8a9b-0c1d2e3f4a5b", "nadia.okoro", "198.51.100.23", "Failure", fBase)))
	_, err := ReplayFiles(context.Background(), []string{dir}, &recSink{failN: 1}, nil)
	if !errors.Is(err, errSinkDown) {
		t.Fatalf("ReplayFiles: got %v, want the sink's error", err)
	}
}

func TestReplayFilesMissingPath(t *testing.T) {
	_, err := ReplayFiles(context.Background(), []string{filepath.Join(t.TempDir(), "absent.json")}, &recSink{}, nil)
	if err == nil {
		t.Fatalf("ReplayFiles of a missing file: got nil error, want one")
	}
}
