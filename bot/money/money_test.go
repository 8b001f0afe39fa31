package money

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		amount, code string
		want         Amount
		err          string
	}{
		{"250", "USD", Amount{25000, "USD"}, ""},
		{"99.5", "eur", Amount{9950, "EUR"}, ""},
		{"1500.50", "EUR", Amount{150050, "EUR"}, ""},
		{"5000", "JPY", Amount{5000, "JPY"}, ""},
		{"1.234", "BHD", Amount{1234, "BHD"}, ""},
		{"5", "dollars", Amount{}, "ISO 4217 code: 5 USD"},
		{"-5", "USD", Amount{}, "more than zero"},
		{"0", "USD", Amount{}, "more than zero"},
		{"1e9", "USD", Amount{}, "is not an amount"},
		{"1,000", "USD", Amount{}, "without thousands separators"},
		{"a lot", "USD", Amount{}, "is not an amount"},
		{"10", "XYZ", Amount{}, `"XYZ" is not a currency code`},
		{"1.5", "JPY", Amount{}, "JPY has no decimals"},
		{"1.555", "USD", Amount{}, "USD has 2 decimals"},
		{"99999999999999999999", "USD", Amount{}, "more than anyone pledges"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.amount, tt.code)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q, %q) error %v, want one containing %q", tt.amount, tt.code, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q, %q) = %v, %v; want %v", tt.amount, tt.code, got, err, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		minor int64
		cur   string
		want  string
	}{{185000, "USD", "1,850.00 USD"}, {5, "EUR", "0.05 EUR"}, {5000, "JPY", "5,000 JPY"}, {1234, "BHD", "1.234 BHD"}, {100000000, "USD", "1,000,000.00 USD"}} {
		if got := Format(tt.minor, tt.cur); got != tt.want {
			t.Errorf("Format(%d, %s) = %q, want %q", tt.minor, tt.cur, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"250 USD", "1.5 JPY", "-5 USD", "1e9 USD", "a lot", "5 dollars", "0.001 BHD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		amount, code, _ := strings.Cut(s, " ")
		a, err := Parse(amount, code)
		if err != nil {
			return
		}
		if a.Minor <= 0 || a.Minor > Max || !IsCurrency(a.Currency) {
			t.Fatalf("Parse(%q) = %+v", s, a)
		}
		// What Format writes reads back the same (less separators).
		text := strings.ReplaceAll(Format(a.Minor, a.Currency), ",", "")
		n, c, _ := strings.Cut(text, " ")
		if back, err := Parse(n, c); err != nil || back != a {
			t.Fatalf("round trip of %q: %q gave %+v, %v", s, text, back, err)
		}
	})
}
