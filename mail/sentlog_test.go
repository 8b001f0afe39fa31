package mail

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestSentLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hallway.db-sent")
	l, err := openSentLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := l.ids(); err != nil || len(ids) != 0 {
		t.Fatalf("new journal: %v, %v", ids, err)
	}
	var wg sync.WaitGroup
	for lane := range 4 {
		wg.Go(func() {
			for i := range 250 {
				if err := l.record(int64(lane*1000 + i + 1)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	l.Close() // as a killed process leaves it: no reset
	l, err = openSentLog(path)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := l.ids()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	if len(ids) != 1000 || ids[0] != 1 || ids[999] != 3250 || len(slices.Compact(ids)) != 1000 {
		t.Errorf("read back %d ids (%v … %v)", len(ids), ids[:min(3, len(ids))], ids[max(0, len(ids)-3):])
	}
	if err := l.reset(); err != nil {
		t.Fatal(err)
	}
	if err := l.record(7); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if b, _ := os.ReadFile(path); string(b) != "7\n" {
		t.Errorf("after reset and a record: %q", b)
	}
}

func TestReadSentLogSkipsDamage(t *testing.T) {
	ids, err := readSentLog(strings.NewReader("12\nnot an id\n-3\n0\n\n13\n14"))
	if err != nil || !slices.Equal(ids, []int64{12, 13}) { // 14 may be 145 cut short
		t.Errorf("got %v, %v", ids, err)
	}
}

// TestReadJournal: no journal is no ids; one being written is read to
// its last whole line.
func TestReadJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hallway.db-sent")
	if ids, err := ReadJournal(path); err != nil || ids != nil {
		t.Errorf("no journal: %v, %v", ids, err)
	}
	os.WriteFile(path, []byte("4\n5\n6"), 0o600)
	if ids, err := ReadJournal(path); err != nil || !slices.Equal(ids, []int64{4, 5}) {
		t.Errorf("got %v, %v", ids, err)
	}
}

func FuzzReadSentLog(f *testing.F) {
	f.Add("1\n2\n")
	f.Add("9223372036854775808\n\x00\n")
	f.Fuzz(func(t *testing.T, s string) {
		ids, _ := readSentLog(strings.NewReader(s))
		for _, id := range ids {
			if id <= 0 {
				t.Errorf("id %d read from %q", id, s)
			}
		}
	})
}
