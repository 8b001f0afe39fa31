package store

import (
	"database/sql"
	"fmt"
	"time"
)

// Meeting is one run of notes in a channel.
type Meeting struct {
	ID        int64
	EventID   int64
	Number    int64  // the session's proposal number; 0 if none
	Series    string // meetings of one series carry open actions over
	Title     string
	Channel   string
	StartedBy int64
	StartedAt time.Time
	EndsAt    time.Time // when it closes by itself; zero if never
	EndedAt   time.Time // zero while it runs
}

// Line is one line said in a meeting's channel while it ran.
type Line struct {
	ID      int64
	At      time.Time
	Nick    string
	Account string
	Text    string
	// Resolved is JSON: the accounts of the nicks a #chair or #action
	// line named, when it was said.
	Resolved string
}

const meetingColumns = `id, event_id, COALESCE(number, 0), series, title, channel, started_by, started_at, ends_at, ended_at`

func scanMeeting(row scanner) (Meeting, error) {
	var m Meeting
	var ends, ended sql.NullTime
	err := row.Scan(&m.ID, &m.EventID, &m.Number, &m.Series, &m.Title, &m.Channel, &m.StartedBy, &m.StartedAt, &ends, &ended)
	m.EndsAt, m.EndedAt = ends.Time, ended.Time
	return m, notFound(err)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// StartMeeting records a meeting that starts now.
func (tx *Tx) StartMeeting(m *Meeting) error {
	var number any
	if m.Number != 0 {
		number = m.Number
	}
	m.StartedAt = tx.now
	var err error
	m.ID, err = tx.insert(`INSERT INTO meeting (event_id, number, series, title, channel, started_by, started_at, ends_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.EventID, number, m.Series, m.Title, m.Channel, m.StartedBy, tx.now, nullTime(m.EndsAt))
	if err != nil {
		return fmt.Errorf("start meeting: %w", err)
	}
	return nil
}

// EndMeeting closes a meeting at t.
func (tx *Tx) EndMeeting(id int64, t time.Time) error {
	if _, err := tx.exec(`UPDATE meeting SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, t.UTC(), id); err != nil {
		return fmt.Errorf("end meeting: %w", err)
	}
	return nil
}

// Meeting returns a meeting by id, or ErrNotFound.
func (tx *Tx) Meeting(id int64) (Meeting, error) {
	return scanMeeting(tx.queryRow(`SELECT `+meetingColumns+` FROM meeting WHERE id = ?`, id))
}

// Meetings lists meetings, oldest first: an event's (eventID > 0), or
// every meeting still running (eventID = 0).
func (tx *Tx) Meetings(eventID int64) ([]Meeting, error) {
	q, args := `SELECT `+meetingColumns+` FROM meeting WHERE event_id = ? ORDER BY started_at, id`, []any{eventID}
	if eventID == 0 {
		q, args = `SELECT `+meetingColumns+` FROM meeting WHERE ended_at IS NULL ORDER BY started_at, id`, nil
	}
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("list meetings: %w", err)
	}
	defer rows.Close()
	var out []Meeting
	for rows.Next() {
		m, err := scanMeeting(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// PreviousInSeries returns the last meeting of a series that started
// before the given one, or ErrNotFound.
func (tx *Tx) PreviousInSeries(m Meeting) (Meeting, error) {
	return scanMeeting(tx.queryRow(`SELECT `+meetingColumns+` FROM meeting WHERE event_id = ? AND series = ? AND id < ?
		ORDER BY id DESC LIMIT 1`, m.EventID, m.Series, m.ID))
}

// AddLine appends a line to a meeting's log.
func (tx *Tx) AddLine(meetingID int64, l Line) error {
	if _, err := tx.exec(`INSERT INTO meeting_line (meeting_id, at, nick, account, text, resolved) VALUES (?, ?, ?, ?, ?, ?)`,
		meetingID, l.At.UTC(), l.Nick, l.Account, l.Text, l.Resolved); err != nil {
		return fmt.Errorf("log line: %w", err)
	}
	return nil
}

// Lines returns a meeting's log in order.
func (tx *Tx) Lines(meetingID int64) ([]Line, error) {
	rows, err := tx.query(`SELECT id, at, nick, account, text, resolved FROM meeting_line WHERE meeting_id = ? ORDER BY id`, meetingID)
	if err != nil {
		return nil, fmt.Errorf("read meeting log: %w", err)
	}
	defer rows.Close()
	var out []Line
	for rows.Next() {
		var l Line
		if err := rows.Scan(&l.ID, &l.At, &l.Nick, &l.Account, &l.Text, &l.Resolved); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// CheckIn records a person in the room, reporting whether they were new.
func (tx *Tx) CheckIn(eventID, personID, byID int64) (bool, error) {
	res, err := tx.exec(`INSERT INTO checkin (event_id, person_id, by_id, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		eventID, personID, byID, tx.now)
	if err != nil {
		return false, fmt.Errorf("check in: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Attendance counts who registered (with a seat) and who checked in.
func (tx *Tx) Attendance(eventID int64) (registered, checkedIn, registeredAndIn int, err error) {
	err = tx.queryRow(`SELECT
		(SELECT count(*) FROM registration WHERE event_id = ? AND status = 'registered'),
		(SELECT count(*) FROM checkin WHERE event_id = ?),
		(SELECT count(*) FROM checkin c JOIN registration r ON r.event_id = c.event_id AND r.person_id = c.person_id
			WHERE c.event_id = ? AND r.status = 'registered')`, eventID, eventID, eventID).Scan(&registered, &checkedIn, &registeredAndIn)
	return
}
