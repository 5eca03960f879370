package ubl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// The tests here hold scanTree to decodeTree, the encoding/xml parser it
// replaces for most documents: for every input both build the same tree, or
// both fail with the same message, and the same document number in the
// tree built before the error (the message names the invoice by it).

// reference parses data with decodeTree.
func reference(data []byte) (*node, error) {
	br := newByteReader(bytes.NewReader(data))
	defer br.release()
	return decodeTree(br)
}

// compareParsers returns how scanTree's result differs from decodeTree's,
// or ""; unusual reports that scanTree left data to encoding/xml.
func compareParsers(data []byte) (diff string, unusual bool) {
	want, werr := reference(data)
	got, gerr := scanTree(data)
	if gerr == errUnusual {
		return "", true
	}
	if (werr == nil) != (gerr == nil) {
		return fmt.Sprintf("encoding/xml: %v\nscanTree: %v", werr, gerr), false
	}
	if werr != nil {
		if werr.Error() != gerr.Error() || errors.Is(werr, ErrLimit) != errors.Is(gerr, ErrLimit) {
			return fmt.Sprintf("errors differ:\nencoding/xml: %v\nscanTree: %v", werr, gerr), false
		}
		if w, g := unwrap(want).val("cbc:ID"), unwrap(got).val("cbc:ID"); w != g {
			return fmt.Sprintf("document number before the error: encoding/xml %q, scanTree %q", w, g), false
		}
		return "", false
	}
	return treeDiff(want, got, nil), false
}

// treeDiff returns the first difference between two trees, or "".
func treeDiff(want, got, parent *node) string {
	switch {
	case want == nil || got == nil:
		if want != got {
			return fmt.Sprintf("root: want %v, got %v", want != nil, got != nil)
		}
		return ""
	case want.name != got.name:
		return fmt.Sprintf("%s: name %q, want %q", want.path(), got.name, want.name)
	case want.text != got.text:
		return fmt.Sprintf("%s: text %q, want %q", want.path(), got.text, want.text)
	case !reflect.DeepEqual(want.attrs, got.attrs):
		return fmt.Sprintf("%s: attributes %q, want %q", want.path(), got.attrs, want.attrs)
	case len(want.kids) != len(got.kids):
		return fmt.Sprintf("%s: %d children, want %d", want.path(), len(got.kids), len(want.kids))
	case got.parent != parent:
		return fmt.Sprintf("%s: wrong parent", want.path())
	}
	for i := range want.kids {
		if d := treeDiff(want.kids[i], got.kids[i], got); d != "" {
			return d
		}
	}
	return ""
}

// hostile are hand-made documents at the edges of what XML and encoding/xml
// allow; unusual ones follow.
var hostile = []string{
	``,
	`   `,
	`text`,
	`<`,
	`<a`,
	`<a>`,
	`<a/>`,
	`<a></a>`,
	`<a></b>`,
	`</a>`,
	`<a><b></a></b>`,
	`<a>x</a>trailing < garbage &bad;`,
	`<a/><b/>`,
	"\n\n<a>\n<b>\n</c>",
	`<a x="1" y='2'/>`,
	`<a x="1"y="2"/>`,
	`<a x=1/>`,
	`<a x/>`,
	`<a x="1/>`,
	`<a x="<"/>`,
	`<a x="&lt;&#65;&#x42;"/>`,
	`<a x="a]]>b"/>`,
	"<a x=\"a\r\nb\rc\tn\"/>",
	`<a ="1"/>`,
	`<a 1="1"/>`,
	`<a x:y:z="1"/>`,
	`<a :x="1" x:="2"/>`,
	`<a/ >`,
	`<a / >`,
	`< a/>`,
	`<1a/>`,
	`<-a/>`,
	`<.a/>`,
	`<_a.-1:b/>`,
	`<a:b:c/>`,
	`<:a/>`,
	`<a:/>`,
	`<a></a >`,
	`<a></a x>`,
	`<a></ a>`,
	`<a:b xmlns:a="u"></b>`,
	`<a:b xmlns:a="u"></c:b>`,
	`<a:b xmlns:a="u"></a:b>`,
	`<a:b xmlns:a="u" xmlns:c="u"></c:b>`,
	`<b xmlns:a="u"></a:b>`,
	`<a:b xmlns:a="u"></b>`,
	`<a xmlns="u"><b xmlns=""><c/></b><d/></a>`,
	`<a xmlns:p="u1"><p:b xmlns:p="u2"><p:c/></p:b><p:d/></a>`,
	`<a xmlns:p="u1" xmlns:p="u2"><p:b/></a>`,
	`<p:a><p:b xmlns:p="u"/><p:c/></p:a>`,
	`<a p:x="1" xmlns:p="u" q:y="2" xml:lang="sv" xmlns:xml="v"/>`,
	`<xmlns:a/>`,
	`<xml:a/>`,
	`<xmlns/>`,
	`<a xmlns="u"><xmlns/></a>`,
	`<a xmlns:p="xmlns" p:x="1" y:xmlns="2" xmlns:="3"/>`,
	`<a xmlns:p=""><p:b/></a>`,
	`<Invoice xmlns="` + nsInvoice + `" xmlns:cbc="` + nsCBC + `" xmlns:cac="` + nsCAC + `"><cbc:ID>1</cbc:ID><cac:P><cbc:ID schemeID="x">2</cbc:ID></cac:P></Invoice>`,
	`<Invoice xmlns="` + nsInvoice + `"><ID xmlns="` + nsCBC + `">1</ID><Note>`,
	`<Invoice xmlns="` + nsInvoice + `"><ID xmlns="` + nsCBC + `">1</ID><Note>&x;</Note></Invoice>`,
	`<a>&amp;&lt;&gt;&quot;&apos;</a>`,
	`<a>&#65;&#x41;&#x4a;&#x4A;&#0065;</a>`,
	`<a>&#X41;</a>`,
	`<a>&#;</a>`,
	`<a>&#x;</a>`,
	`<a>&#0;</a>`,
	`<a>&#1;</a>`,
	`<a>&#9;&#10;&#13;</a>`,
	`<a>&#xD800;</a>`,
	`<a>&#xFFFE;</a>`,
	`<a>&#xFFFD;</a>`,
	`<a>&#x10FFFF;</a>`,
	`<a>&#x110000;</a>`,
	`<a>&#99999999999999999999999;</a>`,
	`<a>&#65</a>`,
	`<a>&amp</a>`,
	`<a>&AMP;</a>`,
	`<a>&;</a>`,
	`<a>& </a>`,
	`<a>&`,
	`<a>&#`,
	`<a>&#x`,
	`<a>&#12`,
	`<a>&am`,
	`<a>&ämp;</a>`,
	`<a>]]></a>`,
	`<a>]]]></a>`,
	`<a>] ]></a>`,
	`<a>]]&gt;</a>`,
	"<a>x\x00y</a>",
	"<a>x\x01y</a>",
	"<a>x\x7fy</a>",
	"<a>\xff</a>",
	"<a>\xc3</a>",
	"<a>\xc3&amp;</a>",
	"<a>\xed\xa0\x80</a>",
	"<a>\xef\xbf\xbe</a>",
	"<a>\xef\xbf\xbf</a>",
	"<a>\xf4\x90\x80\x80</a>",
	"<a>räksmörgås €𝄞</a>",
	"<a>\u0085x\u00a0</a>",
	"<a>\r\n x \r\r\n</a>",
	"<a>\xff&bad;</a>",
	"<a>\x01]]></a>",
	"\xff<a/>",
	"<a>\xff",
	"<a>x",
	`<a>  x  <b/> y </a>`,
	`<a> x <![CDATA[ y ]]> z </a>`,
	`<a><![CDATA[<&>]]]]></a>`,
	`<a><![CDATA[]]></a>`,
	"<a><![CDATA[\r\n\r\xff]]></a>",
	"<a><![CDATA[\x00]]></a>",
	`<a><![CDATA[x`,
	`<a><![CDATA[x]]`,
	`<a><![CDATA[x]]></a>`,
	`<a><![CDAT[x]]></a>`,
	`<a><![cdata[x]]></a>`,
	`<a><b/><![CDATA[x]]></a>`,
	`<![CDATA[x]]><a/>`,
	`<a><!-- c --></a>`,
	`<a>x<!-- c -->y</a>`,
	`<a><!-- a -- b --></a>`,
	`<a><!-- a ---></a>`,
	`<a><!----></a>`,
	`<a><!---></a>`,
	`<a><!--></a>`,
	`<a><!- c --></a>`,
	"<a><!-- \xff\x00 --></a>",
	`<a><!-- c`,
	`<!-- c --><a/>`,
	`<?xml version="1.0" encoding="UTF-8"?><a/>`,
	`<?xml version="1.0" encoding="utf-8" standalone="yes"?><a/>`,
	`<?xml version='1.0' encoding='Utf-8'?><a/>`,
	`<?xml?><a/>`,
	`<?xml encoding?><a/>`,
	`<?xml version= "1.1"?><a/>`,
	`<?pi data?><a><?pi?>x<?pi ?>y</a>`,
	`<?pi data`,
	`<? pi?><a/>`,
	`<?1pi?><a/>`,
	`<?pi:x:y ??><a/>`,
	"<?pi \xff\x00?><a/>",
	`<a><?xml version="1.0"?></a>`,
	`<a><b>1</b>x<b>2</b></a>`,
	`<a><b><c>deep</c></b></a>`,
	`<Invoice xmlns="` + nsInvoice + `" xmlns:cbc="` + nsCBC + `"><cbc:ID>1</cbc:ID></Invoice><!DOCTYPE x>`,
	`<a>` + strings.Repeat("<b>", maxDepth) + strings.Repeat("</b>", maxDepth) + `</a>`,
	strings.Repeat("<b>", maxDepth) + strings.Repeat("</b>", maxDepth),
	`<a><!DOCTYPE x></a>`,
}

// unusual are documents scanTree leaves to encoding/xml.
var unusual = []string{
	`<!DOCTYPE a><a/>`,
	`<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`,
	`<! DOCTYPE a><a/>`,
	`<!ELEMENT a><a/>`,
	`<?xml version="1.0" encoding="ISO-8859-1"?><a>` + "\xe5" + `</a>`,
	`<?xml version="1.0" encoding="windows-1252"?><a/>`,
	`<?xml version="1.0" encoding="EBCDIC"?><a/>`,
	`<?xml version="1.1"?><a/>`,
	`<a><?xml version="1.0" encoding="latin1"?>` + "\xe5" + `</a>`,
	`<räksmörgås/>`,
	`<a ä="1"/>`,
	`<a></ä>`,
	`<?ä?><a/>`,
}

// TestScanTreeTable compares the parsers on the hand-made documents, on
// every example and on the corpus FuzzRead found.
func TestScanTreeTable(t *testing.T) {
	cases := map[string][]byte{}
	for i, s := range hostile {
		cases["hostile "+strconv.Itoa(i)+" "+strconv.Quote(s[:min(len(s), 40)])] = []byte(s)
		if _, unusual := compareParsers([]byte(s)); unusual && !strings.Contains(s, "<!DOCTYPE") {
			t.Errorf("%q: left to encoding/xml", s)
		}
	}
	for _, s := range unusual {
		if _, unusual := compareParsers([]byte(s)); !unusual {
			t.Errorf("%q: not left to encoding/xml", s)
		}
		// Through parseTree they are parsed as before.
		br := newByteReader(strings.NewReader(s))
		got, gerr := parseTree(br)
		br.release()
		want, werr := reference([]byte(s))
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || treeDiff(want, got, nil) != "" {
			t.Errorf("%q: parseTree %v, encoding/xml %v", s, gerr, werr)
		}
	}
	for name, data := range seedDocuments(t) {
		cases[name] = data
	}
	for name, data := range cases {
		if diff, _ := compareParsers(data); diff != "" {
			t.Errorf("%s:\n%s", name, diff)
		}
	}
}

// seedDocuments returns every XML file of the package's test data and the
// shared Peppol examples, and the documents of FuzzRead's corpus.
func seedDocuments(t testing.TB) map[string][]byte {
	docs := map[string][]byte{}
	for _, dir := range []string{"testdata", dataDir} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			b := readFile(t, path)
			if strings.EqualFold(filepath.Ext(path), ".xml") {
				docs[path] = b
			} else if rest, ok := bytes.CutPrefix(b, []byte("go test fuzz v1\n[]byte(")); ok {
				if s, err := strconv.Unquote(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(")")))); err == nil {
					docs[path] = []byte(s)
				}
			}
			return nil
		})
		if errors.Is(err, fs.ErrNotExist) {
			t.Logf("%s is absent: its documents are not compared", dir)
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(dataDir); err != nil {
		t.Logf("shared test data %s is absent: only the package's own documents are compared", dataDir)
	}
	return docs
}

// FuzzScanTree holds scanTree to decodeTree on arbitrary bytes.
func FuzzScanTree(f *testing.F) {
	for _, s := range hostile {
		f.Add([]byte(s))
	}
	for _, s := range unusual {
		f.Add([]byte(s))
	}
	for _, data := range seedDocuments(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if diff, _ := compareParsers(data); diff != "" {
			t.Fatalf("%q:\n%s", data, diff)
		}
	})
}

// TestScanTreeLimits compares the parsers where tokens reach the limits,
// byte for byte around them: the count includes the '<' encoding/xml reads
// with a text.
func TestScanTreeLimits(t *testing.T) {
	const head = `<Invoice xmlns="` + nsInvoice + `" xmlns:cbc="` + nsCBC + `"><cbc:ID>1</cbc:ID>`
	for _, n := range []int{maxText - 2, maxText - 1, maxText, maxText + 1} {
		x := strings.Repeat("x", n)
		for name, doc := range map[string]string{
			"text":           head + `<cbc:Note>` + x + `</cbc:Note></Invoice>`,
			"text and cdata": head + `<cbc:Note>` + x[:n/2] + `<![CDATA[` + x[n/2:] + `]]></cbc:Note></Invoice>`,
			"entities":       head + `<cbc:Note>` + strings.Repeat("&amp;", n/5) + `</cbc:Note></Invoice>`,
			"mixed":          head + `<cbc:Note><b/>` + x + `</cbc:Note></Invoice>`,
			"comment":        head + `<!--` + x + `--></Invoice>`,
			"after text":     head + `<cbc:Note>y<!--` + x + `--></cbc:Note></Invoice>`,
			"pi":             head + `<?pi ` + x + `?></Invoice>`,
			"tag":            head + `<cbc:Note a="` + x + `"/></Invoice>`,
			"tag after text": head + `<cbc:Note>y<b a="` + x + `"/></cbc:Note></Invoice>`,
			"end tag":        head + `<cbc:Note></cbc:Note` + strings.Repeat(" ", n) + `></Invoice>`,
			"at the end":     head + `<cbc:Note>` + x,
			"attachment":     head + `<cbc:EmbeddedDocumentBinaryObject>` + x + x + `</cbc:EmbeddedDocumentBinaryObject></Invoice>`,
		} {
			if diff, unusual := compareParsers([]byte(doc)); diff != "" || unusual {
				t.Errorf("%s, %d bytes: unusual %v\n%s", name, n, unusual, diff)
			}
			// A text and the '<' after it are one token for encoding/xml.
			if _, err := reference([]byte(doc)); name == "text" && errors.Is(err, ErrLimit) != (n+1 > maxText) {
				t.Errorf("text of %d bytes: %v", n, err)
			}
		}
	}
}

// TestScanTreeElements compares the parsers at the limit on elements.
func TestScanTreeElements(t *testing.T) {
	if testing.Short() {
		t.Skip("two million elements")
	}
	const head = `<Invoice xmlns="` + nsInvoice + `" xmlns:cbc="` + nsCBC + `"><cbc:ID>1</cbc:ID>`
	at := []byte(head + strings.Repeat("<b/>", maxElements-2) + `</Invoice>`)
	if _, err := scanTree(at); err != nil {
		t.Errorf("%d elements: %v", maxElements, err)
	}
	over := []byte(head + strings.Repeat("<b/>", maxElements-1) + `</Invoice>`)
	if _, err := scanTree(over); !errors.Is(err, ErrLimit) {
		t.Errorf("%d elements: %v", maxElements+1, err)
	}
	if diff, unusual := compareParsers(over); diff != "" || unusual {
		t.Errorf("%d elements: unusual %v\n%s", maxElements+1, unusual, diff)
	}
}

// TestParseTreeStreams checks the documents parseTree does not read whole:
// one larger than maxInMemory, and one whose reading fails after the root
// element, which encoding/xml never reads that far.
func TestParseTreeStreams(t *testing.T) {
	const doc = `<Invoice xmlns="` + nsInvoice + `" xmlns:cbc="` + nsCBC + `"><cbc:ID>1</cbc:ID>`
	big := doc + `<cbc:EmbeddedDocumentBinaryObject>` + strings.Repeat("QUFB", maxInMemory/4) + `</cbc:EmbeddedDocumentBinaryObject></Invoice>`
	broken := errors.New("broken")
	for name, c := range map[string]struct {
		r    io.Reader
		want string
	}{
		"large":           {strings.NewReader(big), ""},
		"error after":     {io.MultiReader(strings.NewReader(doc+"</Invoice>"), iotest.ErrReader(broken)), ""},
		"error inside":    {io.MultiReader(strings.NewReader(doc), iotest.ErrReader(broken)), "broken"},
		"error in a tag":  {io.MultiReader(strings.NewReader(doc+"<cbc:No"), iotest.ErrReader(broken)), "broken"},
		"limit in a text": {io.MultiReader(strings.NewReader(doc+"<cbc:Note>"), iotest.ErrReader(ErrLimit)), ErrLimit.Error()},
	} {
		br := newByteReader(c.r)
		root, err := parseTree(br)
		br.release()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		case root.val("cbc:ID") != "1":
			t.Errorf("%s: the tree does not hold the document number", name)
		}
		if name == "large" && len(root.val("cbc:EmbeddedDocumentBinaryObject")) != maxInMemory {
			t.Errorf("large: attachment of %d bytes", len(root.val("cbc:EmbeddedDocumentBinaryObject")))
		}
	}
}
