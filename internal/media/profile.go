package media

import "fmt"

// ProfilePicture turns an uploaded profile picture, a base64 data URI of a
// PNG, JPEG, GIF (first frame) or WebP image of at most
// ProfilePictureMaxBytes and ProfilePictureMaxPixels, into the stored form:
// a ProfilePictureSize-square, centre-cropped, lossless WebP data URI
// ("data:image/webp;base64,..."). The declared media type is ignored; the
// bytes decide. Errors wrap ErrInvalidDataURI, ErrUnsupported, ErrTooLarge or
// ErrCorrupt, all of them the client's fault.
func ProfilePicture(dataURI string) (string, error) {
	_, data, err := ParseDataURI(dataURI, ProfilePictureMaxBytes)
	if err != nil {
		return "", fmt.Errorf("profile picture: %w", err)
	}
	img, _, err := Decode(data, ProfilePictureLimits())
	if err != nil {
		return "", fmt.Errorf("profile picture: %w", err)
	}
	webp, err := EncodeWebP(SquareCrop(img, ProfilePictureSize))
	if err != nil {
		// A 128x128 image always encodes; this is a bug, not bad input.
		return "", fmt.Errorf("profile picture: %w", err)
	}
	return DataURI("image/"+FormatWebP, webp), nil
}
