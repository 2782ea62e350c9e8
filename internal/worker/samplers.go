package worker

import "strings"

// Sampler names in AIMG (a Model's allowedSamplers, a request's sampler)
// are the web UI's classic names, in which a noise schedule may follow the
// sampler ("DPM++ 2M Karras"). Backends that take the two apart (A1111
// since 1.9, ComfyUI) get them through SplitSampler.

// samplerBases are the classic sampler names without a schedule.
var samplerBases = []string{
	"Euler a", "Euler", "LMS", "Heun", "DPM2", "DPM2 a", "DPM++ 2S a", "DPM++ 2M", "DPM++ SDE",
	"DPM++ 2M SDE", "DPM fast", "DPM adaptive", "DDIM", "PLMS", "UniPC", "LCM",
}

// samplerSchedules are the schedules a classic name may end with.
var samplerSchedules = []string{"Karras", "Exponential"}

// SplitSampler splits a classic sampler name into the sampler and its
// schedule ("DPM++ 2M Karras" → "DPM++ 2M", "Karras"; "Euler a" →
// "Euler a", ""). ok is false for a name it does not know.
func SplitSampler(name string) (sampler, schedule string, ok bool) {
	for _, s := range samplerSchedules {
		if base, found := strings.CutSuffix(name, " "+s); found && knownBase(base) {
			return base, s, true
		}
	}
	if knownBase(name) {
		return name, "", true
	}
	return "", "", false
}

func knownBase(name string) bool {
	for _, b := range samplerBases {
		if b == name {
			return true
		}
	}
	return false
}
