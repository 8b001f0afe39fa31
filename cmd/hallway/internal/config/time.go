package config

import (
	"fmt"
	"time"
)

// Times in the config without an offset are in the event's timezone: that
// is how organizers think of them ("voting closes at 12:45"), and it keeps
// the file right across daylight saving changes. A time may be written as
// a string or as a bare TOML date-time; both mean the same.

// Zone names BurntSushi/toml gives the TOML local date-time, date and time
// types. It parses them in the machine's zone; we only keep their wall
// clock and read it in the event's timezone.
const (
	tomlLocalDatetime = "datetime-local"
	tomlLocalDate     = "date-local"
	tomlLocalTime     = "time-local"
)

// localLayouts are the accepted date-times without an offset.
var localLayouts = []string{
	"2006-01-02T15:04",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05.999999999",
}

// offsetLayouts are the accepted date-times with an offset (RFC 3339,
// with or without seconds, as TOML allows).
var offsetLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04Z07:00",
}

const timeHint = `write a date and time like "2027-01-10T09:00" (in the event's timezone) or with an offset like "2027-01-10T09:00:00-08:00"`

// parseTime reads a date-time: a TOML date-time or a string in one of the
// layouts above. Without an offset it is read in loc.
func parseTime(v any, loc *time.Location) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		switch v.Location().String() {
		case tomlLocalDatetime:
			return wall(v, v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), loc)
		case tomlLocalDate:
			return time.Time{}, fmt.Errorf("needs a time of day as well as the date: %s", timeHint)
		case tomlLocalTime:
			return time.Time{}, fmt.Errorf("needs a date as well as the time: %s", timeHint)
		}
		return v, nil
	case string:
		for _, layout := range offsetLayouts {
			if t, err := time.Parse(layout, v); err == nil {
				return t, nil
			}
		}
		for _, layout := range localLayouts {
			if t, err := time.Parse(layout, v); err == nil {
				return wall(t, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
			}
		}
		if _, err := time.Parse(time.DateOnly, v); err == nil {
			return time.Time{}, fmt.Errorf(`needs a time of day as well as the date: write "%sT00:00" for the start of the day or "%sT23:59" for its end`, v, v)
		}
		return time.Time{}, fmt.Errorf("is not a date and time (got %q): %s", v, timeHint)
	}
	return time.Time{}, fmt.Errorf("is not a date and time (got %s): %s", describe(v), timeHint)
}

// parseDate reads a day ("2027-03-04", quoted or not) and returns its
// midnight in loc.
func parseDate(v any, loc *time.Location) (time.Time, error) {
	var d time.Time
	switch v := v.(type) {
	case time.Time:
		if v.Location().String() != tomlLocalDate {
			return time.Time{}, fmt.Errorf(`must be a date only, like 2027-03-04 (got %s)`, describe(v))
		}
		d = v
	case string:
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return time.Time{}, fmt.Errorf(`must be a date like "2027-03-04" (got %q)`, v)
		}
		d = t
	default:
		return time.Time{}, fmt.Errorf(`must be a date like "2027-03-04" (got %s)`, describe(v))
	}
	// Midnight can be skipped by a DST change in a few zones; time.Date
	// then moves on to the first instant of the day, which is what we want.
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc), nil
}

// parseClock reads a time of day ("09:00", quoted or not) and returns it
// on the given day, in the day's location.
func parseClock(v any, day time.Time) (time.Time, error) {
	const hint = `write the time of day like "09:00"; the date comes from the day`
	var c time.Time
	switch v := v.(type) {
	case time.Time:
		if v.Location().String() != tomlLocalTime {
			return time.Time{}, fmt.Errorf("must be a time of day only (got %s): %s", describe(v), hint)
		}
		c = v
	case string:
		var err error
		if c, err = time.Parse("15:04", v); err != nil {
			if c, err = time.Parse(time.TimeOnly, v); err != nil {
				return time.Time{}, fmt.Errorf("is not a time of day (got %q): %s", v, hint)
			}
		}
	default:
		return time.Time{}, fmt.Errorf("is not a time of day (got %s): %s", describe(v), hint)
	}
	if day.IsZero() {
		return time.Time{}, nil // the day's date is missing or bad, reported there
	}
	return wall(day, c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), day.Location())
}

// wall returns the instant the clocks in loc show the given time on date's
// day, refusing times that a daylight saving change skips: they happen
// nowhere, and silently moving them would surprise the organizers.
func wall(date time.Time, hour, min, sec, nsec int, loc *time.Location) (time.Time, error) {
	t := time.Date(date.Year(), date.Month(), date.Day(), hour, min, sec, nsec, loc)
	if t.Hour() != hour || t.Minute() != min {
		return time.Time{}, fmt.Errorf("%04d-%02d-%02dT%02d:%02d does not exist in %s: the clocks skip it for daylight saving time; pick another time",
			date.Year(), int(date.Month()), date.Day(), hour, min, loc)
	}
	return t, nil
}

// formatTOMLTime shows a decoded TOML date-time as it was written.
func formatTOMLTime(t time.Time) string {
	switch t.Location().String() {
	case tomlLocalDatetime:
		return t.Format("2006-01-02T15:04:05.999999999")
	case tomlLocalDate:
		return t.Format(time.DateOnly)
	case tomlLocalTime:
		return t.Format("15:04:05.999999999")
	}
	return t.Format(time.RFC3339Nano)
}
