package launchers

import (
	"strconv"
	"strings"
)

func parseDelimited(row Scheduler, out string) []jobLine {
	var lines []jobLine
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, row.Sep)
		var l jobLine
		for i, name := range row.Fields {
			if i >= len(fields) {
				break
			}
			v := strings.TrimSpace(fields[i])
			switch name {
			case "id":
				l.ID = v
			case "state":
				l.State = v
			case "reason":
				l.Reason = v
			case "hosts":
				l.Hosts = v
			case "start":
				l.Start = v
			case "exit":
				l.Exit = v
			case "name":
				l.Name = v
			case "elapsed":
				l.Elapsed = v
			case "left":
				l.Left = v
			}
		}
		lines = append(lines, l)
	}
	return lines
}

// parseSGE reads qstat's table: job-ID prior name user state date time [queue] [slots] [tasks].
func parseSGE(_ Scheduler, out string) []jobLine {
	var lines []jobLine
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if strings.HasPrefix(strings.TrimSpace(line), "Full jobname:") && len(lines) > 0 { // qstat -r
			lines[len(lines)-1].Name = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "Full jobname:"))
			continue
		}
		if len(f) < 5 || f[0] == "job-ID" || strings.HasPrefix(f[0], "---") {
			continue
		}
		if _, err := strconv.Atoi(f[0]); err != nil {
			continue
		}
		l := jobLine{ID: f[0], Name: f[2], State: f[4]}
		if len(f) > 7 && strings.Contains(f[7], "@") {
			l.Hosts = strings.SplitN(f[7], "@", 2)[1]
		}
		lines = append(lines, l)
	}
	return lines
}

// parsePBS reads `qstat -f`: "Job Id: 123.server" then "    key = value" lines.
func parsePBS(_ Scheduler, out string) []jobLine {
	var lines []jobLine
	var cur *jobLine
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Job Id:") {
			lines = append(lines, jobLine{ID: strings.TrimSpace(strings.TrimPrefix(line, "Job Id:"))})
			cur = &lines[len(lines)-1]
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(line), " = ")
		if !ok || cur == nil {
			continue
		}
		switch k {
		case "Job_Name":
			cur.Name = v
		case "job_state":
			cur.State = v
		case "comment":
			cur.Reason = v
		case "exec_host":
			cur.Hosts = v
		case "exit_status", "Exit_status":
			cur.Exit = v
		case "estimated.start_time":
			cur.Start = v
		}
	}
	return lines
}

// parseWinHPC reads `job view <id>`: "Key : Value" lines.
func parseWinHPC(_ Scheduler, out string) []jobLine {
	var l jobLine
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "Id", "Job ID", "ID":
			l.ID = strings.TrimSpace(v)
		case "State":
			l.State = strings.TrimSpace(v)
		case "Pending Reason", "ErrorMessage":
			l.Reason = strings.TrimSpace(v)
		case "Allocated Nodes":
			l.Hosts = strings.TrimSpace(v)
		}
	}
	if l.ID == "" {
		return nil
	}
	return []jobLine{l}
}

// parseQacct reads `qacct -j <id>` into one record (field name -> value) per job or array
// element, as a row's AccountingParse: records separated by "=====" lines, "key   value"
// lines. Every record has "index" (the element, as in the exit files) and "exit" (its exit
// status) when the output tells them.
// It adds "over": the time limits requested in "category" (-l h_rt=..,h_cpu=..) that the job
// used up (ru_wallclock, cpu), to tell a time limit from a memory limit (qacct names them
// together as "failed 37").
func parseQacct(out string) []map[string]string {
	var recs []map[string]string
	var cur map[string]string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "====") {
			cur = map[string]string{}
			recs = append(recs, cur)
			continue
		}
		f := strings.Fields(line)
		if cur == nil || len(f) == 0 {
			continue
		}
		cur[f[0]] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), f[0]))
	}
	for _, r := range recs {
		r["index"] = r["taskid"]
		if _, err := strconv.Atoi(r["taskid"]); err != nil {
			r["index"] = "0" // "undefined": not an array job
		}
		if f := strings.Fields(r["exit_status"]); len(f) > 0 {
			r["exit"] = f[0]
		}
		var over []string
		for _, lim := range [][2]string{{"h_rt", "ru_wallclock"}, {"h_cpu", "cpu"}} {
			limit, ok1 := sgeSeconds(sgeRequest(r["category"], lim[0]))
			used, ok2 := sgeSeconds(strings.TrimSuffix(strings.TrimSpace(r[lim[1]]), "s"))
			if ok1 && ok2 && used+1 >= limit {
				over = append(over, lim[0])
			}
		}
		r["over"] = strings.Join(over, " ")
	}
	return recs
}

// sgeRequest is the value of a resource in a qacct category ("-l h_rt=60,h_vmem=1G -q all.q").
func sgeRequest(category, name string) string {
	for _, f := range strings.FieldsFunc(category, func(r rune) bool { return r == ' ' || r == ',' }) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v
		}
	}
	return ""
}

// sgeSeconds reads a Grid Engine time: seconds, or [[H:]M:]S.
func sgeSeconds(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	total := 0.0
	for _, p := range strings.Split(s, ":") {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return 0, false
		}
		total = total*60 + v
	}
	return total, true
}
