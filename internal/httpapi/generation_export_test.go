package httpapi

// ParseIDListForTest exposes the list parser to the fuzz test.
func ParseIDListForTest(v string) ([]string, error) { return parseIDList("modelIDs", v) }
