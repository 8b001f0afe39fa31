package config

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallwayhq/hallway/bot/money"
)

// decoder turns the generic tree from the TOML parser into a Config,
// collecting every problem instead of stopping at the first.
type decoder struct {
	file   string
	lines  lineIndex
	errs   Errors
	failed map[string]bool // keys with an error
	// failedUnder holds the tables and arrays with an error inside.
	failedUnder map[string]bool
	defaults    map[string]bool
	matrixOn    bool // [matrix] has a homeserver: events may have Matrix rooms
}

// errorf reports a problem with key, on the key's line or, if the file
// lacks it, on that of its table. Only the first problem with a key is
// kept: a value of the wrong type has been replaced by a zero value, and
// the checks that then find the zero value wrong would only add noise.
func (d *decoder) errorf(key, format string, args ...any) {
	d.errorAt(key, key, format, args...)
}

// errorAt is errorf for a key best reported on the line of another: a
// missing key that another one requires, say, is reported where that one
// is set.
func (d *decoder) errorAt(lineKey, key, format string, args ...any) {
	if d.failed[key] {
		return
	}
	if d.failed == nil {
		d.failed = map[string]bool{}
		d.failedUnder = map[string]bool{}
	}
	d.failed[key] = true
	for p := parentKey(key); p != "" && !d.failedUnder[p]; p = parentKey(p) {
		d.failedUnder[p] = true
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: d.lines.find(lineKey), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// table is one TOML table being decoded. It records every key asked for,
// present or not, so that done can report the rest as unknown and suggest
// what was meant.
type table struct {
	d    *decoder
	path string
	m    map[string]any // nil for a table missing from the file
	used map[string]bool
}

func (d *decoder) table(path string, m map[string]any) *table {
	return &table{d: d, path: path, m: m, used: map[string]bool{}}
}

func (t *table) key(k string) string { return joinKey(t.path, k) }

func (t *table) get(k string) (any, bool) {
	t.used[k] = true
	v, ok := t.m[k]
	return v, ok
}

// has reports whether the file sets k.
func (t *table) has(k string) bool {
	_, ok := t.m[k]
	return ok
}

// def records that k was filled in with a default, for Print.
func (t *table) def(k string) { t.d.defaults[t.key(k)] = true }

// str decodes a string. It reports whether the key was set to a string.
func (t *table) str(k string, dst *string) bool {
	v, ok := t.get(k)
	if !ok {
		return false
	}
	s, ok := v.(string)
	if !ok {
		switch v.(type) {
		case int64, float64, bool:
			t.d.errorf(t.key(k), "must be a string: write %s = \"%s\" in double quotes", k, describe(v))
		default:
			t.d.errorf(t.key(k), "must be a string in double quotes (got %s)", describe(v))
		}
		return false
	}
	*dst = s
	return true
}

// strDefault decodes a string, or fills in def when the key is absent.
func (t *table) strDefault(k string, dst *string, def string) {
	if !t.has(k) {
		t.get(k)
		*dst = def
		t.def(k)
		return
	}
	t.str(k, dst)
}

// int decodes a whole number.
func (t *table) int(k string, dst *int) bool {
	v, ok := t.get(k)
	if !ok {
		return false
	}
	switch n := v.(type) {
	case int64:
		if n > math.MaxInt32 || n < math.MinInt32 {
			t.d.errorf(t.key(k), "is out of range (got %d)", n)
			return false
		}
		*dst = int(n)
		return true
	case float64:
		t.d.errorf(t.key(k), "must be a whole number, e.g. %s = %d (got %s)", k, int64(n), describe(v))
	case string:
		if _, err := strconv.Atoi(strings.TrimSpace(n)); err == nil {
			t.d.errorf(t.key(k), "must be a number, not a string: write %s = %s without quotes", k, strings.TrimSpace(n))
		} else {
			t.d.errorf(t.key(k), "must be a whole number (got %s)", describe(v))
		}
	default:
		t.d.errorf(t.key(k), "must be a whole number (got %s)", describe(v))
	}
	return false
}

// durationDefault decodes a duration ("48h", "90m"), or fills in def when
// the key is absent.
func (t *table) durationDefault(k string, dst *time.Duration, def time.Duration) {
	if !t.has(k) {
		t.get(k)
		*dst = def
		t.def(k)
		return
	}
	var s string
	if !t.str(k, &s) {
		return
	}
	d, err := parseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		t.d.errorf(t.key(k), "must be a positive duration such as \"14d\", \"48h\" or \"90m\" (got %q)", s)
		return
	}
	*dst = d
}

// parseDuration is time.ParseDuration with days: "14d", "1d12h".
func parseDuration(s string) (time.Duration, error) {
	days := time.Duration(0)
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, err
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	return days + d, err
}

// intDefault decodes a whole number, or fills in def when absent.
func (t *table) intDefault(k string, dst *int, def int) {
	if !t.has(k) {
		t.get(k)
		*dst = def
		t.def(k)
		return
	}
	t.int(k, dst)
}

// float decodes a number; whole numbers are fine too ("send_rate = 2").
func (t *table) float(k string, dst *float64) bool {
	v, ok := t.get(k)
	if !ok {
		return false
	}
	switch n := v.(type) {
	case float64:
		*dst = n
		return true
	case int64:
		*dst = float64(n)
		return true
	case string:
		if _, err := strconv.ParseFloat(strings.TrimSpace(n), 64); err == nil {
			t.d.errorf(t.key(k), "must be a number, not a string: write %s = %s without quotes", k, strings.TrimSpace(n))
			return false
		}
	}
	t.d.errorf(t.key(k), "must be a number, e.g. %s = 1.5 (got %s)", k, describe(v))
	return false
}

// bool decodes true or false.
func (t *table) bool(k string, dst *bool) bool {
	v, ok := t.get(k)
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		t.d.errorf(t.key(k), "must be true or false, without quotes (got %s)", describe(v))
		return false
	}
	*dst = b
	return true
}

// strs decodes an array of strings.
func (t *table) strs(k string, dst *[]string) bool {
	v, ok := t.get(k)
	if !ok {
		return false
	}
	arr, ok := v.([]any)
	if !ok {
		if s, isStr := v.(string); isStr {
			t.d.errorf(t.key(k), "must be an array of strings, e.g. %s = [%q] (got %s)", k, s, describe(v))
		} else {
			t.d.errorf(t.key(k), `must be an array of strings, e.g. %s = ["a", "b"] (got %s)`, k, describe(v))
		}
		return false
	}
	out := make([]string, 0, len(arr))
	good := true
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			t.d.errorf(indexKey(t.key(k), i), "must be a string in double quotes (got %s)", describe(e))
			good = false
			continue
		}
		out = append(out, s)
	}
	*dst = out
	return good
}

// sub returns the table at k. A missing table comes back empty so that
// defaults and "required" errors still apply to its keys.
func (t *table) sub(k string) *table {
	v, ok := t.get(k)
	if !ok {
		return t.d.table(t.key(k), nil)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.d.errorf(t.key(k), "must be a table: write [%s] on a line of its own and its keys below it (got %s)", tomlPath(t.key(k)), describe(v))
		return t.d.table(t.key(k), nil)
	}
	return t.d.table(t.key(k), m)
}

// list returns the tables of an array of tables, written either as
// [[k]] sections or as an array of inline tables.
func (t *table) list(k, example string) []*table {
	v, ok := t.get(k)
	if !ok {
		return nil
	}
	var tables []map[string]any
	switch a := v.(type) {
	case []map[string]any:
		tables = a
	case []any:
		for i, e := range a {
			m, ok := e.(map[string]any)
			if !ok {
				t.d.errorf(indexKey(t.key(k), i), "must be a table, e.g. %s (got %s)", example, describe(e))
				continue
			}
			tables = append(tables, m)
		}
	case map[string]any:
		t.d.errorf(t.key(k), "must be an array of tables: write [[%s]] with double brackets, once per entry", tomlPath(t.key(k)))
		return nil
	default:
		t.d.errorf(t.key(k), "must be an array of tables, e.g. %s (got %s)", example, describe(v))
		return nil
	}
	out := make([]*table, len(tables))
	for i, m := range tables {
		out[i] = t.d.table(indexKey(t.key(k), i), m)
	}
	return out
}

// tomlPath turns a key path back into what a table header says:
// "event[0].day[1].slots" → "event.day.slots".
func tomlPath(path string) string {
	var b strings.Builder
	skip := false
	for _, r := range path {
		switch {
		case r == '[':
			skip = true
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// secretKeys maps a key that would hold a secret itself to the secret
// whose *_env and *_file keys should name it instead.
var secretKeys = map[string]string{
	"sasl_password": "sasl_password",
	"password":      "sasl_password",
	"imap_password": "imap_password",
	"smtp_password": "smtp_password",
}

// done reports the keys of the table nobody asked for: typos, keys in the
// wrong table, or secrets written into the file.
func (t *table) done() {
	known := slices.Sorted(maps.Keys(t.used))
	// Sorted, so that unknown keys on one line are reported in a stable order.
	for _, k := range slices.Sorted(maps.Keys(t.m)) {
		if t.used[k] {
			continue
		}
		key := t.key(k)
		lower := strings.ToLower(k)
		switch {
		case secretKeys[lower] != "" || looksSecret(lower):
			how := "a *_env key naming an environment variable (or a *_file key naming a file)"
			if base := secretKeys[lower]; t.used[base+"_env"] {
				how = fmt.Sprintf("%s_env = %q naming an environment variable (or %s_file naming a file)",
					base, exampleEnv[tomlPath(t.key(base))], base)
			}
			t.d.errorf(key, "secrets never go in the config file, which is kept in git; remove it and use %s", how)
		case nearest(k, known) != "":
			t.d.errorf(key, "unknown key; did you mean %q?", nearest(k, known))
		case t.path == "":
			t.d.errorf(key, "unknown key; the top level takes only %s", tableList(known))
		default:
			t.d.errorf(key, "unknown key; this table takes %s", strings.Join(known, ", "))
		}
	}
}

func looksSecret(k string) bool {
	if strings.HasSuffix(k, "_env") || strings.HasSuffix(k, "_file") {
		return false
	}
	for _, w := range []string{"password", "passwd", "secret", "token"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

func tableList(keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		if k == "event" {
			out[i] = "[[event]]"
		} else {
			out[i] = "[" + k + "]"
		}
	}
	return strings.Join(out, ", ")
}

// nearest returns the known key closest to k, if it is close enough to be
// a likely typo ("capacty", "room" for "rooms").
func nearest(k string, known []string) string {
	best, bestDist := "", 3
	for _, c := range known {
		if d := editDistance(strings.ToLower(k), c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist >= len(k) { // "a" is one edit from everything short
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 { // not a typo; keep fuzzing cheap
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe shows a decoded TOML value the way the user wrote it.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return "the date-time " + formatTOMLTime(v)
	case map[string]any:
		return "a table"
	case []map[string]any, []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// config decodes the whole file. Defaults are filled in here, next to the
// keys they belong to; checks that need more than one key are in
// validate.go.
func (d *decoder) config(root map[string]any) *Config {
	t := d.table("", root)
	c := &Config{File: d.file, lines: d.lines, defaults: d.defaults}
	dir := filepath.Dir(d.file)

	st := t.sub("store")
	if st.str("url", &c.Store.URL) {
		// A URL replaces the default path; both given is an error
		// (validate.go).
		st.str("path", &c.Store.Path)
	} else {
		st.strDefault("path", &c.Store.Path, "hallway.db")
	}
	if c.Store.Path != "" {
		c.Store.Path = resolvePath(dir, c.Store.Path)
	}
	if st.str("journal", &c.Store.Journal) {
		c.Store.Journal = resolvePath(dir, c.Store.Journal)
	} else {
		if c.Store.URL != "" {
			c.Store.Journal = resolvePath(dir, "hallway-sent")
		} else if c.Store.Path != "" {
			c.Store.Journal = c.Store.Path + "-sent"
		}
		st.def("journal")
	}
	if !st.str("instance", &c.Store.Instance) {
		st.def("instance")
	}
	st.durationDefault("lease_ttl", &c.Store.LeaseTTL, DefaultLeaseTTL)
	st.done()

	w := t.sub("web")
	w.strDefault("listen", &c.Web.Listen, "127.0.0.1:8080")
	if !w.str("base_url", &c.Web.BaseURL) {
		c.Web.BaseURL = defaultBaseURL(c.Web.Listen)
		w.def("base_url")
	}
	c.Web.BaseURL = strings.TrimRight(c.Web.BaseURL, "/")
	if !w.bool("public_metrics", &c.Web.PublicMetrics) {
		w.def("public_metrics")
	}
	w.done()

	d.irc(t.sub("irc"), &c.IRC, dir)
	d.mail(t.sub("mail"), &c.Mail, dir)
	d.matrix(t.sub("matrix"), &c.Matrix, dir)

	for _, et := range t.list("event", `[[event]] with slug = "my-event-2027"`) {
		c.Events = append(c.Events, d.event(et))
	}
	t.done()
	return c
}

func (d *decoder) irc(t *table, irc *IRC, dir string) {
	t.str("server", &irc.Server)
	if !t.bool("tls", &irc.TLS) {
		irc.TLS = true
		t.def("tls")
	}
	port := 6667
	if irc.TLS {
		port = 6697
	}
	t.intDefault("port", &irc.Port, port)
	t.strDefault("nick", &irc.Nick, "hallway")
	t.str("sasl_user", &irc.SASLUser)
	t.str("sasl_password_env", &irc.SASLPasswordEnv)
	if t.str("sasl_password_file", &irc.SASLPasswordFile) && irc.SASLPasswordFile != "" {
		irc.SASLPasswordFile = resolvePath(dir, irc.SASLPasswordFile)
	}
	t.strDefault("prefix", &irc.Prefix, "!")
	if !t.bool("require_account", &irc.RequireAccount) {
		irc.RequireAccount = true
		t.def("require_account")
	}
	t.intDefault("send_burst", &irc.SendBurst, 4)
	if !t.float("send_rate", &irc.SendRate) {
		irc.SendRate = 1.0
		if !t.has("send_rate") {
			t.def("send_rate")
		}
	}
	t.strs("channels", &irc.Channels)
	t.done()
}

func (d *decoder) mail(t *table, m *Mail, dir string) {
	security := func(k string, dst *Security) {
		var s string
		if !t.has(k) {
			t.get(k)
			*dst = SecurityTLS
			t.def(k)
			return
		}
		if t.str(k, &s) {
			*dst = Security(s)
		}
	}
	secretFile := func(k string, dst *string) {
		if t.str(k, dst) && *dst != "" {
			*dst = resolvePath(dir, *dst)
		}
	}
	t.str("imap", &m.IMAP)
	security("imap_security", &m.IMAPSecurity)
	t.str("imap_user", &m.IMAPUser)
	t.str("imap_password_env", &m.IMAPPasswordEnv)
	secretFile("imap_password_file", &m.IMAPPasswordFile)
	t.strDefault("mailbox", &m.Mailbox, "INBOX")
	t.strDefault("processed_mailbox", &m.ProcessedMailbox, "Processed")
	t.strDefault("quarantine_mailbox", &m.QuarantineMailbox, "Quarantine")
	t.intDefault("answers_per_day", &m.AnswersPerDay, 10)
	t.str("smtp", &m.SMTP)
	security("smtp_security", &m.SMTPSecurity)
	t.str("smtp_user", &m.SMTPUser)
	t.str("smtp_password_env", &m.SMTPPasswordEnv)
	secretFile("smtp_password_file", &m.SMTPPasswordFile)
	t.str("from", &m.From)
	t.str("list", &m.List)
	t.done()
}

func (d *decoder) matrix(t *table, m *Matrix, dir string) {
	t.str("homeserver", &m.Homeserver)
	m.Homeserver = strings.TrimRight(m.Homeserver, "/")
	t.str("user_id", &m.UserID)
	t.str("access_token_env", &m.AccessTokenEnv)
	if t.str("access_token_file", &m.AccessTokenFile) && m.AccessTokenFile != "" {
		m.AccessTokenFile = resolvePath(dir, m.AccessTokenFile)
	}
	t.intDefault("send_burst", &m.SendBurst, 10)
	if !t.float("send_rate", &m.SendRate) {
		m.SendRate = 1.0
		if !t.has("send_rate") {
			t.def("send_rate")
		}
	}
	t.done()
}

func (d *decoder) event(t *table) Event {
	var e Event
	t.str("slug", &e.Slug)
	t.str("name", &e.Name)
	t.str("timezone", &e.Timezone)
	e.Location = d.location(t, e.Timezone)
	t.str("venue", &e.Venue)
	t.str("channel", &e.Channel)
	t.strs("channels", &e.Channels)
	t.strs("organizers", &e.Organizers)
	t.strs("organizer_emails", &e.OrganizerEmails)
	t.int("registration_capacity", &e.RegistrationCapacity)
	t.durationDefault("registration_hold", &e.RegistrationHold, 48*time.Hour)
	t.durationDefault("registration_day_hold", &e.RegistrationDayHold, 30*time.Minute)
	t.durationDefault("pledge_reminder_after", &e.PledgeReminderAfter, 14*24*time.Hour)
	t.intDefault("pledge_reminders", &e.PledgeReminders, 2)
	if !t.bool("keep_topic", &e.KeepTopic) {
		t.def("keep_topic")
	}
	t.intDefault("votes_per_person", &e.VotesPerPerson, 4)
	t.intDefault("board_filling", &e.BoardFilling, 75)
	t.intDefault("board_full", &e.BoardFull, 100)
	t.intDefault("retime_weight", &e.RetimeWeight, 1)
	t.durationDefault("freeze_before", &e.FreezeBefore, 2*time.Hour)
	t.durationDefault("retention", &e.Retention, DefaultRetention)
	t.str("coc_url", &e.CocURL)
	t.strs("coc_team", &e.CocTeam)

	if t.has("phases") {
		pt := t.sub("phases")
		e.Phases = map[string]Phase{}
		for _, name := range phaseNames {
			if !pt.has(name) {
				pt.get(name)
				continue
			}
			ph := pt.sub(name)
			var p Phase
			d.timeKey(ph, "open", e.Location, &p.Open)
			d.timeKey(ph, "close", e.Location, &p.Close)
			ph.done()
			e.Phases[name] = p
		}
		for _, k := range slices.Sorted(maps.Keys(pt.m)) {
			if !slices.Contains(phaseNames, k) {
				pt.get(k) // reported here rather than as a plain unknown key
				d.errorf(pt.key(k), "unknown phase; the phases are %s", strings.Join(phaseNames, ", "))
			}
		}
		pt.done()
	} else {
		t.get("phases")
	}

	for _, rt := range t.list("room", `[[event.room]] with name = "Room 104"`) {
		var r Room
		rt.str("name", &r.Name)
		rt.int("capacity", &r.Capacity)
		rt.str("channel", &r.Channel)
		rt.done()
		e.Rooms = append(e.Rooms, r)
	}
	for _, dt := range t.list("day", `[[event.day]] with date = "2027-03-04"`) {
		e.Days = append(e.Days, d.day(dt, e.Location))
	}
	for _, ct := range t.list("campaign", `[[event.campaign]] with slug = "ci-macs"`) {
		var c Campaign
		ct.str("slug", &c.Slug)
		ct.str("title", &c.Title)
		if ct.str("goal", &c.Goal.Raw) {
			g, err := ParseGoal(c.Goal.Raw)
			if err != nil {
				d.errorf(ct.key("goal"), "%v", err)
			}
			c.Goal = g
		}
		d.timeKey(ct, "closes", e.Location, &c.Closes)
		ct.done()
		e.Campaigns = append(e.Campaigns, c)
	}
	pairs := map[[2]string]int{}
	for i, rt := range t.list("exchange_rate", `[[event.exchange_rate]] with from = "EUR", to = "USD", rate = "1.08", date = "2026-11-30"`) {
		r, ok := d.exchangeRate(rt, e.Location)
		if !ok {
			continue
		}
		if j, dup := pairs[[2]string{r.From, r.To}]; dup {
			d.errorf(rt.key("from"), "%s to %s already has a rate, exchange_rate[%d]: keep one (the latest), so every total says which rate it used", r.From, r.To, j)
			continue
		}
		pairs[[2]string{r.From, r.To}] = i
		e.ExchangeRates = append(e.ExchangeRates, r)
	}
	t.done()
	return e
}

// exchangeRate decodes one [[event.exchange_rate]]. The rate is a string
// so that it is read exactly, as written: TOML floats are binary.
func (d *decoder) exchangeRate(t *table, loc *time.Location) (money.Rate, bool) {
	defer t.done()
	var from, to, rate string
	ok := true
	for _, k := range []struct {
		key string
		dst *string
	}{{"from", &from}, {"to", &to}} {
		if !t.has(k.key) {
			t.get(k.key)
			d.errorf(t.key(k.key), `is required: an ISO 4217 currency code, e.g. %s = "EUR"`, k.key)
			ok = false
		} else if t.str(k.key, k.dst) && !money.IsCurrency(*k.dst) {
			d.errorf(t.key(k.key), `must be an ISO 4217 currency code like "EUR" or "USD" (got %q)`, *k.dst)
			ok = false
		}
	}
	switch v, has := t.m["rate"]; {
	case !has:
		t.get("rate")
		d.errorf(t.key("rate"), `is required: how many of "to" one "from" is worth, as a quoted decimal, e.g. rate = "1.08"`)
		ok = false
	case isNumber(v):
		t.get("rate")
		d.errorf(t.key("rate"), `must be quoted, rate = "%s", so that it is read exactly (a bare number is a binary float)`, describe(v))
		ok = false
	default:
		t.str("rate", &rate)
	}
	var date time.Time
	if v, has := t.get("date"); !has {
		d.errorf(t.key("date"), `is required: the day the rate was taken, e.g. date = "2026-11-30"; it is shown with every total it converts`)
		ok = false
	} else if dt, err := parseDate(v, loc); err != nil {
		d.errorf(t.key("date"), "%v", err)
		ok = false
	} else {
		date = dt
	}
	r, err := money.ParseRate(from, to, rate, date)
	if err != nil && rate != "" {
		d.errorf(t.key("rate"), "%v", err)
		ok = false
	}
	if ok && strings.EqualFold(from, to) {
		d.errorf(t.key("to"), "must differ from from (both are %q)", strings.ToUpper(from))
		ok = false
	}
	return r, ok && !d.reported(t.key("from")) && !d.reported(t.key("to")) && !d.reported(t.key("rate"))
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64:
		return true
	}
	return false
}

// location loads the event's timezone. Until it is known, times are read
// in UTC so that decoding can go on and report their own problems.
func (d *decoder) location(t *table, name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		d.errorf(t.key("timezone"), `must be an IANA timezone name like "Europe/Brussels" or "UTC" (got %q), so the event's times don't depend on the machine`, name)
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		d.errorf(t.key("timezone"), `unknown timezone %q; use an IANA name like "America/Los_Angeles", "Europe/Brussels" or "UTC"`, name)
		return time.UTC
	}
	return loc
}

func (d *decoder) day(t *table, loc *time.Location) Day {
	var day Day
	if v, ok := t.get("date"); ok {
		date, err := parseDate(v, loc)
		if err != nil {
			d.errorf(t.key("date"), "%v", err)
		}
		day.Date = date
	}
	for _, st := range t.list("slots", `{ start = "09:00", minutes = 40, kind = "talk", rooms = ["Room 104"] }`) {
		var s Slot
		if v, ok := st.get("start"); ok {
			start, err := parseClock(v, day.Date)
			if err != nil {
				d.errorf(st.key("start"), "%v", err)
			}
			s.Start = start
		}
		st.int("minutes", &s.Minutes)
		var kind string
		if st.str("kind", &kind) {
			s.Kind = SlotKind(kind)
		}
		st.strs("rooms", &s.Rooms)
		st.str("title", &s.Title)
		st.done()
		day.Slots = append(day.Slots, s)
	}
	t.done()
	return day
}

// timeKey decodes an optional date-time read in loc unless it has an
// offset.
func (d *decoder) timeKey(t *table, k string, loc *time.Location, dst *time.Time) {
	v, ok := t.get(k)
	if !ok {
		return
	}
	tm, err := parseTime(v, loc)
	if err != nil {
		d.errorf(t.key(k), "%v", err)
		return
	}
	*dst = tm
}

// resolvePath makes p relative to the config file's directory, so the
// config means the same whatever directory hallway is started from.
func resolvePath(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// defaultBaseURL is the URL of the site served on listen.
func defaultBaseURL(listen string) string {
	if strings.HasPrefix(listen, ":") {
		listen = "localhost" + listen
	}
	return "http://" + listen
}
