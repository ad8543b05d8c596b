package awsops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/mfabot/mfabot/internal/fakes/awsfake"
)

// Fixture values, made up for these tests.
const (
	tUser    = "nadia.okoro"
	tPhone   = "arn:aws:iam::123456789012:mfa/nadia-phone"
	tKey     = "arn:aws:iam::123456789012:u2f/user/nadia.okoro/yubikey-ZXCVBNMASDFGHJKLQWERTYUIOP"
	tTablet  = "arn:aws:iam::123456789012:mfa/nadia-tablet"
	tTagKey  = "slack-user-id"
	tSlackID = "U0FAKE12345"
)

var tEnabled = time.Date(2025, 6, 11, 9, 30, 12, 0, time.UTC)

func newIAM(t *testing.T) (*awsfake.IAM, *IAM, *recSleeper) {
	t.Helper()
	f := awsfake.NewIAM()
	t.Cleanup(f.Close)
	logger, _ := testLogger(t)
	c := NewIAM(f.Client(), logger)
	rs := &recSleeper{}
	c.Sleep = rs.Sleep
	return f, c, rs
}

func TestMFADevicesFollowsShortPages(t *testing.T) {
	f, c, _ := newIAM(t)
	for i := range 7 {
		f.AddMFADevice(tUser, fmt.Sprintf("arn:aws:iam::123456789012:mfa/nadia-%d", i), tEnabled.Add(time.Duration(i)*time.Hour))
	}
	f.SetMaxPageSize(2) // fewer than MaxItems while more exist
	got, err := c.MFADevices(context.Background(), tUser)
	if err != nil {
		t.Fatalf("MFADevices: got %v, want nil", err)
	}
	if len(got) != 7 {
		t.Fatalf("devices: got %d, want 7", len(got))
	}
	if got[6].Serial != "arn:aws:iam::123456789012:mfa/nadia-6" {
		t.Fatalf("last serial: got %q, want %q", got[6].Serial, "arn:aws:iam::123456789012:mfa/nadia-6")
	}
	if !got[1].Enabled.Equal(tEnabled.Add(time.Hour)) {
		t.Fatalf("enabled: got %v, want %v", got[1].Enabled, tEnabled.Add(time.Hour))
	}
	calls := f.CallsTo("ListMFADevices")
	if len(calls) != 4 {
		t.Fatalf("ListMFADevices calls: got %d, want 4", len(calls))
	}
	if calls[0].Params["UserName"] != tUser {
		t.Fatalf("UserName: got %v, want %q", calls[0].Params["UserName"], tUser)
	}
	if calls[3].Params["Marker"] == nil {
		t.Fatalf("fourth call marker: got nil, want a marker")
	}
}

func TestMFADevicesNoneIsEmptyNotNil(t *testing.T) {
	f, c, _ := newIAM(t)
	f.AddUser(tUser, nil, true)
	got, err := c.MFADevices(context.Background(), tUser)
	if err != nil {
		t.Fatalf("MFADevices: got %v, want nil", err)
	}
	if got == nil || len(got) != 0 {
		t.Fatalf("devices: got %#v, want empty non-nil", got)
	}
}

func TestMFADevicesUnknownUser(t *testing.T) {
	_, c, _ := newIAM(t)
	_, err := c.MFADevices(context.Background(), "ghost.user")
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchEntity" {
		t.Fatalf("error: got %v, want NoSuchEntity", err)
	}
}

func TestNoUserNeverCallsIAM(t *testing.T) {
	f, c, _ := newIAM(t)
	ctx := context.Background()
	for _, user := range []string{"", "HIDDEN_DUE_TO_SECURITY_REASONS"} {
		if _, err := c.MFADevices(ctx, user); !errors.Is(err, ErrNoUser) {
			t.Fatalf("MFADevices(%q): got %v, want ErrNoUser", user, err)
		}
		if _, _, err := c.UserTag(ctx, user, tTagKey); !errors.Is(err, ErrNoUser) {
			t.Fatalf("UserTag(%q): got %v, want ErrNoUser", user, err)
		}
		if _, err := c.DeactivateMFADevices(ctx, user, []string{tPhone}); !errors.Is(err, ErrNoUser) {
			t.Fatalf("DeactivateMFADevices(%q): got %v, want ErrNoUser", user, err)
		}
	}
	if _, err := c.MFADevices(ctx, `bob" or x`); !errors.Is(err, ErrBadUserName) {
		t.Fatalf("MFADevices(bad name): got %v, want ErrBadUserName", err)
	}
	if n := len(f.Calls()); n != 0 {
		t.Fatalf("IAM calls: got %d, want 0", n)
	}
}

func TestUserTagPaginates(t *testing.T) {
	f, c, _ := newIAM(t)
	tags := map[string]string{"a-team": "x", "b-cost": "y", "c-owner": "z", tTagKey: tSlackID}
	f.AddUser(tUser, tags, true)
	f.SetMaxPageSize(1)
	got, ok, err := c.UserTag(context.Background(), tUser, tTagKey)
	if err != nil || !ok || got != tSlackID {
		t.Fatalf("UserTag: got (%q, %v, %v), want (%q, true, nil)", got, ok, err, tSlackID)
	}
	if n := len(f.CallsTo("ListUserTags")); n != 4 {
		t.Fatalf("ListUserTags calls: got %d, want 4", n)
	}
	_, ok, err = c.UserTag(context.Background(), tUser, "missing")
	if err != nil || ok {
		t.Fatalf("UserTag(missing): got (%v, %v), want (false, nil)", ok, err)
	}
}

func TestDeactivateRelistsAndSkipsGoneDevices(t *testing.T) {
	f, c, _ := newIAM(t)
	f.AddMFADevice(tUser, tPhone, tEnabled)
	f.AddMFADevice(tUser, tKey, tEnabled)
	f.AddMFADevice(tUser, tTablet, tEnabled) // enrolled after the approval
	// tOld was approved but is no longer assigned.
	const tOld = "arn:aws:iam::123456789012:mfa/nadia-old"
	done, err := c.DeactivateMFADevices(context.Background(), tUser, []string{tPhone, tKey, tOld})
	if err != nil {
		t.Fatalf("DeactivateMFADevices: got %v, want nil", err)
	}
	if !slices.Equal(done, []string{tPhone, tKey}) {
		t.Fatalf("deactivated: got %v, want %v", done, []string{tPhone, tKey})
	}
	left := f.Devices(tUser)
	if len(left) != 1 || left[0].SerialNumber != tTablet {
		t.Fatalf("remaining devices: got %v, want only %s", left, tTablet)
	}
	calls := f.Calls()
	if calls[0].Op != "ListMFADevices" {
		t.Fatalf("first call: got %s, want ListMFADevices", calls[0].Op)
	}
	for _, call := range f.CallsTo("DeactivateMFADevice") {
		if call.Params["UserName"] != tUser {
			t.Fatalf("DeactivateMFADevice UserName: got %v, want %q", call.Params["UserName"], tUser)
		}
		if call.Params["SerialNumber"] == tOld {
			t.Fatalf("DeactivateMFADevice called for the gone device %s", tOld)
		}
	}
}

func TestDeactivateNothingWhenNoSerials(t *testing.T) {
	f, c, _ := newIAM(t)
	f.AddMFADevice(tUser, tPhone, tEnabled)
	done, err := c.DeactivateMFADevices(context.Background(), tUser, nil)
	if err != nil || len(done) != 0 {
		t.Fatalf("DeactivateMFADevices: got (%v, %v), want (none, nil)", done, err)
	}
	if n := len(f.CallsTo("DeactivateMFADevice")); n != 0 || len(f.Devices(tUser)) != 1 {
		t.Fatalf("DeactivateMFADevice calls: got %d, want 0 and the device kept", n)
	}
}

func TestDeactivateRetriesBusyDevice(t *testing.T) {
	f, c, rs := newIAM(t)
	f.AddMFADevice(tUser, tPhone, tEnabled)
	f.Fail("DeactivateMFADevice", 1, awsfake.FaultSpec{Code: "EntityTemporarilyUnmodifiable"})
	f.Fail("DeactivateMFADevice", 1, awsfake.FaultSpec{Code: "ConcurrentModification"})
	done, err := c.DeactivateMFADevices(context.Background(), tUser, []string{tPhone})
	if err != nil {
		t.Fatalf("DeactivateMFADevices: got %v, want nil", err)
	}
	if !slices.Equal(done, []string{tPhone}) {
		t.Fatalf("deactivated: got %v, want [%s]", done, tPhone)
	}
	if n := len(f.CallsTo("DeactivateMFADevice")); n != 3 {
		t.Fatalf("DeactivateMFADevice calls: got %d, want 3", n)
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}
	if got := rs.delays(); !slices.Equal(got, want) {
		t.Fatalf("backoff: got %v, want %v", got, want)
	}
}

func TestDeactivateGivesUpWhenStillBusy(t *testing.T) {
	f, c, _ := newIAM(t)
	f.AddMFADevice(tUser, tPhone, tEnabled)
	f.Fail("DeactivateMFADevice", 0, awsfake.FaultSpec{Code: "ConcurrentModification"})
	done, err := c.DeactivateMFADevices(context.Background(), tUser, []string{tPhone})
	if len(done) != 0 {
		t.Fatalf("deactivated: got %v, want none", done)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ConcurrentModification" {
		t.Fatalf("error: got %v, want ConcurrentModification", err)
	}
	if n := len(f.CallsTo("DeactivateMFADevice")); n != c.Attempts {
		t.Fatalf("DeactivateMFADevice calls: got %d, want %d", n, c.Attempts)
	}
}

func TestDeactivateNoSuchEntityIsNotFatal(t *testing.T) {
	f, c, _ := newIAM(t)
	f.AddMFADevice(tUser, tPhone, tEnabled)
	f.AddMFADevice(tUser, tKey, tEnabled)
	// The phone disappears between the re-list and the call.
	f.Fail("DeactivateMFADevice", 1, awsfake.FaultSpec{Code: "NoSuchEntity"})
	done, err := c.DeactivateMFADevices(context.Background(), tUser, []string{tPhone, tKey})
	if err != nil {
		t.Fatalf("DeactivateMFADevices: got %v, want nil", err)
	}
	if !slices.Equal(done, []string{tKey}) {
		t.Fatalf("deactivated: got %v, want [%s]", done, tKey)
	}
}

func TestDeactivateReportsFirstFailureAndGoesOn(t *testing.T) {
	f, c, _ := newIAM(t)
	f.AddMFADevice(tUser, tPhone, tEnabled)
	f.AddMFADevice(tUser, tKey, tEnabled)
	f.Fail("DeactivateMFADevice", 1, awsfake.FaultSpec{Code: "AccessDenied", Message: "not authorized"})
	done, err := c.DeactivateMFADevices(context.Background(), tUser, []string{tPhone, tKey})
	if !slices.Equal(done, []string{tKey}) {
		t.Fatalf("deactivated: got %v, want [%s]", done, tKey)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("error: got %v, want AccessDenied", err)
	}
	if !strings.Contains(err.Error(), tPhone) {
		t.Fatalf("error %q does not name %s", err, tPhone)
	}
}

func TestDeactivateCommand(t *testing.T) {
	got := DeactivateCommand(tUser, []string{tPhone, tKey})
	want := "aws iam deactivate-mfa-device --user-name nadia.okoro --serial-number arn:aws:iam::123456789012:mfa/nadia-phone\n" +
		"aws iam deactivate-mfa-device --user-name nadia.okoro --serial-number arn:aws:iam::123456789012:u2f/user/nadia.okoro/yubikey-ZXCVBNMASDFGHJKLQWERTYUIOP"
	if got != want {
		t.Fatalf("command:\ngot  %s\nwant %s", got, want)
	}
	if got := DeactivateCommand("HIDDEN_DUE_TO_SECURITY_REASONS", []string{tPhone}); got != "" {
		t.Fatalf("command for hidden user: got %q, want empty", got)
	}
	if got := DeactivateCommand(tUser, nil); got != "" {
		t.Fatalf("command without serials: got %q, want empty", got)
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"arn:aws:iam::123456789012:mfa/x", "arn:aws:iam::123456789012:mfa/x"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$(rm -rf /)", "'$(rm -rf /)'"},
		{"", "''"},
	}
	for _, tt := range tests {
		if got := ShellQuote(tt.in); got != tt.want {
			t.Fatalf("ShellQuote(%q): got %s, want %s", tt.in, got, tt.want)
		}
	}
}
