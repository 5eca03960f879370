package paper

import (
	"bytes"
	"testing"
)

// same says whether a and b start at the same byte of memory.
func same(a, b []byte) bool { return cap(a) > 0 && cap(b) > 0 && &a[:1][0] == &b[:1][0] }

// A batch is built in the buffer of a message released before it, and in
// a buffer of its own while the message before is held: a message still
// waiting to be sent is never overwritten by the next batch.
func TestSpareBuffer(t *testing.T) {
	c := New(Options{PDF: fakePDF})
	first, err := c.RenderBatch(letters(50))
	if err != nil {
		t.Fatal(err)
	}
	kept := bytes.Clone(first.Body)
	second, err := c.RenderBatch(letters(40))
	if err != nil {
		t.Fatal(err)
	}
	if same(first.Body, second.Body) || !bytes.Equal(first.Body, kept) {
		t.Fatal("the second batch was built in the buffer of a message not released")
	}
	first.Release()
	third, err := c.RenderBatch(letters(40))
	if err != nil {
		t.Fatal(err)
	}
	if !same(first.Body, third.Body) {
		t.Error("the buffer of a released message was not used again")
	}
	fresh, err := New(Options{PDF: fakePDF}).RenderBatch(letters(40))
	if err != nil || !bytes.Equal(third.Body, fresh.Body) || !bytes.Equal(second.Body, fresh.Body) {
		t.Errorf("a batch built in a used buffer differs from one in a new buffer (%v)", err)
	}
}

// A buffer over the limit is not kept: a channel with huge batches does
// not hold hundreds of MB between them. Of two released, the bigger stays.
func TestSpareLimit(t *testing.T) {
	c := New(Options{PDF: fakePDF})
	small, err := c.RenderBatch(letters(10))
	if err != nil {
		t.Fatal(err)
	}
	big, err := c.RenderBatch(letters(100))
	if err != nil {
		t.Fatal(err)
	}
	c.zips.limit = cap(big.Body) - 1
	big.Release()
	if c.zips.buf != nil {
		t.Fatalf("a buffer of %d bytes kept with a limit of %d", cap(big.Body), c.zips.limit)
	}
	c.zips.limit = maxSpare
	big.Release()
	small.Release()
	if again, _ := c.RenderBatch(letters(100)); !same(again.Body, big.Body) {
		t.Error("the smaller of two released buffers was kept")
	}
}
