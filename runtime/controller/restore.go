package controller

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"

	"ipcluster/profiles"
)

// engineStateFile is log/engines<cluster_id>.json, the engine table a controller keeps for
// a successor started with --restore.
func (h *hub) engineStateFile() string {
	return filepath.Join(profiles.Dir(h.c.cfg.ProfileDir).Log(), "engines"+h.c.cfg.ClusterID+".json")
}

// restoreEngines reloads the engine table a previous controller saved (--restore, as
// ipyparallel's restore_engines does): each engine is registered again under its old id
// and uuid, without notifications, before any socket serves. Its heart is known from the
// start, so its echoes count as beats (it is never told it is unknown) and one that no
// longer beats is dropped after the usual misses (ipyparallel would keep it forever).
func (h *hub) restoreEngines() error {
	path := h.engineStateFile()
	var state struct {
		Engines map[string]string `json:"engines"`
		NextID  int               `json:"next_id"`
	}
	if err := profiles.ReadJSON(path, &state); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			h.c.log.Info("no engine state to restore", "file", path)
			return nil
		}
		return fmt.Errorf("restoring engines: %w (remove the file, or start without --restore)", err)
	}
	ids := make([]int, 0, len(state.Engines))
	for key, uuid := range state.Engines {
		id, err := strconv.Atoi(key)
		if err != nil || id < 0 || uuid == "" || h.byUUID[uuid] != nil {
			return fmt.Errorf("restoring engines: %s: bad or repeated entry %q: %q (remove the file, or start without --restore)", path, key, uuid)
		}
		h.byUUID[uuid] = &engineEntry{id: id, uuid: uuid, queue: newOrderedSet(), tasks: newOrderedSet()}
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		e := h.byUUID[state.Engines[strconv.Itoa(id)]]
		h.engines[id] = e
		h.c.tasks.addEngine(e.uuid)
		h.c.hearts.hearts.add(e.uuid)
		h.nextID = max(h.nextID, id+1)
	}
	h.nextID = max(h.nextID, state.NextID)
	h.c.log.Info("restored engines; each stays registered while its heartbeats arrive", "file", path, "ids", ids, "next_id", h.nextID)
	return nil
}
