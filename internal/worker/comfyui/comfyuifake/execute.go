package comfyuifake

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"
)

// worker is main.py's prompt_worker: one prompt at a time, lowest number
// first.
func (s *Server) worker() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		for len(s.pending) == 0 {
			ch := s.changed
			s.mu.Unlock()
			select {
			case <-ch:
			case <-s.ctx.Done():
				return
			}
			s.mu.Lock()
		}
		best := 0
		for i, it := range s.pending {
			if it.number < s.pending[best].number {
				best = i
			}
		}
		it := s.pending[best]
		s.pending = append(s.pending[:best], s.pending[best+1:]...)
		s.running = it
		s.sendLocked("status", map[string]any{"status": s.queueInfoLocked()}, "")
		s.changedLocked()
		s.mu.Unlock()
		s.execute(it)
		if s.ctx.Err() != nil {
			return
		}
	}
}

// value is what flows along a link: enough to make the images.
type value struct {
	batch int
	seed  uint64
}

func intInput(n *node, name string, def int) int {
	var v int
	if json.Unmarshal(n.Inputs[name], &v) != nil {
		return def
	}
	return v
}

func (s *Server) isKilled(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.killed[id]
}

func (s *Server) interrupted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.interrupt
}

// execute is PromptExecutor.execute followed by prompt_worker's task_done
// and its final executing(null).
func (s *Server) execute(it *item) {
	sid := it.clientID
	id := it.id
	s.mu.Lock()
	s.clientID = sid
	s.interrupt = false // nodes.interrupt_processing(False)
	s.mu.Unlock()

	var messages []any // status_messages, kept in the history
	add := func(event string, data map[string]any, broadcast bool) {
		if s.isKilled(id) {
			return
		}
		data["timestamp"] = time.Now().UnixMilli()
		messages = append(messages, []any{event, data})
		if sid != "" || broadcast {
			s.mu.Lock()
			s.sendLocked(event, data, sid)
			s.mu.Unlock()
		}
	}
	send := func(event string, data any) {
		if sid != "" && !s.isKilled(id) {
			s.mu.Lock()
			s.sendLocked(event, data, sid)
			s.mu.Unlock()
		}
	}
	add("execution_start", map[string]any{"prompt_id": id}, false)

	memo := map[string]string{}
	cached := []string{}
	s.mu.Lock()
	for _, nid := range sortedIDs(it.prompt) {
		if _, ok := s.cache[signature(it.prompt, nid, memo)]; ok {
			cached = append(cached, nid)
		}
	}
	s.mu.Unlock()
	add("execution_cached", map[string]any{"nodes": cached, "prompt_id": id}, false)

	executed := []string{}
	ui := map[string]any{}
	meta := map[string]any{}
	values := map[string]value{}
	success, stopped := true, false
	metaOf := func(nid string) map[string]any {
		return map[string]any{"node_id": nid, "display_node": nid, "parent_node": nil, "real_node_id": nid}
	}
	input := func(n *node, name string) value {
		if from, _, _, ok := asLink(n.Inputs[name]); ok {
			return values[from]
		}
		return value{batch: 1}
	}
	for _, nid := range order(it.prompt, it.outputs) {
		n := it.prompt[nid]
		sig := signature(it.prompt, nid, memo)
		s.mu.Lock()
		cachedUI, isCached := s.cache[sig]
		s.mu.Unlock()
		if isCached {
			// emit_cached_output: executed with the cached ui (or null).
			send("executed", map[string]any{"node": nid, "display_node": nid, "output": cachedUI, "prompt_id": id})
			if cachedUI != nil {
				ui[nid], meta[nid] = cachedUI, metaOf(nid)
			}
			values[nid] = s.cachedValue(it.prompt, nid, values)
			continue
		}
		s.mu.Lock()
		s.lastNode = nid
		s.sendLocked("progress_state", map[string]any{"prompt_id": id, "nodes": map[string]any{nid: map[string]any{
			"value": 0, "max": 1, "state": "running", "node_id": nid, "prompt_id": id, "display_node_id": nid,
			"parent_node_id": nil, "real_node_id": nid}}}, sid)
		fail, failing := s.nodeFail[nid]
		s.mu.Unlock()
		send("executing", map[string]any{"node": nid, "display_node": nid, "prompt_id": id})
		if s.interrupted() { // before_node_execution, once the node's function is called
			add("execution_interrupted", map[string]any{"prompt_id": id, "node_id": nid, "node_type": n.ClassType,
				"executed": executed}, true)
			success, stopped = false, true
			break
		}
		if failing {
			add("execution_error", map[string]any{"prompt_id": id, "node_id": nid, "node_type": n.ClassType,
				"executed": executed, "exception_message": fail.message + "\n", "exception_type": fail.excType,
				"traceback": []string{"  File \"execution.py\", line 1, in execute\n"}, "current_inputs": map[string]any{},
				"current_outputs": []string{}}, false)
			success = false
			break
		}
		var out value
		var nodeUI map[string]any
		switch n.ClassType {
		case "EmptyLatentImage":
			out = value{batch: max(1, intInput(n, "batch_size", 1))}
		case "KSampler":
			in := input(n, "latent_image")
			var seed uint64
			_ = json.Unmarshal(n.Inputs["seed"], &seed)
			out = value{batch: max(1, in.batch), seed: seed}
			if !s.sample(id, nid, sid, max(1, intInput(n, "steps", 20)), seed) {
				add("execution_interrupted", map[string]any{"prompt_id": id, "node_id": nid, "node_type": n.ClassType,
					"executed": executed}, true)
				success, stopped = false, true
			}
		case "VAEDecode":
			out = input(n, "samples")
		case "VAEEncode":
			out = input(n, "pixels")
		case "LoadImage":
			out = value{batch: 1}
		case "SaveImage", "PreviewImage":
			nodeUI = s.save(n, input(n, "images"))
		}
		if stopped {
			break
		}
		values[nid] = out
		if nodeUI != nil {
			ui[nid], meta[nid] = nodeUI, metaOf(nid)
			send("executed", map[string]any{"node": nid, "display_node": nid, "output": nodeUI, "prompt_id": id})
		}
		s.mu.Lock()
		if nodeUI == nil {
			s.cache[sig] = nil
		} else {
			s.cache[sig] = nodeUI
		}
		s.mu.Unlock()
		executed = append(executed, nid)
	}
	if success {
		add("execution_success", map[string]any{"prompt_id": id}, false)
	}
	status := "success"
	if !success {
		status = "error"
	}
	s.mu.Lock()
	s.running, s.lastNode = nil, ""
	if s.killed[id] {
		delete(s.killed, id)
		s.clientID = ""
		s.changedLocked()
		s.mu.Unlock()
		return
	}
	s.history[id] = map[string]any{
		"prompt":  it.tuple(),
		"outputs": ui,
		"meta":    meta,
		"status":  map[string]any{"status_str": status, "completed": success, "messages": messages},
	}
	s.histOrder = append(s.histOrder, id)
	s.sendLocked("status", map[string]any{"status": s.queueInfoLocked()}, "")
	if sid != "" {
		s.sendLocked("executing", map[string]any{"node": nil, "prompt_id": id}, sid)
	}
	s.clientID = ""
	s.changedLocked()
	s.mu.Unlock()
}

// cachedValue recomputes what a cached node passes on.
func (s *Server) cachedValue(p prompt, nid string, values map[string]value) value {
	n := p[nid]
	in := func(name string) value {
		if from, _, _, ok := asLink(n.Inputs[name]); ok {
			return values[from]
		}
		return value{batch: 1}
	}
	switch n.ClassType {
	case "EmptyLatentImage":
		return value{batch: max(1, intInput(n, "batch_size", 1))}
	case "KSampler":
		var seed uint64
		_ = json.Unmarshal(n.Inputs["seed"], &seed)
		return value{batch: max(1, in("latent_image").batch), seed: seed}
	case "VAEDecode":
		return in("samples")
	case "VAEEncode":
		return in("pixels")
	}
	return value{batch: 1}
}

// sample runs a KSampler's steps: each sends progress (value, max,
// prompt_id, node) and a binary preview frame; Hold parks it before the
// first step. It reports false when the prompt was interrupted (the
// progress hook's throw_exception_if_processing_interrupted).
func (s *Server) sample(id, nid, sid string, steps int, seed uint64) bool {
	for {
		s.mu.Lock()
		if s.interrupt {
			s.held = ""
			s.mu.Unlock()
			return false
		}
		h := s.hold
		if h == nil {
			if s.held != "" {
				s.held = ""
				s.changedLocked()
			}
			s.mu.Unlock()
			break
		}
		if s.held != id {
			s.held = id
			s.changedLocked()
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-h:
		case <-ch:
		case <-s.ctx.Done():
			return false
		}
	}
	for step := 1; step <= steps; step++ {
		s.mu.Lock()
		if s.interrupt {
			s.mu.Unlock()
			return false
		}
		s.sendLocked("progress", map[string]any{"value": step, "max": steps, "prompt_id": id, "node": nid}, sid)
		if sid != "" {
			s.enqueue(outMsg{binary: previewFrame(tinyPNG(seed, step)), sid: sid})
		}
		s.mu.Unlock()
	}
	return true
}

// save is SaveImage (type output, filename_prefix with an optional
// subfolder) and PreviewImage (type temp): one PNG per batch item.
func (s *Server) save(n *node, in value) map[string]any {
	typ, prefix := "output", "ComfyUI"
	if n.ClassType == "PreviewImage" {
		typ, prefix = "temp", "ComfyUI_temp_fake"
	} else {
		var p string
		if json.Unmarshal(n.Inputs["filename_prefix"], &p) == nil && p != "" {
			prefix = p
		}
	}
	sub, base := "", prefix
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		sub, base = path.Clean(prefix[:i]), prefix[i+1:]
	}
	var images []any
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range max(1, in.batch) {
		s.counter++
		name := fmt.Sprintf("%s_%05d_.png", base, s.counter)
		s.files[path.Join(typ, sub, name)] = tinyPNG(in.seed, i)
		images = append(images, map[string]any{"filename": name, "subfolder": sub, "type": typ})
	}
	return map[string]any{"images": images}
}
