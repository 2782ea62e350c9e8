package files

import (
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/media"
)

// A variant sits beside its original in both layouts: in the original's
// own directory (uploads with a client's id), or as a sibling whose name
// begins with the original's (fresh ids, in a shared directory), so that
// two files' variants never share a key.
func TestVariantKeyBesideTheOriginal(t *testing.T) {
	o := OpenOptions{Width: 256, Height: 192, Mode: media.ModeFit}
	for _, c := range []struct{ blobKey, want string }{
		{"files/pic/4c1e/original", "files/pic/4c1e/256x192-fit"},
		{FreshBlobKey("0b9f6d2e-aaaa"), "files/0b/0b9f6d2e-aaaa_256x192-fit"},
	} {
		if got := variantKey(&aimg.File{BlobKey: c.blobKey}, o); got != c.want {
			t.Errorf("variantKey(%q) = %q, want %q", c.blobKey, got, c.want)
		}
	}
	if a, b := variantKey(&aimg.File{BlobKey: FreshBlobKey("0b1")}, o), variantKey(&aimg.File{BlobKey: FreshBlobKey("0b2")}, o); a == b {
		t.Errorf("two files in one directory share the variant key %q", a)
	}
}
