package main

import (
	"encoding/csv"
	"io"
)

// csvWriter is encoding/csv's writer with every cell made safe to open in
// a spreadsheet. Names, descriptions, addresses and mail come from anyone
// over IRC or mail, and a cell that starts with = + - @, a tab or a
// carriage return is a formula to Excel, LibreOffice and Google Sheets
// (=HYPERLINK to exfiltrate, +cmd|… to run a program): OWASP's "CSV
// Injection" advice is a single quote in front, which makes it text.
type csvWriter struct{ w *csv.Writer }

func newCSV(w io.Writer) csvWriter { return csvWriter{csv.NewWriter(w)} }

// Write writes one row, each cell neutralised.
func (c csvWriter) Write(row []string) error {
	safe := make([]string, len(row))
	for i, cell := range row {
		safe[i] = neutralise(cell)
	}
	return c.w.Write(safe)
}

// Flush writes what is buffered and returns the first error of any write.
func (c csvWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// neutralise prefixes a cell a spreadsheet would take for a formula with
// a single quote.
func neutralise(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + cell
	}
	return cell
}
