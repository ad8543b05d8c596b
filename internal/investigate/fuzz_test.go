package investigate

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseLogin builds a Logs Insights result row from fuzz strings (each
// key present or absent by a bit of present) and parses it.
//
// Invariants: no panic; either an error and a zero Login, or a Login with
// a non-zero UTC time that is eventTime when it is RFC 3339 and otherwise
// @timestamp, and the other fields copied verbatim from the row.
func FuzzParseLogin(f *testing.F) {
	for _, s := range []struct {
		eventTime, timestamp, outcome, mfa, ip, ua, region, errMsg string
		present                                                    uint16
	}{
		{"2026-05-11T08:10:03Z", "2026-05-11 08:10:04.000", "Failure", "Yes", "198.51.100.23", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "eu-north-1", "Failed authentication", 0xff},
		{"2026-05-11T08:10:03Z", "", "Success", "No", "2001:db8::7", "aws-internal/3", "us-east-1", "", 0xff},
		{"", "2026-05-11 08:10:04.250", "Failure", "", "203.0.113.9", "", "ap-southeast-2", "Failed authentication", 0xfe},
		{"2026-05-11T10:10:03+02:00", "garbage", "", "YES", "", "", "", "", 0x03},
		{"2026-05-11T08:10:03.123456789Z", "", "", "", "", "", "", "", 0x01},
		{"yesterday", "yesterday", "Failure", "Yes", "198.51.100.23", "", "", "", 0xff},
		{"2026-05-11 08:10:03", "2026-05-11T08:10:04Z", "", "", "", "", "", "", 0x03},
		{"2026-13-40T25:61:61Z", "2026-02-30 08:10:04.000", "", "", "", "", "", "", 0x03},
		{"", "", "", "", "", "", "", "", 0},
		{"\xff", "\x00", "\xfe", "", "", "", "", "", 0xffff},
	} {
		f.Add(s.eventTime, s.timestamp, s.outcome, s.mfa, s.ip, s.ua, s.region, s.errMsg, s.present)
	}
	f.Fuzz(func(t *testing.T, eventTime, timestamp, outcome, mfa, ip, ua, region, errMsg string, present uint16) {
		row := map[string]string{}
		for i, kv := range [][2]string{
			{"eventTime", eventTime}, {"@timestamp", timestamp}, {"responseElements.ConsoleLogin", outcome},
			{"additionalEventData.MFAUsed", mfa}, {"sourceIPAddress", ip}, {"userAgent", ua},
			{"awsRegion", region}, {"errorMessage", errMsg}, {"@ptr", ua + region}, {"userIdentity.userName", outcome + mfa},
		} {
			if present&(1<<i) != 0 {
				row[kv[0]] = kv[1]
			}
		}
		l, err := parseLogin(row)
		if err != nil {
			if l != (Login{}) {
				t.Fatalf("parseLogin(%q): error %v and login %+v", row, err, l)
			}
			if !strings.Contains(err.Error(), "no usable time") && !strings.Contains(err.Error(), "before CloudTrail existed") {
				t.Fatalf("parseLogin(%q): unexpected error %v", row, err)
			}
		} else {
			if l.Time.Year() < 2005 {
				t.Fatalf("parseLogin(%q): time %v before CloudTrail existed", row, l.Time)
			}
			if l.Time.Location() != time.UTC {
				t.Fatalf("parseLogin(%q): time %v is not UTC", row, l.Time)
			}
			want := Login{Outcome: row["responseElements.ConsoleLogin"], MFAUsed: row["additionalEventData.MFAUsed"],
				SourceIP: row["sourceIPAddress"], UserAgent: row["userAgent"], Region: row["awsRegion"], Error: row["errorMessage"], Time: l.Time}
			if l != want {
				t.Fatalf("parseLogin(%q) = %+v: fields not copied verbatim, want %+v", row, l, want)
			}
		}

		// The time: eventTime first, then @timestamp, else an error; a
		// time before CloudTrail existed is an error too.
		if err != nil && strings.Contains(err.Error(), "before CloudTrail existed") {
			return
		}
		if et, e1 := time.Parse(time.RFC3339, row["eventTime"]); e1 == nil {
			if err != nil || !l.Time.Equal(et) {
				t.Fatalf("parseLogin(%q) = %v, %v: want eventTime %v", row, l.Time, err, et)
			}
		} else if ts, e2 := time.ParseInLocation(insightsTimestamp, row["@timestamp"], time.UTC); e2 == nil {
			if err != nil || !l.Time.Equal(ts) {
				t.Fatalf("parseLogin(%q) = %v, %v: want @timestamp %v", row, l.Time, err, ts)
			}
		} else if err == nil {
			t.Fatalf("parseLogin(%q) = %+v: no usable time, yet no error", row, l)
		}
	})
}
