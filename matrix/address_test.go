package matrix

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCommand(t *testing.T) {
	names := []string{"@hallway:test.local", "hallway", "Hallway Bot"}
	tests := []struct {
		body   string
		direct bool
		cmd    string
		ok     bool
	}{
		{"!vote 3", false, "vote 3", true},
		{"  !vote 3  ", false, "vote 3", true},
		{"hallway: vote 3", false, "vote 3", true},
		{"Hallway, vote 3", false, "vote 3", true},
		{"hallway: !vote 3", false, "vote 3", true},
		{"Hallway Bot: help", false, "help", true},
		{"@hallway:test.local: vote 3", false, "vote 3", true},
		{"hallway vote 3", false, "", false},
		{"hallway:", false, "", false},
		{"hallwayx: vote 3", false, "", false},
		{"hello all", false, "", false},
		{"! not a command", false, "", false},
		{"!!!", false, "", false},
		{"vote 3", true, "vote 3", true},
		{"!vote 3", true, "vote 3", true},
		{"   ", true, "", false},
		{"> <@alice:test.local> !help\n\n!vote 3", false, "vote 3", true},
		{"> only a quote", false, "", false},
	}
	for _, tt := range tests {
		cmd, ok := command(tt.body, "!", names, tt.direct)
		if cmd != tt.cmd || ok != tt.ok {
			t.Errorf("command(%q, direct=%v) = %q, %v; want %q, %v", tt.body, tt.direct, cmd, ok, tt.cmd, tt.ok)
		}
	}
}

func FuzzCommand(f *testing.F) {
	for _, s := range []string{"!vote 3", "hallway: vote 3", "> <@a:b> x\n\nhallway, help", "Hallway Bot:", "!", "\n>\n", "ǅ: x"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	names := []string{"@hallway:test.local", "hallway", "Hallway Bot", "ǆ"}
	f.Fuzz(func(t *testing.T, body string, direct bool) {
		cmd, ok := command(body, "!", names, direct)
		if !ok {
			if cmd != "" {
				t.Fatalf("not addressed but command %q", cmd)
			}
			return
		}
		if cmd == "" || cmd != strings.TrimSpace(cmd) {
			t.Fatalf("command %q: empty or untrimmed", cmd)
		}
		if !strings.Contains(body, cmd) {
			t.Fatalf("command %q is not part of %q", cmd, body)
		}
		if utf8.ValidString(body) && !utf8.ValidString(cmd) {
			t.Fatalf("command %q of valid UTF-8 %q is not valid UTF-8", cmd, body)
		}
	})
}
