package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that no input panics the decoder, that every sign-in it
// hands out is usable (an id, an account, a time), and that valid log files
// are counted exactly.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"log_mixed.json", "eventbridge.jsonl"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Records":[` + rec("a") + `]}`))
	f.Add([]byte("[" + rec("a") + "," + rec("b") + "]"))
	f.Add([]byte(`{"message":` + jsonString(rec("m")) + "}"))
	f.Add([]byte(`{"detail-type":"AWS Console Sign In via CloudTrail","detail":` + rec("d") + "}"))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"Records":[` + rec("z") + `]}`))
	zw.Close()
	f.Add(gz.Bytes())

	f.Fuzz(func(t *testing.T, data []byte) {
		calls := 0
		st, _ := Decode(context.Background(), bytes.NewReader(data), "fuzz", Handler{
			SignIn: func(s SignIn, p Position) error {
				calls++
				if s.EventID == "" || s.Account == "" || s.Time.IsZero() || s.Outcome == "" {
					t.Fatalf("unusable sign-in %+v at %v", s, p)
				}
				if s.Hidden && s.UserName != "" {
					t.Fatalf("hidden sign-in with user name %q", s.UserName)
				}
				if s.UserName == HiddenUserName {
					t.Fatalf("hidden marker used as a user name")
				}
				return nil
			},
		})
		if calls != st.SignIns {
			t.Fatalf("handler called %d times, stats say %d sign-ins", calls, st.SignIns)
		}
		if st.SignIns > st.Records {
			t.Fatalf("more sign-ins (%d) than records (%d)", st.SignIns, st.Records)
		}
		var file struct {
			Records []map[string]any `json:"Records"`
		}
		if json.Valid(data) && bytes.HasPrefix(data, []byte(`{"Records":[`)) && json.Unmarshal(data, &file) == nil {
			if st.Records+st.Skipped < len(file.Records) {
				t.Fatalf("valid log file with %d records: counted %d records and %d skipped", len(file.Records), st.Records, st.Skipped)
			}
		}
	})
}
