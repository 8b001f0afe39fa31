package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/mail"
)

// Exit codes of "hallway ingest" (sysexits.h), which MTAs read: a
// temporary failure is retried, anything else bounces.
const (
	exUsage    = 64 // EX_USAGE
	exDataErr  = 65 // EX_DATAERR: the mail itself is unusable
	exSoftware = 70 // EX_SOFTWARE
	exTempFail = 75 // EX_TEMPFAIL: try again later
	exConfig   = 78 // EX_CONFIG
)

// exitError carries an ingest exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// runIngest takes one mail on stdin, for an MTA pipe or a .forward:
// the same handling as a mail read over IMAP, exactly once (keyed on the
// mail's content and Message-ID), queued answers sent by "hallway run".
func runIngest(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	path := fs.String("config", "hallway.toml", "config file")
	if err := parseFlags(fs, args, stderr); err != nil {
		return &exitError{exUsage, err}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return &exitError{exConfig, err}
	}
	m, err := openCore(ctx, cfg, newLogger(stderr, false))
	if err != nil {
		return &exitError{exTempFail, err}
	}
	defer m.Close()
	if m.Desk == nil {
		return &exitError{exConfig, fmt.Errorf("%s has no mail table: ingest needs mail.from to answer", *path)}
	}
	limit := m.Desk.MaxBytes
	if limit == 0 {
		limit = mail.DefaultMaxBytes
	}
	// Read one byte past the limit to know a mail is too large; keep the
	// head of it for the answer.
	raw, err := io.ReadAll(io.LimitReader(stdin, limit+1))
	if err != nil {
		return &exitError{exTempFail, fmt.Errorf("read the mail: %w", err)}
	}
	d := mail.Delivery{Raw: raw, Size: int64(len(raw))}
	if int64(len(raw)) > limit {
		n, _ := io.Copy(io.Discard, stdin)
		d.TooLarge, d.Size = true, int64(len(raw))+n
	}
	sum := sha256.Sum256(raw)
	d.Key = "ingest:" + hex.EncodeToString(sum[:16])
	if err := m.Desk.Deliver(ctx, d); err != nil {
		// The MTA tries again later; after a few failures the mail is
		// set aside (kept for the organizers) and taken.
		setAside, ferr := m.Desk.Failed(ctx, d, err)
		switch {
		case ferr != nil:
			return &exitError{exTempFail, errors.Join(err, ferr)}
		case setAside:
			m.log.Warn("mail set aside after failing too often", "key", d.Key)
			return nil
		}
		return &exitError{exTempFail, err}
	}
	return nil
}

// exitCode maps an ingest error to its sysexits code.
func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return exSoftware
}
