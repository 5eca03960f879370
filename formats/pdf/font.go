package pdf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"slices"
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"
)

// The fonts are embedded as subsets for one fixed repertoire or its core
// (beyondCore), made once per process and written as the same bytes into
// every PDF: subsetting per document for the glyphs it uses was half of all
// rendering time.
//
// A character has the same code (CID) in both faces: its index in
// repertoire. The fonts are Type 0 fonts with Identity-H encoding over a
// CIDFontType2 (TrueType) font whose CIDToGIDMap maps the code to the
// face's glyph, with a ToUnicode CMap so text can be extracted and searched.
// A simple TrueType font with a custom encoding would take one byte per
// character but holds at most 256 codes, too few for Latin-1 and Latin
// Extended-A; own codes instead of glyph ids also let U+00A0 and U+0020
// extract as themselves.
var repertoire = func() []rune {
	var rs []rune
	add := func(lo, hi rune) {
		for r := lo; r <= hi; r++ {
			rs = append(rs, r)
		}
	}
	add(0x20, 0x7e)   // ASCII
	add(0xa0, 0xac)   // Latin-1 without the soft hyphen (U+00AD, dropped)
	add(0xae, 0x17f)  // Latin-1, Latin Extended-A: Nordic, German, French, Polish, Czech, Baltic, Turkish, Hungarian names
	add(0x218, 0x21b) // Romanian Ș ș Ț ț
	for _, r := range "ƒˆˇ˘˙˚˛˜˝–—‘’‚“”„†‡•…‰‹›€™−" {
		rs = append(rs, r)
	}
	return rs
}()

// The core of the repertoire is what nearly every document draws: ASCII,
// Latin-1 and the punctuation (U+2000 on). The rest (Latin Extended-A, the
// Romanian letters, ƒ and the spacing accents) is one run of codes,
// beyondCore. Each face has two subsets: one with the core's glyphs only,
// embedded when a document draws nothing beyond the core with that face,
// and one with the whole repertoire (issue 24: the fonts were two thirds of
// a one-page invoice's bytes). Both have the same codes, widths and glyph
// ids, so the PDF's other font objects and its text are the same whichever
// is embedded.
var beyondCore = func() [2]uint16 {
	lo, hi := -1, -1
	for cid, r := range repertoire {
		switch beyond := r >= 0x100 && r < 0x2000; {
		case beyond && lo < 0:
			lo, hi = cid, cid
		case beyond && hi == cid-1:
			hi = cid
		case beyond:
			panic(fmt.Sprintf("pdf: %U is beyond the core but not in the run of codes beyond it", r))
		}
	}
	return [2]uint16{uint16(lo), uint16(hi)}
}()

// inCore reports whether the core subsets draw code cid.
func inCore(cid uint16) bool { return cid < beyondCore[0] || cid > beyondCore[1] }

// Codes of the characters drawn in place of others.
var (
	cidQuestion = cidOfRepertoire('?')
	cidSpace    = cidOfRepertoire(' ')
	cidNBSP     = cidOfRepertoire('\u00a0')
	cidHyphen   = cidOfRepertoire('-')
)

func cidOfRepertoire(r rune) uint16 {
	for i, x := range repertoire {
		if x == r {
			return uint16(i)
		}
	}
	panic(fmt.Sprintf("pdf: %U is not in the repertoire", r))
}

// noGlyph marks a character that is drawn as nothing.
const noGlyph = 0xffff

// cidOf is the code a character is drawn with: its own when it is in the
// repertoire; a space for white space (tab, line breaks, the Unicode
// spaces; no-break ones as U+00A0); '-' for U+2010 and U+2011; nothing for
// control and format characters (soft hyphen, zero-width space, direction
// marks) and for combining marks that NFC could not join to their letter;
// '?' for every other character.
func cidOf(r rune) uint16 {
	if r < rune(len(cidTable)) {
		return cidTable[r]
	}
	return classify(r)
}

// cidTable holds cidOf for the runes up to the last one of the repertoire,
// so measuring and drawing text is an array look-up per character.
var cidTable = func() []uint16 {
	t := make([]uint16, repertoire[len(repertoire)-1]+1)
	for r := range t {
		t[r] = classify(rune(r))
	}
	for i, r := range repertoire {
		t[r] = uint16(i)
	}
	return t
}()

func classify(r rune) uint16 {
	switch {
	case r == '\u2007' || r == '\u202f':
		return cidNBSP
	case unicode.IsSpace(r):
		return cidSpace
	case r == '\u2010' || r == '\u2011':
		return cidHyphen
	case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Mn, unicode.Me):
		return noGlyph
	}
	return cidQuestion
}

// nfc composes decomposed letters (a + U+030A from a Mac is å) so they are
// drawn with the repertoire's glyph. Text without combining marks, nearly
// all of it, is returned as it is without looking further.
func nfc(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xcc && s[i] <= 0xcd { // UTF-8 lead bytes of U+0300–U+036F
			return norm.NFC.String(s)
		}
	}
	return s
}

// fontFace is one face subset for the repertoire, ready to measure text and
// to be written into a PDF.
type fontFace struct {
	name   string   // PostScript name, without a subset tag
	widths []uint16 // advance per code, in 1/1000 em
	gids   []uint16 // glyph per code
	// The subsets: [0] with the core's glyphs (inCore), [1] with the
	// whole repertoire's.
	subsets [2]subset
	// Metrics for the font descriptor, in 1/1000 em.
	bbox                       [4]int
	ascent, descent, capHeight int
	stemV                      int
}

// subset is a subset TrueType file and its PostScript name: the face's
// with a tag of its own (subsetTag).
type subset struct {
	name string
	file []byte
}

// subsetTag is the six capital letters a subset's name starts with, from a
// hash of its file: two subsets of a face do not share a name, which tools
// that merge PDFs could take for one font.
func subsetTag(file []byte) string {
	h := crc32.ChecksumIEEE(file)
	var tag [6]byte
	for i := range tag {
		tag[i] = 'A' + byte(h%26)
		h /= 26
	}
	return string(tag[:])
}

// width is the advance of s in 1/1000 em; s has been through nfc.
func (f *fontFace) width(s string) int {
	w := 0
	for i := 0; i < len(s); {
		r := rune(s[i])
		if r < utf8.RuneSelf {
			i++
		} else {
			var n int
			r, n = utf8.DecodeRuneInString(s[i:])
			i += n
		}
		if c := cidOf(r); c != noGlyph {
			w += int(f.widths[c])
		}
	}
	return w
}

// Families are the font families a biller may choose (formats.Look.Font),
// each a regular and a bold face: the Go fonts, which cover the
// repertoire and may be embedded (BSD licence). "" is "go".
var Families = map[string][2]faceSource{
	"go":      {{"GoRegular", goregular.TTF, 80}, {"GoBold", gobold.TTF, 140}},
	"go-mono": {{"GoMono", gomono.TTF, 80}, {"GoMonoBold", gomonobold.TTF, 140}},
}

// faceSource is one face of a family: its PostScript name, the TrueType
// file and its stem width.
type faceSource struct {
	name  string
	ttf   []byte
	stemV int
}

// loadFaces subsets a family's faces. Made once per family and process
// (fontSets): every Renderer shares the result, which is only read.
func loadFaces(family string) ([2]*fontFace, error) {
	var faces [2]*fontFace
	srcs, ok := Families[family]
	if !ok {
		return faces, fmt.Errorf("font family %q: use one of go, go-mono", family)
	}
	for f, src := range srcs {
		ff, err := subsetFace(src.ttf)
		if err != nil {
			return faces, fmt.Errorf("%s: %w", src.name, err)
		}
		ff.name, ff.stemV = src.name, src.stemV
		for i, sub := range ff.subsets {
			ff.subsets[i].name = subsetTag(sub.file) + "+" + src.name
		}
		faces[f] = ff
	}
	return faces, nil
}

// subsetFace reads the glyphs and widths of the repertoire from a TrueType
// font and builds the subset files.
func subsetFace(ttf []byte) (*fontFace, error) {
	f, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, err
	}
	var buf sfnt.Buffer
	upem := int(f.UnitsPerEm())
	ppem := fixed.Int26_6(upem << 6) // advances in font units, in 26.6
	ff := &fontFace{widths: make([]uint16, len(repertoire)), gids: make([]uint16, len(repertoire))}
	for i, r := range repertoire {
		g, err := f.GlyphIndex(&buf, r)
		if err != nil {
			return nil, err
		}
		if g == 0 {
			return nil, fmt.Errorf("no glyph for %U", r)
		}
		adv, err := f.GlyphAdvance(&buf, g, ppem, font.HintingNone)
		if err != nil {
			return nil, err
		}
		ff.gids[i] = uint16(g)
		// Truncated to whole thousandths, as the PDF's /W array states
		// them: measured text is then exactly as wide as drawn text.
		ff.widths[i] = uint16(int(adv>>6) * 1000 / upem)
	}
	em := func(v fixed.Int26_6) int { return int(v>>6) * 1000 / upem }
	b, err := f.Bounds(&buf, ppem, font.HintingNone)
	if err != nil {
		return nil, err
	}
	// sfnt's y axis points down; a font's bounding box points up.
	ff.bbox = [4]int{em(b.Min.X), -em(b.Max.Y), em(b.Max.X), -em(b.Min.Y)}
	m, err := f.Metrics(&buf, ppem, font.HintingNone)
	if err != nil {
		return nil, err
	}
	ff.ascent, ff.descent, ff.capHeight = em(m.Ascent), -em(m.Descent), em(m.CapHeight)
	var core []uint16
	for cid, g := range ff.gids {
		if inCore(uint16(cid)) {
			core = append(core, g)
		}
	}
	for i, keep := range [][]uint16{core, ff.gids} {
		if ff.subsets[i].file, err = subsetTrueType(ttf, keep); err != nil {
			return nil, err
		}
	}
	return ff, nil
}

// subsetTrueType returns a TrueType file with only the glyphs keep (and
// .notdef and the components of composite glyphs) left in glyf. Glyph ids
// stay as they are, so hmtx, cmap and the CIDToGIDMap stay valid; the
// other glyphs become empty, which costs four bytes each in loca. The
// glyphs lose their hinting instructions and the font its hinting programs
// (fpgm, prep, cvt): they serve screens at small sizes, not print, and were
// half of the glyph data. name is dropped and post cut to its header: a
// PDF names the font itself.
func subsetTrueType(ttf []byte, keep []uint16) ([]byte, error) {
	tables, err := readTables(ttf)
	if err != nil {
		return nil, err
	}
	for _, tag := range []string{"head", "hhea", "hmtx", "maxp", "loca", "glyf", "cmap", "OS/2", "post"} {
		if tables[tag] == nil {
			return nil, fmt.Errorf("no %s table", tag)
		}
	}
	head, maxp, loca, glyf := tables["head"], tables["maxp"], tables["loca"], tables["glyf"]
	if len(head) < 54 || len(maxp) < 6 || len(tables["post"]) < 32 {
		return nil, errors.New("head, maxp or post table too short")
	}
	n := int(binary.BigEndian.Uint16(maxp[4:]))
	long := binary.BigEndian.Uint16(head[50:]) == 1
	offset := func(g int) int {
		if long {
			return int(binary.BigEndian.Uint32(loca[4*g:]))
		}
		return 2 * int(binary.BigEndian.Uint16(loca[2*g:]))
	}
	if (long && len(loca) < 4*(n+1)) || (!long && len(loca) < 2*(n+1)) {
		return nil, errors.New("loca table too short")
	}
	glyph := func(g int) ([]byte, error) {
		lo, hi := offset(g), offset(g+1)
		if lo > hi || hi > len(glyf) {
			return nil, fmt.Errorf("glyph %d: bad loca", g)
		}
		return glyf[lo:hi], nil
	}

	// Close over composite glyphs: their components must stay too.
	kept := make([]bool, n)
	todo := []int{0} // .notdef
	for _, g := range keep {
		todo = append(todo, int(g))
	}
	for len(todo) > 0 {
		g := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if g >= n || kept[g] {
			continue
		}
		kept[g] = true
		data, err := glyph(g)
		if err != nil {
			return nil, err
		}
		if _, err := walkComponents(data, func(_, c int) { todo = append(todo, c) }); err != nil {
			return nil, fmt.Errorf("glyph %d: %w", g, err)
		}
	}

	var newGlyf []byte
	newLoca := make([]byte, 4*(n+1))
	for g := 0; g < n; g++ {
		binary.BigEndian.PutUint32(newLoca[4*g:], uint32(len(newGlyf)))
		if !kept[g] {
			continue
		}
		data, _ := glyph(g)
		if newGlyf, err = appendUnhinted(newGlyf, data); err != nil {
			return nil, fmt.Errorf("glyph %d: %w", g, err)
		}
		for len(newGlyf)%4 != 0 {
			newGlyf = append(newGlyf, 0)
		}
	}
	binary.BigEndian.PutUint32(newLoca[4*n:], uint32(len(newGlyf)))

	// Metrics of the emptied glyphs are zeroed too: they compress to
	// nothing, 1 KB less per face.
	hhea, hmtx := tables["hhea"], append([]byte(nil), tables["hmtx"]...)
	if len(hhea) < 36 {
		return nil, errors.New("hhea table too short")
	}
	nh := int(binary.BigEndian.Uint16(hhea[34:]))
	if nh < 1 || nh > n || len(hmtx) < 4*nh+2*(n-nh) {
		return nil, errors.New("hmtx table too short")
	}
	for g := 0; g < n; g++ {
		switch {
		case kept[g], g == nh-1: // the last advance is that of all glyphs after it
		case g < nh:
			clear(hmtx[4*g : 4*g+4])
		default:
			clear(hmtx[4*nh+2*(g-nh) : 4*nh+2*(g-nh)+2])
		}
	}

	newHead := append([]byte(nil), head...)
	binary.BigEndian.PutUint32(newHead[8:], 0)  // checkSumAdjustment, set below
	binary.BigEndian.PutUint16(newHead[50:], 1) // long loca
	post := append([]byte(nil), tables["post"][:32]...)
	binary.BigEndian.PutUint32(post, 0x00030000) // no glyph names

	out := writeTables(map[string][]byte{
		"OS/2": tables["OS/2"], "cmap": tables["cmap"], "glyf": newGlyf, "head": newHead,
		"hhea": hhea, "hmtx": hmtx, "loca": newLoca, "maxp": maxp, "post": post,
	})
	return out, nil
}

// readTables returns the tables of a TrueType file by tag.
func readTables(ttf []byte) (map[string][]byte, error) {
	if len(ttf) < 12 {
		return nil, errors.New("not a TrueType font")
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	if len(ttf) < 12+16*n {
		return nil, errors.New("table directory too short")
	}
	tables := make(map[string][]byte, n)
	for i := 0; i < n; i++ {
		e := ttf[12+16*i:]
		off, size := int(binary.BigEndian.Uint32(e[8:])), int(binary.BigEndian.Uint32(e[12:]))
		if off < 0 || size < 0 || off+size > len(ttf) {
			return nil, fmt.Errorf("table %q out of the file", e[:4])
		}
		tables[string(e[:4])] = ttf[off : off+size]
	}
	return tables, nil
}

// writeTables assembles a TrueType file with checksums and the head
// table's checkSumAdjustment set as the specification asks.
func writeTables(tables map[string][]byte) []byte {
	tags := slices.Sorted(maps.Keys(tables)) // the directory is sorted by tag
	n := len(tags)
	out := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(out, 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	sr := 1
	sel := 0
	for sr*2 <= n {
		sr *= 2
		sel++
	}
	binary.BigEndian.PutUint16(out[6:], uint16(sr*16))
	binary.BigEndian.PutUint16(out[8:], uint16(sel))
	binary.BigEndian.PutUint16(out[10:], uint16(n*16-sr*16))
	headAt := 0
	for i, tag := range tags {
		t := tables[tag]
		e := out[12+16*i:]
		copy(e, tag)
		binary.BigEndian.PutUint32(e[4:], checksum(t))
		binary.BigEndian.PutUint32(e[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(e[12:], uint32(len(t)))
		if tag == "head" {
			headAt = len(out)
		}
		out = append(out, t...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	binary.BigEndian.PutUint32(out[headAt+8:], 0xb1b0afba-checksum(out))
	return out
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

// Composite glyph flags (TrueType glyf table).
const (
	argsAreWords    = 0x0001
	haveScale       = 0x0008
	moreComponents  = 0x0020
	haveXYScale     = 0x0040
	haveTwoByTwo    = 0x0080
	haveInstruction = 0x0100
)

// walkComponents calls fn with the offset of each component record of a
// composite glyph and the glyph it refers to, and returns where the records
// end (and its instructions start). A simple or empty glyph has none: 0.
func walkComponents(g []byte, fn func(at, gid int)) (int, error) {
	if len(g) < 10 || int16(binary.BigEndian.Uint16(g)) >= 0 {
		return 0, nil
	}
	for i := 10; ; {
		if i+4 > len(g) {
			return 0, errors.New("composite glyph cut short")
		}
		flags := binary.BigEndian.Uint16(g[i:])
		fn(i, int(binary.BigEndian.Uint16(g[i+2:])))
		i += 4
		if flags&argsAreWords != 0 {
			i += 4
		} else {
			i += 2
		}
		switch {
		case flags&haveScale != 0:
			i += 2
		case flags&haveXYScale != 0:
			i += 4
		case flags&haveTwoByTwo != 0:
			i += 8
		}
		if flags&moreComponents == 0 {
			if i > len(g) {
				return 0, errors.New("composite glyph cut short")
			}
			return i, nil
		}
	}
}

// appendUnhinted appends glyph g without its hinting instructions.
func appendUnhinted(out, g []byte) ([]byte, error) {
	if len(g) == 0 {
		return out, nil
	}
	if len(g) < 10 {
		return nil, errors.New("glyph header cut short")
	}
	contours := int(int16(binary.BigEndian.Uint16(g)))
	if contours < 0 {
		var records []int
		end, err := walkComponents(g, func(at, _ int) { records = append(records, at) })
		if err != nil {
			return nil, err
		}
		start := len(out)
		out = append(out, g[:end]...)
		for _, at := range records { // no instructions follow
			flags := binary.BigEndian.Uint16(out[start+at:])
			binary.BigEndian.PutUint16(out[start+at:], flags&^haveInstruction)
		}
		return out, nil
	}
	at := 10 + 2*contours // instructionLength
	if at+2 > len(g) {
		return nil, errors.New("simple glyph cut short")
	}
	skip := int(binary.BigEndian.Uint16(g[at:]))
	if at+2+skip > len(g) {
		return nil, errors.New("glyph instructions run past the glyph")
	}
	out = append(out, g[:at]...)
	out = append(out, 0, 0)
	return append(out, g[at+2+skip:]...), nil
}
