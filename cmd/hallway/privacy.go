package main

import "github.com/hallwayhq/hallway/cmd/hallway/internal/config"

// cocTeam is who receives an event's code-of-conduct reports: coc_team,
// or else the organizers and their addresses.
func cocTeam(e config.Event) []string {
	if len(e.CocTeam) > 0 {
		return e.CocTeam
	}
	return append(append([]string(nil), e.Organizers...), e.OrganizerEmails...)
}

// keepMailTo are the addresses whose sent mail the retention purge keeps:
// the list's, where the wrap-up went.
func keepMailTo(cfg *config.Config) []string {
	if cfg.Mail.List == "" {
		return nil
	}
	return []string{cfg.Mail.List}
}
