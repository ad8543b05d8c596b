package awsfake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// Fixture values for the IAM tests. They are made up for this package.
const (
	testUser   = "tomas.lindqvist"
	testSerial = "arn:aws:iam::123456789012:mfa/tomas-pixel"
	testFIDO   = "arn:aws:iam::123456789012:u2f/user/tomas.lindqvist/solokey-QWERTYUIOPASDFGHJKLZXCVBN"
)

func newTestIAM(t *testing.T) (*IAM, *iam.Client) {
	t.Helper()
	f := NewIAM()
	t.Cleanup(f.Close)
	return f, f.Client()
}

func TestIAMListMFADevicesPaginator(t *testing.T) {
	f, client := newTestIAM(t)
	f.AddUser(testUser, nil, true)
	enabled := time.Date(2025, 4, 2, 7, 45, 0, 0, time.UTC)
	for i := range 7 {
		f.AddMFADevice(testUser, fmt.Sprintf("arn:aws:iam::123456789012:mfa/tomas-%d", i), enabled.Add(time.Duration(i)*time.Hour))
	}
	f.SetMaxPageSize(2) // IAM may return fewer items than MaxItems.

	p := iam.NewListMFADevicesPaginator(client, &iam.ListMFADevicesInput{UserName: aws.String(testUser), MaxItems: aws.Int32(3)})
	var got []types.MFADevice
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("NextPage: got %v, want nil", err)
		}
		pages++
		got = append(got, out.MFADevices...)
	}
	if len(got) != 7 {
		t.Fatalf("devices: got %d, want %d", len(got), 7)
	}
	if pages != 4 {
		t.Fatalf("pages: got %d, want %d", pages, 4)
	}
	if aws.ToString(got[6].SerialNumber) != "arn:aws:iam::123456789012:mfa/tomas-6" {
		t.Fatalf("last serial: got %q, want %q", aws.ToString(got[6].SerialNumber), "arn:aws:iam::123456789012:mfa/tomas-6")
	}
	if aws.ToString(got[0].UserName) != testUser {
		t.Fatalf("user name: got %q, want %q", aws.ToString(got[0].UserName), testUser)
	}
	if !got[1].EnableDate.Equal(enabled.Add(time.Hour)) {
		t.Fatalf("enable date: got %v, want %v", got[1].EnableDate, enabled.Add(time.Hour))
	}
	calls := f.CallsTo("ListMFADevices")
	if calls[1].Params["Marker"] == nil {
		t.Fatalf("second call marker: got %v, want a marker", calls[1].Params["Marker"])
	}
	if calls[0].AccessKeyID != AccessKeyID {
		t.Fatalf("access key: got %q, want %q", calls[0].AccessKeyID, AccessKeyID)
	}
}

func TestIAMListMFADevicesEmptyAndCaller(t *testing.T) {
	f, client := newTestIAM(t)
	f.AddUser(testUser, nil, false)
	out, err := client.ListMFADevices(context.Background(), &iam.ListMFADevicesInput{UserName: aws.String(testUser)})
	if err != nil {
		t.Fatalf("ListMFADevices: got %v, want nil", err)
	}
	if out.MFADevices == nil || len(out.MFADevices) != 0 || out.IsTruncated {
		t.Fatalf("empty list: got %#v truncated=%v, want empty non-nil slice", out.MFADevices, out.IsTruncated)
	}

	_, err = client.ListMFADevices(context.Background(), &iam.ListMFADevicesInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationError" {
		t.Fatalf("no caller: got %v, want ValidationError", err)
	}
	f.SetCaller(testUser)
	if _, err := client.ListMFADevices(context.Background(), &iam.ListMFADevicesInput{}); err != nil {
		t.Fatalf("with caller: got %v, want nil", err)
	}
}

func TestIAMNoSuchEntity(t *testing.T) {
	_, client := newTestIAM(t)
	_, err := client.ListMFADevices(context.Background(), &iam.ListMFADevicesInput{UserName: aws.String("nobody.here")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("error: got %T %v, want *types.NoSuchEntityException", err, err)
	}
	if nse.ErrorCode() != "NoSuchEntity" {
		t.Fatalf("code: got %q, want %q", nse.ErrorCode(), "NoSuchEntity")
	}
	if nse.ErrorMessage() != "The user with name nobody.here cannot be found." {
		t.Fatalf("message: got %q, want %q", nse.ErrorMessage(), "The user with name nobody.here cannot be found.")
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 404 {
		t.Fatalf("status: got %v, want 404", err)
	}
}

func TestIAMDeactivateMFADevice(t *testing.T) {
	f, client := newTestIAM(t)
	f.AddUser(testUser, nil, true)
	enabled := time.Date(2025, 4, 2, 7, 45, 0, 0, time.UTC)
	f.AddMFADevice(testUser, testSerial, enabled)
	f.AddMFADevice(testUser, testFIDO, enabled)

	in := &iam.DeactivateMFADeviceInput{UserName: aws.String(testUser), SerialNumber: aws.String(testSerial)}
	if _, err := client.DeactivateMFADevice(context.Background(), in); err != nil {
		t.Fatalf("DeactivateMFADevice: got %v, want nil", err)
	}
	devices := f.Devices(testUser)
	if len(devices) != 1 || devices[0].SerialNumber != testFIDO {
		t.Fatalf("devices after deactivate: got %v, want only %s", devices, testFIDO)
	}
	out, err := client.ListMFADevices(context.Background(), &iam.ListMFADevicesInput{UserName: aws.String(testUser)})
	if err != nil {
		t.Fatalf("ListMFADevices: got %v, want nil", err)
	}
	if len(out.MFADevices) != 1 {
		t.Fatalf("listed devices: got %d, want %d", len(out.MFADevices), 1)
	}

	_, err = client.DeactivateMFADevice(context.Background(), in)
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("second deactivate: got %v, want *types.NoSuchEntityException", err)
	}

	// UserName is optional: the serial alone names the device.
	if _, err := client.DeactivateMFADevice(context.Background(), &iam.DeactivateMFADeviceInput{SerialNumber: aws.String(testFIDO)}); err != nil {
		t.Fatalf("deactivate without user: got %v, want nil", err)
	}
	if n := len(f.Devices(testUser)); n != 0 {
		t.Fatalf("devices left: got %d, want %d", n, 0)
	}
}

func TestIAMDeactivateValidation(t *testing.T) {
	f, client := newTestIAM(t)
	f.AddMFADevice(testUser, testSerial, time.Now())
	for _, serial := range []string{"short", "has spaces in it", "bad#serial!"} {
		_, err := client.DeactivateMFADevice(context.Background(), &iam.DeactivateMFADeviceInput{
			UserName: aws.String(testUser), SerialNumber: aws.String(serial),
		})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationError" {
			t.Fatalf("serial %q: got %v, want ValidationError", serial, err)
		}
	}
	if n := len(f.Devices(testUser)); n != 1 {
		t.Fatalf("devices: got %d, want %d", n, 1)
	}
}

func TestIAMDeactivateTemporarilyUnmodifiable(t *testing.T) {
	f, client := newTestIAM(t)
	f.AddMFADevice(testUser, testSerial, time.Now())
	f.Fail("DeactivateMFADevice", 1, FaultSpec{Code: "EntityTemporarilyUnmodifiable"})
	in := &iam.DeactivateMFADeviceInput{UserName: aws.String(testUser), SerialNumber: aws.String(testSerial)}
	_, err := client.DeactivateMFADevice(context.Background(), in)
	var etu *types.EntityTemporarilyUnmodifiableException
	if !errors.As(err, &etu) {
		t.Fatalf("first call: got %v, want *types.EntityTemporarilyUnmodifiableException", err)
	}
	if n := len(f.Devices(testUser)); n != 1 {
		t.Fatalf("devices after fault: got %d, want %d", n, 1)
	}
	if _, err := client.DeactivateMFADevice(context.Background(), in); err != nil {
		t.Fatalf("second call: got %v, want nil", err)
	}
	calls := f.CallsTo("DeactivateMFADevice")
	if calls[0].ErrorCode != "EntityTemporarilyUnmodifiable" || calls[1].ErrorCode != "" {
		t.Fatalf("recorded codes: got %q, %q, want EntityTemporarilyUnmodifiable and empty", calls[0].ErrorCode, calls[1].ErrorCode)
	}
	if calls[1].Params["SerialNumber"] != testSerial {
		t.Fatalf("recorded serial: got %v, want %s", calls[1].Params["SerialNumber"], testSerial)
	}
}

func TestIAMListUserTags(t *testing.T) {
	f, client := newTestIAM(t)
	f.AddUser(testUser, map[string]string{"team": "payments", "mfabot:oncall": "true", "cost-center": "cc-7781"}, true)
	p := iam.NewListUserTagsPaginator(client, &iam.ListUserTagsInput{UserName: aws.String(testUser), MaxItems: aws.Int32(2)})
	got := map[string]string{}
	var order []string
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListUserTags: got %v, want nil", err)
		}
		for _, tag := range out.Tags {
			got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			order = append(order, aws.ToString(tag.Key))
		}
	}
	if len(got) != 3 || got["team"] != "payments" || got["mfabot:oncall"] != "true" {
		t.Fatalf("tags: got %v, want 3 tags incl. team=payments", got)
	}
	if order[0] != "cost-center" {
		t.Fatalf("first tag: got %q, want %q", order[0], "cost-center")
	}
}

func TestIAMGetLoginProfile(t *testing.T) {
	f, client := newTestIAM(t)
	f.AddUser(testUser, nil, true)
	f.AddUser("deploy-bot", nil, false)
	out, err := client.GetLoginProfile(context.Background(), &iam.GetLoginProfileInput{UserName: aws.String(testUser)})
	if err != nil {
		t.Fatalf("GetLoginProfile: got %v, want nil", err)
	}
	if aws.ToString(out.LoginProfile.UserName) != testUser {
		t.Fatalf("user: got %q, want %q", aws.ToString(out.LoginProfile.UserName), testUser)
	}
	_, err = client.GetLoginProfile(context.Background(), &iam.GetLoginProfileInput{UserName: aws.String("deploy-bot")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("no profile: got %v, want *types.NoSuchEntityException", err)
	}
}

func TestIAMInjectedFaults(t *testing.T) {
	f, client := newTestIAM(t)
	f.AddUser(testUser, nil, true)
	cases := []struct {
		code   string
		status int
	}{
		{"Throttling", 400},
		{"AccessDenied", 403},
		{"ServiceFailure", 500},
	}
	for _, c := range cases {
		f.Fail("ListUserTags", 1, FaultSpec{Code: c.code, Message: "injected"})
		_, err := client.ListUserTags(context.Background(), &iam.ListUserTagsInput{UserName: aws.String(testUser)})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != c.code {
			t.Fatalf("fault %s: got %v, want code %s", c.code, err, c.code)
		}
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &re) || re.HTTPStatusCode() != c.status {
			t.Fatalf("fault %s status: got %v, want %d", c.code, err, c.status)
		}
	}
	var sf *types.ServiceFailureException
	f.Fail("*", 1, FaultSpec{Code: "ServiceFailure"})
	if _, err := client.GetLoginProfile(context.Background(), &iam.GetLoginProfileInput{UserName: aws.String(testUser)}); !errors.As(err, &sf) {
		t.Fatalf("wildcard fault: got %v, want *types.ServiceFailureException", err)
	}
}

func TestIAMWireFormat(t *testing.T) {
	f, _ := newTestIAM(t)
	f.AddMFADevice(testUser, testSerial, time.Date(2025, 4, 2, 7, 45, 0, 0, time.UTC))
	form := url.Values{"Action": {"ListMFADevices"}, "Version": {"2010-05-08"}, "UserName": {testUser}}
	post := func(signed bool) (int, string) {
		req, err := http.NewRequest(http.MethodPost, f.URL()+"/", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatalf("NewRequest: got %v, want nil", err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if signed {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDFAKE/20260511/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST: got %v, want nil", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	status, body := post(true)
	for _, want := range []string{
		`<ListMFADevicesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">`,
		`<ListMFADevicesResult><MFADevices><member><UserName>tomas.lindqvist</UserName>`,
		`<EnableDate>2025-04-02T07:45:00Z</EnableDate>`,
		`<ResponseMetadata><RequestId>`,
	} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("signed response: got %d %s, want 200 containing %s", status, body, want)
		}
	}
	status, body = post(false)
	if status != 403 || !strings.Contains(body, "<Type>Sender</Type><Code>MissingAuthenticationToken</Code>") {
		t.Fatalf("unsigned response: got %d %s, want 403 MissingAuthenticationToken", status, body)
	}
	if got := f.CallsTo("ListMFADevices")[0].Region; got != "us-east-1" {
		t.Fatalf("recorded region: got %q, want %q", got, "us-east-1")
	}
}
