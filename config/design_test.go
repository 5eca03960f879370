package config

import (
	"bytes"
	"image"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
)

// A tenant's design is checked by `check`: each problem names the file,
// the line and the key, and says what to do. Its logos are read at load.
func TestDesignProblems(t *testing.T) {
	dir := t.TempDir()
	var logo bytes.Buffer
	png.Encode(&logo, image.NewGray(image.Rect(0, 0, 4, 2)))
	writeFile(t, filepath.Join(dir, "logo.png"), logo.String())
	writeFile(t, filepath.Join(dir, "logo.svg"), `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 2"><rect width="4" height="2"/></svg>`)
	writeFile(t, filepath.Join(dir, "script.svg"), `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
	writeFile(t, filepath.Join(dir, "remote.svg"), `<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/x.png"/></svg>`)
	writeFile(t, filepath.Join(dir, "not.png"), "GIF89a")
	writeFile(t, filepath.Join(dir, "text.svg"), `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50"><text x="1" y="40">Acme</text></svg>`)

	good := validDoc + "[tenant.design]\nlogo_png = \"logo.png\"\nlogo_svg = \"logo.svg\"\ncolour = \"#0B5CAD\"\nfont = \"go-mono\"\nlanguage = \"en\"\ncontact_web = \"https://acme.se\"\ncontact_email = \"kund@acme.se\"\n"
	c, err := Parse([]byte(good), "m.toml", dir, registered)
	if err != nil {
		t.Fatal(err)
	}
	acme := c.Tenants[0]
	look := acme.Look()
	if !bytes.Equal(look.LogoPNG, logo.Bytes()) || !strings.Contains(string(look.LogoSVG), "<rect") || look.Colour != "#0B5CAD" || look.Font != "go-mono" || acme.LanguageOr() != "en" {
		t.Errorf("design not loaded: %+v", acme.Design)
	}

	// An SVG alone is drawn into the PNG the PDF and the e-mail carry.
	c, err = Parse([]byte(validDoc+"[tenant.design]\nlogo_svg = \"logo.svg\"\n"), "m.toml", dir, registered)
	if err != nil {
		t.Fatal(err)
	}
	drawn, err := png.Decode(bytes.NewReader(c.Tenants[0].Look().LogoPNG))
	if err != nil {
		t.Fatalf("no PNG drawn from the SVG alone: %v", err)
	}
	if got := drawn.Bounds().Size(); got.X != 520 || got.Y != 260 {
		t.Errorf("the SVG's 4:2 logo drawn at %v, want 520×260", got)
	}

	tests := []struct{ name, table, want string }{
		{"not a PNG", `logo_png = "not.png"`, `m.toml:9: tenant[0].design.logo_png: `},
		{"missing file", `logo_png = "nope.png"`, `m.toml:9: tenant[0].design.logo_png: ` + filepath.Join(dir, "nope.png") + `: no such file`},
		{"script in SVG", `logo_svg = "script.svg"`, `m.toml:9: tenant[0].design.logo_svg: ` + filepath.Join(dir, "script.svg") + `: <script> is not allowed`},
		{"remote image in SVG", `logo_svg = "remote.svg"`, `refers outside the file`},
		{"SVG alone with text", `logo_svg = "text.svg"`, `m.toml:9: tenant[0].design.logo_svg: ` + filepath.Join(dir, "text.svg") + ` cannot be drawn on the PDF (Cannot process svg element text): convert text to paths`},
		{"pale colour", `colour = "#99CCFF"`, `m.toml:9: tenant[0].design.colour: #99CCFF has a contrast of 1.7:1 against white; WCAG 2.1 AA needs 4.5:1`},
		{"colour form", `colour = "blue"`, `tenant[0].design.colour: "blue": write the colour as #RRGGBB`},
		{"font", `font = "arial"`, `m.toml:9: tenant[0].design.font: "arial": the PDF embeds "go", "go-mono"`},
		{"language", `language = "de"`, `tenant[0].design.language: "de": use "sv", "en"`},
		{"unknown key", `logo = "logo.png"`, `m.toml:9: unknown key "tenant[0].design.logo": known keys here: colour, contact_email`},
		{"footer on two lines", `footer = "a\nb"`, `tenant[0].design.footer: one line`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(validDoc+"[tenant.design]\n"+tc.table+"\n"), "m.toml", dir, registered)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

// The embedded default's demo tenant shows the design: a logo (built in),
// a colour, a contact block, a footer and a message.
func TestDefaultDesign(t *testing.T) {
	demo := Default(t.TempDir(), registered).Tenant("demo")
	d := demo.Design
	if d == nil || len(d.LogoPNG) == 0 || len(d.LogoSVG) == 0 || d.Colour == "" || d.Message == "" || d.Footer == "" || d.Web == "" {
		t.Fatalf("the demo's design is incomplete: %+v", d)
	}
	if err := checkSVG(d.LogoSVG); err != nil {
		t.Error(err)
	}
}
