package intake

import (
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/csv"
	"github.com/multikanal/multikanal/formats/ubl"
)

// Readers are the input formats, asked in this order to recognise a file.
// A new format is one line here.
var Readers = []formats.Reader{ubl.Format{}, csv.Format{}}
