// Command hallway runs the community side of open source events from IRC
// and a mailing list.
//
//	hallway run -config FILE      run the bot (and later mail and web)
//	hallway check -config FILE    validate the config and print it resolved
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `hallway runs an event's community side from IRC and a mailing list.

Usage:
  hallway run -config FILE [-debug]     run the bot
  hallway check -config FILE            validate the config and print it resolved, secrets masked
  hallway ingest -config FILE < MAIL     carry out one mail (for an MTA pipe or .forward);
                                        exits 75 (EX_TEMPFAIL) when the MTA should retry
  hallway export -config FILE [-event SLUG] -format ics|json|frab|text|c3voc
                                        the released schedule, for static hosting
  hallway export registrations|pledges -config FILE [-event SLUG]
                                        registrations or pledges as CSV, for organizers
  hallway export mail -config FILE [-all]
                                        mail not carried out, with why and its text (CSV)
  hallway wrapup -config FILE [-event SLUG] [-post]
                                        the event's wrap-up (Markdown); -post queues it for the list, once
  hallway backup -config FILE [-o FILE] [-force]
                                        a consistent copy of the SQLite database while hallway runs,
                                        with the sent-mail journal folded in (PostgreSQL: pg_dump)
  hallway db copy -from SRC -to DST [-journal FILE]
                                        copy a whole database into a new, empty one, ids kept,
                                        verified by counting; SRC, DST: a file, sqlite:PATH or postgres://…
  hallway forget -config FILE [-yes] ACCOUNT|ADDRESS
                                        forget a person as !forget does (without -yes: who it would be)
  hallway coc list|show N|ack N|close N -config FILE [-event SLUG] [-all] [-note TEXT]
                                        the code-of-conduct reports, for the team (audit-logged)
  hallway schedule solve [-time D] [-seed N] [-o FILE] INSTANCE.json
                                        solve a scheduling instance (sched-instance/1)
  hallway help                          this text
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// errUsage means the command line was wrong; usage has been printed.
var errUsage = errors.New("usage")

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = runRun(ctx, args[1:], stderr)
	case "check":
		err = runCheck(args[1:], stdout, stderr)
	case "ingest":
		if err := runIngest(ctx, args[1:], stdin, stderr); err != nil {
			fmt.Fprintf(stderr, "hallway ingest: %v\n", err)
			return exitCode(err)
		}
		return 0
	case "schedule":
		if len(args) < 2 || args[1] != "solve" {
			fmt.Fprint(stderr, "hallway schedule: the subcommand is solve\n\n"+usage)
			return 2
		}
		err = runScheduleSolve(ctx, args[2:], stdout, stderr)
	case "export":
		err = runExport(ctx, args[1:], stdout, stderr)
	case "wrapup":
		err = runWrapup(ctx, args[1:], stdout, stderr)
	case "backup":
		err = runBackup(ctx, args[1:], stdout, stderr)
	case "db":
		err = runDB(ctx, args[1:], stdout, stderr)
	case "forget":
		err = runForget(ctx, args[1:], stdout, stderr)
	case "coc":
		err = runCoc(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "hallway: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		return 2
	default:
		fmt.Fprintf(stderr, "hallway %s: %v\n", args[0], err)
		return 1
	}
}

// newLogger sets up log/slog once: text to stderr, debug if asked.
func newLogger(w io.Writer, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// parseFlags parses a subcommand's flags, printing errors to stderr.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hallway %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
