package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/detect"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// replayBatch is how many events share one store transaction.
const replayBatch = 2000

// maxListedProblems caps the skipped records listed in the summary.
const maxListedProblems = 20

func cmdReplay(ctx context.Context, args []string, s streams) error {
	fs := newFlagSet("replay", s)
	asJSON := fs.Bool("json", false, "print one JSON object per incident, one per line")
	dbPath := fs.String("db", "", "store to record into (default: a temporary store, removed afterwards)")
	cfgPath := fs.String("config", "", "configuration file with detection thresholds (default: $MFABOT_CONFIG or ./mfabot.yml if present)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "files read at once")
	fs.Usage = func() {
		fmt.Fprintln(s.stderr, "usage: mfabot replay [--json] [--db PATH] [--config FILE] FILE|DIR|- ...")
		fmt.Fprintln(s.stderr, "\nRuns detection over CloudTrail files, using event time as the clock.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return &usageError{"no input: name CloudTrail files, directories, or - for standard input"}
	}
	cfgFile, required := configPath(*cfgPath)
	cfg, err := loadConfig(cfgFile, required)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfgFile); err != nil {
		cfgFile = ""
	}
	engine, err := detect.New(cfg.Detection)
	if err != nil {
		return err
	}

	// The store is opened first, so that a store in use fails at once.
	path := *dbPath
	if path == "" {
		dir, err := os.MkdirTemp("", "mfabot-replay-")
		if err != nil {
			return fmt.Errorf("temporary store: %w", err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "replay.db")
	}
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()

	events, sum, err := readSignIns(ctx, fs.Args(), s, *workers)
	if err != nil {
		return err
	}
	sum.config = cfgFile
	if err := applyAll(ctx, st, engine, events, &sum); err != nil {
		return err
	}
	incs, err := st.ListIncidents(ctx)
	if err != nil {
		return err
	}
	incs = slices.DeleteFunc(incs, func(i *incident.Incident) bool { return i.Status == incident.StatusMerged })
	if *asJSON {
		err = writeJSON(s.stdout, incs)
	} else {
		err = writeTable(s.stdout, incs)
	}
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	sum.incidents = len(incs)
	sum.write(s.stderr)
	if n := len(sum.fileErrors); n > 0 {
		return fmt.Errorf("%d file(s) could not be read; see above", n)
	}
	return nil
}

// configPath picks the configuration file: the flag, else $MFABOT_CONFIG,
// else ./mfabot.yml when it exists. It reports whether the file must exist.
func configPath(flagValue string) (string, bool) {
	if flagValue != "" {
		return flagValue, true
	}
	if env := os.Getenv("MFABOT_CONFIG"); env != "" {
		return env, true
	}
	return "mfabot.yml", false
}

// readSignIns decodes every input and returns the sign-in events sorted by
// event time, so that detection sees them as they happened however the
// files were ordered.
func readSignIns(ctx context.Context, paths []string, s streams, workers int) ([]cloudtrail.SignIn, summary, error) {
	var (
		mu     sync.Mutex
		events []cloudtrail.SignIn
		sum    = summary{effects: map[detect.Effect]int{}}
	)
	h := cloudtrail.Handler{
		SignIn: func(e cloudtrail.SignIn, _ cloudtrail.Position) error {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
			return nil
		},
		Problem: func(p cloudtrail.Problem) {
			mu.Lock()
			sum.addProblem(p)
			mu.Unlock()
		},
	}
	stats, err := cloudtrail.Walk(ctx, paths, s.stdin, workers, h, func(fe *cloudtrail.FileError) {
		mu.Lock()
		sum.fileErrors = append(sum.fileErrors, fe.Error())
		mu.Unlock()
	})
	if err != nil {
		return nil, sum, err
	}
	sum.stats = stats
	slices.SortFunc(events, func(a, b cloudtrail.SignIn) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Account, b.Account), cmp.Compare(a.EventID, b.EventID))
	})
	slices.Sort(sum.fileErrors)
	return events, sum, nil
}

// applyAll runs the events through the engine in batches, one store
// transaction per batch, then prunes what the retention windows no longer
// need.
func applyAll(ctx context.Context, st *store.Store, engine *detect.Engine, events []cloudtrail.SignIn, sum *summary) error {
	for start := 0; start < len(events); start += replayBatch {
		batch := events[start:min(start+replayBatch, len(events))]
		var counts map[detect.Effect]int
		err := st.Update(ctx, func(tx *store.Tx) error {
			counts = map[detect.Effect]int{}
			for _, e := range batch {
				r, err := engine.Apply(tx, e)
				if err != nil {
					return fmt.Errorf("event %s: %w", e.EventID, err)
				}
				counts[r.Effect]++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("record events: %w", err)
		}
		for k, v := range counts {
			sum.effects[k] += v
		}
	}
	if len(events) > 0 {
		if _, err := st.Prune(ctx, events[len(events)-1].Time); err != nil {
			return fmt.Errorf("prune: %w", err)
		}
	}
	return nil
}

// summary is what replay tells stderr.
type summary struct {
	stats      cloudtrail.Stats
	effects    map[detect.Effect]int
	problems   []cloudtrail.Problem
	reasons    map[string]int
	fileErrors []string
	incidents  int
	// config is the configuration file whose thresholds were used, if any.
	config string
}

func (s *summary) addProblem(p cloudtrail.Problem) {
	if s.reasons == nil {
		s.reasons = map[string]int{}
	}
	s.reasons[p.Reason]++
	if len(s.problems) < maxListedProblems {
		s.problems = append(s.problems, p)
	}
}
