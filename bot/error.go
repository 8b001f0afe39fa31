package bot

import "errors"

// Error is a mistake the person can fix. Its message is safe to show and says
// what was wrong and how to do it right. Any other error is internal: the
// person reads "internal error" and the log gets the chain.
type Error struct {
	Msg string
	// More are lines after Msg, one for each of several mistakes.
	More []string
}

func (e *Error) Error() string { return e.Msg }

// lines is the answer that tells of the mistake.
func (e *Error) lines() []string { return append([]string{e.Msg}, e.More...) }

func userErr(msg string) error { return &Error{Msg: msg} }

// CommandError is a command that failed inside: the bot has logged it and
// answered with an apology where the transport takes one. Whoever gets it
// back need not log it again.
type CommandError struct {
	Err error
}

func (e *CommandError) Error() string { return "command failed: " + e.Err.Error() }
func (e *CommandError) Unwrap() error { return e.Err }

// logged tells whether err was logged where it happened.
func logged(err error) bool {
	var ce *CommandError
	return errors.As(err, &ce)
}
