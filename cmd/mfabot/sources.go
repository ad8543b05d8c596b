package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mfabot/mfabot/handlers"
	"github.com/mfabot/mfabot/internal/ingest"
	"github.com/mfabot/mfabot/store"
)

// startSources replays sources.files, then starts the live sources (SQS,
// Logs Insights) in goroutines tracked by wg. Everything feeds app.Record,
// whose deduplication makes overlapping sources safe.
func startSources(ctx context.Context, wg *sync.WaitGroup, cfg config, sqsAPI ingest.SQSAPI, insights ingest.Querier, app *handlers.App, log *slog.Logger) error {
	if len(cfg.Sources.Files) > 0 {
		st, err := ingest.ReplayFiles(ctx, cfg.Sources.Files, app, log.With("source", "files"))
		if err != nil {
			return fmt.Errorf("sources.files: %w", err)
		}
		log.Info("replayed files", "files", len(cfg.Sources.Files), "records", st.Records, "sign_ins", st.SignIns, "skipped", st.Skipped)
	}
	run := func(name string, r interface{ Run(context.Context) error }) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("source stopped", "source", name, "err", err)
			}
		}()
	}
	if cfg.Sources.SQSQueueURL != "" {
		run("sqs", ingest.NewSQS(sqsAPI, cfg.Sources.SQSQueueURL, app, log.With("source", "sqs")))
	}
	if cfg.Sources.InsightsPollInterval > 0 && cfg.AWS.CloudTrailLogGroup != "" {
		p := ingest.NewInsights(insights, cfg.AWS.CloudTrailLogGroup, storeCheckpoints{app.Store}, app, log.With("source", "insights"))
		p.Interval = cfg.Sources.InsightsPollInterval
		run("insights", p)
	}
	return nil
}

// storeCheckpoints keeps the sources' checkpoints in the store.
type storeCheckpoints struct{ st *store.Store }

func (c storeCheckpoints) Checkpoint(ctx context.Context, source string) (time.Time, bool, error) {
	var t time.Time
	var ok bool
	err := c.st.View(ctx, func(tx *store.Tx) error {
		v, err := tx.Checkpoint(source)
		if err != nil || v == nil {
			return err
		}
		t, err = time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			return fmt.Errorf("checkpoint %s: %w", source, err)
		}
		ok = true
		return nil
	})
	return t, ok, err
}

func (c storeCheckpoints) SetCheckpoint(ctx context.Context, source string, t time.Time) error {
	return c.st.Update(ctx, func(tx *store.Tx) error {
		return tx.SetCheckpoint(source, []byte(t.UTC().Format(time.RFC3339Nano)))
	})
}
