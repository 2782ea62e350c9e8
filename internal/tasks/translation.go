package tasks

import (
	"context"

	"aimg/internal/aimg"
)

// The legacy translation API's calls, run in the request.

// Languages lists the translation directions and whether the source
// language may be left out (detected).
func (s *Service) Languages(ctx context.Context) ([]LanguagePair, bool, error) {
	if s.trans == nil {
		return []LanguagePair{}, false, nil
	}
	pairs, err := s.trans.Languages(ctx)
	if err != nil {
		return nil, false, err
	}
	if pairs == nil {
		pairs = []LanguagePair{}
	}
	return pairs, true, nil
}

// TranslateError is a failed legacy translation: the message Nextcloud
// gives and the source language, when it was known.
type TranslateError struct {
	Message string
	From    *string
	Err     error
}

func (e *TranslateError) Error() string { return e.Message + ": " + e.Err.Error() }
func (e *TranslateError) Unwrap() error { return e.Err }

// Translate is the legacy translation call, run in the request as
// Nextcloud runs it: from nil (or empty) asks for detection; the same
// language both ways returns text unchanged.
func (s *Service) Translate(ctx context.Context, text string, from *string, to string) (string, string, error) {
	if s.trans == nil {
		return "", "", ErrNoTranslator
	}
	if len(text) > s.cfg.MaxInputBytes {
		return "", "", aimg.Invalid("text", "is %d bytes; at most %d", len(text), s.cfg.MaxInputBytes)
	}
	src := ""
	if from != nil {
		src = *from
	}
	if src == "" || src == DetectLanguage {
		d, err := s.trans.Detect(ctx, text)
		if err != nil {
			return "", "", &TranslateError{Message: "Could not detect language", Err: err}
		}
		src = d
	}
	if src == to {
		return text, src, nil
	}
	out, err := s.trans.Translate(ctx, text, src, to)
	if err != nil {
		return "", src, &TranslateError{Message: "Unable to translate", From: &src, Err: err}
	}
	return out, src, nil
}
