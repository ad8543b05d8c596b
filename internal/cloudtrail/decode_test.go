package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// collect decodes input and returns what the handler saw.
type collected struct {
	signIns  []SignIn
	pos      []Position
	problems []string
	stats    Stats
	err      error
}

func decodeString(t *testing.T, input string) collected {
	t.Helper()
	return decodeBytes(t, []byte(input), "in.json")
}

func decodeBytes(t *testing.T, input []byte, name string) collected {
	t.Helper()
	var c collected
	c.stats, c.err = Decode(context.Background(), bytes.NewReader(input), name, Handler{
		SignIn: func(s SignIn, p Position) error {
			c.signIns = append(c.signIns, s)
			c.pos = append(c.pos, p)
			return nil
		},
		Problem: func(p Problem) { c.problems = append(c.problems, p.String()) },
	})
	return c
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLogFileNormalisation(t *testing.T) {
	c := decodeBytes(t, readFixture(t, "log_mixed.json"), "log_mixed.json")
	if c.err != nil || len(c.problems) != 0 {
		t.Fatalf("decode: err %v, problems %v", c.err, c.problems)
	}
	if c.stats.Records != 8 || c.stats.SignIns != 6 {
		t.Fatalf("stats: got %+v, want 8 records and 6 sign-ins (CheckMfa and S3 are not)", c.stats)
	}
	type row struct {
		id, account, name, identity, user string
		hidden                            bool
		outcome                           Outcome
		mfa                               MFAUsed
		region, ip, cred                  string
		saml                              bool
	}
	want := []row{
		{"a0000000-0000-4000-8000-000000000001", "123456789012", "ConsoleLogin", "IAMUser", "noor.haddad", false, Success, MFAYes, "us-east-2", "198.51.100.40", "", false},
		{"a0000000-0000-4000-8000-000000000004", "123456789012", "ConsoleLogin", "IAMUser", "noor.haddad", false, Failure, MFAYes, "us-east-1", "198.51.100.40", "", false},
		// No recipientAccountId: the account comes from userIdentity.
		{"a0000000-0000-4000-8000-000000000005", "123456789012", "ConsoleLogin", "IAMUser", "", true, Failure, MFANo, "ap-southeast-2", "203.0.113.66", "", false},
		// Root's userName is the account alias, never a user.
		{"a0000000-0000-4000-8000-000000000006", "123456789012", "ConsoleLogin", "Root", "", false, Failure, MFAYes, "us-east-1", "203.0.113.70", "", false},
		{"a0000000-0000-4000-8000-000000000007", "123456789012", "ConsoleLogin", "AssumedRole", "", false, Success, MFANo, "us-east-1", "192.0.2.10", "", true},
		{"a0000000-0000-4000-8000-000000000008", "123456789012", "CredentialVerification", "IdentityCenterUser", "mei.tanaka", false, Failure, MFAUnknown, "eu-west-1", "198.51.100.90", "TOTP", false},
	}
	for i, w := range want {
		s := c.signIns[i]
		got := row{s.EventID, s.Account, s.Name, s.IdentityType, s.UserName, s.Hidden, s.Outcome, s.MFAUsed, s.Region, s.SourceIP, s.CredentialType, s.SAML}
		if got != w {
			t.Errorf("sign-in %d:\ngot  %+v\nwant %+v", i, got, w)
		}
	}
	if got := c.signIns[5].IdentityCenterUserID; got != "c3d4e5f6-0000-4000-8000-00000000aaaa" {
		t.Errorf("Identity Center user id: got %q", got)
	}
	if got, want := c.signIns[1].Time, time.Date(2026, 5, 11, 9, 7, 12, 0, time.UTC); !got.Equal(want) {
		t.Errorf("time: got %v, want %v", got, want)
	}
	if got := c.signIns[0].MFAIdentifier; got != "arn:aws:iam::123456789012:mfa/noor-phone" {
		t.Errorf("MFAIdentifier: got %q", got)
	}
}

func TestGzipIsDetectedByMagicNotName(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(readFixture(t, "log_mixed.json"))
	zw.Close()
	c := decodeBytes(t, buf.Bytes(), "no-extension")
	if c.err != nil || c.stats.SignIns != 6 || c.stats.Records != 8 {
		t.Fatalf("gzip: err %v stats %+v, want 6 sign-ins in 8 records", c.err, c.stats)
	}
}

func TestEventBridgeLinesSkipMalformedLinesAndGoOn(t *testing.T) {
	c := decodeBytes(t, readFixture(t, "eventbridge.jsonl"), "eb.jsonl")
	if c.err != nil {
		t.Fatalf("err: %v", c.err)
	}
	var ids []string
	for _, s := range c.signIns {
		ids = append(ids, s.EventID[len(s.EventID)-1:])
	}
	if got, want := strings.Join(ids, ","), "1,2,6"; got != want {
		t.Errorf("sign-ins: got %s, want %s", got, want)
	}
	want := []string{
		"eb.jsonl: record 2 (line 3): unterminated string",
		`eb.jsonl: record 4 (line 5): sign-in record with bad eventTime "yesterday"`,
	}
	if got := strings.Join(c.problems, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("problems:\ngot  %s\nwant %s", got, strings.Join(want, "\n"))
	}
	if got := c.pos[2]; got.Line != 6 || got.Index != 5 {
		t.Errorf("position of the last event: got %+v, want line 6 index 5", got)
	}
}

const failRec = `{"eventVersion":"1.11","userIdentity":{"type":"IAMUser","accountId":"123456789012","userName":"ana"},"eventTime":"2026-05-11T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"},"eventID":"%s","recipientAccountId":"123456789012"}`

func rec(id string) string { return fmt.Sprintf(failRec, id) }

func TestInputShapes(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		signIns  int
		problems []string
	}{
		{"array of records", "[" + rec("e1") + ",\n" + rec("e2") + "]", 2, nil},
		{"pretty-printed values spanning lines", strings.ReplaceAll(rec("e1"), ",", ",\n  ") + "\n" + strings.ReplaceAll(rec("e2"), ",", ",\n  "), 2, nil},
		{"records per line", rec("e1") + "\n\n" + rec("e2") + "\n", 2, nil},
		{"CloudWatch Logs message", `{"timestamp":1,"message":` + jsonString(rec("e1")) + "}\n", 1, nil},
		{"log file inside JSON lines", `{"Records":[` + rec("e1") + "," + rec("e2") + "]}\n" + rec("e3") + "\n", 3, nil},
		{"empty log file", `{"Records":[]}`, 0, nil},
		{"damaged first line of JSON lines", "garbage first\n" + rec("e1") + "\n" + rec("e2"), 2, []string{"in.json: record 0 (line 1): not a JSON object: starts with 'g'"}},
		{"damaged line in the middle", rec("e1") + "\nnot json\n" + rec("e2"), 2, []string{"in.json: record 1 (line 2): not a JSON object: starts with 'n'"}},
		{"empty input", "", 0, nil},
		{"byte order mark", "\xef\xbb\xbf" + rec("e1"), 1, nil},
		{"a number in the Records array", `{"Records":[1,` + rec("e1") + "]}", 1, []string{"in.json: record 0 (line 1): record is not a JSON object"}},
		{"truncated log file", `{"Records":[` + rec("e1") + `,{"eventSource":"signin.amazonaws.com"`, 1, []string{"in.json: record 1 (line 1): unexpected end of input inside a value"}},
		{"mismatched brackets", `{"Records":[{"a":[}]}`, 0, []string{`in.json: record 0 (line 1): unexpected '}'`}},
		{"two values on one line", rec("e1") + "\n" + rec("e2") + " " + rec("e3") + "\n" + rec("e4"), 2, []string{"in.json: record 1 (line 2): more than one value on the line"}},
		{"eventVersion 2 is refused", strings.Replace(rec("e1"), `"1.11"`, `"2.0"`, 1), 0, []string{`in.json: record 0 (line 1): unsupported eventVersion "2.0"`}},
		{"no eventID", strings.Replace(rec("e1"), `"eventID":"e1",`, "", 1), 0, []string{"in.json: record 0 (line 1): sign-in record without eventID"}},
		{"no account", strings.NewReplacer(`"accountId":"123456789012",`, "", `,"recipientAccountId":"123456789012"`, "").Replace(rec("e1")), 0, []string{"in.json: record 0 (line 1): sign-in record without recipientAccountId or userIdentity.accountId"}},
		{"no outcome", strings.NewReplacer(`"errorMessage":"Failed authentication",`, "", `"responseElements":{"ConsoleLogin":"Failure"},`, "").Replace(rec("e1")), 0, []string{"in.json: record 0 (line 1): ConsoleLogin record without an outcome"}},
		{"odd types in fields mfabot only glances at", strings.Replace(rec("e1"), `"additionalEventData":{"MFAUsed":"No"}`, `"additionalEventData":{"MFAUsed":true},"requestParameters":"x","responseElements2":7`, 1), 1, nil},
		{"errorMessage alone marks a failure", strings.Replace(rec("e1"), `"responseElements":{"ConsoleLogin":"Failure"},`, `"responseElements":null,`, 1), 1, nil},
		{"malformed sign-in record", `{"eventSource":"signin.amazonaws.com","eventTime":12,"userIdentity":"x"}`, 0, []string{"in.json: record 0 (line 1): malformed record: userIdentity is a JSON string, not the object CloudTrail writes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := decodeString(t, tt.input)
			if c.err != nil {
				t.Fatalf("err: %v", c.err)
			}
			if len(c.signIns) != tt.signIns {
				t.Errorf("sign-ins: got %d, want %d", len(c.signIns), tt.signIns)
			}
			if got, want := strings.Join(c.problems, "\n"), strings.Join(tt.problems, "\n"); got != want {
				t.Errorf("problems:\ngot  %s\nwant %s", got, want)
			}
			if c.stats.Skipped != len(tt.problems) {
				t.Errorf("skipped: got %d, want %d", c.stats.Skipped, len(tt.problems))
			}
		})
	}
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func TestNotJSON(t *testing.T) {
	for _, in := range []string{"hello", "\x00\x01binary\n\xff\xfe\n", strings.Repeat("# a text file\n", 20)} {
		c := decodeString(t, in)
		if !errors.Is(c.err, ErrNotJSON) {
			t.Errorf("%q: got %v, want ErrNotJSON", in[:5], c.err)
		}
	}
}

func TestLargeFileStreamsThroughSmallBuffer(t *testing.T) {
	// Many records with long filler fields, so that values straddle the
	// scanner's buffer boundary at every possible offset.
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	const n = 3000
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%10 == 0 {
			b.WriteString(rec(fmt.Sprintf("e%d", i)))
			continue
		}
		fmt.Fprintf(&b, `{"eventSource":"s3.amazonaws.com","pad":"%s","esc":"\"}]{[","eventID":"x%d"}`, strings.Repeat("z", i%700), i)
	}
	b.WriteString("]}")
	c := decodeString(t, b.String())
	if c.err != nil || len(c.problems) > 0 {
		t.Fatalf("err %v problems %v", c.err, c.problems)
	}
	if c.stats.Records != n || c.stats.SignIns != n/10 {
		t.Fatalf("stats: got %+v, want %d records, %d sign-ins", c.stats, n, n/10)
	}
}

func TestHandlerErrorStopsDecode(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	_, err := Decode(context.Background(), strings.NewReader("["+rec("a")+","+rec("b")+"]"), "x", Handler{
		SignIn: func(SignIn, Position) error { calls++; return stop },
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("got err %v after %d calls, want stop after 1", err, calls)
	}
}

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"Records":[` + rec("g1") + "]}"))
	zw.Close()
	write("AWSLogs/1/CloudTrail/us-east-1/a.json.gz", gz.String())
	write("AWSLogs/1/CloudTrail/eu-north-1/b.json", `{"Records":[`+rec("j1")+`,`+rec("j2")+"]}")
	write("AWSLogs/1/CloudTrail-Digest/d.json.gz", "not read")
	write("notes.txt", "not read")
	write(".hidden/c.json", "not read")
	write("broken.json.gz", "\x1f\x8bnot gzip at all")
	if err := os.Symlink(filepath.Join(dir, "AWSLogs/1/CloudTrail/eu-north-1/b.json"), filepath.Join(dir, "linked.json")); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var ids []string
	var fileErrs []string
	st, err := Walk(context.Background(), []string{dir, "-"}, strings.NewReader(rec("s1")), 3, Handler{
		SignIn: func(s SignIn, _ Position) error {
			mu.Lock()
			ids = append(ids, s.EventID)
			mu.Unlock()
			return nil
		},
	}, func(fe *FileError) { fileErrs = append(fileErrs, filepath.Base(fe.Path)) })
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if st.SignIns != 6 || len(ids) != 6 {
		t.Errorf("sign-ins: got %d (%v), want 6 (g1, j1, j2 twice through the link, s1)", st.SignIns, ids)
	}
	if strings.Join(fileErrs, ",") != "broken.json.gz" {
		t.Errorf("file errors: got %v, want broken.json.gz", fileErrs)
	}

	_, err = Walk(context.Background(), []string{filepath.Join(dir, "missing.json")}, nil, 1, Handler{}, nil)
	if !errors.Is(err, ErrNoInput) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing path: got %v, want ErrNoInput wrapping ErrNotExist", err)
	}
}

func TestOversizedValueIsRefusedNotBuffered(t *testing.T) {
	huge := `{"eventSource":"signin.amazonaws.com","pad":"` + strings.Repeat("x", maxValueSize) + `"}`
	c := decodeString(t, huge)
	if !errors.Is(c.err, errTooLarge) {
		t.Fatalf("err: got %v, want errTooLarge", c.err)
	}
}
