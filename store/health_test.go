package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallwayhq/hallway/store/storetest"
)

// corruptDB makes a database with a few pages of rows and overwrites the
// header of one of its b-tree pages, as a bad disk or a careless copy
// would.
func corruptDB(t *testing.T) string {
	t.Helper()
	storetest.SQLiteOnly(t)
	path := filepath.Join(t.TempDir(), "bad.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	do(t, s, func(tx *Tx) error {
		for i := range 200 {
			if _, err := tx.PersonByIdentity(IRCAccount, strings.Repeat("x", 50)+string(rune('a'+i%26))+strings.Repeat("y", i), ""); err != nil {
				return err
			}
		}
		return nil
	})
	if _, err := s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	// The last page is a b-tree page of the rows just written: an
	// invalid page type and cell count in its header.
	if _, err := f.WriteAt([]byte{0x77, 0xff, 0xff, 0xff, 0xff, 0xff}, st.Size()-4096); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenRefusesCorruptDatabase(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	os.WriteFile(garbage, []byte(strings.Repeat("not a database at all ", 300)), 0o644)
	for name, path := range map[string]string{"damaged page": corruptDB(t), "not a database": garbage} {
		_, err := Open(context.Background(), path)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "restore the file from a backup") {
			t.Errorf("%s: Open: %v, want ErrCorrupt", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestCheckWrites: a failure is reported with since when, and a write of
// the check's own clears it once writes work.
func TestCheckWrites(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.CheckWrites(ctx); err != nil {
		t.Fatalf("fresh store: %v", err)
	}
	s.health.failed(errors.New("disk I/O error"), s.Now())
	if err := s.WriteFailure(); !errors.Is(err, ErrUnwritable) || !strings.Contains(err.Error(), "since 2027-03-04T09:00:00Z") || !strings.Contains(err.Error(), "disk I/O error") {
		t.Errorf("WriteFailure: %v", err)
	}
	if err := s.CheckWrites(ctx); err != nil {
		t.Errorf("CheckWrites after the disk has room: %v", err)
	}
}
