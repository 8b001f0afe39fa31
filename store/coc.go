package store

import (
	"database/sql"
	"fmt"
	"time"
)

// Statuses of a code-of-conduct report.
const (
	ReportNew          = "new"
	ReportAcknowledged = "acknowledged"
	ReportResolved     = "resolved"
)

// Report is a code-of-conduct report. Only the event's team may read one:
// callers check who asks before calling Reports or Report.
type Report struct {
	ID         int64
	EventID    int64
	ReporterID int64
	Via        string // IRC or Mail
	// Contact is how the team answers the reporter: their account or
	// address ("" once they asked to be forgotten).
	Contact   string
	Text      string
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AuditEntry is one line of a report's audit log.
type AuditEntry struct {
	ReportID int64 // 0 for a list of reports
	Actor    string
	Action   string
	Note     string
	At       time.Time
}

// AddReport records a new report and its "filed" audit line.
func (tx *Tx) AddReport(r *Report) error {
	r.Status, r.CreatedAt, r.UpdatedAt = ReportNew, tx.now, tx.now
	id, err := tx.insert(`INSERT INTO coc_report (event_id, reporter_id, via, contact, text, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.EventID, r.ReporterID, r.Via, r.Contact, r.Text, r.Status, tx.now, tx.now)
	if err != nil {
		return fmt.Errorf("record report: %w", err)
	}
	r.ID = id
	return tx.Audit(r.EventID, r.ID, "reporter", "filed", "")
}

const reportColumns = `id, event_id, reporter_id, via, contact, text, status, created_at, updated_at`

func scanReport(sc interface{ Scan(...any) error }) (Report, error) {
	var r Report
	err := sc.Scan(&r.ID, &r.EventID, &r.ReporterID, &r.Via, &r.Contact, &r.Text, &r.Status, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

// Report returns one report of an event, or ErrNotFound.
func (tx *Tx) Report(eventID, id int64) (Report, error) {
	r, err := scanReport(tx.queryRow(`SELECT `+reportColumns+` FROM coc_report WHERE event_id = ? AND id = ?`, eventID, id))
	return r, notFound(err)
}

// Reports lists an event's reports, oldest first; with open, only those
// not resolved.
func (tx *Tx) Reports(eventID int64, open bool) ([]Report, error) {
	q := `SELECT ` + reportColumns + ` FROM coc_report WHERE event_id = ?`
	if open {
		q += ` AND status != 'resolved'`
	}
	rows, err := tx.query(q+` ORDER BY id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list reports: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, fmt.Errorf("list reports: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetReportStatus moves a report to status and logs who did it. It
// reports false if the report already had that status.
func (tx *Tx) SetReportStatus(eventID, id int64, status, actor, note string) (bool, error) {
	res, err := tx.exec(`UPDATE coc_report SET status = ?, updated_at = ? WHERE event_id = ? AND id = ? AND status != ?`,
		status, tx.now, eventID, id, status)
	if err != nil {
		return false, fmt.Errorf("set report status: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	return true, tx.Audit(eventID, id, actor, status, note)
}

// Audit adds a line to the audit log of a report (reportID 0: of the
// event's reports as a whole, as a list of them).
func (tx *Tx) Audit(eventID, reportID int64, actor, action, note string) error {
	var rid any
	if reportID != 0 {
		rid = reportID
	}
	if _, err := tx.exec(`INSERT INTO coc_audit (event_id, report_id, actor, action, note, at) VALUES (?, ?, ?, ?, ?, ?)`,
		eventID, rid, actor, action, note, tx.now); err != nil {
		return fmt.Errorf("audit report: %w", err)
	}
	return nil
}

// AuditLog returns the audit log of a report, oldest first.
func (tx *Tx) AuditLog(reportID int64) ([]AuditEntry, error) {
	rows, err := tx.query(`SELECT report_id, actor, action, note, at FROM coc_audit WHERE report_id = ? ORDER BY id`, reportID)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var rid sql.NullInt64
		if err := rows.Scan(&rid, &e.Actor, &e.Action, &e.Note, &e.At); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		e.ReportID = rid.Int64
		out = append(out, e)
	}
	return out, rows.Err()
}
