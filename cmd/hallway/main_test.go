package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[irc]\nserver = \"127.0.0.1\"\nsend_rat = 2\n"), 0o644)
	tests := []struct {
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{args: nil, code: 2, inStderr: "Usage:"},
		{args: []string{"help"}, code: 0, inStdout: "hallway run -config FILE"},
		{args: []string{"frobnicate"}, code: 2, inStderr: `unknown command "frobnicate"`},
		{args: []string{"check", "-config", "../../examples/openinfra-day.toml"}, code: 0, inStdout: `slug = "openinfra-day-2027"`, inStderr: "OK"},
		{args: []string{"check", "-config", bad}, code: 1, inStderr: `send_rat`},
		{args: []string{"check", "-nosuchflag"}, code: 2, inStderr: "flag provided but not defined"},
		{args: []string{"check", "-config", "x.toml", "extra"}, code: 2, inStderr: `unexpected argument "extra"`},
		{args: []string{"run", "-config", bad}, code: 1, inStderr: "send_rat"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String(), tt.inStdout) || !strings.Contains(stderr.String(), tt.inStderr) {
			t.Errorf("hallway %q: exit %d, want %d\nstdout: %s\nstderr: %s\n(want %q in stdout, %q in stderr)",
				tt.args, code, tt.code, stdout.String(), stderr.String(), tt.inStdout, tt.inStderr)
		}
	}
}

func TestScheduleSolveCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sol.json")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"schedule", "solve", "-time", "200ms", "-o", out, "../../schedule/testdata/sched/small-public.json"}, nil, &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "small-public: objective=") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(data), `"format": "sched-solution/1"`) && !strings.Contains(string(data), `"format":"sched-solution/1"`) {
		t.Errorf("solution file: %v\n%.200s", err, data)
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"schedule", "plan"}, nil, &stdout, &stderr); code != 2 {
		t.Errorf("schedule plan: exit %d", code)
	}
}
