package intake

import "testing"

func TestIgnoredNames(t *testing.T) {
	for name, want := range map[string]bool{
		".hidden.xml": true, "a.xml.part": true, "a.XML.FILEPART": true, "a.tmp": true,
		"a.xml": false, "part.xml": false, "a.partial": false,
	} {
		if got := ignoredName(name); got != want {
			t.Errorf("ignoredName(%q) = %v, want %v", name, got, want)
		}
	}
}
