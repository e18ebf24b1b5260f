package controller

import (
	"sort"

	"ipcluster/runtime/wire"
)

// The task scheduler's other half: engines' replies, retries, the dependency graph, and
// engines coming and going.

// onResult takes an engine's reply: [engine, client, <IDS|MSG>, ...].
func (s *taskScheduler) onResult(frames [][]byte) {
	r, ok := s.c.decode("task", frames)
	if !ok {
		return
	}
	s.result(r, frames)
}

func (s *taskScheduler) result(r *wire.Raw, frames [][]byte) {
	if len(r.Idents) < 2 {
		s.c.log.Warn("dropped task reply without a client identity", "peer", peerName(frames))
		return
	}
	engine := string(r.Idents[0])
	msgID := parentMsgID(r)
	j := s.pending[engine][msgID]
	if j == nil {
		s.c.log.Debug("reply for a task no longer pending", "msg_id", msgID, "engine", engine)
		return
	}
	if i := s.indexOf(engine); i >= 0 {
		s.loads[i]--
	}
	md := parseReplyMeta(r.Metadata)
	if md.DependenciesMet != nil && !*md.DependenciesMet {
		s.unmet(engine, msgID)
		return
	}
	success := md.Status == "ok"
	if !success && s.retries[msgID] > 0 {
		s.retries[msgID]--
		s.unmet(engine, msgID)
		return
	}
	delete(s.retries, msgID)
	r.Idents[0], r.Idents[1] = r.Idents[1], r.Idents[0]
	s.c.send(s.c.taskIn, frames)
	delete(s.pending[engine], msgID)
	if success {
		s.completed[engine].add(msgID)
		s.allCompleted.add(msgID)
	} else {
		s.failed[engine].add(msgID)
		s.allFailed.add(msgID)
	}
	s.destinations[msgID] = engine
	s.c.hub.saveTaskResult(r, msgID, md)
	s.updateGraph(msgID, success)
}

// unmet sends a task that an engine could not (or should not again) run elsewhere.
func (s *taskScheduler) unmet(engine, msgID string) {
	j := s.pending[engine][msgID]
	if j == nil {
		return
	}
	delete(s.pending[engine], msgID)
	if j.blacklist == nil {
		j.blacklist = stringSet{}
	}
	j.blacklist.add(engine)
	if j.targets != nil && setEqual(j.blacklist, j.targets) {
		s.queueMap[msgID] = j
		s.failUnreachable(msgID, "ImpossibleDependency", "")
	} else if !s.maybeRun(j) && !s.allFailed.has(msgID) {
		s.saveUnmet(j)
	}
	if s.hwm > 0 {
		if i := s.indexOf(engine); i >= 0 && s.loads[i] == s.hwm-1 {
			s.updateGraph("", true)
		}
	}
}

func setEqual(a, b stringSet) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b.has(k) {
			return false
		}
	}
	return true
}

// updateGraph runs the jobs that depID's completion (or a freed engine, when rescan) may
// have made runnable, and fails those it made impossible.
func (s *taskScheduler) updateGraph(depID string, rescan bool) {
	waiting := s.graph[depID]
	delete(s.graph, depID)
	if !rescan && s.hwm > 0 {
		for _, l := range s.loads {
			if l == s.hwm-1 {
				rescan = true
				break
			}
		}
	}
	var jobs []*job
	if rescan || depID == "" {
		jobs = s.queue
	} else {
		for id := range waiting {
			if j := s.queueMap[id]; j != nil {
				jobs = append(jobs, j)
			}
		}
		sort.Slice(jobs, func(a, b int) bool { return jobs[a].seq < jobs[b].seq })
	}
	for _, j := range jobs {
		if j.removed || s.queueMap[j.msgID] != j {
			continue
		}
		switch {
		case j.after.unreachable(s.allCompleted, s.allFailed) || j.follow.unreachable(s.allCompleted, s.allFailed):
			s.failUnreachable(j.msgID, "ImpossibleDependency", "")
		case j.after.met(s.allCompleted, s.allFailed):
			if s.maybeRun(j) {
				delete(s.queueMap, j.msgID)
				for _, dep := range j.dependents() {
					delete(s.graph[dep], j.msgID)
				}
				if len(s.available()) == 0 {
					s.compactQueue()
					return
				}
			}
		}
	}
	s.compactQueue()
}

// compactQueue drops jobs that ran or failed from the front of the queue, and from the
// whole queue once they outnumber the waiting ones (queueMap holds those), so that the
// work stays proportional to the number of waiting jobs.
func (s *taskScheduler) compactQueue() {
	i := 0
	for i < len(s.queue) && s.queue[i].removed {
		i++
	}
	s.queue = s.queue[i:]
	if len(s.queue) <= 2*len(s.queueMap)+64 {
		return
	}
	kept := s.queue[:0]
	for _, j := range s.queue {
		if !j.removed {
			kept = append(kept, j)
		}
	}
	clear(s.queue[len(kept):])
	s.queue = kept
}

// addEngine puts a new engine at the head of the line and looks for work for it.
func (s *taskScheduler) addEngine(uuid string) {
	s.targets = append([]string{uuid}, s.targets...)
	s.loads = append([]int{0}, s.loads...)
	s.completed[uuid], s.failed[uuid] = stringSet{}, stringSet{}
	s.pending[uuid] = map[string]*job{}
	s.updateGraph("", true)
}

// removeEngine stops giving work to an engine and, after a grace period for results still
// in flight, fails (or retries) the tasks it held.
func (s *taskScheduler) removeEngine(uuid string) {
	i := s.indexOf(uuid)
	if i < 0 {
		return
	}
	s.targets = append(s.targets[:i:i], s.targets[i+1:]...)
	s.loads = append(s.loads[:i:i], s.loads[i+1:]...)
	delete(s.identities, uuid)
	if len(s.pending[uuid]) == 0 {
		delete(s.pending, uuid)
		return
	}
	s.c.loop.After(s.c.cfg.StrandedGrace, func() { s.handleStranded(uuid) })
}

func (s *taskScheduler) handleStranded(engine string) {
	lost := s.pending[engine]
	ids := make([]string, 0, len(lost))
	for id := range lost {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return lost[ids[a]].seq < lost[ids[b]].seq })
	for _, msgID := range ids {
		j := lost[msgID]
		if j == nil {
			continue
		}
		content := errorContent("EngineError", "Engine "+pyRepr(engine)+" died while running task "+pyRepr(msgID), "handle_stranded_tasks")
		md := map[string]any{"status": "error", "engine": engine, "date": wire.Now()}
		idents := append([][]byte{[]byte(engine)}, j.idents...)
		frames, err := s.c.session.Reply(idents, "apply_reply", j.header, md, content, nil)
		if err != nil {
			continue
		}
		r, _ := wire.Split(frames)
		s.result(r, frames)
	}
	delete(s.pending, engine)
}
