package money

import (
	"math"
	"strings"
	"testing"
	"time"
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

func TestRateConvert(t *testing.T) {
	for _, tc := range []struct {
		from, to, rate string
		minor, want    int64
	}{
		{"EUR", "USD", "1.08", 50000, 54000},                       // 500.00 EUR = 540.00 USD
		{"EUR", "USD", "1.0837", 999, 1082},                        // 9.99 × 1.0837 = 10.826163: down to 10.82
		{"JPY", "USD", "0.0067", 500000, 335000},                   // 500000 JPY = 3,350.00 USD
		{"USD", "JPY", "149.5", 101, 150},                          // 1.01 USD = 150.995 JPY: down to 150
		{"KWD", "EUR", "3", 1001, 300},                             // 1.001 KWD = 3.003 EUR: 3.00
		{"EUR", "USD", "1", Max, Max},                              // the largest amount does not overflow
		{"EUR", "USD", "999999999.999999", 8 * Max, math.MaxInt64}, // what no int64 holds saturates
	} {
		r, err := ParseRate(tc.from, tc.to, tc.rate, time.Time{})
		if err != nil {
			t.Fatalf("%s: %v", tc.rate, err)
		}
		if got := r.Convert(tc.minor); got != tc.want {
			t.Errorf("%d %s at %s: got %d %s, want %d", tc.minor, tc.from, tc.rate, got, tc.to, tc.want)
		}
	}
	for _, bad := range []string{"", "1,08", "-1.08", "0", "0.000", "1.", ".5x", "1e3", "1234567890123456"} {
		if _, err := ParseRate("EUR", "USD", bad, time.Time{}); err == nil {
			t.Errorf("ParseRate(%q) took it", bad)
		}
	}
}
