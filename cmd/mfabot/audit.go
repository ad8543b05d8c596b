package main

import (
	"context"
	"fmt"

	"github.com/mfabot/mfabot/store"
)

func cmdAudit(ctx context.Context, args []string, s streams) error {
	fs := newFlagSet("audit", s)
	cfgPath := fs.String("config", "", "configuration file naming the store (default: $MFABOT_CONFIG, else ./mfabot.yml if present)")
	dbPath := fs.String("db", "", "store to check (default: store.path of the configuration)")
	fs.Usage = func() {
		fmt.Fprintln(s.stderr, "usage: mfabot audit verify [--db PATH | --config FILE]")
		fmt.Fprintln(s.stderr, "\nChecks that the audit log is intact: every entry hashes the one before it, so an entry")
		fmt.Fprintln(s.stderr, "altered, removed or moved is found. Run it while the bot is stopped (the store has one owner).")
		fs.PrintDefaults()
	}
	if len(args) == 0 || args[0] != "verify" {
		fs.Usage()
		return &usageError{"the only audit command is: mfabot audit verify"}
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	path := *dbPath
	if path == "" {
		cfg, err := loadConfig(configPath(*cfgPath))
		if err != nil {
			return err
		}
		path = cfg.Store.Path
	}
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("audit log of %s: %w", path, err)
	}
	if err := st.Check(); err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	fmt.Fprintf(s.stdout, "audit log of %s is intact: %d entries, each chained to the one before\n", path, n)
	return nil
}
