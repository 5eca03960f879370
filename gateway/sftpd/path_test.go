package sftpd

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" means an error
	}{
		{"/", "/"},
		{"", "/inbox"},
		{".", "/inbox"},
		{"..", "/"},
		{"../..", "/"},
		{"/inbox", "/inbox"},
		{"/inbox/", "/inbox"},
		{"/receipts", "/receipts"},
		{"x.xml", "/inbox/x.xml"},
		{"/inbox/x.xml", "/inbox/x.xml"},
		{"/inbox//x.xml", "/inbox/x.xml"},
		{"/inbox/./x.xml", "/inbox/x.xml"},
		{"../receipts/r.json", "/receipts/r.json"},
		{"/inbox/../receipts/r.json", "/receipts/r.json"},
		{"/inbox/faktura 1 åäö.xml", "/inbox/faktura 1 åäö.xml"},
		{"/inbox/x.xml.filepart", "/inbox/x.xml.filepart"},
		{"../x", ""},
		{"/x", ""},
		{"/etc/passwd", ""},
		{"/inbox/../../etc/passwd", ""},
		{"/inbox/sub/x", ""},
		{"/inbox/.hidden", ""},
		{"/inbox/.upload-0123.tmp", ""},
		{"/inbox/a\x00b", ""},
		{"/inbox/a\nb", ""},
		{"/inbox/a\\b", ""},
		{"/inbox/\xff", ""},
		{"/inbox/" + strings.Repeat("a", 256), ""},
		{"/INBOX", ""},
		{"/inboxes", ""},
	} {
		got, err := resolve(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("resolve(%q) = %s, want an error", tc.in, got)
		case tc.want != "" && err != nil:
			t.Errorf("resolve(%q): %v, want %s", tc.in, err, tc.want)
		case tc.want != "" && got.String() != tc.want:
			t.Errorf("resolve(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzResolve checks that no client path resolves outside the tenant's two
// folders: a resolved name joined to a folder's directory stays directly
// inside it, and is never hidden.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"/", "x", "../x", "/inbox/../../etc/passwd", "/inbox/.x", "/receipts/r.json",
		"/inbox/a/b", "inbox", "//inbox//x", "/inbox/..", "/inbox/...", "/receipts/\x00", "\\..\\x"} {
		f.Add(s)
	}
	dirs := map[folder]string{folderInbox: "/srv/t/inbox", folderReceipts: "/srv/t/receipts"}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := resolve(p)
		if err != nil {
			return
		}
		if got.name == "" {
			if got.dir != folderRoot && got.dir != folderInbox && got.dir != folderReceipts {
				t.Fatalf("resolve(%q) = unknown folder %d", p, got.dir)
			}
			return
		}
		base, ok := dirs[got.dir]
		if !ok {
			t.Fatalf("resolve(%q) names %q in folder %s", p, got.name, got.dir)
		}
		full := filepath.Join(base, got.name)
		if filepath.Dir(full) != base || filepath.Base(full) != got.name {
			t.Fatalf("resolve(%q) = %q, leaves %s", p, full, base)
		}
		if strings.HasPrefix(got.name, ".") || strings.ContainsAny(got.name, "/\\\x00") ||
			len(got.name) > 255 || !utf8.ValidString(got.name) {
			t.Fatalf("resolve(%q) = bad name %q", p, got.name)
		}
	})
}

func TestTempNamesAreRecognised(t *testing.T) {
	for range 10 {
		if n := tempName(); !IsTempName(n) || checkName(n) == nil {
			t.Errorf("%q: IsTempName %v, and a client may use the name: %v", n, IsTempName(n), checkName(n) == nil)
		}
	}
	for _, n := range []string{"upload-1.tmp", ".upload-1.xml", ".erp.tmp", "a.xml"} {
		if IsTempName(n) {
			t.Errorf("IsTempName(%q) = true", n)
		}
	}
}
