package money

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Rate is an exchange rate the organizers give: one From is Rate To, as
// published on Date. It is exact: the decimal as written, no float.
type Rate struct {
	From, To string
	Text     string // the rate as written, "1.08"
	Date     time.Time
	num      int64 // Text without its point: 108
	scale    int   // digits after the point: 2
}

// maxRateDigits bounds a rate's digits, far above what any rate needs.
const maxRateDigits = 15

// ParseRate reads a rate written as a decimal ("1.08", "0.0062"). Errors
// say how to write it right.
func ParseRate(from, to, rate string, date time.Time) (Rate, error) {
	r := Rate{From: strings.ToUpper(from), To: strings.ToUpper(to), Text: rate, Date: date}
	whole, frac, _ := strings.Cut(rate, ".")
	if !allDigits(whole) || (frac != "" && !allDigits(frac)) || strings.HasSuffix(rate, ".") {
		return r, fmt.Errorf("%q is not a rate: write a decimal number with a point, like \"1.08\"", rate)
	}
	if len(whole)+len(frac) > maxRateDigits {
		return r, fmt.Errorf("%q has more than %d digits", rate, maxRateDigits)
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n <= 0 {
		return r, fmt.Errorf("the rate must be more than zero (got %q)", rate)
	}
	r.num, r.scale = n, len(frac)
	return r, nil
}

// Convert turns minor units of From into minor units of To at the rate,
// rounded down: money counted toward a goal is never more than what the
// rate gives.
func (r Rate) Convert(minor int64) int64 {
	fromDigits, _ := Digits(r.From)
	toDigits, _ := Digits(r.To)
	// minor / 10^fromDigits * num / 10^scale * 10^toDigits
	n := new(big.Int).Mul(big.NewInt(minor), big.NewInt(r.num))
	n.Mul(n, pow10(toDigits))
	d := new(big.Int).Mul(pow10(fromDigits), pow10(r.scale))
	n.Quo(n, d) // amounts are never negative: Quo rounds down
	if !n.IsInt64() {
		return math.MaxInt64
	}
	return n.Int64()
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// String says the rate for people: "1 EUR = 1.08 USD of 30 Nov 2026".
func (r Rate) String() string {
	s := fmt.Sprintf("1 %s = %s %s", r.From, r.Text, r.To)
	if !r.Date.IsZero() {
		s += " of " + r.Date.Format("2 Jan 2006")
	}
	return s
}
