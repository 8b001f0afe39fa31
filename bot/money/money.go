// Package money is amounts of money as people write them: a decimal
// amount and an ISO 4217 currency code, kept in minor units (cents) so
// that sums are exact. Amounts in different currencies are added only
// through a [Rate] the organizers gave, exactly.
package money

import (
	"fmt"
	"strconv"
	"strings"
)

// Max bounds an amount in minor units far above any real pledge or goal,
// so sums can never overflow.
const Max = 1_000_000_000_000

// Amount is money in minor units of a currency.
type Amount struct {
	Minor    int64  // 250.00 USD is 25000
	Currency string // ISO 4217 code
}

// Digits returns the number of minor unit digits of a currency (2 for
// USD), and whether the code is a currency in use.
func Digits(code string) (int, bool) {
	d, ok := currencyDigits[strings.ToUpper(code)]
	return d, ok
}

// IsCurrency reports whether s is an ISO 4217 code in use, in any case.
func IsCurrency(s string) bool {
	_, ok := Digits(s)
	return ok
}

// names people write instead of codes, to point them to the code.
var names = map[string]string{
	"dollar": "USD", "dollars": "USD", "$": "USD", "us$": "USD", "euro": "EUR", "euros": "EUR", "€": "EUR",
	"pound": "GBP", "pounds": "GBP", "£": "GBP", "yen": "JPY", "¥": "JPY", "franc": "CHF", "francs": "CHF",
}

// Parse reads an amount: a decimal number with at most the currency's
// digits after the point and an ISO 4217 code, "250 USD", "1500.50 EUR",
// "500000 JPY". Errors say how to write it right.
func Parse(amount, code string) (Amount, error) {
	upper := strings.ToUpper(code)
	digits, ok := currencyDigits[upper]
	if !ok {
		if c, named := names[strings.ToLower(code)]; named {
			return Amount{}, fmt.Errorf("write the currency as its ISO 4217 code: %s %s, not %s", amount, c, code)
		}
		return Amount{}, fmt.Errorf("%q is not a currency code: use an ISO 4217 code like USD, EUR or GBP, as in 100 EUR", code)
	}
	a := strings.ReplaceAll(amount, "_", "")
	if strings.HasPrefix(a, "-") {
		return Amount{}, fmt.Errorf("the amount must be more than zero, not %s", amount)
	}
	whole, frac, hasPoint := strings.Cut(a, ".")
	if !allDigits(whole) || (hasPoint && !allDigits(frac)) {
		if strings.ContainsAny(a, ",") {
			return Amount{}, fmt.Errorf("write %s without thousands separators, with a point for decimals, as in 1500.50 %s", amount, upper)
		}
		return Amount{}, fmt.Errorf("%q is not an amount: write digits with an optional decimal point, as in 250 %s or 99.50 %s", amount, upper, upper)
	}
	if len(frac) > digits {
		if digits == 0 {
			return Amount{}, fmt.Errorf("%s has no decimals: write a whole amount, as in 5000 %s", upper, upper)
		}
		return Amount{}, fmt.Errorf("%s has %d decimals, %s has more", upper, digits, amount)
	}
	frac += strings.Repeat("0", digits-len(frac))
	if len(whole) > 15 {
		return Amount{}, fmt.Errorf("%s %s is more than anyone pledges", amount, upper)
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n > Max {
		return Amount{}, fmt.Errorf("%s %s is more than anyone pledges", amount, upper)
	}
	if n <= 0 {
		return Amount{}, fmt.Errorf("the amount must be more than zero, not %s", amount)
	}
	return Amount{Minor: n, Currency: upper}, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// String writes the amount with its currency's decimals and thousands
// separators: "1,850.00 USD".
func (a Amount) String() string { return Format(a.Minor, a.Currency) }

// Format writes minor units of a currency: Format(185000, "USD") is
// "1,850.00 USD".
func Format(minor int64, currency string) string {
	digits, _ := Digits(currency)
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := strconv.FormatInt(minor, 10)
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	whole, frac := s[:len(s)-digits], s[len(s)-digits:]
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if digits > 0 {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String() + " " + currency
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
