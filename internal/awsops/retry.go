// Package awsops holds the AWS calls mfabot makes: IAM (MFA devices, user
// tags, deactivation), CloudWatch Logs Insights queries, the runbook's query
// texts, and links into the AWS console.
//
// Each client is built on a consumer-side interface that lists only the SDK
// operations it calls, so *iam.Client and *cloudwatchlogs.Client satisfy
// them and fakes stay small.
package awsops

import (
	"context"
	"errors"
	"time"

	"github.com/aws/smithy-go"
)

// Sleeper waits for d or until ctx ends, returning ctx.Err() in that case.
type Sleeper func(ctx context.Context, d time.Duration) error

// Sleep is the default Sleeper, backed by a timer.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff returns the delay before retry number attempt (0-based): base
// doubled attempt times, capped at limit.
func backoff(attempt int, base, limit time.Duration) time.Duration {
	d := base
	for range attempt {
		d *= 2
		if d >= limit {
			return limit
		}
	}
	return min(d, limit)
}

// errorCode returns the AWS error code carried by err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
