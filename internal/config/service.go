package config

import (
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/ratelimit"
)

// Service is the part of the configuration that lives in a file.
type Service struct {
	Environment string   `yaml:"environment"`
	Domains     []Domain `yaml:"domains"`
	MailFrom    string   `yaml:"mailFrom"`
	// MagicLinkURL is the front-end page that receives ?b=<base64url JSON>;
	// empty = <PublicURL>/login.
	MagicLinkURL string                    `yaml:"magicLinkURL"`
	RateLimits   map[string]ratelimit.Rule `yaml:"rateLimits"`
	HTTP         HTTP                      `yaml:"http"`
	Accounts     Accounts                  `yaml:"accounts"`
	AffiliateAds []AffiliateAd             `yaml:"affiliateAds"`
	IngestLogs   IngestLogs                `yaml:"ingestLogs"`

	// Models are the AI generation Models, in the order getModels shows them.
	// In AIMG_CONFIG they merge with the defaults by modelID (mergeModels).
	Models []aimg.Model `yaml:"models"`
	// RemoveModels (AIMG_CONFIG only) drops Models by id after the merge.
	RemoveModels  []string       `yaml:"removeModels"`
	SamplePrompts []SamplePrompt `yaml:"samplePrompts"`
	// BannedWords are words or phrases the prompt filter removes.
	BannedWords []string   `yaml:"bannedWords"`
	Generation  Generation `yaml:"generation"`

	PGQuery PGQuery `yaml:"pgQuery"`
	// Media is the decode budget for untrusted images; Files the variants.
	Media Media `yaml:"media"`
	Files Files `yaml:"files"`
	// Reports are the report queues and the system queues' thresholds.
	Reports Reports `yaml:"reports"`
	// OAuth is external sign-in (GitHub, Discord, Google).
	OAuth OAuth `yaml:"oauth"`
	// Payments are the external payment providers (Stripe, arkpay).
	Payments Payments `yaml:"payments"`
	// OCS is the Nextcloud-compatible surface and its task engine.
	OCS OCS `yaml:"ocs"`
}

// SamplePrompt is the spec's Prompt object as configured.
type SamplePrompt struct {
	PositivePrompt string `yaml:"positivePrompt"`
	NegativePrompt string `yaml:"negativePrompt"`
}

// Generation tunes the queues and workers.
type Generation struct {
	MaxAttempts       int           `yaml:"maxAttempts"`       // tries of a Job before it fails
	LeaseDuration     time.Duration `yaml:"leaseDuration"`     // a claim lasts this long without a heartbeat
	HeartbeatInterval time.Duration `yaml:"heartbeatInterval"` // how often a worker extends its lease
	StarvationBound   time.Duration `yaml:"starvationBound"`   // a normal queue head never waits longer than this for priority work
	IdempotencyTTL    time.Duration `yaml:"idempotencyTTL"`    // how long an Idempotency-Key is remembered
	HourlyLimit       int           `yaml:"hourlyLimit"`       // Items per hour at abuse level 7
	ReaperInterval    time.Duration `yaml:"reaperInterval"`    // how often expired leases are looked for
	// OrphanSweepInterval is how often (one replica of several) outputs
	// stored for Jobs that never completed with them are removed.
	OrphanSweepInterval time.Duration `yaml:"orphanSweepInterval"`
	PollInterval        time.Duration `yaml:"pollInterval"`    // how often an idle worker looks for work
	MaxPromptLength     int           `yaml:"maxPromptLength"` // characters, for prompt and negprompt
	// MaxUploadBytes bounds what a remote worker uploads for one Job (all
	// of its output files); MaxConcurrentUploads how many uploads are read
	// at once (each is held in memory until it is stored).
	MaxUploadBytes       int64 `yaml:"maxUploadBytes"`
	MaxConcurrentUploads int   `yaml:"maxConcurrentUploads"`
	// WorkflowDir adds the ComfyUI workflow templates (*.json) of a
	// directory to the embedded ones; "" adds none.
	WorkflowDir string `yaml:"workflowDir"`
	// ItemEvents are the budgets of the getItemEvents streams.
	ItemEvents ItemEvents `yaml:"itemEvents"`
}

// ItemEvents bounds the live progress streams (getItemEvents).
type ItemEvents struct {
	MaxItems          int           `yaml:"maxItems"`          // Items one stream watches
	MaxStreamsPerUser int           `yaml:"maxStreamsPerUser"` // open at once per user, per replica
	MaxStreams        int           `yaml:"maxStreams"`        // open at once per replica
	KeepAlive         time.Duration `yaml:"keepAlive"`         // a comment line this often
	MaxDuration       time.Duration `yaml:"maxDuration"`       // then the stream ends (clients reconnect)
}

// Model returns the configured Model with that id.
func (s Service) Model(id string) (aimg.Model, bool) {
	for _, m := range s.Models {
		if m.ModelID == id {
			return m, true
		}
	}
	return aimg.Model{}, false
}

// Domain maps request hosts to a domain (DECISIONS.md "Domains").
type Domain struct {
	ID          string   `yaml:"id"`
	DisplayName string   `yaml:"displayName"`
	Hosts       []string `yaml:"hosts"`
}

type Accounts struct {
	OTPTTL           time.Duration `yaml:"otpTTL"`
	OTPMaxAttempts   int           `yaml:"otpMaxAttempts"`
	SessionTTL       time.Duration `yaml:"sessionTTL"`
	ProfilePicMaxB   int64         `yaml:"profilePictureMaxBytes"`
	ProfilePicMaxPx  int64         `yaml:"profilePictureMaxPixels"`
	KVPMaxKeyBytes   int           `yaml:"kvpMaxKeyBytes"`
	KVPMaxValueBytes int           `yaml:"kvpMaxValueBytes"`
	KVPMaxPerUser    int           `yaml:"kvpMaxPerUser"`
	// Password hashing (argon2id, 19 MiB each) is open to anyone through
	// sign-in: at most PasswordHashConcurrency at once server-wide, a wait of
	// at most PasswordHashWait for a turn, then 503.
	PasswordHashConcurrency int           `yaml:"passwordHashConcurrency"`
	PasswordHashWait        time.Duration `yaml:"passwordHashWait"`
}

type AffiliateAd struct {
	Text string `yaml:"adText"`
	Link string `yaml:"adLink"`
}

// DomainForHost maps a request Host (port ignored) to a domain; unknown hosts
// get the first domain, so a fresh install answers on any address.
func (s Service) DomainForHost(host string) Domain {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	for _, d := range s.Domains {
		for _, h := range d.Hosts {
			if strings.EqualFold(h, host) {
				return d
			}
		}
	}
	return s.Domains[0]
}

// RateLimit returns the named rule; ok is false when the limit is not configured (no limit).
func (s Service) RateLimit(name string) (ratelimit.Rule, bool) {
	r, ok := s.RateLimits[name]
	return r, ok
}

// validateGeneration checks the Models, prompts, banned words and queue
// settings; each error names the setting, e.g. "config models[2].maxSteps".
func (s Service) validateGeneration() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if len(s.Models) == 0 {
		bad("models", "at least one Model is required")
	}
	seen := map[string]bool{}
	for i, m := range s.Models {
		f := func(name string) string { return fmt.Sprintf("models[%d].%s", i, name) }
		switch {
		case m.ModelID == "":
			bad(f("modelID"), "must not be empty")
		case seen[m.ModelID]:
			bad(f("modelID"), "duplicate %q", m.ModelID)
		case strings.ContainsAny(m.ModelID, " ,/?#%\t\n"):
			bad(f("modelID"), "%q must not contain spaces, commas, slashes, ?, # or %%", m.ModelID)
		}
		seen[m.ModelID] = true
		if m.Name == "" {
			bad(f("name"), "must not be empty")
		}
		switch m.MediaType {
		case aimg.MediaStaticImage, aimg.MediaAnimatedImage, aimg.MediaVideo, "Text", "Music", "Other", "Unknown":
		default:
			bad(f("mediaType"), "must be StaticImage, AnimatedImage, Video, Text, Music, Other or Unknown, got %q", m.MediaType)
		}
		switch m.Kind {
		case aimg.MTypeImage:
			if m.MediaType != aimg.MediaStaticImage {
				bad(f("mediaType"), "an image Model must be StaticImage, got %q", m.MediaType)
			}
		case aimg.MTypeVideo:
			if m.MediaType != aimg.MediaVideo && m.MediaType != aimg.MediaAnimatedImage {
				bad(f("mediaType"), "a video Model must be Video or AnimatedImage, got %q", m.MediaType)
			}
			if m.Frames < 1 {
				bad(f("frames"), "must be >= 1, got %d", m.Frames)
			}
			if m.FPS < 1 {
				bad(f("fps"), "must be >= 1, got %d", m.FPS)
			}
		default:
			bad(f("kind"), "must be image or video, got %q", m.Kind)
		}
		// Which backends exist and what each can render is the worker
		// registry's to say (worker.Registry.CheckModels, at start).
		if m.Backend == "" {
			bad(f("backend"), "must name a backend, e.g. %q", aimg.BackendBuiltin)
		}
		if m.MinTier < 0 {
			bad(f("minTier"), "must be >= 0")
		}
		for n, c := range []int{m.Tier0Concurrent, m.Tier1Concurrent, m.Tier2Concurrent} {
			if c < 0 {
				bad(f(fmt.Sprintf("tier%dConcurrent", n)), "must be >= 0")
			}
		}
		if m.MinSteps < 1 {
			bad(f("minSteps"), "must be >= 1")
		}
		if m.MaxSteps < m.MinSteps {
			bad(f("maxSteps"), "must be >= minSteps")
		}
		if m.MaxResolution < 1 {
			bad(f("maxResolution"), "must be >= 1")
		}
		checkSizes := func(name string, sizes []int) {
			if len(sizes) == 0 {
				bad(f(name), "must list at least one size")
			}
			for j, v := range sizes {
				if v < 1 {
					bad(f(fmt.Sprintf("%s[%d]", name, j)), "must be >= 1, got %d", v)
				}
			}
		}
		checkSizes("allowedWidths", m.AllowedWidths)
		checkSizes("allowedHeights", m.AllowedHeights)
		if len(m.DefaultResolution) != 2 {
			bad(f("defaultResolution"), "must be [width, height]")
		} else {
			w, h := m.DefaultResolution[0], m.DefaultResolution[1]
			if !slices.Contains(m.AllowedWidths, w) {
				bad(f("defaultResolution"), "width %d is not in allowedWidths", w)
			}
			if !slices.Contains(m.AllowedHeights, h) {
				bad(f("defaultResolution"), "height %d is not in allowedHeights", h)
			}
			if w*h > m.MaxResolution {
				bad(f("defaultResolution"), "%dx%d is above maxResolution %d", w, h, m.MaxResolution)
			}
		}
		if len(m.AllowedSamplers) == 0 {
			bad(f("allowedSamplers"), "must list at least one sampler")
		}
		if !slices.Contains(m.AllowedSamplers, m.DefaultSampler) {
			bad(f("defaultSampler"), "%q is not in allowedSamplers", m.DefaultSampler)
		}
		// DECISIONS.md: cfgscale is allowed in 1..12 and inside the Model's range.
		if m.MinCfgScale < 1 || m.MinCfgScale > 12 {
			bad(f("minCfgScale"), "must be between 1 and 12")
		}
		if m.MaxCfgScale < m.MinCfgScale || m.MaxCfgScale > 12 {
			bad(f("maxCfgScale"), "must be >= minCfgScale and <= 12")
		}
		if m.WikiURL != "" {
			if u, err := url.Parse(m.WikiURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				bad(f("wikiURL"), "%q is not an http(s) URL", m.WikiURL)
			}
		}
	}
	for i, p := range s.SamplePrompts {
		if strings.TrimSpace(p.PositivePrompt) == "" {
			bad(fmt.Sprintf("samplePrompts[%d].positivePrompt", i), "must not be empty")
		}
	}
	for i, w := range s.BannedWords {
		if strings.TrimSpace(w) == "" {
			bad(fmt.Sprintf("bannedWords[%d]", i), "must not be empty")
		}
	}
	g := s.Generation
	if g.MaxAttempts < 1 {
		bad("generation.maxAttempts", "must be >= 1")
	}
	if g.LeaseDuration < time.Second {
		bad("generation.leaseDuration", "must be at least 1s")
	}
	if g.HeartbeatInterval <= 0 || g.HeartbeatInterval*2 > g.LeaseDuration {
		bad("generation.heartbeatInterval", "must be positive and at most half of leaseDuration")
	}
	if g.StarvationBound <= 0 {
		bad("generation.starvationBound", "must be positive")
	}
	if g.IdempotencyTTL <= 0 {
		bad("generation.idempotencyTTL", "must be positive")
	}
	if g.HourlyLimit < 1 {
		bad("generation.hourlyLimit", "must be >= 1")
	}
	if g.ReaperInterval <= 0 {
		bad("generation.reaperInterval", "must be positive")
	}
	if g.OrphanSweepInterval <= 0 {
		bad("generation.orphanSweepInterval", "must be positive")
	}
	if g.PollInterval <= 0 {
		bad("generation.pollInterval", "must be positive")
	}
	if g.MaxPromptLength < 1 {
		bad("generation.maxPromptLength", "must be >= 1")
	}
	if g.MaxUploadBytes < 1<<20 {
		bad("generation.maxUploadBytes", "must be at least 1 MiB")
	}
	if g.MaxConcurrentUploads < 1 {
		bad("generation.maxConcurrentUploads", "must be >= 1")
	}
	if e := g.ItemEvents; e.MaxItems < 1 || e.MaxItems > 1000 {
		bad("generation.itemEvents.maxItems", "must be between 1 and 1000")
	}
	if g.ItemEvents.MaxStreamsPerUser < 1 {
		bad("generation.itemEvents.maxStreamsPerUser", "must be >= 1")
	}
	if g.ItemEvents.MaxStreams < g.ItemEvents.MaxStreamsPerUser {
		bad("generation.itemEvents.maxStreams", "must be at least maxStreamsPerUser")
	}
	if g.ItemEvents.KeepAlive <= 0 || s.HTTP.WriteTimeout > 0 && g.ItemEvents.KeepAlive*2 > s.HTTP.WriteTimeout {
		bad("generation.itemEvents.keepAlive", "must be positive and at most half of http.writeTimeout (an idle stream would be cut)")
	}
	if g.ItemEvents.MaxDuration < g.ItemEvents.KeepAlive {
		bad("generation.itemEvents.maxDuration", "must be at least keepAlive")
	}
	return errs
}

// Validate checks the file part; field names are the file's keys.
func (s Service) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if len(s.Domains) == 0 {
		bad("domains", "at least one domain is required")
	}
	ids := map[string]bool{}
	for i, d := range s.Domains {
		if d.ID == "" {
			bad(fmt.Sprintf("domains[%d].id", i), "must not be empty")
		}
		if ids[d.ID] {
			bad(fmt.Sprintf("domains[%d].id", i), "duplicate %q", d.ID)
		}
		ids[d.ID] = true
	}
	if s.MailFrom == "" {
		bad("mailFrom", "must not be empty")
	}
	for name, r := range s.RateLimits {
		if err := r.Validate(); err != nil {
			bad("rateLimits."+name, "%v", err)
		}
	}
	if s.HTTP.MaxBodyBytes < 1024 {
		bad("http.maxBodyBytes", "must be at least 1024")
	}
	if s.HTTP.MaxImageBodyBytes < s.HTTP.MaxBodyBytes {
		bad("http.maxImageBodyBytes", "must be at least http.maxBodyBytes")
	}
	a := s.Accounts
	if a.OTPTTL <= 0 {
		bad("accounts.otpTTL", "must be positive")
	}
	if a.OTPMaxAttempts < 1 {
		bad("accounts.otpMaxAttempts", "must be at least 1")
	}
	if a.SessionTTL <= 0 {
		bad("accounts.sessionTTL", "must be positive")
	}
	if a.ProfilePicMaxB <= 0 || a.ProfilePicMaxPx <= 0 {
		bad("accounts.profilePictureMaxBytes", "profile picture limits must be positive")
	}
	if a.KVPMaxKeyBytes <= 0 || a.KVPMaxValueBytes <= 0 || a.KVPMaxPerUser <= 0 {
		bad("accounts.kvpMaxKeyBytes", "KVP limits must be positive")
	}
	if a.PasswordHashConcurrency < 1 {
		bad("accounts.passwordHashConcurrency", "must be at least 1")
	}
	if a.PasswordHashWait < 0 {
		bad("accounts.passwordHashWait", "must not be negative")
	}
	errs = append(errs, s.validateGeneration()...)
	errs = append(errs, s.IngestLogs.Validate())
	errs = append(errs, s.PGQuery.validate()...)
	errs = append(errs, s.validateMediaFiles()...)
	errs = append(errs, s.HTTP.validateTimeouts()...)
	errs = append(errs, s.Reports.validate()...)
	errs = append(errs, s.OAuth.validate()...)
	errs = append(errs, s.Payments.validate()...)
	errs = append(errs, s.OCS.validate()...)
	return errors.Join(errs...)
}
