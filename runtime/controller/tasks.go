package controller

import (
	"encoding/json"
	"strconv"
	"time"

	"ipcluster/runtime/wire"
)

// job is a load-balanced task known to the scheduler.
type job struct {
	msgID     string
	frames    [][]byte // as received: client identities, delimiter, signed parts, buffers
	idents    [][]byte // the client's identities
	header    []byte   // raw request header, the parent of scheduler-made replies
	targets   stringSet
	after     dependency
	follow    dependency
	blacklist stringSet // nil until an engine refuses it
	seq       uint64
	removed   bool // ran or failed: skip it where it still sits in the queue
}

// dependents are the ids the job waits for.
func (j *job) dependents() []string {
	var ids []string
	for id := range j.after.ids {
		ids = append(ids, id)
	}
	for id := range j.follow.ids {
		if !j.after.ids.has(id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// taskScheduler is ipyparallel's TaskScheduler: it places each task on an engine chosen by
// the scheme among those allowed (targets, follow, blacklist, high-water mark), holds tasks
// whose time dependencies are unmet, retries failed tasks elsewhere, and fails tasks that
// can never run.
type taskScheduler struct {
	c      *Controller
	scheme func([]int) int
	hwm    int

	targets []string // engine uuids, least recently used first
	loads   []int    // outstanding tasks, parallel to targets

	pending      map[string]map[string]*job // engine -> msg_id -> job
	completed    map[string]stringSet       // engine -> msg_ids finished ok there
	failed       map[string]stringSet       // engine -> msg_ids finished in error there
	allCompleted stringSet
	allFailed    stringSet // (a task is done when in allCompleted or allFailed)
	allIDs       stringSet
	destinations map[string]string
	graph        map[string]stringSet // msg_id -> ids of jobs waiting for it
	queue        []*job               // waiting jobs in submission order (lazily compacted)
	queueMap     map[string]*job
	retries      map[string]int // retries left, if any
	identities   map[string][]byte
	seq          uint64
}

func newTaskScheduler(c *Controller) *taskScheduler {
	scheme := schemes[c.cfg.Scheme]
	if scheme == nil { // pure: plain round robin without dependencies
		scheme = schemes["lru"]
	}
	return &taskScheduler{
		c: c, scheme: scheme, hwm: c.cfg.HWM,
		pending: map[string]map[string]*job{}, completed: map[string]stringSet{}, failed: map[string]stringSet{},
		allCompleted: stringSet{}, allFailed: stringSet{}, allIDs: stringSet{},
		destinations: map[string]string{}, graph: map[string]stringSet{}, queueMap: map[string]*job{}, retries: map[string]int{},
		identities: map[string][]byte{},
	}
}

// taskMetadata is what LoadBalancedView puts in a task's metadata.
type taskMetadata struct {
	After   json.RawMessage `json:"after"`
	Follow  json.RawMessage `json:"follow"`
	Timeout *float64        `json:"timeout"`
	Targets []string        `json:"targets"`
	Retries int             `json:"retries"`
}

var taskMetadataNames = []string{"after", "follow", "timeout", "targets", "retries"}

// parseTaskMetadata is json.Unmarshal(raw, md) for a zero md, without encoding/json for
// metadata as LoadBalancedView sends it. (after and follow may share raw's memory.)
func parseTaskMetadata(raw []byte, md *taskMetadata) error {
	var m [5]wire.Member
	if wire.ScanObject(raw, taskMetadataNames, m[:]) && fastTaskMetadata(md, &m) {
		return nil
	}
	*md = taskMetadata{}
	return json.Unmarshal(raw, md)
}

func fastTaskMetadata(md *taskMetadata, m *[5]wire.Member) bool {
	for i, dst := range [2]*json.RawMessage{&md.After, &md.Follow} {
		switch m[i].Kind {
		case wire.KindAbsent:
		case wire.KindString: // Raw lacks the quotes; invalid anyway
			return false
		default:
			*dst = m[i].Raw
		}
	}
	isNumber := func(raw []byte) bool { return raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9' }
	if v := m[2]; v.Kind == wire.KindOther && isNumber(v.Raw) {
		f, err := strconv.ParseFloat(string(v.Raw), 64)
		if err != nil {
			return false
		}
		md.Timeout = &f
	} else if v.Kind != wire.KindAbsent && !(v.Kind == wire.KindOther && string(v.Raw) == "null") {
		return false
	}
	if v := m[3]; v.Kind != wire.KindAbsent && !(v.Kind == wire.KindOther && (string(v.Raw) == "null" || string(v.Raw) == "[]")) {
		return false // targets named: left to encoding/json
	}
	if v := m[4]; v.Kind == wire.KindOther && isNumber(v.Raw) {
		n, err := strconv.ParseInt(string(v.Raw), 10, 64)
		if err != nil || int64(int(n)) != n {
			return false
		}
		md.Retries = int(n)
	} else if v.Kind != wire.KindAbsent && !(v.Kind == wire.KindOther && string(v.Raw) == "null") {
		return false
	}
	return true
}

// onSubmit takes a task from a client: [client, <IDS|MSG>, ...].
func (s *taskScheduler) onSubmit(frames [][]byte) {
	r, ok := s.c.decode("task", frames)
	if !ok {
		return
	}
	s.submit(r, frames)
}

// submitInternal queues a task made by the Hub (resubmit); its replies go nowhere.
func (s *taskScheduler) submitInternal(r *wire.Raw) {
	r.Idents = [][]byte{[]byte("hub-resubmit")}
	s.submit(r, r.Frames())
}

func (s *taskScheduler) submit(r *wire.Raw, frames [][]byte) {
	hdr, err := wire.ParseHeader(r.Header)
	if err != nil || hdr.MsgID == "" {
		s.c.log.Warn("dropped task with a malformed header", "peer", peerName(frames))
		return
	}
	s.seq++
	j := &job{msgID: hdr.MsgID, frames: frames, idents: r.Idents, header: r.Header, seq: s.seq}
	s.c.hub.saveTaskRequest(r, hdr)
	s.allIDs.add(j.msgID)
	var md taskMetadata
	if len(r.Metadata) > 0 {
		if err := parseTaskMetadata(r.Metadata, &md); err != nil {
			s.queueMap[j.msgID] = j
			s.failUnreachable(j.msgID, "ValueError", "task metadata is not valid: "+err.Error())
			return
		}
	}
	if s.c.cfg.Scheme == "none" {
		s.queueMap[j.msgID] = j
		s.failUnreachable(j.msgID, "RuntimeError", "load balancing is disabled (controller started with --scheme=none)")
		return
	}
	after, errAfter := parseDependency(md.After)
	follow, errFollow := parseDependency(md.Follow)
	if errAfter != nil || errFollow != nil {
		s.queueMap[j.msgID] = j
		s.failUnreachable(j.msgID, "InvalidDependency", "malformed dependency")
		return
	}
	if len(md.Targets) > 0 {
		j.targets = stringSet{}
		for _, t := range md.Targets {
			j.targets.add(t)
		}
	}
	if md.Retries != 0 {
		s.retries[j.msgID] = md.Retries
	} else if len(s.retries) > 0 { // a missing entry reads as 0
		delete(s.retries, j.msgID)
	}
	if !after.empty() {
		if after.all {
			if after.success {
				after = after.without(s.allCompleted)
			}
			if after.failure {
				after = after.without(s.allFailed)
			}
		}
		if after.met(s.allCompleted, s.allFailed) {
			after = dependency{all: true, success: true}
		}
	}
	j.after, j.follow = after, follow
	for _, dep := range []dependency{after, follow} {
		if dep.empty() {
			continue
		}
		for id := range dep.ids {
			if id == j.msgID || !s.allIDs.has(id) {
				s.queueMap[j.msgID] = j
				s.failUnreachable(j.msgID, "InvalidDependency", "")
				return
			}
		}
		if dep.unreachable(s.allCompleted, s.allFailed) {
			s.queueMap[j.msgID] = j
			s.failUnreachable(j.msgID, "ImpossibleDependency", "")
			return
		}
	}
	if md.Timeout != nil && *md.Timeout > 0 {
		s.c.loop.After(time.Duration(*md.Timeout*float64(time.Second)), func() {
			if s.queueMap[j.msgID] == j {
				s.failUnreachable(j.msgID, "TaskTimeout", "")
			}
		})
	}
	if after.met(s.allCompleted, s.allFailed) {
		if !s.maybeRun(j) && !s.allFailed.has(j.msgID) {
			s.saveUnmet(j)
		}
		return
	}
	s.saveUnmet(j)
}

// available lists the indices of engines below the high-water mark.
func (s *taskScheduler) available() []int {
	var out []int
	for i, l := range s.loads {
		if s.hwm == 0 || l < s.hwm {
			out = append(out, i)
		}
	}
	return out
}

// maybeRun places j on an engine if one may take it; it reports whether j was placed.
func (s *taskScheduler) maybeRun(j *job) bool {
	avail := s.available()
	if len(avail) == 0 {
		return false
	}
	var indices []int
	for _, i := range avail {
		t := s.targets[i]
		if j.blacklist.has(t) || j.targets != nil && !j.targets.has(t) || !j.follow.met(s.completed[t], s.failed[t]) {
			continue
		}
		indices = append(indices, i)
	}
	if len(indices) == 0 {
		if !j.follow.empty() && j.follow.all { // followed tasks ran on different engines: no engine can satisfy all
			dests := stringSet{}
			for id := range j.follow.ids {
				if j.follow.success && s.allCompleted.has(id) || j.follow.failure && s.allFailed.has(id) {
					dests.add(s.destinations[id])
				}
			}
			if len(dests) > 1 {
				s.queueMap[j.msgID] = j
				s.failUnreachable(j.msgID, "ImpossibleDependency", "")
				return false
			}
		}
		if j.targets != nil {
			for t := range j.blacklist {
				delete(j.targets, t)
			}
			reachable := false
			for _, t := range s.targets {
				if j.targets.has(t) {
					reachable = true
					break
				}
			}
			if len(j.targets) == 0 || !reachable { // every allowed engine refused it, or none is here
				s.queueMap[j.msgID] = j
				s.failUnreachable(j.msgID, "ImpossibleDependency", "")
				return false
			}
		}
		return false
	}
	loads := make([]int, len(indices))
	for k, i := range indices {
		loads[k] = s.loads[i]
	}
	s.send(j, indices[s.scheme(loads)])
	return true
}

// send places j on the engine at index idx.
func (s *taskScheduler) send(j *job, idx int) {
	target := s.targets[idx]
	load := s.loads[idx] + 1
	// move it to the end: least recently used first
	copy(s.targets[idx:], s.targets[idx+1:])
	s.targets[len(s.targets)-1] = target
	copy(s.loads[idx:], s.loads[idx+1:])
	s.loads[len(s.loads)-1] = load
	s.pending[target][j.msgID] = j
	j.removed = true
	out := make([][]byte, 0, len(j.frames)+1)
	out = append(append(out, s.identity(target)), j.frames...)
	s.c.hub.saveTaskDestination(j.msgID, target)
	s.c.sendToEngine(s.c.taskOut, out, func() {
		if s.pending[target][j.msgID] == j { // never delivered: try another engine
			if i := s.indexOf(target); i >= 0 {
				s.loads[i]--
			}
			s.unmet(target, j.msgID)
		}
	})
}

// identity is an engine's routing identity (made once per engine; never modified).
func (s *taskScheduler) identity(engine string) []byte {
	id, ok := s.identities[engine]
	if !ok {
		id = []byte(engine)
		s.identities[engine] = id
	}
	return id
}

func (s *taskScheduler) indexOf(engine string) int {
	for i, t := range s.targets {
		if t == engine {
			return i
		}
	}
	return -1
}

// saveUnmet queues j until its dependencies are met or an engine frees up.
func (s *taskScheduler) saveUnmet(j *job) {
	j.removed = false
	s.queueMap[j.msgID] = j
	s.queue = append(s.queue, j)
	for _, dep := range j.dependents() {
		if s.allCompleted.has(dep) || s.allFailed.has(dep) { // done
			continue
		}
		if s.graph[dep] == nil {
			s.graph[dep] = stringSet{}
		}
		s.graph[dep].add(j.msgID)
	}
}

// failUnreachable answers a queued task with an error made by the scheduler
// (ImpossibleDependency, InvalidDependency, TaskTimeout, ...).
func (s *taskScheduler) failUnreachable(msgID, ename, evalue string) {
	j := s.queueMap[msgID]
	if j == nil {
		return
	}
	delete(s.queueMap, msgID)
	j.removed = true
	for _, dep := range j.dependents() {
		delete(s.graph[dep], msgID)
	}
	s.allFailed.add(msgID)
	delete(s.retries, msgID)
	frames, err := s.c.session.Reply(j.idents, "apply_reply", j.header, nil, errorContent(ename, evalue, "fail_unreachable"), nil)
	if err == nil {
		s.c.send(s.c.taskIn, frames)
		if r, err := wire.Split(frames); err == nil {
			s.c.hub.saveTaskResult(r, msgID, replyMeta{}) // its metadata is {}
		}
	}
	s.c.log.Info("task failed without running", "msg_id", msgID, "error", ename)
	s.updateGraph(msgID, false)
}
