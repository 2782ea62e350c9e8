package textproc

import (
	"context"
	"strings"
	"testing"
)

// benchInputs are about 256 KiB (DefaultMaxInputBytes) each: prose, and
// shapes that would expose work worse than linear (one endless sentence,
// dots without spaces, one word repeated, every line a heading).
func benchInputs(b *testing.B) map[string]string {
	prose := readText(b, "reef_en.txt") + "\n\n" + readText(b, "library_en.txt") + "\n\n" + readText(b, "elektroautos_de.txt") + "\n\n"
	fill := func(unit string) string {
		return strings.Repeat(unit, DefaultMaxInputBytes/len(unit))
	}
	return map[string]string{
		"prose":         fill(prose),
		"one-sentence":  fill("coral reefs bleach in warm water and "),
		"dots":          fill("a.b."),
		"one-word":      fill("word "),
		"heading-lines": fill("Short Title Line\n"),
	}
}

func BenchmarkBuiltin(b *testing.B) {
	p, err := NewBuiltin(Options{})
	if err != nil {
		b.Fatal(err)
	}
	inputs := benchInputs(b)
	for _, name := range []string{"prose", "one-sentence", "dots", "one-word", "heading-lines"} {
		in := inputs[name]
		for _, ty := range p.Types() {
			b.Run(name+"/"+ty[strings.LastIndexByte(ty, ':')+1:], func(b *testing.B) {
				b.SetBytes(int64(len(in)))
				for b.Loop() {
					if _, err := p.Process(context.Background(), ty, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkBuiltinSmall is a typical Assistant request: a few paragraphs.
func BenchmarkBuiltinSmall(b *testing.B) {
	p, err := NewBuiltin(Options{})
	if err != nil {
		b.Fatal(err)
	}
	in := readText(b, "reef_en.txt")
	for _, ty := range p.Types() {
		b.Run(ty[strings.LastIndexByte(ty, ':')+1:], func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := p.Process(context.Background(), ty, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
