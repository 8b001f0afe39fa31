package bot

// How the privacy and code-of-conduct commands see who asks and where:
// through these two alone, so that a transport-neutral identity can take
// the place of Request's transport fields in one spot.

// asker returns the account the request came from, a services account
// or a Matrix user ID ("" if none), and, for a mail, its sender's address
// ("" otherwise).
func (c *call) asker() (account, email string) {
	switch c.req.Who.Kind {
	case IRCAccount, MatrixUser:
		return c.req.Who.Value, ""
	case Address:
		return "", c.req.Who.Value
	}
	return "", ""
}

// privately reports whether the request reached the bot privately: a
// private message or a mail, never a channel.
func (c *call) privately() bool { return c.req.Where == "" }
