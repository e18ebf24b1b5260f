package client

import (
	"context"
	"encoding/json"
	"fmt"
)

// Record is one task record of the Hub's database, keyed by field name ("msg_id",
// "engine_uuid", "completed", "result_content", "stderr", ...), each value as JSON.
type Record map[string]json.RawMessage

// DBQuery asks the Hub's task database for the records matching query, a MongoDB-style
// dict as ipyparallel's Client.db_query takes it ({"completed": {"$gte": "2026-..."}}),
// with only the given keys (nil: every key but the buffers). A controller that keeps no
// records answers with an error.
func (c *Client) DBQuery(ctx context.Context, query map[string]any, keys []string) ([]Record, error) {
	var k any // null asks for every key
	if keys != nil {
		k = keys
	}
	r, err := c.call(ctx, call{sock: c.query, msgType: "db_request", content: map[string]any{"query": query, "keys": k}})
	if err != nil {
		return nil, err
	}
	var reply struct {
		Records []Record `json:"records"`
	}
	if err := json.Unmarshal(r.Content, &reply); err != nil {
		return nil, fmt.Errorf("db_reply: %w", err)
	}
	return reply.Records, nil
}
