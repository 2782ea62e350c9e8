package textproc

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"aimg/internal/aimg"
)

func readText(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newBuiltin(t testing.TB, o Options) *Builtin {
	t.Helper()
	b, err := NewBuiltin(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func process(t *testing.T, p Provider, taskType, input string) string {
	t.Helper()
	out, err := p.Process(context.Background(), taskType, input)
	if err != nil {
		t.Fatalf("%s: %v", taskType, err)
	}
	return out
}

// summarySentences cuts a summary back into the sentences it joined and
// checks that each is a sentence of the input, in the input's order.
func summarySentences(t *testing.T, input, summary string) []string {
	t.Helper()
	flat := collapseSpace(input)
	got := cutSentences(summary)
	at := 0
	for _, s := range got {
		i := strings.Index(flat[at:], s)
		if i < 0 {
			if strings.Contains(flat, s) {
				t.Fatalf("summary sentence out of the input's order: %q\nsummary: %q", s, summary)
			}
			t.Fatalf("summary sentence not in the input: %q", s)
		}
		at += i + len(s)
	}
	return got
}

func containsAny(s string, words ...string) bool {
	return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(strings.ToLower(s), w) })
}

func TestBuiltinTypesAndName(t *testing.T) {
	b := newBuiltin(t, Options{})
	if b.Name() != "builtin" || !slices.Equal(b.Types(), []string{Summary, Headline, Topics}) {
		t.Fatalf("Name %q Types %v", b.Name(), b.Types())
	}
	_, err := b.Process(context.Background(), FreePrompt, "Write a poem.")
	if aimg.ErrorCode(err) != aimg.CodeInvalid {
		t.Fatalf("free prompt on the builtin: %v, want invalid", err)
	}
}

func TestBuiltinSummaryEnglish(t *testing.T) {
	in := readText(t, "reef_en.txt")
	out := process(t, newBuiltin(t, Options{}), Summary, in)
	got := summarySentences(t, in, out)
	// 11 sentences: about a third.
	if len(got) < 3 || len(got) > 4 {
		t.Fatalf("%d sentences, want 3-4 of 11: %q", len(got), out)
	}
	if !strings.Contains(out, "Coral reefs cover less than one percent") {
		t.Errorf("the opening statement of the subject is missing: %q", out)
	}
	bleaching := 0
	for _, s := range got {
		if containsAny(s, "bleach") {
			bleaching++
		}
		if containsAny(s, "tourism", "billions of dollars") {
			t.Errorf("a side remark was chosen over the main points: %q", s)
		}
	}
	if bleaching == 0 {
		t.Errorf("no sentence about bleaching, the text's main subject: %q", out)
	}
}

func TestBuiltinSummaryLibrary(t *testing.T) {
	in := readText(t, "library_en.txt")
	out := process(t, newBuiltin(t, Options{}), Summary, in)
	got := summarySentences(t, in, out)
	for _, s := range got {
		if strings.Contains(s, "weather") {
			t.Errorf("the weather is not a main point: %q", s)
		}
		if strings.HasPrefix(s, "City opens") || strings.HasPrefix(s, "Opening hours") || strings.HasPrefix(s, "Monday") {
			t.Errorf("a heading or list item in the summary: %q", s)
		}
	}
	if !strings.Contains(out, "opened its new central library") {
		t.Errorf("the news itself is missing: %q", out)
	}
}

func TestBuiltinSummaryGerman(t *testing.T) {
	in := readText(t, "elektroautos_de.txt")
	out := process(t, newBuiltin(t, Options{}), Summary, in)
	got := summarySentences(t, in, out)
	if len(got) < 2 || len(got) > 3 {
		t.Fatalf("%d sentences, want 2-3 of 8: %q", len(got), out)
	}
	if !strings.Contains(out, "Elektroauto") {
		t.Errorf("the subject (Elektroautos) is missing: %q", out)
	}
}

func TestBuiltinSummaryShortText(t *testing.T) {
	in := readText(t, "short_en.txt")
	out := process(t, newBuiltin(t, Options{}), Summary, in)
	if out != strings.TrimSpace(in) {
		t.Fatalf("a one-sentence text is its own summary, got %q", out)
	}
}

func TestBuiltinSummaryDropsRepeats(t *testing.T) {
	in := "Solar panels turn sunlight into electricity. Solar panels turn sunlight into electricity every day. " +
		"Batteries store the electricity for the night. Inverters feed the electricity into the grid. " +
		"The weather was fine. Cats sleep a lot."
	out := process(t, newBuiltin(t, Options{}), Summary, in)
	got := summarySentences(t, in, out)
	if len(got) != 2 {
		t.Fatalf("want 2 of 6 sentences, got %q", out)
	}
	if strings.Count(out, "Solar panels turn sunlight") > 1 {
		t.Fatalf("the same statement twice: %q", out)
	}
}

func TestBuiltinHeadline(t *testing.T) {
	b := newBuiltin(t, Options{})
	for _, tc := range []struct {
		file string
		want func(string) bool
		what string
	}{
		{"library_en.txt", func(h string) bool { return h == "City opens its new central library" }, "the document's own title"},
		{"elektroautos_de.txt", func(h string) bool { return h == "Neue Regeln für Elektroautos" }, "the document's own title"},
		{"reef_en.txt", func(h string) bool { return containsAny(h, "coral", "reef") }, "about coral reefs"},
		{"short_en.txt", func(h string) bool { return h == "Quantum computers use qubits instead of bits" }, "the sentence without its full stop"},
	} {
		h := process(t, b, Headline, readText(t, tc.file))
		if !tc.want(h) {
			t.Errorf("%s: headline %q, want %s", tc.file, h, tc.what)
		}
		if n := len(strings.Fields(h)); n == 0 || n > maxHeadlineWords+2 || strings.HasSuffix(h, ".") || strings.Contains(h, "\n") {
			t.Errorf("%s: %q is not a short one-line headline", tc.file, h)
		}
	}
}

func TestBuiltinHeadlineLongSentence(t *testing.T) {
	in := "Yesterday, after a long and heated debate that lasted well into the night, the regional parliament " +
		"finally approved the controversial water pipeline project, which farmers in the dry south had demanded for years. " +
		"The water pipeline will carry water from the northern lakes. Farmers hope the pipeline ends the shortages."
	h := process(t, newBuiltin(t, Options{}), Headline, in)
	if n := len(strings.Fields(h)); n > maxHeadlineWords {
		t.Fatalf("%q: %d words, want at most %d", h, n, maxHeadlineWords)
	}
	if !containsAny(h, "pipeline") {
		t.Fatalf("%q does not name the pipeline", h)
	}
	if !strings.Contains(in, strings.ToLower(h[:1])+h[1:]) && !strings.Contains(in, h) {
		t.Fatalf("%q is not a stretch of the text", h)
	}
}

func TestBuiltinTopics(t *testing.T) {
	b := newBuiltin(t, Options{})
	for _, tc := range []struct {
		file    string
		want    []string // each must be one of the topics
		wantAny []string // at least one topic contains one of these
	}{
		{"reef_en.txt", []string{"coral reefs", "bleaching"}, nil},
		{"library_en.txt", []string{"library"}, []string{"riverton", "city"}},
		{"elektroautos_de.txt", []string{"Elektroautos"}, []string{"Kauf", "Förderung", "Ladepunkte", "Regierung"}},
	} {
		out := process(t, b, Topics, readText(t, tc.file))
		topics := strings.Split(out, ", ")
		if len(topics) < 2 || len(topics) > maxTopics {
			t.Errorf("%s: %q: want 2-%d comma-separated topics", tc.file, out, maxTopics)
		}
		for _, w := range tc.want {
			if !slices.Contains(topics, w) {
				t.Errorf("%s: topics %q lack %q", tc.file, out, w)
			}
		}
		if tc.wantAny != nil && !slices.ContainsFunc(topics[1:], func(tp string) bool { return containsAny(tp, lower(tc.wantAny)...) }) {
			t.Errorf("%s: topics %q lack any of %q", tc.file, out, tc.wantAny)
		}
		for _, tp := range topics {
			for _, w := range strings.Fields(tp) {
				if isStopWordAnywhere(strings.ToLower(w)) {
					t.Errorf("%s: topic %q holds the stop word %q", tc.file, tp, w)
				}
			}
		}
	}
}

func lower(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = strings.ToLower(w)
	}
	return out
}

func TestBuiltinTopicsKeepNamesAndAcronyms(t *testing.T) {
	in := "The EU and NASA signed a deal. The EU will fund the mission and NASA will build the rocket. " +
		"Berlin hosts the mission office. The mission office in Berlin opens in May."
	out := process(t, newBuiltin(t, Options{}), Topics, in)
	for _, w := range []string{"EU", "NASA", "Berlin", "mission office"} {
		if !slices.Contains(strings.Split(out, ", "), w) {
			t.Errorf("topics %q lack %q as written", out, w)
		}
	}
}

func TestCutSentences(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Dr. Smith arrived. He was late.", []string{"Dr. Smith arrived.", "He was late."}},
		{"Use tools, e.g. hammers. Then rest.", []string{"Use tools, e.g. hammers.", "Then rest."}},
		{"It costs 3.5 euros. Cheap!", []string{"It costs 3.5 euros.", "Cheap!"}},
		{"J. R. R. Tolkien wrote it. Really?", []string{"J. R. R. Tolkien wrote it.", "Really?"}},
		{`He said "stop." She left.`, []string{`He said "stop."`, "She left."}},
		{"Wait... what? Yes.", []string{"Wait... what?", "Yes."}},
		{"Das ist z.B. gut. Nr. 5 ist besser.", []string{"Das ist z.B. gut.", "Nr. 5 ist besser."}},
		{"今日は晴れです。明日は雨です。", []string{"今日は晴れです。", "明日は雨です。"}},
		{"no terminator at all", []string{"no terminator at all"}},
	} {
		if got := cutSentences(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("cutSentences(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitSentencesBlocks(t *testing.T) {
	in := "Title of the note\n\nFirst line of prose that is wrapped by\nthe editor at some width. Second sentence.\n\n- item one\n- item two\n"
	got := splitSentences(in)
	var texts []string
	for _, s := range got {
		texts = append(texts, s.text)
	}
	want := []string{"Title of the note", "First line of prose that is wrapped by the editor at some width.", "Second sentence.", "item one", "item two"}
	if !slices.Equal(texts, want) {
		t.Fatalf("got %q, want %q", texts, want)
	}
	if !got[0].heading || got[1].heading {
		t.Fatalf("heading flags: %+v", got[:2])
	}
}

func TestDetectLanguage(t *testing.T) {
	for file, want := range map[string]string{"reef_en.txt": "en", "elektroautos_de.txt": "de"} {
		if got := analyse(readText(t, file)).lang; got != want {
			t.Errorf("%s: %q, want %q", file, got, want)
		}
	}
	fr := "Le gouvernement a présenté un nouveau plan pour les transports publics dans les villes et les campagnes."
	if got := analyse(fr).lang; got != "fr" {
		t.Errorf("French: %q", got)
	}
}

func TestBuiltinBudgets(t *testing.T) {
	b := newBuiltin(t, Options{MaxInputBytes: 1000, MaxOutputBytes: 120})
	ctx := context.Background()
	_, err := b.Process(ctx, Summary, strings.Repeat("word ", 201))
	if aimg.ErrorCode(err) != aimg.CodeInvalid {
		t.Fatalf("1005 bytes over a 1000-byte budget: %v, want invalid", err)
	}
	for _, in := range []string{"", "   \n\t", "... !!! ???", "1 2 3 ."} {
		if _, err := b.Process(ctx, Summary, in); aimg.ErrorCode(err) != aimg.CodeInvalid && in != "1 2 3 ." {
			t.Errorf("%q: %v, want invalid", in, err)
		}
	}
	long := strings.Repeat("Elephants remember the long paths to water across the dry savanna ", 12) + "."
	for _, ty := range b.Types() {
		out, err := b.Process(ctx, ty, long)
		if err != nil || len(out) > 120 || out == "" || !utf8.ValidString(out) {
			t.Errorf("%s: %q (%d bytes), %v: want 1-120 bytes of text", ty, out, len(out), err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Process(cancelled, Summary, "A sentence. Another one."); err != context.Canceled {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestOptionsRefuseNegative(t *testing.T) {
	if _, err := NewBuiltin(Options{MaxInputBytes: -1}); err == nil || !strings.Contains(err.Error(), "MaxInputBytes") {
		t.Fatalf("negative budget: %v", err)
	}
}
