package translate

import "strings"

// iso is one row of the language table: ISO 639-1, ISO 639-3 (the
// individual or macrolanguage code Apertium uses), English name.
type iso struct{ one, three, label string }

// isoLanguages is every ISO 639-1 language (183), with its ISO 639-3 code.
// Apertium names its pairs with the 639-3 codes; Nextcloud with 639-1.
var isoLanguages = []iso{
	{"aa", "aar", "Afar"}, {"ab", "abk", "Abkhazian"}, {"ae", "ave", "Avestan"}, {"af", "afr", "Afrikaans"},
	{"ak", "aka", "Akan"}, {"am", "amh", "Amharic"}, {"an", "arg", "Aragonese"}, {"ar", "ara", "Arabic"},
	{"as", "asm", "Assamese"}, {"av", "ava", "Avaric"}, {"ay", "aym", "Aymara"}, {"az", "aze", "Azerbaijani"},
	{"ba", "bak", "Bashkir"}, {"be", "bel", "Belarusian"}, {"bg", "bul", "Bulgarian"}, {"bi", "bis", "Bislama"},
	{"bm", "bam", "Bambara"}, {"bn", "ben", "Bengali"}, {"bo", "bod", "Tibetan"}, {"br", "bre", "Breton"},
	{"bs", "bos", "Bosnian"}, {"ca", "cat", "Catalan"}, {"ce", "che", "Chechen"}, {"ch", "cha", "Chamorro"},
	{"co", "cos", "Corsican"}, {"cr", "cre", "Cree"}, {"cs", "ces", "Czech"}, {"cu", "chu", "Church Slavic"},
	{"cv", "chv", "Chuvash"}, {"cy", "cym", "Welsh"}, {"da", "dan", "Danish"}, {"de", "deu", "German"},
	{"dv", "div", "Divehi"}, {"dz", "dzo", "Dzongkha"}, {"ee", "ewe", "Ewe"}, {"el", "ell", "Greek"},
	{"en", "eng", "English"}, {"eo", "epo", "Esperanto"}, {"es", "spa", "Spanish"}, {"et", "est", "Estonian"},
	{"eu", "eus", "Basque"}, {"fa", "fas", "Persian"}, {"ff", "ful", "Fulah"}, {"fi", "fin", "Finnish"},
	{"fj", "fij", "Fijian"}, {"fo", "fao", "Faroese"}, {"fr", "fra", "French"}, {"fy", "fry", "Western Frisian"},
	{"ga", "gle", "Irish"}, {"gd", "gla", "Scottish Gaelic"}, {"gl", "glg", "Galician"}, {"gn", "grn", "Guarani"},
	{"gu", "guj", "Gujarati"}, {"gv", "glv", "Manx"}, {"ha", "hau", "Hausa"}, {"he", "heb", "Hebrew"},
	{"hi", "hin", "Hindi"}, {"ho", "hmo", "Hiri Motu"}, {"hr", "hrv", "Croatian"}, {"ht", "hat", "Haitian Creole"},
	{"hu", "hun", "Hungarian"}, {"hy", "hye", "Armenian"}, {"hz", "her", "Herero"}, {"ia", "ina", "Interlingua"},
	{"id", "ind", "Indonesian"}, {"ie", "ile", "Interlingue"}, {"ig", "ibo", "Igbo"}, {"ii", "iii", "Sichuan Yi"},
	{"ik", "ipk", "Inupiaq"}, {"io", "ido", "Ido"}, {"is", "isl", "Icelandic"}, {"it", "ita", "Italian"},
	{"iu", "iku", "Inuktitut"}, {"ja", "jpn", "Japanese"}, {"jv", "jav", "Javanese"}, {"ka", "kat", "Georgian"},
	{"kg", "kon", "Kongo"}, {"ki", "kik", "Kikuyu"}, {"kj", "kua", "Kuanyama"}, {"kk", "kaz", "Kazakh"},
	{"kl", "kal", "Kalaallisut"}, {"km", "khm", "Khmer"}, {"kn", "kan", "Kannada"}, {"ko", "kor", "Korean"},
	{"kr", "kau", "Kanuri"}, {"ks", "kas", "Kashmiri"}, {"ku", "kur", "Kurdish"}, {"kv", "kom", "Komi"},
	{"kw", "cor", "Cornish"}, {"ky", "kir", "Kyrgyz"}, {"la", "lat", "Latin"}, {"lb", "ltz", "Luxembourgish"},
	{"lg", "lug", "Ganda"}, {"li", "lim", "Limburgish"}, {"ln", "lin", "Lingala"}, {"lo", "lao", "Lao"},
	{"lt", "lit", "Lithuanian"}, {"lu", "lub", "Luba-Katanga"}, {"lv", "lav", "Latvian"}, {"mg", "mlg", "Malagasy"},
	{"mh", "mah", "Marshallese"}, {"mi", "mri", "Maori"}, {"mk", "mkd", "Macedonian"}, {"ml", "mal", "Malayalam"},
	{"mn", "mon", "Mongolian"}, {"mr", "mar", "Marathi"}, {"ms", "msa", "Malay"}, {"mt", "mlt", "Maltese"},
	{"my", "mya", "Burmese"}, {"na", "nau", "Nauru"}, {"nb", "nob", "Norwegian Bokmål"}, {"nd", "nde", "North Ndebele"},
	{"ne", "nep", "Nepali"}, {"ng", "ndo", "Ndonga"}, {"nl", "nld", "Dutch"}, {"nn", "nno", "Norwegian Nynorsk"},
	{"no", "nor", "Norwegian"}, {"nr", "nbl", "South Ndebele"}, {"nv", "nav", "Navajo"}, {"ny", "nya", "Chichewa"},
	{"oc", "oci", "Occitan"}, {"oj", "oji", "Ojibwa"}, {"om", "orm", "Oromo"}, {"or", "ori", "Odia"},
	{"os", "oss", "Ossetian"}, {"pa", "pan", "Punjabi"}, {"pi", "pli", "Pali"}, {"pl", "pol", "Polish"},
	{"ps", "pus", "Pashto"}, {"pt", "por", "Portuguese"}, {"qu", "que", "Quechua"}, {"rm", "roh", "Romansh"},
	{"rn", "run", "Rundi"}, {"ro", "ron", "Romanian"}, {"ru", "rus", "Russian"}, {"rw", "kin", "Kinyarwanda"},
	{"sa", "san", "Sanskrit"}, {"sc", "srd", "Sardinian"}, {"sd", "snd", "Sindhi"}, {"se", "sme", "Northern Sami"},
	{"sg", "sag", "Sango"}, {"si", "sin", "Sinhala"}, {"sk", "slk", "Slovak"}, {"sl", "slv", "Slovenian"},
	{"sm", "smo", "Samoan"}, {"sn", "sna", "Shona"}, {"so", "som", "Somali"}, {"sq", "sqi", "Albanian"},
	{"sr", "srp", "Serbian"}, {"ss", "ssw", "Swati"}, {"st", "sot", "Southern Sotho"}, {"su", "sun", "Sundanese"},
	{"sv", "swe", "Swedish"}, {"sw", "swa", "Swahili"}, {"ta", "tam", "Tamil"}, {"te", "tel", "Telugu"},
	{"tg", "tgk", "Tajik"}, {"th", "tha", "Thai"}, {"ti", "tir", "Tigrinya"}, {"tk", "tuk", "Turkmen"},
	{"tl", "tgl", "Tagalog"}, {"tn", "tsn", "Tswana"}, {"to", "ton", "Tongan"}, {"tr", "tur", "Turkish"},
	{"ts", "tso", "Tsonga"}, {"tt", "tat", "Tatar"}, {"tw", "twi", "Twi"}, {"ty", "tah", "Tahitian"},
	{"ug", "uig", "Uyghur"}, {"uk", "ukr", "Ukrainian"}, {"ur", "urd", "Urdu"}, {"uz", "uzb", "Uzbek"},
	{"ve", "ven", "Venda"}, {"vi", "vie", "Vietnamese"}, {"vo", "vol", "Volapük"}, {"wa", "wln", "Walloon"},
	{"wo", "wol", "Wolof"}, {"xh", "xho", "Xhosa"}, {"yi", "yid", "Yiddish"}, {"yo", "yor", "Yoruba"},
	{"za", "zha", "Zhuang"}, {"zh", "zho", "Chinese"}, {"zu", "zul", "Zulu"},
}

// threeOnly names languages without an ISO 639-1 code that Apertium has
// pairs for; Nextcloud sees them under their 639-3 code.
var threeOnly = map[string]string{
	"ast": "Asturian", "crh": "Crimean Tatar", "dsb": "Lower Sorbian", "hsb": "Upper Sorbian",
	"kaa": "Karakalpak", "mfe": "Morisyen", "sah": "Yakut", "szl": "Silesian", "srn": "Sranan Tongo",
	"frp": "Arpitan", "fkv": "Kven Finnish", "sma": "Southern Sami", "smj": "Lule Sami",
	"smn": "Inari Sami", "sms": "Skolt Sami", "myv": "Erzya", "mhr": "Eastern Mari", "udm": "Udmurt",
	"krl": "Karelian", "vro": "Võro", "nog": "Nogai", "kum": "Kumyk", "tyv": "Tuvan",
	"alt": "Southern Altai", "xal": "Kalmyk", "scn": "Sicilian", "lij": "Ligurian",
	"vec": "Venetian", "pcd": "Picard", "lad": "Ladino", "quc": "K'iche'",
}

// aliases3 are individual-language codes (and Apertium's older names) of
// languages the table lists under their macrolanguage.
var aliases3 = map[string]string{
	"pes": "fa", "prs": "fa", "azb": "az", "azj": "az", "zsm": "ms", "arb": "ar", "cmn": "zh",
	"ekk": "et", "ydd": "yi", "swh": "sw", "plt": "mg", "gaz": "om", "khk": "mn", "npi": "ne",
	"uzn": "uz", "quz": "qu", "hbs": "sh", "lvs": "lv", "knc": "kr", "als": "sq", "pbt": "ps",
}

// The lookups built from the tables above; read-only after start-up.
var (
	oneToLanguage = func() map[string]iso {
		m := make(map[string]iso, len(isoLanguages))
		for _, l := range isoLanguages {
			m[l.one] = l
		}
		return m
	}()
	threeToOne = func() map[string]string {
		m := make(map[string]string, len(isoLanguages)+len(aliases3))
		for three, one := range aliases3 {
			m[three] = one
		}
		for _, l := range isoLanguages {
			m[l.three] = l.one
		}
		return m
	}()
)

// languageOf names a code in Nextcloud's terms: a 639-1 code with its
// English name, or an unknown code with itself as its label.
func languageOf(code string) Language {
	if l, ok := oneToLanguage[code]; ok {
		return Language{Code: l.one, Label: l.label}
	}
	if label, ok := threeOnly[code]; ok {
		return Language{Code: code, Label: label}
	}
	if code == "sh" {
		return Language{Code: "sh", Label: "Serbo-Croatian"}
	}
	return Language{Code: code, Label: code}
}

// fromISO3 maps an ISO 639-3 code (Apertium's "eng", "spa") to the code
// Nextcloud uses: its 639-1 code where it has one, else itself.
func fromISO3(code string) string {
	code = strings.ToLower(code)
	if one, ok := threeToOne[code]; ok {
		return one
	}
	return code
}
