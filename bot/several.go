package bot

import "errors"

// Organizer commands take several numbers, as !vote does ("accept 3 7 8",
// read by numbersArg), and answer one line per number: one that cannot be
// done says why on its line, and the others are done all the same.

// each does one number at a time and answers a line for each. A mistake
// about one number is its line; alone, it is the command's error (as
// before several were taken, and so a mail keeps it as failed).
func each(ns []int64, do func(n int64) (string, error)) (Reply, error) {
	var lines []string
	for _, n := range ns {
		line, err := do(n)
		var uerr *Error
		switch {
		case errors.As(err, &uerr) && len(ns) > 1:
			line = uerr.Msg
		case err != nil:
			return Reply{}, err
		}
		lines = append(lines, line)
	}
	return Reply{Lines: lines}, nil
}
