package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/hallwayhq/hallway/cmd/hallway/internal/config"
	"github.com/hallwayhq/hallway/store/storetest"
)

// testStores maps the SQLite path of a test's config to the PostgreSQL
// database standing in for it in a PostgreSQL run, so a config loaded
// again (a restart) finds the same database.
var testStores sync.Map // path → URL

// testSource is the store a test's config naming path means: the path
// itself, or in a PostgreSQL run the database made for it.
func testSource(t testing.TB, path string) string {
	t.Helper()
	if !storetest.Postgres() {
		return path
	}
	if u, ok := testStores.Load(path); ok {
		return u.(string)
	}
	u := storetest.NewDatabase(t)
	testStores.Store(path, u)
	return u
}

// onTestStore points a loaded config at the test's store (testSource),
// and its file too, for the commands a test runs on it (hallway export,
// hallway check).
func onTestStore(t testing.TB, cfg *config.Config) {
	t.Helper()
	if !storetest.Postgres() || cfg.Store.Path == "" {
		return
	}
	path := cfg.Store.Path
	cfg.Store.URL = testSource(t, path)
	cfg.Store.Path = ""
	text, err := os.ReadFile(cfg.File)
	if err != nil {
		t.Fatal(err)
	}
	// The [store] table's path (and journal) give way to the URL.
	var out []string
	table, found := "", false
	for _, line := range strings.SplitAfter(string(text), "\n") {
		if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, "[") {
			table = trimmed
		}
		if table == "[store]" && (strings.HasPrefix(line, "path") || strings.HasPrefix(line, "journal")) {
			continue
		}
		out = append(out, line)
		if strings.TrimSpace(line) == "[store]" {
			found = true
			out = append(out, storeKeys(t, path))
		}
	}
	if !found {
		t.Fatalf("%s has no [store] table to point at PostgreSQL", cfg.File)
	}
	text = []byte(strings.Join(out, ""))
	if err := os.WriteFile(cfg.File, text, 0o644); err != nil {
		t.Fatal(err)
	}
}

// storeKeys is the [store] table's keys for a config a hallway process
// reads itself: the SQLite file at path, or in a PostgreSQL run the
// database standing in for it, with the journal where it would be.
func storeKeys(t testing.TB, path string) string {
	t.Helper()
	if !storetest.Postgres() {
		return fmt.Sprintf("path = %q\n", path)
	}
	return fmt.Sprintf("url = %q\njournal = %q\n", testSource(t, path), path+"-sent")
}
