package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallwayhq/hallway/store/storetest"
)

func TestSyncToken(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if got, err := s.SyncToken(ctx, "@hallway:example.org"); err != nil || got != "" {
		t.Fatalf("SyncToken of a new account = %q, %v; want \"\", nil", got, err)
	}
	for _, tok := range []string{"s1_2", "s9_7"} {
		if err := s.SetSyncToken(ctx, "@hallway:example.org", tok); err != nil {
			t.Fatal(err)
		}
		if got, err := s.SyncToken(ctx, "@hallway:example.org"); err != nil || got != tok {
			t.Fatalf("SyncToken = %q, %v; want %q", got, err, tok)
		}
	}
	if got, _ := s.SyncToken(ctx, "@other:example.org"); got != "" {
		t.Errorf("another account's token = %q, want \"\"", got)
	}
}

func TestOutboxMatrix(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	msgs := []Message{
		{Channel: Matrix, Target: "!r:example.org", Addressee: "@bob:example.org", Body: "vote noted", HTML: "vote <b>noted</b>", ReplyTo: "$e1", Thread: "$root"},
		{Channel: Matrix, Target: "!r:example.org", Kind: ReactionKind, Body: "✅", ReplyTo: "$e2"},
	}
	do(t, s, func(tx *Tx) error {
		for _, m := range msgs {
			if err := tx.Enqueue(m); err != nil {
				return err
			}
		}
		ok, err := tx.MarkReceived(Received{Channel: Matrix, Key: "$e1", Sender: "@bob:example.org"})
		if err != nil || !ok {
			t.Errorf("MarkReceived = %v, %v", ok, err)
		}
		ok, err = tx.MarkReceived(Received{Channel: Matrix, Key: "$e1", Sender: "@bob:example.org"})
		if err != nil || ok {
			t.Errorf("MarkReceived again = %v, %v; want false", ok, err)
		}
		return nil
	})
	got, err := s.Pending(ctx, Matrix, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(msgs) {
		t.Fatalf("%d pending, want %d", len(got), len(msgs))
	}
	for i, m := range got {
		w := msgs[i]
		if m.Target != w.Target || m.Addressee != w.Addressee || m.Body != w.Body || m.HTML != w.HTML ||
			m.ReplyTo != w.ReplyTo || m.Thread != w.Thread || m.Kind != w.Kind || m.ID == 0 || m.CreatedAt.IsZero() {
			t.Errorf("pending %d = %+v, want %+v", i, m, w)
		}
	}
}

// Migration 11 rebuilds outbox and inbox (SQLite changes a CHECK no other
// way): their rows survive, and 'matrix' is allowed after.
func TestMigrationMatrixKeepsRows(t *testing.T) {
	storetest.SQLiteOnly(t)
	v1, err := os.ReadFile(filepath.Join("testdata", "schema-v1.sql"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(v1) + `; PRAGMA user_version = 1;
		INSERT INTO outbox (channel, target, body, dedupe_key, created_at) VALUES ('irc', '#a', 'hello', 'k1', '2027-03-04 09:00:00');
		INSERT INTO inbox (channel, key, sender, processed_at) VALUES ('mail', '<m@x>', 'bob@example.org', '2027-03-04 09:00:00')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	got, err := s.Pending(ctx, IRC, 0, 10)
	if err != nil || len(got) != 1 || got[0].Body != "hello" || got[0].DedupeKey != "k1" {
		t.Fatalf("outbox after the upgrade = %+v, %v", got, err)
	}
	do(t, s, func(tx *Tx) error {
		if ok, err := tx.MarkReceived(Received{Channel: Mail, Key: "<m@x>"}); err != nil || ok {
			t.Errorf("the mail received before the upgrade is new again: %v, %v", ok, err)
		}
		if ok, _ := tx.EnqueueOnce(Message{Channel: IRC, Target: "#a", Body: "again", DedupeKey: "k1"}); ok {
			t.Error("the dedupe index is gone after the upgrade")
		}
		if err := tx.Enqueue(Message{Channel: Matrix, Target: "!r:x", Body: "hi"}); err != nil {
			t.Errorf("a matrix row after the upgrade: %v", err)
		}
		_, err := tx.MarkReceived(Received{Channel: Matrix, Key: "$e"})
		return err
	})
}
