package bot

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeReference keeps the README's command table equal to the specs.
func TestReadmeReference(t *testing.T) {
	const path = "../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "<!-- commands:start -->\n", "<!-- commands:end -->"
	readme := string(data)
	i, j := strings.Index(readme, start), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q … %q markers", start, end)
	}
	want := Reference("!")
	if got := readme[i+len(start) : j]; got != want {
		if *update {
			readme = readme[:i+len(start)] + want + readme[j:]
			if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's command table is out of date: run go test ./bot -update\nwant:\n%s", want)
	}
}
