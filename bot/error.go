package bot

// Error is a mistake the person can fix. Its message is safe to show and says
// what was wrong and how to do it right. Any other error is internal: the
// person reads "internal error" and the log gets the chain.
type Error struct {
	Msg string
}

func (e *Error) Error() string { return e.Msg }

func userErr(msg string) error { return &Error{Msg: msg} }
