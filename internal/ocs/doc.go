// Package ocs is the Nextcloud OCS surface's transport layer: the OCS
// envelope in XML and JSON for /ocs/v1.php and /ocs/v2.php, format
// negotiation, the OCS CSRF rule, and request parameters parsed as
// Nextcloud's Request does (JSON bodies, form bodies with PHP bracket
// notation, query parameters).
//
// The rules follow nextcloud/server: lib/private/AppFramework/OCS/
// {BaseResponse,V1Response,V2Response}.php, lib/public/AppFramework/
// {Controller,OCSController}.php, lib/private/AppFramework/Middleware/
// {OCSMiddleware,Security/SecurityMiddleware}.php and
// lib/private/AppFramework/Http/Request.php. See docs/decisions.md,
// "OCS layer (issue 10, first part)".
package ocs
