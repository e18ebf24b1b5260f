package client

import (
	"context"
	"encoding/json"
	"fmt"
)

// EngineInfo is what an engine says about itself in its kernel_info_reply.
type EngineInfo struct {
	EngineID       int
	UUID           string
	Implementation string // "ipengine-go" for the Go engine, "ipython" for ipyparallel's
	Language       string // language_info.name: "shell" (Go engine) or "python"
}

// Python reports whether the engine runs Python code (ipyparallel's engine) rather than
// shell commands (the Go engine).
func (i EngineInfo) Python() bool { return i.Language == "python" }

// KernelInfo asks each target engine (none: every registered engine) for its
// kernel_info_reply on the control channel, which answers even while the engine is busy
// running something. Results are in target order.
func (c *Client) KernelInfo(ctx context.Context, targets []int) ([]EngineInfo, error) {
	ids, uuids, err := c.engines.resolve(targets)
	if err != nil {
		return nil, fmt.Errorf("kernel_info: %w", err)
	}
	out := make([]EngineInfo, len(ids))
	errs := make(chan error, len(ids))
	for i := range ids {
		go func() {
			out[i] = EngineInfo{EngineID: ids[i], UUID: uuids[i]}
			r, err := c.call(ctx, call{sock: c.control, engine: uuids[i], msgType: "kernel_info_request", content: map[string]any{}})
			if err == nil && r == nil {
				err = &RemoteError{EngineID: -1, Name: "EngineError", Value: fmt.Sprintf("engine %d unregistered before it replied", ids[i])}
			}
			if err == nil {
				var content struct {
					Implementation string `json:"implementation"`
					LanguageInfo   struct {
						Name string `json:"name"`
					} `json:"language_info"`
				}
				if jerr := json.Unmarshal(r.Content, &content); jerr != nil {
					err = fmt.Errorf("malformed kernel_info_reply: %w", jerr)
				}
				out[i].Implementation, out[i].Language = content.Implementation, content.LanguageInfo.Name
			}
			if err != nil {
				err = fmt.Errorf("engine %d: %w", ids[i], err)
			}
			errs <- err
		}()
	}
	var first error
	for range ids {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return out, first
}
