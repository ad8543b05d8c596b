// Command mfabot detects failed AWS console sign-ins that look like MFA
// trouble and helps responders and affected users deal with them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// streams are the process's standard streams, passed to every subcommand so
// that tests can run them in-process.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, s streams) error
}

func commands() []command {
	return []command{
		{"run", "run the Slack bot (Socket Mode) with the sources in mfabot.yml", cmdRun},
		{"demo", "run the real bot against local Slack and AWS and print a transcript", cmdDemo},
		{"replay", "run detection over CloudTrail files and print the incidents", cmdReplay},
		{"simulate", "write realistic CloudTrail sign-in traffic for drills and tests", cmdSimulate},
		{"audit", "verify that the audit log was not tampered with", cmdAudit},
	}
}

// usageError is a mistake in how the command was called; main prints it with
// the usage and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{os.Stdin, os.Stdout, os.Stderr})
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and turns its error into an exit code.
func run(ctx context.Context, args []string, s streams) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(s.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], s)
		var ue *usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(s.stderr, "mfabot %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(s.stderr, "mfabot %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(s.stderr, "mfabot: unknown command %q\n\n", args[0])
	usage(s.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: mfabot <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'mfabot <command> -h' for a command's flags.")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, s streams) *flag.FlagSet {
	fs := flag.NewFlagSet("mfabot "+name, flag.ContinueOnError)
	fs.SetOutput(s.stderr)
	return fs
}

// parseFlags parses args, turning a flag mistake into a usageError (the
// flag set has already printed the usage).
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &usageError{err.Error()}
}
