package tasks

import "aimg/internal/aimg"

// The task types, with Nextcloud's names, descriptions and shapes
// (lib/public/TaskProcessing/TaskTypes/*.php, lib/public/TextProcessing/*TaskType.php).

// Shape is one slot of a task's input or output (ShapeDescriptor).
type Shape struct {
	Key         string // the slot's key in the input or output object
	Name        string
	Description string
	Type        string // EShapeType's name: Text, Number, Enum, ListOfImages
}

// EnumValue is one choice of an Enum slot (ShapeEnumValue).
type EnumValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TaskType is one TaskProcessing task type.
type TaskType struct {
	ID          string
	Name        string
	Description string
	Input       []Shape
	Optional    []Shape // optional input slots
	Output      []Shape
	// Enums are the choices of the Enum input slots, by key (filled in
	// from the translation provider).
	Enums map[string][]EnumValue
	// Defaults are input defaults, by key.
	Defaults map[string]any
	// Legacy is the type's id in the textprocessing API ("" for none).
	Legacy            string
	LegacyName        string
	LegacyDescription string
}

func text(key, name, description string) Shape {
	return Shape{Key: key, Name: name, Description: description, Type: "Text"}
}

// catalogue lists every type AIMG can run; Types filters it down to what
// the configured providers serve.
var catalogue = []TaskType{
	{
		ID: aimg.TaskTypeText2Image, Name: "Generate image", Description: "Generate an image from a text prompt",
		Input: []Shape{
			text("input", "Prompt", "Describe the image you want to generate"),
			{Key: "numberOfImages", Name: "Number of images", Description: "How many images to generate", Type: "Number"},
		},
		Output: []Shape{{Key: "images", Name: "Output images", Description: "The generated images", Type: "ListOfImages"}},
	},
	{
		ID: aimg.TaskTypeText2Text, Name: "Free text to text prompt",
		Description: "Runs an arbitrary prompt through a language model that retuns a reply",
		Input:       []Shape{text("input", "Prompt", "Describe a task that you want the assistant to do or ask a question")},
		Output:      []Shape{text("output", "Generated reply", "The generated text from the assistant")},
		Legacy:      "OCP\\TextProcessing\\FreePromptTaskType", LegacyName: "Free prompt",
		LegacyDescription: "Runs an arbitrary prompt through the language model.",
	},
	{
		ID: aimg.TaskTypeSummary, Name: "Summarize", Description: "Summarizes a text",
		Input:  []Shape{text("input", "Original text", "The original text to summarize")},
		Output: []Shape{text("output", "Summary", "The generated summary")},
		Legacy: "OCP\\TextProcessing\\SummaryTaskType", LegacyName: "Summarize",
		LegacyDescription: "Summarizes text by reducing its length without losing key information.",
	},
	{
		ID: aimg.TaskTypeHeadline, Name: "Generate a headline", Description: "Generates a possible headline for a text.",
		Input:  []Shape{text("input", "Original text", "The original text to generate a headline for")},
		Output: []Shape{text("output", "Headline", "The generated headline")},
		Legacy: "OCP\\TextProcessing\\HeadlineTaskType", LegacyName: "Generate headline",
		LegacyDescription: "Generates a possible headline for a text.",
	},
	{
		ID: aimg.TaskTypeTopics, Name: "Extract topics", Description: "Extracts topics from a text and outputs them separated by commas",
		Input:  []Shape{text("input", "Original text", "The original text to extract topics from")},
		Output: []Shape{text("output", "Topics", "The list of extracted topics")},
		Legacy: "OCP\\TextProcessing\\TopicsTaskType", LegacyName: "Extract topics",
		LegacyDescription: "Extracts topics from a text and outputs them separated by commas.",
	},
	{
		ID: aimg.TaskTypeTranslate, Name: "Translate", Description: "Translate text from one language to another",
		Input: []Shape{
			text("input", "Origin text", "The text to translate"),
			{Key: "origin_language", Name: "Origin language", Description: "The language of the origin text", Type: "Enum"},
			{Key: "target_language", Name: "Target language", Description: "The desired language to translate the origin text in", Type: "Enum"},
		},
		Output:   []Shape{text("output", "Result", "The translated text")},
		Defaults: map[string]any{"origin_language": DetectLanguage},
	},
}

// DetectLanguage is the origin_language value that asks for detection.
const DetectLanguage = "detect_language"

// FromLegacyTextType maps a textprocessing type id to its TaskProcessing type.
func FromLegacyTextType(id string) (string, bool) {
	for _, t := range catalogue {
		if t.Legacy != "" && t.Legacy == id {
			return t.ID, true
		}
	}
	return "", false
}

// LegacyTextType returns the legacy textprocessing id of a TaskProcessing
// type ("" when it has none).
func LegacyTextType(id string) string {
	for _, t := range catalogue {
		if t.ID == id {
			return t.Legacy
		}
	}
	return ""
}

// LegacyTextTypes are the TaskProcessing types the textprocessing API sees.
func LegacyTextTypes() []string {
	var out []string
	for _, t := range catalogue {
		if t.Legacy != "" {
			out = append(out, t.ID)
		}
	}
	return out
}

// textTypes are the types the text provider runs; translation runs through
// the translation provider.
func isTextType(id string) bool {
	switch id {
	case aimg.TaskTypeText2Text, aimg.TaskTypeSummary, aimg.TaskTypeHeadline, aimg.TaskTypeTopics:
		return true
	}
	return false
}
