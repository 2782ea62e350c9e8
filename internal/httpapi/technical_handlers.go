package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/server"
)

// LogEntry is the spec's LogEntry, sent by front-ends to ingestLogs.
type LogEntry struct {
	Timestamp    *float64 `json:"timestamp,omitempty" doc:"Unix epoch in milliseconds."`
	Message      string   `json:"message" required:"true"`
	Level        string   `json:"level,omitempty" doc:"info (default), warn or error."`
	APISubscope  string   `json:"apiSubscope,omitempty"`
	HTTPMethod   string   `json:"httpMethod,omitempty" doc:"GET, POST, PUT, PATCH or DELETE."`
	HTTPPath     string   `json:"httpPath,omitempty"`
	HTTPURL      string   `json:"httpUrl,omitempty"`
	ErrorName    string   `json:"errorName,omitempty"`
	ErrorMessage string   `json:"errorMessage,omitempty"`
	ErrorStack   string   `json:"errorStack,omitempty"`
}

// Bounds of ingested logs: one request carries a batch, not a log file.
// The byte budgets per entry and per request are config (ingestLogs).
const (
	maxLogEntries     = 100
	maxLogFieldBytes  = 4 << 10 // each text field but errorStack
	maxServiceSegment = 64
	maxServiceParts   = 8
)

var logLevels = map[string]slog.Level{"info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

var logHTTPMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

// validateLogEntries checks every entry against the field rules and the
// byte budgets and fills in the default level; the error names the entry
// and field, e.g. "logs[3].level: ...".
func validateLogEntries(entries []LogEntry, budget config.IngestLogs) error {
	if len(entries) == 0 {
		return aimg.Invalid("logs", "at least one entry is required")
	}
	if len(entries) > maxLogEntries {
		return aimg.Invalid("logs", "at most %d entries per request", maxLogEntries)
	}
	total := 0
	for i := range entries {
		e := &entries[i]
		field := func(name string) string { return fmt.Sprintf("logs[%d].%s", i, name) }
		size := len(e.Message) + len(e.APISubscope) + len(e.HTTPMethod) + len(e.HTTPPath) + len(e.HTTPURL) +
			len(e.ErrorName) + len(e.ErrorMessage) + len(e.ErrorStack)
		if size > budget.MaxEntryBytes {
			return aimg.Invalid(fmt.Sprintf("logs[%d]", i), "an entry may carry at most %d bytes of text, this one has %d", budget.MaxEntryBytes, size)
		}
		if total += size; total > budget.MaxRequestBytes {
			return aimg.Invalid("logs", "a request may carry at most %d bytes of text; send fewer entries per request", budget.MaxRequestBytes)
		}
		if strings.TrimSpace(e.Message) == "" {
			return aimg.Invalid(field("message"), "is required")
		}
		if e.Level == "" {
			e.Level = "info"
		}
		if _, ok := logLevels[e.Level]; !ok {
			return aimg.Invalid(field("level"), "must be info, warn or error")
		}
		if e.HTTPMethod != "" && !logHTTPMethods[e.HTTPMethod] {
			return aimg.Invalid(field("httpMethod"), "must be GET, POST, PUT, PATCH or DELETE")
		}
		if t := e.Timestamp; t != nil && (math.IsNaN(*t) || *t < 0 || *t > 253402300799999) {
			return aimg.Invalid(field("timestamp"), "must be Unix epoch milliseconds")
		}
		for name, v := range map[string]string{"message": e.Message, "apiSubscope": e.APISubscope, "httpPath": e.HTTPPath,
			"httpUrl": e.HTTPURL, "errorName": e.ErrorName, "errorMessage": e.ErrorMessage} {
			if len(v) > maxLogFieldBytes || !utf8.ValidString(v) {
				return aimg.Invalid(field(name), "must be valid UTF-8 of at most %d bytes", maxLogFieldBytes)
			}
		}
		if !utf8.ValidString(e.ErrorStack) { // its size is bounded by the entry's
			return aimg.Invalid(field("errorStack"), "must be valid UTF-8")
		}
	}
	return nil
}

// checkServiceName accepts names shaped like the default
// FrontEnd/Client/{DomainDisplayName}/{EnvironmentIdentifier}: 2 to 8
// '/'-separated segments of letters, digits, space, '_', '.', ':', '-'.
func checkServiceName(name string) error {
	parts := strings.Split(name, "/")
	if len(parts) < 2 || len(parts) > maxServiceParts {
		return aimg.Invalid("serviceName", "must have 2 to %d '/'-separated parts, like FrontEnd/Client/Site/env", maxServiceParts)
	}
	for _, p := range parts {
		if p == "" || len(p) > maxServiceSegment || strings.TrimSpace(p) != p {
			return aimg.Invalid("serviceName", "each part must be 1 to %d characters without leading or trailing spaces", maxServiceSegment)
		}
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" _.:-", r)) {
				return aimg.Invalid("serviceName", "may contain only letters, digits, spaces and _ . : - between the '/'")
			}
		}
	}
	return nil
}

type ingestLogsInput struct {
	Auth
	Body struct {
		ServiceName string     `json:"serviceName,omitempty" doc:"Default FrontEnd/Client/{DomainDisplayName}/{EnvironmentIdentifier}."`
		Logs        []LogEntry `json:"logs" required:"true"`
	}
}

type affiliateAdInput struct {
	Auth
}

type affiliateAdPayload struct {
	AdText string `json:"adText"`
	AdLink string `json:"adLink"`
}

func (s *Server) ingestLogs(ctx context.Context, c aimg.Caller, in *ingestLogsInput) (*Response[Success], error) {
	if !c.Admin {
		if err := s.Accounts.Allow(ctx, "ingestLogs:ip", c.ClientIP); err != nil {
			return nil, err
		}
	}
	service := in.Body.ServiceName
	if service == "" {
		d := s.Config.Service.DomainForHost(server.Info(ctx).Host)
		service = "FrontEnd/Client/" + d.DisplayName + "/" + s.Config.Service.Environment
	} else if err := checkServiceName(service); err != nil {
		return nil, err
	}
	if err := validateLogEntries(in.Body.Logs, s.Config.Service.IngestLogs); err != nil {
		return nil, err
	}
	userID, sessionID := "", ""
	if c.User != nil {
		userID = c.User.ID
	}
	if c.Session != nil {
		sessionID = c.Session.ID
	}
	for _, e := range in.Body.Logs {
		attrs := []slog.Attr{
			slog.String("source", "client"),
			slog.String("service", service),
			slog.String("request_id", server.Info(ctx).ID),
			slog.String("user", userID),
			slog.String("session", sessionID),
			slog.Bool("admin", c.Admin),
			slog.String("client", c.ClientIP),
		}
		if e.Timestamp != nil {
			attrs = append(attrs, slog.Time("client_time", time.UnixMilli(int64(*e.Timestamp)).UTC()))
		}
		for _, kv := range [][2]string{{"api_subscope", e.APISubscope}, {"http_method", e.HTTPMethod},
			{"http_path", e.HTTPPath}, {"http_url", e.HTTPURL}, {"error_name", e.ErrorName},
			{"error_message", e.ErrorMessage}, {"error_stack", e.ErrorStack}} {
			if kv[1] != "" {
				attrs = append(attrs, slog.String(kv[0], kv[1]))
			}
		}
		s.Logger.LogAttrs(ctx, logLevels[e.Level], e.Message, attrs...)
	}
	return reply(Success{Success: true})
}

func (s *Server) getAffiliateAd(ctx context.Context, _ aimg.Caller, _ *affiliateAdInput) (*Response[affiliateAdPayload], error) {
	ads := s.Config.Service.AffiliateAds
	if len(ads) == 0 {
		return nil, aimg.Errorf(aimg.CodeNotFound, "No affiliate ad is configured")
	}
	ad := ads[rand.IntN(len(ads))] // which ad to show is not a secret
	return reply(affiliateAdPayload{AdText: ad.Text, AdLink: ad.Link})
}
