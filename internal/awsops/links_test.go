package awsops

import (
	"testing"
	"time"
)

func TestCloudTrailEventURL(t *testing.T) {
	got := CloudTrailEventURL("eu-north-1", "6b1d9a52-0c3e-4f7a-9d21-5e8f7a0b3c44")
	want := "https://eu-north-1.console.aws.amazon.com/cloudtrail/home?region=eu-north-1#/events/6b1d9a52-0c3e-4f7a-9d21-5e8f7a0b3c44"
	if got != want {
		t.Fatalf("URL: got %s, want %s", got, want)
	}
	if got := CloudTrailEventURL("", "x"); got != "" {
		t.Fatalf("URL without region: got %q, want empty", got)
	}
}

func TestInsightsURL(t *testing.T) {
	got := InsightsURL("us-east-1", "/aws/cloudtrail/org", `fields @timestamp | filter x = "a$b"`)
	want := "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:logs-insights$3FqueryDetail$3D" +
		"~(end~0~start~-3600~timeType~'RELATIVE~unit~'seconds~editorString~'fields*20*40timestamp*20*7c*20filter*20x*20*3d*20*22a!b*22" +
		"~source~(~'*2faws*2fcloudtrail*2forg))"
	if got != want {
		t.Fatalf("URL:\ngot  %s\nwant %s", got, want)
	}
	if got := InsightsURL("us-east-1", "", "q"); got != "" {
		t.Fatalf("URL without group: got %q, want empty", got)
	}
}

func TestInsightsURLRange(t *testing.T) {
	start := time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)
	got := InsightsURLRange("us-east-1", "g", "q", start, start.Add(time.Hour))
	want := "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:logs-insights$3FqueryDetail$3D" +
		"~(end~'2026-03-04T09*3a00*3a00.000Z~start~'2026-03-04T08*3a00*3a00.000Z~timeType~'ABSOLUTE~tz~'UTC~editorString~'q~source~(~'g))"
	if got != want {
		t.Fatalf("URL:\ngot  %s\nwant %s", got, want)
	}
}

func TestJSURLString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc_.-9", "abc_.-9"},
		{"é", "*e9"},
		{"✓", "**2713"},
		{"😀", "**d83d**de00"},
		{"\n", "*0a"},
	}
	for _, tt := range tests {
		if got := jsurlString(tt.in); got != tt.want {
			t.Fatalf("jsurlString(%q): got %s, want %s", tt.in, got, tt.want)
		}
	}
}
