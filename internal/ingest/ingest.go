// Package ingest feeds console sign-in events into mfabot from its event
// sources: an SQS queue fed by EventBridge, a CloudWatch Logs Insights
// poller over the CloudTrail log group, and CloudTrail files replayed from
// disk. Every source hands its events to one Sink.
//
// Sources may deliver an event more than once (SQS is at-least-once, the
// poller's windows overlap, log files repeat records), so the Sink must
// ignore an eventID it has already recorded.
package ingest

import (
	"context"
	"errors"
	"time"

	"github.com/aws/smithy-go"

	"github.com/mfabot/mfabot/internal/awsops"
	"github.com/mfabot/mfabot/internal/cloudtrail"
)

// Sink records sign-in events. Record returns only once the events are
// durably recorded; a source acknowledges its input (deletes the message,
// advances the checkpoint) only after that.
type Sink interface {
	Record(ctx context.Context, events []cloudtrail.SignIn) error
}

// Checkpoints stores, per source, the event time a source has read up to.
type Checkpoints interface {
	Checkpoint(ctx context.Context, source string) (time.Time, bool, error)
	SetCheckpoint(ctx context.Context, source string, t time.Time) error
}

// Sleeper waits for d or until ctx ends, returning ctx.Err() in that case;
// tests replace it.
type Sleeper = awsops.Sleeper

// Sleep is the default Sleeper, backed by a timer.
var Sleep Sleeper = awsops.Sleep

// errorCode returns the AWS error code carried by err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// credentialCodes are the error codes that mean the bot's AWS credentials
// are missing, expired or not allowed to act.
var credentialCodes = map[string]bool{
	"ExpiredToken": true, "ExpiredTokenException": true, "InvalidClientTokenId": true,
	"UnrecognizedClientException": true, "SignatureDoesNotMatch": true, "IncompleteSignature": true,
	"MissingAuthenticationToken": true, "MissingAuthenticationTokenException": true,
	"AccessDenied": true, "AccessDeniedException": true, "KMS.AccessDeniedException": true,
}
