package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
)

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	path := fs.String("config", "hallway.toml", "config file")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	// The machine checking a config is seldom the one running it: missing
	// secrets are warnings here, errors for "hallway run".
	var errs config.Errors
	if err := cfg.ResolveSecrets(nil); errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintf(stderr, "warning: %v\n", e)
		}
	} else if err != nil {
		return err
	}
	cfg.Print(stdout)
	fmt.Fprintf(stderr, "%s: OK\n", *path)
	return nil
}
