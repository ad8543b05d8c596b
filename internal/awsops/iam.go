package awsops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/investigate"
)

// ErrNoUser is wrapped by every error for a call made without an IAM user
// name: an empty name, or the HIDDEN_DUE_TO_SECURITY_REASONS marker
// CloudTrail writes when the typed name does not exist. IAM is never called
// in that case.
var ErrNoUser = errors.New("no IAM user name")

// ErrBadUserName is wrapped by the errors for a user name that IAM would
// not accept (IAM user names match [\w+=,.@-]+, at most 64 characters).
var ErrBadUserName = errors.New("not a valid IAM user name")

// userNamePattern is the IAM user name syntax.
var userNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// CheckUserName returns an error wrapping ErrNoUser for an empty or hidden
// name and one wrapping ErrBadUserName for a name outside IAM's syntax.
func CheckUserName(user string) error {
	switch {
	case user == "":
		return fmt.Errorf("%w: empty", ErrNoUser)
	case user == cloudtrail.HiddenUserName:
		return fmt.Errorf("%w: CloudTrail hid the name (no such user)", ErrNoUser)
	case !userNamePattern.MatchString(user):
		return fmt.Errorf("%w: %q", ErrBadUserName, user)
	}
	return nil
}

// IAMAPI lists the IAM operations mfabot calls; *iam.Client satisfies it.
type IAMAPI interface {
	ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	ListUserTags(ctx context.Context, in *iam.ListUserTagsInput, optFns ...func(*iam.Options)) (*iam.ListUserTagsOutput, error)
	DeactivateMFADevice(ctx context.Context, in *iam.DeactivateMFADeviceInput, optFns ...func(*iam.Options)) (*iam.DeactivateMFADeviceOutput, error)
}

// IAM reads and changes IAM users' MFA devices.
type IAM struct {
	api IAMAPI
	log *slog.Logger

	// Attempts is how many times one device's deactivation is tried while
	// IAM reports it busy (EntityTemporarilyUnmodifiable or
	// ConcurrentModification). Default 4.
	Attempts int
	// Backoff is the delay before the first retry; it doubles after each
	// one, up to 5 s. Default 250 ms.
	Backoff time.Duration
	// Sleep waits between retries; tests replace it. Default Sleep.
	Sleep Sleeper
}

// maxPages bounds IAM pagination in case the service keeps returning a
// marker; a user has at most 8 MFA devices and 50 tags.
const maxPages = 100

// NewIAM returns an IAM wrapper around api. A nil logger discards logs.
func NewIAM(api IAMAPI, logger *slog.Logger) *IAM {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &IAM{api: api, log: logger, Attempts: 4, Backoff: 250 * time.Millisecond, Sleep: Sleep}
}

// MFADevices lists the user's MFA devices, following every page: IAM may
// return fewer than MaxItems while more exist. The result is empty, not
// nil, when the user has none.
func (c *IAM) MFADevices(ctx context.Context, user string) ([]investigate.Device, error) {
	if err := CheckUserName(user); err != nil {
		return nil, fmt.Errorf("list mfa devices: %w", err)
	}
	devices := []investigate.Device{}
	in := &iam.ListMFADevicesInput{UserName: aws.String(user), MaxItems: aws.Int32(100)}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("list mfa devices of %s: more than %d pages", user, maxPages)
		}
		out, err := c.api.ListMFADevices(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list mfa devices of %s: %w", user, err)
		}
		for _, d := range out.MFADevices {
			devices = append(devices, investigate.Device{Serial: aws.ToString(d.SerialNumber), Enabled: aws.ToTime(d.EnableDate)})
		}
		if !out.IsTruncated || aws.ToString(out.Marker) == "" {
			return devices, nil
		}
		in.Marker = out.Marker
	}
}

// UserTag returns the value of the user's tag key, and whether the user
// has that tag.
func (c *IAM) UserTag(ctx context.Context, user, key string) (string, bool, error) {
	if err := CheckUserName(user); err != nil {
		return "", false, fmt.Errorf("list user tags: %w", err)
	}
	in := &iam.ListUserTagsInput{UserName: aws.String(user), MaxItems: aws.Int32(100)}
	for page := 0; ; page++ {
		if page == maxPages {
			return "", false, fmt.Errorf("list tags of %s: more than %d pages", user, maxPages)
		}
		out, err := c.api.ListUserTags(ctx, in)
		if err != nil {
			return "", false, fmt.Errorf("list tags of %s: %w", user, err)
		}
		for _, t := range out.Tags {
			if aws.ToString(t.Key) == key {
				return aws.ToString(t.Value), true, nil
			}
		}
		if !out.IsTruncated || aws.ToString(out.Marker) == "" {
			return "", false, nil
		}
		in.Marker = out.Marker
	}
}

// DeactivateMFADevices deactivates the user's MFA devices named by serials
// (the approved ones); with no serials it does nothing. It lists the
// devices again first, so a serial that is no longer assigned is skipped,
// and a device enrolled since the approval is left alone. A device that disappears meanwhile
// (NoSuchEntity) is not an error. It tries every device and returns the
// serials it deactivated and an error naming the first failure.
func (c *IAM) DeactivateMFADevices(ctx context.Context, user string, serials []string) ([]string, error) {
	if err := CheckUserName(user); err != nil {
		return nil, fmt.Errorf("deactivate mfa devices: %w", err)
	}
	if len(serials) == 0 {
		return nil, nil
	}
	current, err := c.MFADevices(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("deactivate mfa devices: %w", err)
	}
	var targets []string
	for _, d := range current {
		if slices.Contains(serials, d.Serial) {
			targets = append(targets, d.Serial)
		}
	}
	for _, s := range serials {
		if !slices.ContainsFunc(current, func(d investigate.Device) bool { return d.Serial == s }) {
			c.log.InfoContext(ctx, "mfa device no longer assigned; skipped", "user", user, "serial", s)
		}
	}
	var done []string
	var firstErr error
	for _, serial := range targets {
		gone, err := c.deactivate(ctx, user, serial)
		switch {
		case err != nil:
			c.log.ErrorContext(ctx, "deactivate mfa device failed", "user", user, "serial", serial, "code", errorCode(err), "err", err)
			if firstErr == nil {
				firstErr = fmt.Errorf("deactivate %s of %s: %w", serial, user, err)
			}
		case gone:
			c.log.InfoContext(ctx, "mfa device already gone", "user", user, "serial", serial)
		default:
			c.log.InfoContext(ctx, "mfa device deactivated", "user", user, "serial", serial)
			done = append(done, serial)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return done, firstErr
}

// deactivate deactivates one device, retrying while IAM reports it busy.
// gone reports that the device no longer existed.
func (c *IAM) deactivate(ctx context.Context, user, serial string) (gone bool, err error) {
	attempts := max(c.Attempts, 1)
	sleep := c.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	for attempt := 0; ; attempt++ {
		_, err = c.api.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(serial)})
		var noSuch *types.NoSuchEntityException
		var busy *types.EntityTemporarilyUnmodifiableException
		var conc *types.ConcurrentModificationException
		switch {
		case err == nil:
			return false, nil
		case errors.As(err, &noSuch):
			return true, nil
		case !errors.As(err, &busy) && !errors.As(err, &conc):
			return false, err
		case attempt+1 >= attempts:
			return false, fmt.Errorf("still busy after %d attempts: %w", attempts, err)
		}
		d := backoff(attempt, c.Backoff, 5*time.Second)
		c.log.WarnContext(ctx, "mfa device busy; retrying", "user", user, "serial", serial, "code", errorCode(err), "delay", d)
		if serr := sleep(ctx, d); serr != nil {
			return false, fmt.Errorf("%w (last error: %w)", serr, err)
		}
	}
}

// DeactivateCommand returns the AWS CLI commands an administrator would run
// to deactivate the user's devices, one line per serial, with values
// shell-quoted where needed. It returns "" when there is no valid user or
// no serial.
func DeactivateCommand(user string, serials []string) string {
	if CheckUserName(user) != nil || len(serials) == 0 {
		return ""
	}
	lines := make([]string, 0, len(serials))
	for _, s := range serials {
		lines = append(lines, "aws iam deactivate-mfa-device --user-name "+ShellQuote(user)+" --serial-number "+ShellQuote(s))
	}
	return strings.Join(lines, "\n")
}

// shellSafe matches values a POSIX shell passes through unchanged.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// ShellQuote quotes s for a POSIX shell: unchanged when it has only safe
// characters, otherwise in single quotes with embedded quotes escaped.
func ShellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
