package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/generation"
)

// Worker keys (createWorkerKey, getWorkerKeys, revokeWorkerKey) with what
// the server knows of their workers (last seen, Jobs held now), and the
// queues (getQueuesLength) with each Model's throughput.

type workersPage struct {
	Keys    []aimg.WorkerKey
	Models  []aimg.Model
	Running []runningJob
	Done    string
	// NewKey is the key just created, shown this once (the answer to the
	// create form is this page, not a redirect, so that the key is in no URL).
	NewKey     string
	NewKeyName string
	Name       string // the create form as submitted
}

func (s *Server) workersPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.renderWorkers(w, r, c, http.StatusOK, nil, &workersPage{})
}

func (s *Server) renderWorkers(w http.ResponseWriter, r *http.Request, c aimg.Caller, status int, err error, p *workersPage) {
	keys, kerr := s.Generation.WorkerKeys(r.Context(), c)
	if kerr != nil {
		s.fail(w, r, c, kerr)
		return
	}
	jobs, jerr := s.Generation.RunningJobs(r.Context(), c)
	if jerr != nil {
		s.fail(w, r, c, jerr)
		return
	}
	p.Keys, p.Models, p.Done = keys, s.Generation.Models(nil), doneMessage(r)
	for _, j := range jobs {
		p.Running = append(p.Running, runningJob{Job: j, Worker: workerName(keys, j.LeaseOwner), Percent: int(j.Progress*100 + 0.5)})
	}
	v := s.newView(r, c, "Workers", p)
	if err != nil {
		v.withError(err)
	}
	s.render(w, r, status, "admin_workers", v)
}

// runningJob is a Job a worker holds now, with the worker in words.
type runningJob struct {
	*aimg.Job
	Worker  string
	Percent int
}

// workerName names a lease owner: a remote worker by its key's name and
// its own name ("<key id>/<worker>/<slot>"), an embedded one as it is.
func workerName(keys []aimg.WorkerKey, owner string) string {
	for _, k := range keys {
		if rest, ok := strings.CutPrefix(owner, k.LeaseOwnerPrefix()); ok {
			return k.Name + ": " + rest
		}
	}
	return owner
}

func (s *Server) createWorkerKey(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	p := &workersPage{Name: r.PostFormValue("name")}
	k, secret, err := s.Generation.CreateWorkerKey(r.Context(), c, p.Name, r.PostForm["modelIDs"])
	if err != nil {
		s.renderWorkers(w, r, c, statusOf(err), err, p)
		return
	}
	p.Name, p.NewKey, p.NewKeyName = "", secret, k.Name
	s.renderWorkers(w, r, c, http.StatusCreated, nil, p)
}

func (s *Server) revokeWorkerKey(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	n, err := s.Generation.RevokeWorkerKey(r.Context(), c, r.PostFormValue("keyID"))
	if err != nil {
		s.renderWorkers(w, r, c, statusOf(err), err, &workersPage{})
		return
	}
	seeOther(w, r, "/admin/workers?"+url.Values{"done": {"revoked"}, "n": {strconv.Itoa(n)}}.Encode())
}

// queueRow is one Model's line on the queues page.
type queueRow struct {
	generation.Throughput
	Name             string
	Normal, Priority int64
}

// AvgRenderText is the average render time in words ("" when none yet).
func (q queueRow) AvgRenderText() string {
	if q.AvgRender == 0 {
		return "–"
	}
	return q.AvgRender.Round(100 * time.Millisecond).String()
}

func (s *Server) queuesPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	lengths, err := s.Generation.QueueLengths(r.Context(), nil)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	through, err := s.Generation.Throughputs(r.Context(), c)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	names := map[string]string{}
	for _, m := range s.Generation.Models(nil) {
		names[m.ModelID] = m.Name
	}
	rows := make([]queueRow, len(through))
	at := map[string]*queueRow{}
	for i, t := range through {
		rows[i] = queueRow{Throughput: t, Name: names[t.ModelID]}
		at[t.ModelID] = &rows[i]
	}
	for _, l := range lengths {
		if row := at[l.ModelID]; row != nil {
			if l.QueueID == aimg.PriorityQueue(l.ModelID) {
				row.Priority = l.QueueLength
			} else {
				row.Normal = l.QueueLength
			}
		}
	}
	s.render(w, r, http.StatusOK, "admin_queues", s.newView(r, c, "Queues", rows))
}
