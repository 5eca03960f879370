package pdf

import (
	"fmt"
	"strconv"
	"sync"
)

// template is what every PDF of one Renderer starts with: one head per
// choice of font subsets.
type template struct {
	faces [2]*fontFace
	// heads by which faces embed their full subset, bit 0 for the
	// regular face and bit 1 for the bold one. Each is made on first use:
	// a biller whose documents are all Swedish needs one.
	heads [4]func() *head
	next  int  // the first object number a document's objects take
	logo  bool // the resources have the logo as /Im1
}

// head is the start of a PDF: the header and the template's objects.
type head struct {
	b       []byte
	offsets []int // of the template's objects, by number; 0 for 1–3
}

// fontSet is a family's faces and their objects in a PDF, made once per
// process.
type fontSet struct {
	faces     [2]*fontFace
	toUnicode []byte
	objs      [2][2]subsetObjects // per face and subset (fontFace.subsets)
	gidMaps   [2][]byte           // per face, the CIDToGIDMap compressed
}

// subsetObjects are the objects of a face that name its subset: the Type0
// font, the CIDFont, the font descriptor and the font file (its
// dictionary and its compressed data).
type subsetObjects struct {
	type0, cidFont, descriptor string
	fileDict                   string
	file                       []byte
}

// fontSets hold the fonts of each family, each made once per process.
var fontSets = func() map[string]func() (*fontSet, error) {
	m := map[string]func() (*fontSet, error){}
	for family := range Families {
		m[family] = sync.OnceValues(func() (*fontSet, error) { return buildFontSet(family) })
	}
	return m
}()

// loadFontSet is the font set of a family ("" is "go").
func loadFontSet(family string) (*fontSet, error) {
	if family == "" {
		family = "go"
	}
	build, ok := fontSets[family]
	if !ok {
		return nil, fmt.Errorf("font family %q: use one of go, go-mono", family)
	}
	return build()
}

func buildFontSet(family string) (*fontSet, error) {
	faces, err := loadFaces(family)
	if err != nil {
		return nil, err
	}
	s := &fontSet{faces: faces, toUnicode: []byte(toUnicodeCMap())}
	for i, f := range faces {
		n := objFaces + i*perFace
		var w []byte
		for j, v := range f.widths {
			if j > 0 {
				w = append(w, ' ')
			}
			w = strconv.AppendInt(w, int64(v), 10)
		}
		for j, sub := range f.subsets {
			s.objs[i][j] = subsetObjects{
				type0: "<</Type/Font/Subtype/Type0/BaseFont/" + sub.name + "/Encoding/Identity-H/DescendantFonts[" + ref(n+1) + "]/ToUnicode " + ref(objToUnicode) + ">>",
				cidFont: "<</Type/Font/Subtype/CIDFontType2/BaseFont/" + sub.name +
					"/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>/FontDescriptor " + ref(n+2) +
					"/CIDToGIDMap " + ref(n+4) + "/W[0[" + string(w) + "]]>>",
				descriptor: "<</Type/FontDescriptor/FontName/" + sub.name + "/Flags 32/FontBBox[" +
					itoa(f.bbox[0]) + " " + itoa(f.bbox[1]) + " " + itoa(f.bbox[2]) + " " + itoa(f.bbox[3]) +
					"]/ItalicAngle 0/Ascent " + itoa(f.ascent) + "/Descent " + itoa(f.descent) +
					"/CapHeight " + itoa(f.capHeight) + "/StemV " + itoa(f.stemV) + "/FontFile2 " + ref(n+3) + ">>",
				fileDict: "/Filter/FlateDecode/Length1 " + itoa(len(sub.file)),
				file:     deflateOnce(sub.file),
			}
		}
		gids := make([]byte, 2*len(f.gids))
		for j, g := range f.gids {
			gids[2*j], gids[2*j+1] = byte(g>>8), byte(g)
		}
		s.gidMaps[i] = deflateOnce(gids)
	}
	return s, nil
}

// write writes the font objects, with the full subset of the faces full
// has bit 1<<face set and the core subset of the others.
func (s *fontSet) write(o *objects, full int) {
	o.stream(objToUnicode, "", s.toUnicode)
	for i, objs := range s.objs {
		n := objFaces + i*perFace
		sub := objs[full>>i&1]
		o.obj(n, sub.type0)
		o.obj(n+1, sub.cidFont)
		o.obj(n+2, sub.descriptor)
		o.stream(n+3, sub.fileDict, sub.file)
		o.stream(n+4, "/Filter/FlateDecode", s.gidMaps[i])
	}
}

// newTemplate prepares the heads of a Renderer's PDFs: the fonts, the
// resources and the logo, if any.
func newTemplate(family string, logo *logoImage) (*template, error) {
	fonts, err := loadFontSet(family)
	if err != nil {
		return nil, err
	}
	t := &template{faces: fonts.faces, logo: logo != nil}
	for full := range t.heads {
		t.heads[full] = sync.OnceValue(func() *head {
			o := objects{b: []byte(header)}
			fonts.write(&o, full)
			writeResources(&o, logo)
			return &head{b: o.b, offsets: o.offsets}
		})
	}
	t.next = len(t.heads[0]().offsets)
	return t, nil
}

// writeResources writes the pages' resources and the logo, if any.
func writeResources(o *objects, logo *logoImage) {
	res := "<</Font<</F1 " + ref(objFaces) + "/F2 " + ref(objFaces+perFace) + ">>"
	if logo != nil {
		res += "/XObject<</Im1 " + ref(objLogo) + ">>"
		dict := "/Type/XObject/Subtype/Image/Width " + itoa(logo.w) + "/Height " + itoa(logo.h) + "/BitsPerComponent 8/Filter/FlateDecode"
		cs := "/ColorSpace/DeviceRGB"
		if logo.gray {
			cs = "/ColorSpace/DeviceGray"
		}
		if logo.alpha != nil {
			o.stream(objLogo, dict+cs+"/SMask "+ref(objLogo+1), logo.data)
			o.stream(objLogo+1, dict+"/ColorSpace/DeviceGray", logo.alpha)
		} else {
			o.stream(objLogo, dict+cs, logo.data)
		}
	}
	o.obj(objResources, res+">>")
}

// toUnicodeCMap maps the codes back to the characters, so that text can be
// extracted and searched.
func toUnicodeCMap() string {
	type run struct{ cid, r, n int }
	var runs []run
	for cid, r := range repertoire {
		// A range may not cross a change of the high byte of either side.
		if k := len(runs) - 1; k >= 0 && runs[k].cid+runs[k].n == cid && runs[k].r+runs[k].n == int(r) && cid%256 != 0 && r%256 != 0 {
			runs[k].n++
			continue
		}
		runs = append(runs, run{cid, int(r), 1})
	}
	var b []byte
	b = append(b, "/CIDInit/ProcSet findresource begin\n12 dict begin\nbegincmap\n"+
		"/CIDSystemInfo<</Registry(Adobe)/Ordering(UCS)/Supplement 0>>def\n"+
		"/CMapName/Adobe-Identity-UCS def\n/CMapType 2 def\n"+
		"1 begincodespacerange\n<0000><FFFF>\nendcodespacerange\n"...)
	for len(runs) > 0 {
		k := min(len(runs), 100) // at most 100 entries per block
		b = strconv.AppendInt(b, int64(k), 10)
		b = append(b, " beginbfrange\n"...)
		for _, r := range runs[:k] {
			b = appendHex4(append(b, '<'), r.cid)
			b = appendHex4(append(b, "><"...), r.cid+r.n-1)
			b = appendHex4(append(b, "><"...), r.r)
			b = append(b, ">\n"...)
		}
		b = append(b, "endbfrange\n"...)
		runs = runs[k:]
	}
	return string(append(b, "endcmap\nCMapName currentdict/CMap defineresource pop\nend\nend"...))
}

const hexDigits = "0123456789ABCDEF"

func appendHex4(b []byte, v int) []byte {
	return append(b, hexDigits[v>>12&15], hexDigits[v>>8&15], hexDigits[v>>4&15], hexDigits[v&15])
}
