package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Goal is what a campaign aims for: an amount of money ("3000 USD") or of
// volunteer time ("200h"). Money is kept in minor units so that pledges
// add up exactly.
type Goal struct {
	Raw string // as written in the config

	// Amount is a money goal in minor units of Currency (cents for USD,
	// yen for JPY); Currency is its ISO 4217 code. Both are zero for a
	// time goal.
	Amount   int64
	Currency string

	// Hours is a time goal; 0 for a money goal.
	Hours int
}

// IsMoney reports whether the goal is an amount of money.
func (g Goal) IsMoney() bool { return g.Currency != "" }

func (g Goal) String() string { return g.Raw }

const goalHint = `write an amount and an ISO 4217 currency code like "3000 USD" or "1500.50 EUR", or hours like "200h"`

// maxGoal bounds amounts and hours far above any real campaign, so the
// arithmetic on pledges can never overflow.
const maxGoal = 1_000_000_000_000

// ParseGoal parses a campaign goal: "AMOUNT CODE" with an ISO 4217 code
// ("3000 USD", "1500.50 EUR", "500000 JPY") or "Nh" hours ("200h",
// "200 hours"). Errors say how to write it right.
func ParseGoal(s string) (Goal, error) {
	g := Goal{Raw: s}
	f := strings.Fields(s)
	if len(f) == 0 {
		return g, fmt.Errorf("is empty: %s", goalHint)
	}

	// Hours: "200h", "200 h", "200 hours".
	if len(f) <= 2 {
		num, unit := f[0], ""
		if len(f) == 2 {
			unit = f[1]
		} else if i := strings.IndexFunc(num, func(r rune) bool { return r < '0' || r > '9' }); i > 0 {
			num, unit = num[:i], num[i:]
		}
		switch strings.ToLower(unit) {
		case "h", "hour", "hours":
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil || n <= 0 || n > maxGoal {
				return g, fmt.Errorf("has a bad number of hours %q: write a positive whole number of hours like \"200h\"", num)
			}
			g.Hours = int(n)
			return g, nil
		}
	}

	if len(f) == 1 {
		if i := strings.IndexFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' }); i > 0 {
			if _, ok := currencyDigits[strings.ToUpper(s[i:])]; ok {
				return g, fmt.Errorf("needs a space between amount and currency: write %q", s[:i]+" "+s[i:])
			}
		}
	}
	if len(f) != 2 {
		return g, fmt.Errorf("is not a goal (got %q): %s", s, goalHint)
	}
	amount, code := f[0], strings.ToUpper(f[1])
	if _, ok := currencyDigits[strings.ToUpper(amount)]; ok {
		return g, fmt.Errorf("puts the currency first (got %q): write %q", s, f[1]+" "+f[0])
	}
	digits, ok := currencyDigits[code]
	if !ok {
		return g, fmt.Errorf("has unknown currency %q: use an ISO 4217 code like USD, EUR or GBP after the amount, e.g. \"3000 USD\"", f[1])
	}
	whole, frac, _ := strings.Cut(amount, ".")
	if whole == "" || !allDigits(whole) || (strings.Contains(amount, ".") && !allDigits(frac)) {
		return g, fmt.Errorf("has a bad amount %q: write digits with an optional decimal point and no separators, like \"3000 %s\" or \"1500.50 %s\"", amount, code, code)
	}
	if len(frac) > digits {
		return g, fmt.Errorf("has too many decimals in %q: %s has %d", amount, code, digits)
	}
	frac += strings.Repeat("0", digits-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n > maxGoal {
		return g, fmt.Errorf("amount %q is too large", amount)
	}
	if n <= 0 {
		return g, fmt.Errorf("amount must be more than zero (got %q)", amount)
	}
	g.Amount, g.Currency = n, code
	return g, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// currencyDigits maps the ISO 4217 codes of currencies in use to their
// number of minor unit digits (2 for USD: cents).
var currencyDigits = func() map[string]int {
	m := map[string]int{}
	add := func(digits int, codes string) {
		for _, c := range strings.Fields(codes) {
			m[c] = digits
		}
	}
	add(0, "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF")
	add(2, `AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB
		BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP
		CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ
		GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK
		LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV
		MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD
		RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB
		TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG
		YER ZAR ZMW ZWG`)
	add(3, "BHD IQD JOD KWD LYD OMR TND")
	add(4, "CLF UYW")
	return m
}()
