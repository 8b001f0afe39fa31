package placeholder

import "testing"

func TestNumbered(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE b = ? AND c IN (?, ?)`, `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`},
		{`SELECT '?', "x?" FROM t WHERE k = ?`, `SELECT '?', "x?" FROM t WHERE k = $1`},
		{`SELECT 'it''s ?' WHERE a = ?`, `SELECT 'it''s ?' WHERE a = $1`},
	} {
		if got := Numbered(tc.in); got != tc.want {
			t.Errorf("Numbered(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzNumbered(f *testing.F) {
	f.Add(`SELECT a FROM t WHERE b = ? AND c = '?'`)
	f.Fuzz(func(t *testing.T, q string) {
		out := Numbered(q)
		if len(out) < len(q) {
			t.Errorf("Numbered(%q) = %q shrank", q, out)
		}
	})
}
