package simulate

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// collect generates opts and returns the records, copied.
func collect(t *testing.T, opts Options) ([][]byte, Stats) {
	t.Helper()
	g, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var recs [][]byte
	st, err := g.Generate(SinkFunc(func(raw []byte, _ time.Time) error {
		recs = append(recs, bytes.Clone(raw))
		return nil
	}))
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return recs, st
}

// decode unmarshals a record into a map.
func decode(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("unmarshal %s: %v", raw, err)
	}
	return m
}

func TestRecordsAreValidAndOrdered(t *testing.T) {
	recs, st := collect(t, Options{Scenarios: []string{ScenarioAll}, Records: 20000, Seed: 7, Duplicates: 0.02})
	if got, want := len(recs), 20000; got != want {
		t.Fatalf("records = %d, want %d", got, want)
	}
	if got, want := st.Records, int64(20000); got != want {
		t.Fatalf("stats records = %d, want %d", got, want)
	}
	var prev time.Time
	var bytesSum int64
	for i, raw := range recs {
		if !json.Valid(raw) {
			t.Fatalf("record %d is not valid JSON: %s", i, raw)
		}
		bytesSum += int64(len(raw))
		var r struct {
			EventTime string `json:"eventTime"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		et, err := time.Parse(time.RFC3339, r.EventTime)
		if err != nil {
			t.Fatalf("record %d eventTime %q: %v", i, r.EventTime, err)
		}
		if et.Before(prev) {
			t.Fatalf("record %d eventTime %v before %v", i, et, prev)
		}
		prev = et
	}
	if got, want := st.Bytes, bytesSum; got != want {
		t.Fatalf("stats bytes = %d, want %d", got, want)
	}
}

func TestSameSeedSameOutput(t *testing.T) {
	opts := Options{Scenarios: []string{ScenarioAll}, Records: 3000, Seed: 42, Duplicates: 0.01}
	var a, b bytes.Buffer
	if _, err := WriteLogFile(&a, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteLogFile(&b, opts); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("same seed gave different output")
	}
	opts.Seed = 43
	var c bytes.Buffer
	if _, err := WriteLogFile(&c, opts); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatalf("different seeds gave the same output")
	}
}

func TestPartsEqualWhole(t *testing.T) {
	g, err := New(Options{Scenarios: []string{ScenarioAll}, Records: 5000, Seed: 3, Duplicates: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	var whole, parts bytes.Buffer
	sink := func(buf *bytes.Buffer) Sink {
		return SinkFunc(func(raw []byte, _ time.Time) error {
			buf.Write(raw)
			buf.WriteByte('\n')
			return nil
		})
	}
	total, err := g.Generate(sink(&whole))
	if err != nil {
		t.Fatal(err)
	}
	var sum Stats
	for i := range 7 {
		st, err := g.Part(i, 7, sink(&parts))
		if err != nil {
			t.Fatal(err)
		}
		sum.Add(st)
	}
	if !bytes.Equal(whole.Bytes(), parts.Bytes()) {
		t.Fatalf("parts differ from the whole")
	}
	if sum != total {
		t.Fatalf("part stats %+v, want %+v", sum, total)
	}
}

func TestSignInRatio(t *testing.T) {
	const n = 50000
	recs, st := collect(t, Options{Records: n, Seed: 9})
	signIns := 0
	for _, raw := range recs {
		if bytes.Contains(raw, []byte(`"eventSource":"signin.amazonaws.com"`)) {
			signIns++
		}
	}
	if got, want := int64(signIns), st.SignIns; got != want {
		t.Fatalf("sign-ins counted %d, stats say %d", got, want)
	}
	if got, want := float64(signIns)/n, DefaultSignInRatio; math.Abs(got-want) > 0.003 {
		t.Fatalf("sign-in share = %.4f, want about %.4f", got, want)
	}
	_, st = collect(t, Options{Records: 2000, Seed: 9, SignInRatio: -1})
	if got, want := st.SignIns, int64(0); got != want {
		t.Fatalf("sign-ins with a negative ratio = %d, want %d", got, want)
	}
}

func TestFillerIsRealistic(t *testing.T) {
	recs, st := collect(t, Options{Records: 5000, Seed: 5, SignInRatio: -1})
	avg := st.Bytes / st.Records
	if avg < 800 || avg > 1500 {
		t.Fatalf("average filler record = %d bytes, want about 1 KB", avg)
	}
	names := map[string]bool{}
	sessions := 0
	for _, raw := range recs {
		m := decode(t, raw)
		names[m["eventName"].(string)] = true
		ui := m["userIdentity"].(map[string]any)
		if _, ok := ui["sessionContext"]; ok {
			sessions++
		}
		if _, ok := m["tlsDetails"]; !ok {
			t.Fatalf("filler record without tlsDetails: %s", raw)
		}
	}
	if sessions < len(recs)/2 {
		t.Fatalf("%d of %d filler records have a sessionContext, want most", sessions, len(recs))
	}
	for _, n := range []string{"DescribeInstances", "GetObject", "AssumeRole", "ListUsers", "Decrypt", "Invoke", "GetParameter"} {
		if !names[n] {
			t.Fatalf("no %s among the filler", n)
		}
	}
}

func TestDuplicatesReuseEventIDs(t *testing.T) {
	const n = 10000
	recs, _ := collect(t, Options{Scenarios: []string{ScenarioAll}, Records: n, Seed: 11, Duplicates: 0.1})
	if got, want := len(recs), n; got != want {
		t.Fatalf("records = %d, want %d", got, want)
	}
	seen := map[string]int{}
	for _, raw := range recs {
		var r struct {
			EventID string `json:"eventID"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		seen[r.EventID]++
	}
	dups := 0
	for id, c := range seen {
		if c > 2 {
			t.Fatalf("eventID %s occurs %d times", id, c)
		}
		if c == 2 {
			dups++
		}
	}
	if got, want := dups, n/10; got != want {
		t.Fatalf("duplicated eventIDs = %d, want %d", got, want)
	}
	if got, want := len(seen), n-n/10; got != want {
		t.Fatalf("distinct eventIDs = %d, want %d", got, want)
	}
}

func TestOnlyScenarios(t *testing.T) {
	recs, st := collect(t, Options{Scenarios: []string{ScenarioAll}, Seed: 1})
	if len(recs) == 0 || st.SignIns != st.Records {
		t.Fatalf("records %d, sign-ins %d: want only sign-ins", st.Records, st.SignIns)
	}
	if got, want := st.First.Sub(DefaultStart) >= 10*time.Minute, true; got != want {
		t.Fatalf("first event at %v, want 10 minutes or more after %v", st.First, DefaultStart)
	}
	if got, want := st.Last.Before(DefaultStart.Add(8*time.Hour)), true; got != want {
		t.Fatalf("last event at %v, want within 8 hours", st.Last)
	}
}

func TestBadOptions(t *testing.T) {
	for _, opts := range []Options{
		{Scenarios: []string{"nope"}},
		{Records: -1},
		{Duplicates: 0.9},
		{Duplicates: -0.1},
		{SignInRatio: 2},
		{Account: "12345"},
		{Scenarios: []string{ScenarioAll}, Records: 5},
	} {
		if _, err := New(opts); err == nil {
			t.Fatalf("New(%+v) succeeded, want an error", opts)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	g, err := New(Options{Scenarios: []string{ScenarioAll}, Records: 200000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	sink := SinkFunc(func(raw []byte, _ time.Time) error {
		n += int64(len(raw))
		return nil
	})
	st, err := g.Generate(sink)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := g.Generate(sink); err != nil {
			b.Fatal(err)
		}
	}
}
