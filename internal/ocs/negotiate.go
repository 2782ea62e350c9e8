package ocs

import "strings"

// Format is the envelope's encoding.
type Format int

const (
	XML Format = iota // Nextcloud's default for OCS
	JSON
)

// ContentType is the Content-Type BaseResponse sets for the format.
func (f Format) ContentType() string {
	if f == JSON {
		return "application/json; charset=utf-8"
	}
	return "application/xml; charset=utf-8"
}

func (f Format) String() string {
	if f == JSON {
		return "json"
	}
	return "xml"
}

// Negotiate picks the format as OCSMiddleware::getFormat and the dispatcher
// do: the "format" request parameter (query or body, see ParseRequest) when
// present, else the first Accept entry that is "json" or "xml" once
// lowercased, trimmed and stripped of "application/" (no parameters, no
// q-values: "application/json; q=1" does not match), else XML.
//
// known is false when "format" is present but neither "json" nor "xml"
// (Nextcloud then fails with "No responder registered for format ...");
// the format returned then is XML.
func Negotiate(params map[string]any, accept string) (f Format, known bool) {
	if v, ok := params["format"]; ok && v != nil {
		s, isString := v.(string)
		switch {
		case isString && s == "json":
			return JSON, true
		case isString && s == "xml":
			return XML, true
		}
		return XML, false
	}
	return FromAccept(accept), true
}

// FromAccept is Controller::getResponderByHTTPHeader with the OCS
// responders and the default "xml".
func FromAccept(accept string) Format {
	for _, h := range strings.Split(accept, ",") {
		h = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(h)), "application/", "")
		switch h {
		case "json":
			return JSON
		case "xml":
			return XML
		}
	}
	return XML
}
