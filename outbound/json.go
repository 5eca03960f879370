package outbound

import (
	"encoding/json"
	"fmt"

	"github.com/multikanal/multikanal/formats"
)

// JSONMessage renders a document as indented JSON of the canonical model,
// the rendering a channel uses until it has its receiver's real format.
func JSONMessage(channel string, doc *formats.Document, to, key string) (Message, error) {
	body, err := json.MarshalIndent(struct {
		Channel  string            `json:"channel"`
		Key      string            `json:"key"`
		To       string            `json:"to,omitempty"`
		Document *formats.Document `json:"document"`
	}{channel, key, to, doc}, "", "  ")
	if err != nil {
		return Message{}, fmt.Errorf("%s: rendering %s: %w", channel, doc.Label(), err)
	}
	return Message{Key: key, Name: key + ".json", ContentType: "application/json", To: to, Body: body}, nil
}

// JSONBatch renders a batch as one JSON file listing every item.
func JSONBatch(channel string, b Batch) (Message, error) {
	key, items := b.Key, b.Items
	type entry struct {
		Key      string            `json:"key"`
		To       string            `json:"to,omitempty"`
		Document *formats.Document `json:"document"`
	}
	out := struct {
		Channel string  `json:"channel"`
		Batch   string  `json:"batch"`
		Biller  string  `json:"biller"`
		Items   []entry `json:"items"`
	}{Channel: channel, Batch: key, Biller: b.Biller.ID}
	for _, it := range items {
		out.Items = append(out.Items, entry{it.Key, it.To, it.Doc})
	}
	body, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return Message{}, fmt.Errorf("%s: rendering batch %s: %w", channel, key, err)
	}
	return Message{Key: key, Name: key + ".json", ContentType: "application/json", Body: body}, nil
}
