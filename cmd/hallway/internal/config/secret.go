package config

import (
	"fmt"
	"os"
	"strings"
)

// Secrets never go in the config file: it is kept in git and shown in
// review. Each secret is named instead, by an environment variable (the
// *_env key) and optionally a file (the *_file key, for systemd
// credentials or a mounted secret), and looked up by ResolveSecrets.

// Names of the secrets, for Config.Secret. They are also the config keys
// that name them, less the _env or _file suffix.
const (
	SecretSASLPassword = "irc.sasl_password"   // needed when irc.sasl_user is set
	SecretIMAPPassword = "mail.imap_password"  // needed when mail.imap is set
	SecretSMTPPassword = "mail.smtp_password"  // needed when mail.smtp_user is set
	SecretMatrixToken  = "matrix.access_token" // needed when matrix.homeserver is set
)

// exampleEnv is the environment variable suggested for each secret, as in
// the example config.
var exampleEnv = map[string]string{
	SecretSASLPassword: "HALLWAY_IRC_PASSWORD",
	SecretIMAPPassword: "HALLWAY_IMAP_PASSWORD",
	SecretSMTPPassword: "HALLWAY_SMTP_PASSWORD",
	SecretMatrixToken:  "HALLWAY_MATRIX_TOKEN",
}

// secretRef is a secret the config refers to.
type secretRef struct {
	name      string // one of the Secret* constants
	env, file string
	// neededBy is the key whose setting makes hallway need the secret;
	// empty if the secret is not needed.
	neededBy string
}

func (c *Config) secretRefs() []secretRef {
	refs := []secretRef{
		{name: SecretSASLPassword, env: c.IRC.SASLPasswordEnv, file: c.IRC.SASLPasswordFile},
		{name: SecretIMAPPassword, env: c.Mail.IMAPPasswordEnv, file: c.Mail.IMAPPasswordFile},
		{name: SecretSMTPPassword, env: c.Mail.SMTPPasswordEnv, file: c.Mail.SMTPPasswordFile},
		{name: SecretMatrixToken, env: c.Matrix.AccessTokenEnv, file: c.Matrix.AccessTokenFile},
	}
	if c.IRC.SASLUser != "" {
		refs[0].neededBy = "irc.sasl_user"
	}
	if c.Mail.IMAP != "" {
		refs[1].neededBy = "mail.imap"
	}
	if c.Mail.SMTP != "" && c.Mail.SMTPUser != "" {
		refs[2].neededBy = "mail.smtp_user"
	}
	if c.Matrix.Homeserver != "" {
		refs[3].neededBy = "matrix.homeserver"
	}
	return refs
}

// secretWhat names a secret for people.
func secretWhat(name string) string {
	if name == SecretMatrixToken {
		return "access token"
	}
	return "password"
}

// secret is a secret as ResolveSecrets found it.
type secret struct {
	value   string
	from    string // "env" or "file"; empty when not found
	fileErr error  // reading the *_file failed
}

// ResolveSecrets looks up every secret the config names: the *_env
// variable through getenv (os.Getenv if nil) and, when that is unset or
// empty, the *_file. The values are kept for Secret; Print only shows
// whether each was found.
//
// The error, an Errors, lists the secrets hallway needs but could not
// find (e.g. "HALLWAY_IRC_PASSWORD not set" while irc.sasl_user is set).
// "hallway run" should stop on it; "hallway check" should show it as a
// warning, since the machine checking a config is seldom the one running
// it.
func (c *Config) ResolveSecrets(getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	c.secrets = map[string]*secret{}
	var errs Errors
	for _, r := range c.secretRefs() {
		s := &secret{}
		if r.env != "" {
			if v := getenv(r.env); v != "" {
				s.value, s.from = v, "env"
			}
		}
		if s.from == "" && r.file != "" {
			b, err := os.ReadFile(r.file)
			switch {
			case err != nil:
				s.fileErr = err
			default:
				// Files written by editors and echo end with a newline
				// that is not part of the password.
				if v := strings.TrimRight(string(b), "\r\n"); v != "" {
					s.value, s.from = v, "file"
				} else {
					s.fileErr = fmt.Errorf("%s is empty", r.file)
				}
			}
		}
		c.secrets[r.name] = s
		if s.from != "" || r.neededBy == "" {
			continue
		}
		key, msg := r.name+"_env", ""
		switch {
		case r.env != "" && s.fileErr != nil:
			msg = fmt.Sprintf("%s not set, and %v", r.env, s.fileErr)
		case r.env != "":
			msg = fmt.Sprintf("%s not set", r.env)
		default:
			key, msg = r.name+"_file", s.fileErr.Error()
		}
		errs = append(errs, &Error{
			File: c.File, Line: c.lines.find(key), Key: key,
			Msg: fmt.Sprintf("%s; the %s is needed because %s is set", msg, secretWhat(r.name), r.neededBy),
		})
	}
	if len(errs) > 0 {
		errs.sort()
		return errs
	}
	return nil
}

// Secret returns the value of the named secret (SecretSASLPassword, ...).
// It is "" with a nil error when the secret is neither found nor needed.
// ResolveSecrets must have been called first.
func (c *Config) Secret(name string) (string, error) {
	if c.secrets == nil {
		return "", fmt.Errorf("config: secret %s asked for before ResolveSecrets", name)
	}
	for _, r := range c.secretRefs() {
		if r.name != name {
			continue
		}
		s := c.secrets[name]
		if s == nil { // the config changed since ResolveSecrets
			return "", fmt.Errorf("config: secret %s not resolved", name)
		}
		if s.from == "" && r.neededBy != "" {
			return "", fmt.Errorf("config: secret %s not found; it is needed because %s is set", name, r.neededBy)
		}
		return s.value, nil
	}
	return "", fmt.Errorf("config: no secret named %q", name)
}

// secretNote says, for Print, whether the secret behind a *_env or *_file
// key was found, never what it is.
func (c *Config) secretNote(r secretRef, isFile bool) string {
	if c.secrets == nil {
		return "not checked"
	}
	s := c.secrets[r.name]
	if s == nil {
		return "not checked"
	}
	if isFile {
		switch {
		case s.from == "file":
			return "read, ******"
		case s.from == "env":
			return "not read, the environment variable is set"
		case s.fileErr != nil:
			return "unreadable: " + s.fileErr.Error()
		}
		return "not read"
	}
	switch {
	case s.from == "env":
		return "set, ******"
	case r.neededBy == "":
		return "not set, not needed"
	}
	return "not set"
}
