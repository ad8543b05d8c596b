package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/mfabot/mfabot/internal/cloudtrail"
)

// Seeds, made up for these targets: the EventBridge event of
// docs/reference cloudtrail-signin §3.8 (IAM user failing at the MFA step),
// with account 210987654321 and RFC 5737 addresses.
const (
	fzDetail = `{"eventVersion":"1.11","userIdentity":{"type":"IAMUser","principalId":"AIDATESTPRIYA7EXAMPLE","accountId":"210987654321","accessKeyId":"","userName":"priya.raman"},"eventTime":"2026-03-04T08:13:47Z",` +
		`"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.23","errorMessage":"Failed authentication","requestParameters":null,"responseElements":{"ConsoleLogin":"Failure"},` +
		`"additionalEventData":{"MobileVersion":"No","MFAUsed":"Yes"},"eventID":"c0a8f3e1-77b2-4d0a-8e6f-2b9d4c1a5e07","readOnly":false,"eventType":"AwsConsoleSignIn","recipientAccountId":"210987654321"}`
	fzEvent = `{"version":"0","id":"4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","account":"210987654321","time":"2026-03-04T08:13:47Z","region":"us-east-1","resources":[],"detail":` + fzDetail + `}`
	// fzIdentityCenter is an Identity Center CredentialVerification
	// failure (the post-2025 shape), as a bare record.
	fzIdentityCenter = `{"eventVersion":"1.10","userIdentity":{"type":"IdentityCenterUser","accountId":"210987654321","onBehalfOf":{"userId":"c3d4e5f6-0000-4000-8000-00000000bbbb","identityStoreArn":"arn:aws:identitystore::210987654321:identitystore/d-0000000001"}},` +
		`"eventTime":"2026-03-04T08:20:00Z","eventSource":"signin.amazonaws.com","eventName":"CredentialVerification","awsRegion":"eu-north-1","sourceIPAddress":"203.0.113.9","responseElements":null,` +
		`"additionalEventData":{"CredentialType":"TOTP","UserName":"priya.raman"},"eventID":"d1b2c3d4-0000-4000-8000-000000000009","eventType":"AwsServiceEvent","recipientAccountId":"210987654321","serviceEventDetails":{"CredentialVerification":"Failure"}}`
	// fzRoot is a root sign-in success with a hidden-name failure after
	// it, as a JSON array.
	fzRootAndHidden = `[{"eventVersion":"1.11","userIdentity":{"type":"Root","principalId":"210987654321","arn":"arn:aws:iam::210987654321:root","accountId":"210987654321"},"eventTime":"2026-03-04T09:00:00Z","eventSource":"signin.amazonaws.com",` +
		`"eventName":"ConsoleLogin","sourceIPAddress":"192.0.2.44","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"Yes"},"eventID":"e0000000-0000-4000-8000-00000000000a","recipientAccountId":"210987654321"},` +
		`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","accountId":"210987654321","userName":"HIDDEN_DUE_TO_SECURITY_REASONS"},"eventTime":"2026-03-04T09:01:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin",` +
		`"sourceIPAddress":"203.0.113.66","errorMessage":"No username found in supplied account","responseElements":{"ConsoleLogin":"Failure"},"eventID":"e0000000-0000-4000-8000-00000000000b"}]`
	// fzOther is a parseable event that is not a sign-in.
	fzOther = `{"version":"0","id":"5a6b7c8d-2222-4e3f-9a0b-1c2d3e4f5a6b","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"210987654321","detail":{"eventVersion":"1.11","eventTime":"2026-03-04T08:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","eventID":"9f8e7d6c-3333-4b5a-8c7d-6e5f4a3b2c1d"}}`
)

// fzCheckSignIn fails unless a sign-in handed to the sink is usable.
func fzCheckSignIn(t *testing.T, s cloudtrail.SignIn, in string) {
	t.Helper()
	if s.EventID == "" || s.Account == "" || s.Time.IsZero() || s.Outcome == "" {
		t.Fatalf("unusable sign-in %+v from %q", s, in)
	}
	if s.Time.Location() != time.UTC {
		t.Fatalf("sign-in time %v is not UTC (from %q)", s.Time, in)
	}
	if s.Hidden && s.UserName != "" || s.UserName == cloudtrail.HiddenUserName {
		t.Fatalf("hidden user name handed out: %+v", s)
	}
}

// fzStrings collects every string value in JSON input (a stream of values,
// gzip or not), decoding strings that hold JSON too (CloudWatch Logs'
// "message"). ok is false when encoding/json cannot read the input.
func fzStrings(body string) (set map[string]bool, ok bool) {
	b := []byte(body)
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, false
		}
		if b, err = io.ReadAll(zr); err != nil {
			return nil, false
		}
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	set = map[string]bool{}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		switch x := v.(type) {
		case string:
			set[x] = true
			if t := strings.TrimSpace(x); depth < 8 && (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) {
				var inner any
				if json.Unmarshal([]byte(t), &inner) == nil {
					walk(inner, depth+1)
				}
			}
		case []any:
			for _, e := range x {
				walk(e, depth)
			}
		case map[string]any:
			for _, e := range x {
				walk(e, depth)
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			return set, true
		}
		if err != nil {
			return nil, false
		}
		walk(v, 0)
	}
}

// fzStartsLikeJSON reports whether a body can be CloudTrail input at all:
// gzip, or (after a BOM and white space) an object or an array.
func fzStartsLikeJSON(body string) bool {
	if strings.HasPrefix(body, "\x1f\x8b") {
		return true
	}
	t := strings.TrimLeft(strings.TrimPrefix(body, "\xef\xbb\xbf"), " \t\r\n")
	return strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")
}

// FuzzParseBody feeds SQS message bodies to parseBody, the decoder of
// every message on the queue.
//
// Invariants: no panic; no error while the context lives; an unusable body
// (empty, not JSON, no event, a malformed sign-in) has a reason and no
// sign-ins, so it stays on the queue; a body that does not start like JSON
// always has a reason; every sign-in of a usable body is usable (event ID,
// account, outcome, non-zero UTC time) and its event ID and account are
// strings of the body, not made up; the result is deterministic.
func FuzzParseBody(f *testing.F) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(fzEvent))
	zw.Close()
	cwl, _ := json.Marshal(map[string]string{"message": fzDetail})
	for _, s := range []string{
		fzEvent,
		strings.Replace(fzEvent, "Sign In", "Signin", 1),
		fzEvent + "\n" + strings.Replace(fzEvent, "c0a8f3e1", "c0a8f3e2", 1) + "\n",
		"\ufeff" + fzEvent,
		fzDetail, fzIdentityCenter, fzRootAndHidden, fzOther,
		`{"Records":[` + fzDetail + `,` + fzIdentityCenter + `]}`,
		string(cwl),
		gz.String(),
		// Broken ones.
		"", "   \n", "null", "true", "42", `"text"`, "not json", "{", "[", "{}", "[]", `{"hello":"world"}`,
		`{"detail":null}`, `{"detail":"x"}`, `{"message":"not json"}`, `{"Records":null}`, `{"Records":[1,2]}`,
		fzEvent[:len(fzEvent)/2], fzEvent + "}", fzEvent + " trailing",
		strings.Replace(fzEvent, `"eventTime":"2026-03-04T08:13:47Z"`, `"eventTime":"yesterday"`, 1),
		strings.Replace(fzEvent, `"eventID":"c0a8f3e1-77b2-4d0a-8e6f-2b9d4c1a5e07",`, "", 1),
		strings.Replace(fzEvent, `"recipientAccountId":"210987654321"`, `"recipientAccountId":""`, 1),
		strings.Replace(fzEvent, `"eventVersion":"1.11"`, `"eventVersion":"2.0"`, 1),
		strings.Replace(fzEvent, `{"ConsoleLogin":"Failure"}`, `{"ConsoleLogin":7}`, 1),
		strings.Replace(fzEvent, `"eventTime":"2026-03-04T08:13:47Z"`, `"eventTime":"2026-03-04T08:13:47+14:00"`, 1),
		"\x1f\x8b\x08\x00garbage",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		ctx := context.Background()
		m := types.Message{Body: aws.String(body), MessageId: aws.String("9a8b7c6d-0000-4000-8000-00000000f022")}
		ins, reason, err := parseBody(ctx, m)
		if err != nil {
			t.Fatalf("parseBody(%q): error %v with a live context", body, err)
		}
		if reason != "" {
			if ins != nil {
				t.Fatalf("parseBody(%q): reason %q and %d sign-ins", body, reason, len(ins))
			}
		} else if !fzStartsLikeJSON(body) {
			t.Fatalf("parseBody(%q): not JSON, yet no reason", body)
		}
		strs, decoded := fzStrings(body)
		for _, s := range ins {
			fzCheckSignIn(t, s, body)
			if decoded && (!strs[s.EventID] || !strs[s.Account]) {
				t.Fatalf("parseBody(%q): sign-in %q of account %q is not in the body", body, s.EventID, s.Account)
			}
		}
		ins2, reason2, err2 := parseBody(ctx, m)
		if reason2 != reason || err2 != nil || !reflect.DeepEqual(ins, ins2) {
			t.Fatalf("parseBody(%q) not deterministic: %q then %q", body, reason, reason2)
		}
	})
}

// fzQuerier returns fixed rows and records the window it was asked for.
type fzQuerier struct {
	rows       []map[string]string
	start, end time.Time
	calls      int
}

func (q *fzQuerier) Query(_ context.Context, _, _ string, start, end time.Time, _ int) ([]map[string]string, error) {
	q.calls++
	q.start, q.end = start, end
	return q.rows, nil
}

// FuzzInsightsRows runs one poll of the Logs Insights source over result
// rows whose @message and @ptr come from the fuzzer, with an optional
// checkpoint before, at or after now.
//
// Invariants: no panic; a poll over any rows succeeds (a bad row is
// logged and skipped); every recorded sign-in is usable and its event ID
// is in a row's @message; sign-ins are recorded once, sorted by time, and
// counted right; the query window is not empty; the checkpoint never moves
// backwards and never past now (or past where it was), and it reaches the
// latest recorded sign-in up to now.
func FuzzInsightsRows(f *testing.F) {
	ptr := "CmUKKgomMjEwOTg3NjU0MzIxOmF3cy1jbG91ZHRyYWlsLWxvZ3MtcHJvZBAFEjUaGAIGExample"
	for _, s := range []struct {
		msg1, ptr1, msg2 string
		cp               int8
	}{
		{fzDetail, ptr, fzIdentityCenter, 0},
		{fzDetail, ptr, fzDetail, 30},
		{fzDetail, "", "", -10},
		{fzEvent, ptr, fzRootAndHidden, 5},
		{fzOther, ptr, "  ", 1},
		{"", "", "", 0},
		{"not json", ptr, "{", -1},
		{strings.Replace(fzDetail, "2026-03-04T08:13:47Z", "2026-03-04T09:30:00Z", 1), ptr, fzDetail, 20}, // a sign-in after now
		{strings.Replace(fzDetail, "2026-03-04T08:13:47Z", "2025-01-01T00:00:00Z", 1), ptr, "", 2},        // long before the checkpoint
		{fzDetail[:100], ptr, fzDetail + fzDetail, -127},
	} {
		f.Add(s.msg1, s.ptr1, s.msg2, s.cp)
	}
	now := time.Date(2026, 3, 4, 8, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, msg1, ptr1, msg2 string, cp int8) {
		q := &fzQuerier{rows: []map[string]string{
			{"@timestamp": "2026-03-04 08:13:47.000", "@message": msg1, "@ptr": ptr1},
			{"@timestamp": "2026-03-04 08:14:02.000", "@message": msg2},
		}}
		cps := &memCheckpoints{}
		sink := &recSink{}
		p := NewInsights(q, "org-trail/cloudtrail", cps, sink, nil)
		p.Now = func() time.Time { return now }
		var from time.Time
		if cp != 0 {
			from = now.Add(time.Duration(cp) * time.Minute)
			cps.SetCheckpoint(context.Background(), p.Source, from)
		}

		n, err := p.Poll(context.Background())
		if err != nil {
			t.Fatalf("Poll over rows %q, %q: %v", msg1, msg2, err)
		}
		if q.calls != 1 || !q.start.Before(q.end) || !q.end.Equal(now) {
			t.Fatalf("query window %v to %v (%d calls), now %v", q.start, q.end, q.calls, now)
		}
		calls, events := sink.snapshot()
		if n != len(events) || calls > 1 || (calls == 1) != (n > 0) {
			t.Fatalf("Poll returned %d; sink called %d times with %d sign-ins", n, calls, len(events))
		}
		if !slices.IsSortedFunc(events, func(a, b cloudtrail.SignIn) int { return a.Time.Compare(b.Time) }) {
			t.Fatalf("sign-ins recorded out of order")
		}
		// inRow reports whether id is a string of a row's @message, or
		// encoding/json cannot tell.
		inRow := func(id string) bool {
			for _, m := range []string{msg1, msg2} {
				if set, ok := fzStrings(m); !ok || set[id] {
					return true
				}
			}
			return false
		}
		latest := time.Time{}
		for _, s := range events {
			fzCheckSignIn(t, s, msg1+"\n"+msg2)
			if !inRow(s.EventID) {
				t.Fatalf("sign-in %q is in no row", s.EventID)
			}
			if s.Time.After(latest) {
				latest = s.Time
			}
		}

		got, ok := cps.get(p.Source)
		switch {
		case cp != 0 && !ok:
			t.Fatalf("checkpoint lost")
		case !ok:
			got = time.Time{}
		}
		if got.Before(from) {
			t.Fatalf("checkpoint moved backwards: %v to %v", from, got)
		}
		if got.After(now) && !got.Equal(from) {
			t.Fatalf("checkpoint %v moved past now %v (was %v)", got, now, from)
		}
		if want := minTime(latest, now); want.After(from) && got.Before(want) {
			t.Fatalf("checkpoint %v behind the latest sign-in %v (now %v)", got, latest, now)
		}
	})
}
