package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"image/color"
	"image/png"
)

// logoImage is the logo decoded once per Renderer and compressed once, so
// every PDF gets the same image XObject bytes without decoding the PNG.
type logoImage struct {
	w, h  int
	gray  bool   // DeviceGray rather than DeviceRGB
	data  []byte // samples, 8 bits per component, zlib-compressed
	alpha []byte // soft mask, zlib-compressed; nil when the PNG is opaque
}

func decodeLogo(b []byte) (*logoImage, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("pdf: the logo must be a PNG image (%v)", err)
	}
	r := img.Bounds()
	if r.Empty() {
		return nil, errors.New("pdf: the logo PNG has no pixels")
	}
	l := &logoImage{w: r.Dx(), h: r.Dy()}
	switch img.ColorModel() {
	case color.GrayModel, color.Gray16Model:
		l.gray = true
	}
	comps := 3
	if l.gray {
		comps = 1
	}
	samples := make([]byte, 0, l.w*l.h*comps)
	alpha := make([]byte, 0, l.w*l.h)
	opaque := true
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if l.gray {
				samples = append(samples, c.R)
			} else {
				samples = append(samples, c.R, c.G, c.B)
			}
			alpha = append(alpha, c.A)
			opaque = opaque && c.A == 0xff
		}
	}
	l.data = deflateOnce(samples)
	if !opaque {
		l.alpha = deflateOnce(alpha)
	}
	return l, nil
}

// deflateOnce compresses data that is compressed once and written many
// times (fonts, logo): best compression, whatever it costs.
func deflateOnce(data []byte) []byte {
	var b bytes.Buffer
	z, _ := zlib.NewWriterLevel(&b, zlib.BestCompression) // the level is valid
	z.Write(data)
	z.Close()
	return b.Bytes()
}
