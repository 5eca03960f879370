package receipts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/multikanal/multikanal/gateway/api"
)

// The line writer writes the lines in order, comma-separated, across its
// batch boundaries, the same bytes as one line after another.
func TestLineWriterKeepsOrder(t *testing.T) {
	for _, n := range []int{0, 1, lineBatch - 1, lineBatch, lineBatch + 1, 3*lineBatch + 7} {
		var got, want bytes.Buffer
		bw := bufio.NewWriter(&got)
		l := newLineWriter(bw)
		for i := range n {
			rd := api.ReceiptDocument{ID: fmt.Sprintf("F0000001-%07d", i), Number: fmt.Sprint(i)}
			if err := l.add(rd); err != nil {
				t.Fatal(err)
			}
			b, _ := docJSON(&rd)
			if i > 0 {
				want.WriteByte(',')
			}
			want.WriteString("\n    ")
			want.Write(b)
		}
		if err := l.close(); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
		if got.String() != want.String() {
			t.Errorf("%d lines: the writer wrote %d bytes, one after another gives %d", n, got.Len(), want.Len())
		}
	}
}

// A receipt whose lines cannot be written (a full disk) stops reading the
// documents soon after, and fails with the writer's error.
func TestLineWriterStopsAtItsError(t *testing.T) {
	full := errors.New("no space left on device")
	bw := bufio.NewWriterSize(&failingWriter{after: 10 << 10, err: full}, 4096)
	l := newLineWriter(bw)
	added := 0
	for i := range 100 * lineBatch {
		if err := l.add(api.ReceiptDocument{ID: fmt.Sprintf("F0000001-%07d", i), Reason: "delivered"}); err != nil {
			if !errors.Is(err, errLineWriter) {
				t.Fatalf("add: %v", err)
			}
			break
		}
		added++
	}
	if err := l.close(); !errors.Is(err, full) {
		t.Errorf("close: %v, want the writer's error", err)
	}
	if added == 100*lineBatch {
		t.Error("every line was taken after the writer failed")
	}
}

type failingWriter struct {
	n, after int
	err      error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.after {
		return 0, w.err
	}
	w.n += len(p)
	return len(p), nil
}
