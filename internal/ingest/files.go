package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/mfabot/mfabot/internal/cloudtrail"
)

// ReplayBatch is how many sign-ins ReplayFiles records per Record call.
const ReplayBatch = 1000

// maxLoggedProblems caps the malformed records logged one by one.
const maxLoggedProblems = 100

// ReplayFiles reads CloudTrail input from paths (files, directories, or
// "-" for standard input; see cloudtrail.Walk), sorts the sign-ins by event
// time, drops repeated event IDs, and records them in batches of
// ReplayBatch, oldest first. Malformed records are logged and skipped. A
// file that fails while being read is logged and skipped, and once the
// rest is recorded the error names it (errors.As a *cloudtrail.FileError).
func ReplayFiles(ctx context.Context, paths []string, sink Sink, logger *slog.Logger) (cloudtrail.Stats, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var (
		mu       sync.Mutex
		events   []cloudtrail.SignIn
		problems int
		fileErrs []error
	)
	h := cloudtrail.Handler{
		SignIn: func(s cloudtrail.SignIn, _ cloudtrail.Position) error {
			mu.Lock()
			events = append(events, s)
			mu.Unlock()
			return nil
		},
		Problem: func(p cloudtrail.Problem) {
			mu.Lock()
			problems++
			n := problems
			mu.Unlock()
			if n <= maxLoggedProblems {
				logger.WarnContext(ctx, "record skipped", "at", p.Position.String(), "reason", p.Reason)
			}
		},
	}
	onFileError := func(fe *cloudtrail.FileError) {
		logger.ErrorContext(ctx, "file skipped", "path", fe.Path, "err", fe.Err)
		mu.Lock()
		fileErrs = append(fileErrs, fe)
		mu.Unlock()
	}
	st, err := cloudtrail.Walk(ctx, paths, os.Stdin, 4, h, onFileError)
	if err != nil {
		return st, fmt.Errorf("replay: %w", err)
	}
	if problems > maxLoggedProblems {
		logger.WarnContext(ctx, "more records skipped", "not_logged", problems-maxLoggedProblems)
	}

	slices.SortStableFunc(events, func(a, b cloudtrail.SignIn) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.EventID, b.EventID)
	})
	events = dedupe(events)
	for i := 0; i < len(events); i += ReplayBatch {
		batch := events[i:min(i+ReplayBatch, len(events))]
		if err := sink.Record(ctx, batch); err != nil {
			return st, fmt.Errorf("replay: record events %d-%d of %d: %w", i+1, i+len(batch), len(events), err)
		}
	}
	logger.InfoContext(ctx, "replay done", "records", st.Records, "sign_ins", st.SignIns, "recorded", len(events), "skipped", st.Skipped)
	if len(fileErrs) > 0 {
		return st, fmt.Errorf("replay: %d unreadable file(s): %w", len(fileErrs), errors.Join(fileErrs...))
	}
	return st, nil
}

// dedupe drops sign-ins whose event ID was already seen, keeping order.
func dedupe(events []cloudtrail.SignIn) []cloudtrail.SignIn {
	seen := make(map[string]bool, len(events))
	out := events[:0]
	for _, e := range events {
		if e.EventID != "" {
			if seen[e.EventID] {
				continue
			}
			seen[e.EventID] = true
		}
		out = append(out, e)
	}
	return out
}
