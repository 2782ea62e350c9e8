package textproc

import "strings"

// languages are the stop-word lists, English first: it wins ties.
var languages = []string{"en", "de", "fr", "es", "it"}

// stopWords are the function words of each language: articles, pronouns,
// prepositions, conjunctions, auxiliaries and the commonest adverbs. They
// carry no topic, so the builtin neither counts nor offers them.
var stopWords = map[string]map[string]bool{
	"en": set(`a about above after again against all almost also although always am among an and another any
		anyone anything are aren't around as at away be became because become been before being below between
		both but by can can't cannot could couldn't did didn't do does doesn't doing don't done down during each
		either else enough even ever every few for from further get gets getting got had hadn't has hasn't have
		haven't having he he'd he'll he's her here here's hers herself him himself his how how's however i i'd
		i'll i'm i've if in into is isn't it it's its itself just least less let let's like made make makes many
		may maybe me might more most much must mustn't my myself near neither never new no nor not nothing now of
		off often on once one only onto or other others otherwise our ours ourselves out over own per perhaps
		quite rather really said same say says see seen shall shan't she she'd she'll she's should shouldn't
		since so some something sometimes still such than that that's the their theirs them themselves then there
		there's these they they'd they'll they're they've thing things this those though through thus to too
		toward towards under until up upon us use used using very via was wasn't we we'd we'll we're we've well
		were weren't what what's whatever when when's where where's whether which while who who's whom whose why
		why's will with within without won't would wouldn't yet you you'd you'll you're you've your yours
		yourself yourselves also already across along besides beyond get go goes going gone two three first
		last next mr mrs ms dr`),
	"de": set(`aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes
		auch auf aus bei beim bin bis bist da dabei dadurch dafür dagegen daher damit dann daran darauf darum
		das dass davon dazu dein deine dem den denn der deren des deshalb dessen die dies diese diesem diesen
		dieser dieses doch dort du durch ein eine einem einen einer eines einige einmal er es etwa etwas euch
		euer eure für gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre
		ihrem ihren ihrer im immer in ins ist ja jede jedem jeden jeder jedes jedoch jetzt kann kein keine
		keinem keinen keiner können könnte machen man manche mehr mein meine mit muss musste nach nicht nichts
		noch nun nur ob oder ohne schon sehr sein seine seinem seinen seiner seit sich sie sind so solche soll
		sollte sondern sowie über um und uns unser unsere unter viel viele vom von vor wann war waren warum was
		weil weiter welche welchem welchen welcher wenn wer werde werden wie wieder will wir wird wo wurde
		wurden zu zum zur zwar zwischen neu neue neuem neuen neuer neues sollen sollten wollen wollte
		müssen dürfen mag gibt geben ganz rund`),
	"fr": set(`à au aucun aussi autre autres aux avec avoir avait bien c ça car ce ceci cela celle celles celui
		cependant ces cet cette ceux chaque chez comme comment d dans de depuis des deux doit donc dont du elle
		elles en encore entre est et été être eu eux fait faire il ils j je l la le les leur leurs lui m ma mais
		me même mes moi mon n ne ni nos notre nous on ont ou où par parce pas peu peut plus pour pourquoi quand
		que quel quelle quelles quels qui quoi s sa sans se ses si son sont sous sur ta te tes toi ton tous tout
		toute toutes très tu un une vers vos votre vous y qu était étaient sera ainsi alors après avant`),
	"es": set(`a al algo algunos ante antes aquí así aunque cada como con contra cual cuando de del desde donde
		dos durante e el él ella ellas ellos en entre era eran es esa ese eso esta está están estaba este esto
		estos fue fueron ha había han hasta hay la las le les lo los más me mi mientras muy nada ni no nos
		nosotros o otra otro otros para pero poco por porque que qué quien se sea según ser si sí sin sobre
		son su sus también tan tanto te tiene tienen todo todos tu tú un una uno unos y ya yo puede pueden
		además donde sido estar muchos mucho`),
	"it": set(`a ad agli ai al alla alle allo anche ancora avere aveva c che chi ci come con contro cosa cui
		da dal dalla dalle degli dei del della delle dello di dopo dove e è ed essere era erano fa gli ha hanno
		i il in io l la le lei lo loro lui ma mi molto ne nei nel nella nelle né noi non o ogni per perché più
		poi proprio può quale quando quello questa questo qui se sei si sia siamo solo sono su sua sue sui sul
		sulla suo suoi tra tu tutti tutto un una uno vi voi così stato essere fatto fra`),
}

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
		if strings.Contains(w, "'") {
			m[strings.ReplaceAll(w, "'", "’")] = true // typographic apostrophes
		}
	}
	return m
}

func isStopWordAnywhere(w string) bool {
	for _, list := range stopWords {
		if list[w] {
			return true
		}
	}
	return false
}
