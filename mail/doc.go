// Package mail is hallway's email transport.
package mail

import _ "github.com/emersion/go-message/charset"
