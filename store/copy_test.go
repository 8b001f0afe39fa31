package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallwayhq/hallway/store/storetest"
)

// populate fills every table of s through the store's own methods, with
// values that differ from the columns' defaults (NULLs and times
// included), so a column or table left out of a copy shows.
func populate(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	do(t, s, func(tx *Tx) error {
		ev, err := tx.EnsureEvent("copy-day", "Copy Day")
		if err != nil {
			return err
		}
		alice, err := tx.PersonByIdentity(IRCAccount, "alice", "Alice")
		if err != nil {
			return err
		}
		bob, err := tx.PersonByIdentity(Email, "bob@example.org", "Bob")
		if err != nil {
			return err
		}
		if err := tx.ConfirmEmail(alice.ID, "alice@example.org"); err != nil {
			return err
		}
		if err := tx.AddPhaseChange(ev.ID, "voting", true, alice.ID); err != nil {
			return err
		}
		var props []Proposal
		for i, title := range []string{"Nix in CI", "Reproducible builds", "SBOMs, really"} {
			p, err := tx.AddProposal(Proposal{EventID: ev.ID, Kind: []string{Talk, Session}[i%2], Title: title,
				Abstract: "about " + title, AuthorID: []int64{alice.ID, bob.ID}[i%2]})
			if err != nil {
				return err
			}
			props = append(props, p)
		}
		props[2].Status, props[2].Reason = Rejected, "out of scope"
		if err := tx.UpdateProposal(props[2]); err != nil {
			return err
		}
		for _, p := range props[:2] {
			if _, err := tx.AddVote(ev.ID, p.ID, bob.ID); err != nil {
				return err
			}
		}
		if _, err := tx.AddVote(ev.ID, props[0].ID, alice.ID); err != nil {
			return err
		}
		regs := []*Registration{
			{EventID: ev.ID, PersonID: alice.ID, Email: "alice@example.org", Status: Registered, Number: 1, Token: "tok-a"},
			{EventID: ev.ID, PersonID: bob.ID, Email: "bob@example.org", Status: Offered, Token: "tok-b", WaitSeq: 1,
				OfferedUntil: tx.Now().Add(2 * time.Hour), Bounce: "550 no such user"},
		}
		for _, r := range regs {
			if err := tx.SaveRegistration(r); err != nil {
				return err
			}
		}
		if err := tx.SavePledge(&Pledge{EventID: ev.ID, Campaign: "ci-macs", PersonID: bob.ID, Kind: PledgeMoney,
			Amount: 12_345, Currency: "EUR", DisplayName: "Bob B.", Status: PledgeReceived, Received: 12_345, RemindersSent: 1}); err != nil {
			return err
		}
		m := &Meeting{EventID: ev.ID, Number: props[1].Number, Series: "2", Title: "Reproducible builds", Channel: "#copy-day",
			StartedBy: alice.ID, StartedAt: tx.Now(), EndsAt: tx.Now().Add(time.Hour)}
		if err := tx.StartMeeting(m); err != nil {
			return err
		}
		if err := tx.AddLine(m.ID, Line{At: tx.Now(), Nick: "alice_", Account: "alice", Text: "#action bob writes it up", Resolved: `{"bob":"bob"}`}); err != nil {
			return err
		}
		if err := tx.EndMeeting(m.ID, tx.Now().Add(30*time.Minute)); err != nil {
			return err
		}
		if _, err := tx.CheckIn(ev.ID, bob.ID, alice.ID); err != nil {
			return err
		}
		start := time.Date(2027, 3, 5, 10, 0, 0, 0, time.UTC)
		if err := tx.SetPin(props[0].ID, "Room A", start, alice.ID); err != nil {
			return err
		}
		if err := tx.AddRelease(ev.ID, Release{Version: 1, Note: "first", Schedule: []byte(`{"items":[]}`)}, alice.ID); err != nil {
			return err
		}
		if err := tx.AddAmendment(Amendment{EventID: ev.ID, Version: 1, Number: props[2].Number, Out: true, Reason: Rejected}); err != nil {
			return err
		}
		if _, err := tx.AddPendingRelease(PendingRelease{EventID: ev.ID, PersonID: alice.ID, Note: "second", ReplyTo: []byte(`{"irc":"alice"}`)}); err != nil {
			return err
		}
		if _, err := tx.FeedToken(ev.ID, bob.ID); err != nil {
			return err
		}
		if _, err := tx.RevokeFeedToken(ev.ID, bob.ID); err != nil {
			return err
		}
		if err := tx.Enqueue(Message{Channel: Mail, Target: "bob@example.org", Body: "Subject: hi\r\n\r\nhello", DedupeKey: "confirm-bob",
			NotBefore: tx.Now().Add(time.Minute)}); err != nil {
			return err
		}
		if err := tx.Enqueue(Message{Channel: IRC, Target: "alice_", Account: "alice", Addressee: "alice_", Body: "alice_: done", Short: "done"}); err != nil {
			return err
		}
		// More than two statements' worth of rows (copyParams).
		for i := range 150 {
			if err := tx.Enqueue(Message{Channel: IRC, Target: "#copy-day", Body: fmt.Sprintf("line %d", i)}); err != nil {
				return err
			}
		}
		if _, err := tx.MarkReceived(Received{Channel: Mail, Key: "<m1@example.org>", Sender: "bob@example.org", Outcome: "not understood", Raw: "?"}); err != nil {
			return err
		}
		if err := tx.AddConfirmationMail(ConfirmationMail{EventID: ev.ID, Email: "bob@example.org", PersonID: bob.ID, Account: "", Nick: "bobby", Token: "tok-b", SentAt: tx.Now()}); err != nil {
			return err
		}
		if err := tx.RefuseMail("carol@example.org"); err != nil {
			return err
		}
		if _, _, err := tx.CountAnswer("bob@example.org", 5); err != nil {
			return err
		}
		if err := tx.MarkRoom(ev.ID, "Room 1", RoomFull, alice.ID); err != nil {
			return err
		}
		if err := tx.Enqueue(Message{Channel: Matrix, Target: "!room:example.org", Addressee: "@bob:example.org", Body: "noted", HTML: "<b>noted</b>",
			ReplyTo: "$ev1", Thread: "$root"}); err != nil {
			return err
		}
		if _, err := tx.MarkReceived(Received{Channel: Matrix, Key: "$ev1", Sender: "@bob:example.org"}); err != nil {
			return err
		}
		if _, err := tx.AddChannel("#copy-day-extra", InvitedChannel{EventID: ev.ID, InvitedBy: "alice"}); err != nil {
			return err
		}
		if _, err := tx.NewPrivacyToken(TokenMyData, bob.ID, time.Hour); err != nil {
			return err
		}
		if err := tx.AddLinkCode(LinkCode{Code: "K7Q2-9XM4", PersonID: bob.ID, Kind: Email, Value: "bob@example.org"}, 10*time.Minute); err != nil {
			return err
		}
		// AddReport writes its audit line too.
		return tx.AddReport(&Report{EventID: ev.ID, ReporterID: bob.ID, Via: Mail, Contact: "bob@example.org", Text: "rude remarks at lunch"})
	})
	if err := s.MarkSent(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSyncToken(ctx, "@hallway:example.org", "s72_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NoteDeliveryFailure(ctx, "mail/1/7", errors.New("451 try later")); err != nil {
		t.Fatal(err)
	}
}

// dump reads every row of every table, in a stable order, each value
// printed so that the same time read from either engine compares equal.
func dump(t *testing.T, s *Store) map[string][]string {
	t.Helper()
	ctx := context.Background()
	out := map[string][]string{}
	for _, table := range Tables {
		rows, err := s.db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table))
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		if table == "speaker" && !slices.Contains(cols, "rowid") {
			cols = append(cols, "rowid") // SQLite's is hidden from *
		}
		slices.Sort(cols) // by name: the engines may order columns differently
		rows.Close()
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = quoteIdent(c)
		}
		rows, err = s.db.QueryContext(ctx, "SELECT "+strings.Join(quoted, ", ")+" FROM "+quoteIdent(table))
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Format(time.RFC3339Nano)
				}
				fmt.Fprintf(&b, "%s=%v ", cols[i], v)
			}
			out[table] = append(out[table], b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		slices.Sort(out[table])
	}
	return out
}

// populated is a SQLite store with populate's rows.
func populated(t *testing.T) *Store {
	t.Helper()
	s := liteStore(t)
	populate(t, s)
	return s
}

// liteStore is an empty SQLite store, pgStore a PostgreSQL one, whatever
// engine the test run keeps its stores in.
func liteStore(t *testing.T) *Store { return openAt(t, filepath.Join(t.TempDir(), "hallway.db")) }
func pgStore(t *testing.T) *Store   { return openAt(t, storetest.NewDatabase(t)) }

func openAt(t *testing.T, source string) *Store {
	t.Helper()
	s, err := Open(context.Background(), source)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Now = func() time.Time { return time.Date(2027, 3, 4, 9, 0, 0, 0, time.UTC) }
	return s
}

// TestCopyEveryTable: the populated database has rows in every table of
// the schema, Tables lists exactly the schema's tables, and a copy holds
// the same rows, ids kept, with the counts it reports; new rows in it
// take new ids.
func TestCopyEveryTable(t *testing.T) {
	ctx := context.Background()
	src := populated(t)
	names, err := src.tableNames(ctx, src.db)
	if err != nil {
		t.Fatal(err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return slices.Contains(notCopied, n) })
	slices.Sort(names)
	listed := slices.Sorted(slices.Values(Tables))
	if !slices.Equal(names, listed) {
		t.Fatalf("the schema's tables %v\nare not store.Tables %v", names, listed)
	}
	for _, c := range mustCounts(t, src) {
		if c.Rows == 0 {
			t.Errorf("populate leaves table %s empty: fill it, so the copy of it is tested", c.Table)
		}
	}
	// Each case gives a populated source and an empty destination, of
	// either engine.
	tests := []struct {
		name string
		src  func(t *testing.T) *Store
		dst  func(t *testing.T) *Store
	}{
		{"sqlite to sqlite", populated, liteStore},
		{"read-only sqlite to sqlite", func(t *testing.T) *Store {
			path := srcFile(t, populated(t))
			s, err := OpenReadOnly(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}, liteStore},
	}
	if os.Getenv("HALLWAY_TEST_POSTGRES") != "" {
		pgPopulated := func(t *testing.T) *Store {
			s := pgStore(t)
			populate(t, s)
			return s
		}
		tests = append(tests, []struct {
			name string
			src  func(t *testing.T) *Store
			dst  func(t *testing.T) *Store
		}{
			{"sqlite to postgres", populated, pgStore},
			{"postgres to sqlite", pgPopulated, liteStore},
			{"postgres to postgres", pgPopulated, pgStore},
		}...)
	} else if os.Getenv("HALLWAY_REQUIRE_TESTENV") != "" {
		t.Fatal("HALLWAY_TEST_POSTGRES not set: the PostgreSQL directions cannot run")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := tt.src(t), tt.dst(t)
			want := dump(t, from)
			counts := mustCounts(t, from)
			got, err := Copy(ctx, to, from)
			if err != nil {
				t.Fatal(err)
			}
			for j, c := range got {
				if c.Table != counts[j].Table || c.Source != counts[j].Rows || c.Copied != counts[j].Rows {
					t.Errorf("copy reports %+v, the source holds %d", c, counts[j].Rows)
				}
			}
			copied := dump(t, to)
			for _, table := range Tables {
				if !slices.Equal(copied[table], want[table]) {
					t.Errorf("table %s differs:\nsource: %q\ncopy:   %q", table, want[table], copied[table])
				}
			}
			// The copy goes on as the source would: new rows take new ids
			// (on PostgreSQL, the identity sequences were moved past them).
			do(t, to, func(tx *Tx) error {
				p, err := tx.PersonByIdentity(IRCAccount, "dave", "")
				if err == nil && p.ID <= 2 {
					err = fmt.Errorf("new person got id %d, an id the copy holds", p.ID)
				}
				return err
			})
		})
	}
}

// srcFile is the path of the test store's file.
func srcFile(t *testing.T, s *Store) string {
	t.Helper()
	var seq int
	var name, file string
	if err := s.db.QueryRow("PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestCopyRefuses: a destination with data, a database of another
// schema version and a table the copy does not know are refused, and
// the destination is left as it was.
func TestCopyRefuses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		prepare func(t *testing.T, src, dst *Store)
		want    error
		wantMsg string
	}{
		{"destination holds data", func(t *testing.T, src, dst *Store) {
			do(t, dst, func(tx *Tx) error { _, err := tx.EnsureEvent("other", "Other"); return err })
		}, ErrNotEmpty, "event has 1 rows): copy into a new, empty database"},
		{"other schema version", func(t *testing.T, src, dst *Store) {
			if _, err := dst.db.Exec("PRAGMA user_version = 99"); err != nil {
				t.Fatal(err)
			}
		}, ErrSchemaMismatch, "the source has version"},
		{"unknown table", func(t *testing.T, src, dst *Store) {
			if _, err := src.db.Exec("CREATE TABLE notes_extra (id INTEGER PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
		}, nil, "the source has tables hallway does not know how to copy: notes_extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := populated(t)
			dst := liteStore(t) // the refusals are the copy's, whatever the engine
			tt.prepare(t, src, dst)
			before := dump(t, dst)
			_, err := Copy(ctx, dst, src)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Copy: %v, want %v with %q", err, tt.want, tt.wantMsg)
			}
			if after := dump(t, dst); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("a refused copy changed the destination:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestBackup: the backup of a store is one file (no write-ahead log)
// of the same rows that opens (quick_check passes at Open), with the
// mail ids given marked sent, and the source unchanged; an existing file
// is not replaced.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	s := populated(t) // a backup is of a SQLite file

	want := dump(t, s)
	path := filepath.Join(t.TempDir(), "backup.db")
	unsent := func(st *Store) []int64 {
		var ids []int64
		err := st.View(ctx, func(tx *Tx) (err error) {
			ids, err = tx.int64s(`SELECT id FROM outbox WHERE sent_at IS NULL ORDER BY id`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	ids := unsent(s)
	if len(ids) < 2 {
		t.Fatalf("populate left %d mails unsent, want some", len(ids))
	}
	counts, err := s.Backup(ctx, path, func() ([]int64, error) { return []int64{ids[0], 1 << 40}, nil })
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(counts) != fmt.Sprint(mustCounts(t, s)) {
		t.Errorf("Backup counted %v, the store holds %v", counts, mustCounts(t, s))
	}
	header := make([]byte, 20)
	if f, err := os.Open(path); err != nil {
		t.Fatal(err)
	} else {
		f.Read(header)
		f.Close()
	}
	if _, err := os.Stat(path + "-wal"); err == nil || header[18] != 1 {
		t.Errorf("the backup is not one file in rollback mode (file format byte %d, -wal: %v)", header[18], err)
	}
	if after := dump(t, s); fmt.Sprint(after) != fmt.Sprint(want) {
		t.Errorf("Backup changed the store")
	}
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := unsent(b); !slices.Equal(got, ids[1:]) {
		t.Errorf("the backup's unsent mail %v, want %v (the store's %v but the first)", got, ids[1:], ids)
	}
	got := dump(t, b)
	delete(got, "outbox")
	delete(want, "outbox")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backup differs:\nsource %v\nbackup %v", want, got)
	}
	if _, err := s.Backup(ctx, path, nil); err == nil {
		t.Error("a backup over an existing database succeeded")
	}
}

func mustCounts(t *testing.T, s *Store) []TableCount {
	t.Helper()
	c, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// benchStore is a database the size of a big event: 5,000 people, 2,000
// proposals, 50,000 votes, and an outbox of 20,000 answers.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "big.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	err = s.Do(context.Background(), func(tx *Tx) error {
		ev, err := tx.EnsureEvent("big", "Big")
		if err != nil {
			return err
		}
		people := make([]int64, 5000)
		for i := range people {
			p, err := tx.PersonByIdentity(IRCAccount, fmt.Sprintf("p%d", i), "")
			if err != nil {
				return err
			}
			people[i] = p.ID
		}
		props := make([]int64, 2000)
		for i := range props {
			p, err := tx.AddProposal(Proposal{EventID: ev.ID, Kind: Session, Title: fmt.Sprintf("Session %d", i), AuthorID: people[i]})
			if err != nil {
				return err
			}
			props[i] = p.ID
		}
		for i := range 50_000 {
			if _, err := tx.AddVote(ev.ID, props[(i*37)%len(props)], people[i/10]); err != nil {
				return err
			}
		}
		for i := range 20_000 {
			if err := tx.Enqueue(Message{Channel: IRC, Target: "#big", Body: fmt.Sprintf("p%d: voted #%d", i, i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkCopy(b *testing.B) {
	ctx := context.Background()
	src := benchStore(b)
	counts, _ := src.Counts(ctx)
	var rows int64
	for _, c := range counts {
		rows += c.Rows
	}
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		dst, err := Open(ctx, filepath.Join(dir, fmt.Sprintf("copy%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Copy(ctx, dst, src); err != nil {
			b.Fatal(err)
		}
		dst.Close()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkBackup(b *testing.B) {
	ctx := context.Background()
	src := benchStore(b)
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := src.Backup(ctx, filepath.Join(dir, fmt.Sprintf("backup%d.db", i)), nil); err != nil {
			b.Fatal(err)
		}
	}
}
