package awsfake

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestEndpointEnvironmentVariables checks the documented way of pointing
// clients built by config.LoadDefaultConfig at the fakes.
func TestEndpointEnvironmentVariables(t *testing.T) {
	fi, fl, fs := NewIAM(), NewLogs(), NewSQS()
	t.Cleanup(fi.Close)
	t.Cleanup(fl.Close)
	t.Cleanup(fs.Close)
	fi.AddMFADevice(testUser, testSerial, time.Date(2025, 4, 2, 7, 45, 0, 0, time.UTC))

	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                     filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":         filepath.Join(dir, "credentials"),
		"AWS_PROFILE":                         "",
		"AWS_SESSION_TOKEN":                   "",
		"AWS_ENDPOINT_URL":                    "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
		"AWS_ACCESS_KEY_ID":                   AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":               SecretAccessKey,
		"AWS_REGION":                          Region,
		"AWS_MAX_ATTEMPTS":                    "1",
		"AWS_ENDPOINT_URL_IAM":                fi.URL(),
		"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS":    fl.URL(),
		"AWS_ENDPOINT_URL_SQS":                fs.URL(),
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatalf("LoadDefaultConfig: got %v, want nil", err)
	}

	out, err := iam.NewFromConfig(cfg).ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(testUser)})
	if err != nil || len(out.MFADevices) != 1 {
		t.Fatalf("IAM via env: got %v, %v, want one device", err, out)
	}
	_, err = cloudwatchlogs.NewFromConfig(cfg).StartQuery(ctx, &cloudwatchlogs.StartQueryInput{
		LogGroupName: aws.String(testGroup), StartTime: aws.Int64(1), EndTime: aws.Int64(2), QueryString: aws.String(testQuery),
	})
	if err != nil || len(fl.Queries()) != 1 {
		t.Fatalf("Logs via env: got %v, %d queries, want nil and 1", err, len(fl.Queries()))
	}
	_, err = sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(fs.QueueURL()), MessageBody: aws.String(testEvent)})
	if err != nil || len(fs.Visible()) != 1 {
		t.Fatalf("SQS via env: got %v, %d visible, want nil and 1", err, len(fs.Visible()))
	}
}
