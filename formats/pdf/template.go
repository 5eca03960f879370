package pdf

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
)

// template is what every PDF of one Renderer starts with.
type template struct {
	faces   [2]*fontFace
	head    []byte
	offsets []int // of the template's objects, by number; 0 for 1–3
	logo    bool  // the resources have the logo as /Im1
}

// fontTemplates hold the header and the font objects of each family,
// each made once per process.
var fontTemplates = func() map[string]func() (*template, error) {
	m := map[string]func() (*template, error){}
	for family := range Families {
		m[family] = sync.OnceValues(func() (*template, error) { return buildFontTemplate(family) })
	}
	return m
}()

// fontTemplate is the template of a family ("" is "go").
func fontTemplate(family string) (*template, error) {
	if family == "" {
		family = "go"
	}
	build, ok := fontTemplates[family]
	if !ok {
		return nil, fmt.Errorf("font family %q: use one of go, go-mono", family)
	}
	return build()
}

func buildFontTemplate(family string) (*template, error) {
	faces, err := loadFaces(family)
	if err != nil {
		return nil, err
	}
	o := objects{b: []byte(header)}
	o.stream(objToUnicode, "", []byte(toUnicodeCMap()))
	for i, f := range faces {
		n := objFaces + i*perFace
		o.obj(n, "<</Type/Font/Subtype/Type0/BaseFont/"+f.name+"/Encoding/Identity-H/DescendantFonts["+ref(n+1)+"]/ToUnicode "+ref(objToUnicode)+">>")
		w := []byte("<</Type/Font/Subtype/CIDFontType2/BaseFont/" + f.name +
			"/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>/FontDescriptor " + ref(n+2) +
			"/CIDToGIDMap " + ref(n+4) + "/W[0[")
		for j, v := range f.widths {
			if j > 0 {
				w = append(w, ' ')
			}
			w = strconv.AppendInt(w, int64(v), 10)
		}
		o.obj(n+1, string(append(w, "]]>>"...)))
		o.obj(n+2, "<</Type/FontDescriptor/FontName/"+f.name+"/Flags 32/FontBBox["+
			itoa(f.bbox[0])+" "+itoa(f.bbox[1])+" "+itoa(f.bbox[2])+" "+itoa(f.bbox[3])+
			"]/ItalicAngle 0/Ascent "+itoa(f.ascent)+"/Descent "+itoa(f.descent)+
			"/CapHeight "+itoa(f.capHeight)+"/StemV "+itoa(f.stemV)+"/FontFile2 "+ref(n+3)+">>")
		o.stream(n+3, "/Filter/FlateDecode/Length1 "+itoa(len(f.file)), deflateOnce(f.file))
		gids := make([]byte, 2*len(f.gids))
		for j, g := range f.gids {
			gids[2*j], gids[2*j+1] = byte(g>>8), byte(g)
		}
		o.stream(n+4, "/Filter/FlateDecode", deflateOnce(gids))
	}
	return &template{faces: faces, head: o.b, offsets: o.offsets}, nil
}

// newTemplate adds the resources and the logo, if any, to the font
// template.
func newTemplate(family string, logo *logoImage) (*template, error) {
	base, err := fontTemplate(family)
	if err != nil {
		return nil, err
	}
	o := objects{b: bytes.Clone(base.head), offsets: append([]int(nil), base.offsets...)}
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
	return &template{faces: base.faces, head: o.b, offsets: o.offsets, logo: logo != nil}, nil
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
