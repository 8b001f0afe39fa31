package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"

	"github.com/hallwayhq/hallway/store"
)

// A link from !mydata is a person's data, once, for an hour. Opening it
// (GET) shows a button; only pressing it (POST) spends the link and
// downloads the JSON: a chat client fetching a preview of the link must
// not use it up.

const myDataGone = "This link to your data was used already, has expired, or never existed. Ask the bot for a new one: !mydata link\n"

func (srv *Server) myDataRoutes(handle func(pattern string, h http.HandlerFunc)) {
	handle("GET /{slug}/mydata/{token}", srv.eventHandler(srv.serveMyDataPage))
	handle("POST /{slug}/mydata/{token}", srv.eventHandler(srv.serveMyData))
}

func (srv *Server) serveMyDataPage(w http.ResponseWriter, r *http.Request, st *eventState) {
	err := srv.store.View(r.Context(), func(tx *store.Tx) error {
		return tx.PeekPrivacyToken(store.TokenMyData, r.PathValue("token"))
	})
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrTokenUsed) {
		plain(w, r, http.StatusNotFound, myDataGone)
		return
	} else if err != nil {
		srv.myDataError(w, r, err)
		return
	}
	page := fmt.Sprintf(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Your data: %[1]s</title></head>
<body><main><h1>Your data at %[1]s</h1>
<p>Everything hallway keeps about you, as one JSON file. The link works once: after the download it is gone.</p>
<form method="post"><button type="submit">Download my data</button></form></main></body></html>
`, html.EscapeString(st.ev.Name))
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write([]byte(page))
	}
}

func (srv *Server) serveMyData(w http.ResponseWriter, r *http.Request, st *eventState) {
	var d store.PersonData
	err := srv.store.Do(r.Context(), func(tx *store.Tx) error {
		owner, err := tx.UsePrivacyToken(store.TokenMyData, r.PathValue("token"), 0)
		if err != nil {
			return err
		}
		d, err = tx.PersonData(owner)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrTokenUsed) {
		plain(w, r, http.StatusNotFound, myDataGone)
		return
	} else if err != nil {
		srv.myDataError(w, r, err)
		return
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		srv.myDataError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `attachment; filename="`+st.ev.Slug+`-mydata.json"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// myDataError logs a failure without the path: it holds the token.
func (srv *Server) myDataError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	srv.log.Error("serving a person's data failed", "err", err)
	plain(w, r, http.StatusInternalServerError, "internal error\n")
}
