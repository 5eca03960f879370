package intake

import (
	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/csv"
	"github.com/multikanal/multikanal/formats/letter"
	"github.com/multikanal/multikanal/formats/ubl"
)

// Readers are the input formats, asked in this order to recognise a file
// (the letters archive before UBL, which takes any other ZIP).
// A new format is one entry here. The CSV's channel column takes the
// distribution channels the configuration registers.
func Readers(cfg *config.Config) []formats.Reader {
	return []formats.Reader{letter.Format{Channels: cfg.Distribution()}, ubl.Format{}, csv.Format{Channels: cfg.Distribution()}}
}
