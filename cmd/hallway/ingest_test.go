package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/store"
)

// exampleCopy writes the example config into a temp dir, so its database
// lands there.
func exampleCopy(t *testing.T) string {
	t.Helper()
	example, err := os.ReadFile("../../examples/openinfra-day.toml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hallway.toml")
	if err := os.WriteFile(path, example, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestIngest(t *testing.T) {
	cfg := exampleCopy(t)
	ctx := context.Background()
	ingest := func(mail string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"ingest", "-config", cfg}, strings.NewReader(strings.ReplaceAll(mail, "\n", "\r\n")), &stdout, &stderr)
		return code, stderr.String()
	}
	register := "From: Jane Doe <Jane@Example.org>\nTo: bot@openinfra.test\nSubject: register\nMessage-ID: <r1@example.org>\nDate: Thu, 21 Jan 2027 10:00:00 +0000\n\nHi, I'd like to come. -- Jane Doe\n"
	for i := 0; i < 2; i++ { // the MTA delivers twice: carried out once
		if code, stderr := ingest(register); code != 0 {
			t.Fatalf("ingest: exit %d: %s", code, stderr)
		}
	}
	autoReply := "From: jane@example.org\nTo: bot@openinfra.test\nSubject: Out of office\nAuto-Submitted: auto-replied\nMessage-ID: <ooo@example.org>\n\nI am away.\n"
	if code, stderr := ingest(autoReply); code != 0 {
		t.Fatalf("ingest auto-reply: exit %d: %s", code, stderr)
	}
	huge := "From: bob@example.org\nTo: bot@openinfra.test\nSubject: register\nMessage-ID: <big@example.org>\n\n" + strings.Repeat("x", 2<<20) + "\n"
	if code, stderr := ingest(huge); code != 0 {
		t.Fatalf("ingest huge: exit %d: %s", code, stderr)
	}
	if code, _ := ingest("not a mail at all"); code != 0 {
		t.Errorf("ingest of garbage: exit %d, want 0 (recorded, nothing to answer)", code)
	}
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"ingest", "-config", filepath.Join(t.TempDir(), "missing.toml")}, strings.NewReader(register), &stdout, &stderr); code != exConfig {
		t.Errorf("missing config: exit %d, want %d (EX_CONFIG)", code, exConfig)
	}

	s, err := store.Open(ctx, filepath.Join(filepath.Dir(cfg), "hallway.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msgs, err := s.Pending(ctx, store.Mail, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		for _, m := range msgs {
			t.Logf("to %s:\n%s", m.Target, m.Body)
		}
		t.Fatalf("%d mails queued, want 2 (one confirmation for jane, one too-large answer for bob)", len(msgs))
	}
	conf, big := msgs[0], msgs[1]
	for _, want := range []string{`To: "Jane Doe" <jane@example.org>`, "Thanks Jane!", "Subject: Re: register", "In-Reply-To: <r1@example.org>", "Auto-Submitted: auto-replied", "Message-Id: <confirm-"} {
		if !strings.Contains(conf.Body, want) {
			t.Errorf("confirmation mail lacks %q:\n%s", want, conf.Body)
		}
	}
	if conf.Target != "jane@example.org" || big.Target != "bob@example.org" || !strings.Contains(big.Body, "too large (2.0 MB; the limit is 1.0 MB)") {
		t.Errorf("answers went to %s and %s:\n%s", conf.Target, big.Target, big.Body)
	}
}
