package ocs

import (
	"context"
	"errors"
	"net/http"

	"aimg/internal/tasks"
)

// The translation API (Nextcloud 26): run in the request, as Nextcloud
// runs it, under the provider's time-out.

// languageJSON is OCP\Translation\LanguageTuple::jsonSerialize.
type languageJSON struct {
	From      string `json:"from"`
	FromLabel string `json:"fromLabel"`
	To        string `json:"to"`
	ToLabel   string `json:"toLabel"`
}

func (s *Server) trLanguages(ctx context.Context, c *call) (Response, error) {
	pairs, detects, err := s.opts.Tasks.Languages(ctx)
	if err != nil {
		return Response{}, err
	}
	out := make([]languageJSON, len(pairs))
	for i, p := range pairs {
		out[i] = languageJSON{From: p.From, FromLabel: p.FromLabel, To: p.To, ToLabel: p.ToLabel}
	}
	return ok(struct {
		Languages         []languageJSON `json:"languages"`
		LanguageDetection bool           `json:"languageDetection"`
	}{out, detects}), nil
}

func (s *Server) trTranslate(ctx context.Context, c *call) (Response, error) {
	text, err := c.required("text")
	if err != nil {
		return Response{}, err
	}
	from, err := c.optional("fromLanguage")
	if err != nil {
		return Response{}, err
	}
	to, err := c.required("toLanguage")
	if err != nil {
		return Response{}, err
	}
	out, detected, err := s.opts.Tasks.Translate(ctx, text, from, to)
	var te *tasks.TranslateError
	switch {
	case errors.Is(err, tasks.ErrNoTranslator):
		return failure(http.StatusPreconditionFailed, "No translation provider available"), nil
	case errors.As(err, &te):
		s.log.InfoContext(ctx, "translation failed", "reason", te.Err)
		data := map[string]any{"message": te.Message}
		if te.From != nil {
			data["from"] = *te.From
		}
		return Response{Status: http.StatusBadRequest, Data: data}, nil
	case err != nil:
		return Response{}, err
	}
	return ok(struct {
		Text string `json:"text"`
		From string `json:"from"`
	}{out, detected}), nil
}
