package app

import (
	"context"

	"aimg/internal/ocs"
	"aimg/internal/tasks"
	"aimg/internal/textproc"
	"aimg/internal/translate"
	"aimg/internal/webhook"
)

// newTasks builds the Nextcloud task engine and its surface: the text
// provider (AIMG_TEXT_URL, builtin when unset), the translation provider
// (AIMG_TRANSLATION_URL, none when unset) and the webhook sender.
func (a *App) newTasks() error {
	cfg := a.Config
	o := cfg.Service.OCS
	text, err := textproc.Open(cfg.TextURL, textproc.Options{Timeout: o.ProviderTimeout, MaxInputBytes: o.MaxInputBytes})
	if err != nil {
		return named("AIMG_TEXT_URL", err)
	}
	var trans tasks.Translator
	if cfg.TranslationURL != "" {
		topts := translate.Options{Timeout: o.ProviderTimeout, MaxTextBytes: o.MaxInputBytes}
		if chat, err := textproc.OpenAIFromURL(cfg.TranslationURL, textproc.Options{Timeout: o.ProviderTimeout}); err == nil {
			topts.Chat = chat // an openai+ translation URL translates by prompt
		}
		p, err := translate.Open(cfg.TranslationURL, topts)
		if err != nil {
			return named("AIMG_TRANSLATION_URL", err)
		}
		trans = translator{p}
	}
	sender := webhook.New(webhook.Options{Timeout: o.Webhooks.Timeout, AllowPrivate: o.Webhooks.AllowPrivate})
	a.Tasks = tasks.New(tasks.Deps{
		Store: a.Store, Images: a.Generation, Guests: a.Accounts, Text: text, Translator: trans,
		Webhooks: ocs.Webhooks{Sender: sender}, Logger: a.Log, Now: a.now,
		Config: tasks.Config{
			DefaultImages: o.DefaultImages, MaxImages: o.MaxImages, MaxInputBytes: o.MaxInputBytes, TTL: o.TaskTTL, ExpireEvery: o.TaskExpiryInterval,
			ListLimit: o.ListLimit, Runners: o.Runners, Lease: o.Lease, MaxAttempts: o.MaxAttempts,
			RunTimeout: o.RunTimeout, Poll: o.PollInterval, WebhookAttempts: o.Webhooks.Attempts,
			WebhookBackoff: o.Webhooks.Backoff, WebhookLease: 2 * o.Webhooks.Timeout,
		},
	})
	a.OCS = ocs.New(ocs.Options{
		Accounts: a.Accounts, Tasks: a.Tasks, Files: a.Files, Logger: a.Log,
		Domain:               func(host string) string { return cfg.Service.DomainForHost(host).ID },
		AllowPrivateWebhooks: o.Webhooks.AllowPrivate, CheckWebhook: webhook.CheckURI,
	})
	a.Log.Info("nextcloud tasks", "text_provider", text.Name(), "translation", trans != nil)
	return nil
}

// translator adapts a translation provider to the task engine.
type translator struct{ p translate.Provider }

func (t translator) Languages(ctx context.Context) ([]tasks.LanguagePair, error) {
	pairs, err := t.p.Pairs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]tasks.LanguagePair, len(pairs))
	for i, p := range pairs {
		out[i] = tasks.LanguagePair{From: p.From.Code, FromLabel: p.From.Label, To: p.To.Code, ToLabel: p.To.Label}
	}
	return out, nil
}

func (t translator) Detect(ctx context.Context, text string) (string, error) {
	return t.p.Detect(ctx, text)
}

func (t translator) Translate(ctx context.Context, text, from, to string) (string, error) {
	return t.p.Translate(ctx, text, from, to)
}
