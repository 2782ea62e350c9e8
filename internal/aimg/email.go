package aimg

// Email is one email to one recipient, as the services hand it to the
// mailer. HTML is optional; when set the email is multipart/alternative
// with Text as the plain part.
type Email struct {
	To      string
	Subject string
	Text    string
	HTML    string
}
