package awsops

import (
	"errors"
	"strings"
	"testing"
)

func TestFailedLoginsQuery(t *testing.T) {
	got, err := FailedLoginsQuery("nadia.okoro")
	if err != nil {
		t.Fatalf("FailedLoginsQuery: got %v, want nil", err)
	}
	want := `fields @timestamp, eventTime, sourceIPAddress, userAgent, awsRegion, errorMessage, additionalEventData.MFAUsed, responseElements.ConsoleLogin` +
		` | filter eventSource = "signin.amazonaws.com" and eventName = "ConsoleLogin" and responseElements.ConsoleLogin = "Failure" and userIdentity.userName = "nadia.okoro"` +
		` | sort eventTime desc | limit 100`
	if got != want {
		t.Fatalf("query:\ngot  %s\nwant %s", got, want)
	}
}

func TestRecentLoginsQuery(t *testing.T) {
	got, err := RecentLoginsQuery("svc+ops=1,a@b-c_d")
	if err != nil {
		t.Fatalf("RecentLoginsQuery: got %v, want nil", err)
	}
	for _, part := range []string{`responseElements.ConsoleLogin = "Success"`, `userIdentity.userName = "svc+ops=1,a@b-c_d"`, "additionalEventData.MFAUsed", "| limit 10"} {
		if !strings.Contains(got, part) {
			t.Fatalf("query %q lacks %q", got, part)
		}
	}
}

func TestQueriesRejectUnsafeNames(t *testing.T) {
	tests := []struct {
		user string
		want error
	}{
		{"", ErrNoUser},
		{"HIDDEN_DUE_TO_SECURITY_REASONS", ErrNoUser},
		{`x" or userIdentity.userName like /./ or "`, ErrBadUserName},
		{`back\slash`, ErrBadUserName},
		{"new\nline", ErrBadUserName},
		{strings.Repeat("a", 65), ErrBadUserName},
	}
	for _, tt := range tests {
		if _, err := FailedLoginsQuery(tt.user); !errors.Is(err, tt.want) {
			t.Fatalf("FailedLoginsQuery(%q): got %v, want %v", tt.user, err, tt.want)
		}
		if _, err := RecentLoginsQuery(tt.user); !errors.Is(err, tt.want) {
			t.Fatalf("RecentLoginsQuery(%q): got %v, want %v", tt.user, err, tt.want)
		}
	}
}

func TestQueriesNeverFilterOnRegion(t *testing.T) {
	failed, _ := FailedLoginsQuery("nadia.okoro")
	recent, _ := RecentLoginsQuery("nadia.okoro")
	for _, q := range []string{failed, recent, SignInEventsQuery()} {
		_, filters, _ := strings.Cut(q, "| filter")
		if strings.Contains(filters, "awsRegion") {
			t.Fatalf("query filters on awsRegion: %s", q)
		}
	}
}

func TestSignInEventsQuery(t *testing.T) {
	q := SignInEventsQuery()
	for _, part := range []string{"fields @timestamp, @message", `"ConsoleLogin"`, `"CredentialVerification"`, `"UserAuthentication"`, "sort @timestamp asc", "limit 10000"} {
		if !strings.Contains(q, part) {
			t.Fatalf("query %q lacks %q", q, part)
		}
	}
}
