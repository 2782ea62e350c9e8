package ocs

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// Version is the OCS API version, chosen by the entry point.
type Version int

const (
	V1 Version = 1 // /ocs/v1.php
	V2 Version = 2 // /ocs/v2.php
)

// VersionOf tells the OCS version of a request path, as OCSMiddleware does
// from the script name: paths under /ocs/v2.php are version 2, paths under
// /ocs/v1.php version 1; ok is false for any other path.
func VersionOf(path string) (v Version, ok bool) {
	for _, c := range []struct {
		prefix string
		v      Version
	}{{"/ocs/v2.php", V2}, {"/ocs/v1.php", V1}} {
		if path == c.prefix || strings.HasPrefix(path, c.prefix+"/") {
			return c.v, true
		}
	}
	return 0, false
}

// The OCS-specific result codes of OCSController.
const (
	RespondServerError  = 996
	RespondUnauthorised = 997
	RespondNotFound     = 998
	RespondUnknownError = 999
)

// Response is what a controller answers: the status it sets on its
// DataResponse (an HTTP status or one of the Respond* codes), the status
// message (shown in meta.message on failure), the data, and the optional
// item counts of paged answers.
type Response struct {
	Status       int // 0 means 200
	Message      string
	Data         any // nil renders as Nextcloud's default empty array
	TotalItems   *int
	ItemsPerPage *int
	Header       http.Header // extra headers; Content-Type is always set by Render
}

func (r Response) status() int {
	if r.Status == 0 {
		return http.StatusOK
	}
	return r.Status
}

// HTTPStatus is the HTTP status of a response with the given controller
// status (V1Response::getStatus / V2Response::getStatus).
func (v Version) HTTPStatus(status int) int {
	if v == V1 {
		if status == RespondUnauthorised {
			return http.StatusUnauthorized
		}
		return http.StatusOK
	}
	switch {
	case status == RespondUnauthorised:
		return http.StatusUnauthorized
	case status == RespondNotFound:
		return http.StatusNotFound
	case status == RespondServerError || status == RespondUnknownError:
		return http.StatusInternalServerError
	case status < 200 || status > 600:
		return http.StatusBadRequest
	}
	return status
}

// StatusCode is meta.statuscode (getOCSStatus): v1 reports 200 as 100,
// v2 the controller status unchanged.
func (v Version) StatusCode(status int) int {
	if v == V1 && status == http.StatusOK {
		return 100
	}
	return status
}

// meta builds the ordered meta object of V1Response::render /
// V2Response::render.
func (v Version) meta(r Response) *object {
	status := r.status()
	m := &object{}
	code := v.StatusCode(status)
	var ok bool
	if v == V1 {
		ok = code == 100
	} else {
		ok = status >= 200 && status < 300
	}
	msg := r.Message
	if ok {
		m.add("status", str("ok"))
		msg = "OK"
	} else {
		m.add("status", str("failure"))
	}
	m.add("statuscode", number(strconv.Itoa(code)))
	m.add("message", str(msg))
	if v == V1 {
		// Always present, as strings, empty when not set.
		m.add("totalitems", str(optInt(r.TotalItems)))
		m.add("itemsperpage", str(optInt(r.ItemsPerPage)))
	} else {
		// Present only when set, as numbers.
		if r.TotalItems != nil {
			m.add("totalitems", number(strconv.Itoa(*r.TotalItems)))
		}
		if r.ItemsPerPage != nil {
			m.add("itemsperpage", number(strconv.Itoa(*r.ItemsPerPage)))
		}
	}
	return m
}

func optInt(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// Render builds the HTTP status, Content-Type and body of a response, as
// BaseResponse::renderResult does. Statuses that carry no body (204, 304)
// give an empty body. The error is from encoding Data (a value that
// encoding/json refuses).
func Render(v Version, f Format, r Response) (httpStatus int, contentType string, body []byte, err error) {
	httpStatus = v.HTTPStatus(r.status())
	contentType = f.ContentType()
	if httpStatus == http.StatusNoContent || httpStatus == http.StatusNotModified || (httpStatus >= 100 && httpStatus <= 199) {
		return httpStatus, contentType, nil, nil
	}
	var data value = &array{}
	if r.Data != nil {
		data, err = toValue(r.Data)
		if err != nil {
			return 0, "", nil, err
		}
	}
	inner := &object{}
	inner.add("meta", v.meta(r))
	inner.add("data", data)
	root := &object{}
	root.add("ocs", inner)
	var buf bytes.Buffer
	if f == JSON {
		writeJSON(&buf, root)
	} else {
		writeXMLDocument(&buf, root)
	}
	return httpStatus, contentType, buf.Bytes(), nil
}

// Write renders r and writes it to w. If Data cannot be encoded, it writes
// a v-style server error (status 996) instead.
func Write(w http.ResponseWriter, v Version, f Format, r Response) {
	status, ct, body, err := Render(v, f, r)
	if err != nil {
		status, ct, body, _ = Render(v, f, Response{Status: RespondServerError, Message: "Internal error"})
	} else {
		for k, vs := range r.Header {
			for _, x := range vs {
				w.Header().Add(k, x)
			}
		}
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Respond writes resp for the request r whose parameters are params (see
// ParseRequest): the version from r's path (V2 unless it is under
// /ocs/v1.php), the format from Negotiate. A "format" other than json or
// xml is answered in XML with status 400 and the message "Unsupported
// format" instead of resp (Nextcloud fails with a 500 there).
func Respond(w http.ResponseWriter, r *http.Request, params map[string]any, resp Response) {
	v, ok := VersionOf(r.URL.Path)
	if !ok {
		v = V2
	}
	f, known := Negotiate(params, r.Header.Get("Accept"))
	if !known {
		resp = Response{Status: http.StatusBadRequest, Message: "Unsupported format"}
	}
	Write(w, v, f, resp)
}
