package controller

import "strings"

// errorContent is the "wrapped exception" content of ipyparallel's error replies. The Python
// client turns it into a RemoteError; engine_info stays empty for controller-made errors (a
// non-empty one must name a registered engine).
func errorContent(ename, evalue, where string) map[string]any {
	last := ename
	if evalue != "" {
		last += ": " + evalue
	}
	return map[string]any{
		"status": "error",
		"ename":  ename,
		"evalue": evalue,
		"traceback": []string{
			"Traceback (most recent call last):\n",
			"  File \"ipcontroller (Go)\", in " + where + "\n",
			last + "\n",
		},
		"engine_info": map[string]any{},
	}
}

// keyError renders a KeyError's value the way Python's str(KeyError(msg)) does: the repr of
// the message, quotes included.
func keyError(msg, where string) map[string]any {
	return errorContent("KeyError", pyRepr(msg), where)
}

// pyRepr quotes s like Python's repr of a str (single quotes unless s contains one and no
// double quote).
func pyRepr(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	if q == "'" {
		s = strings.ReplaceAll(s, "'", `\'`)
	}
	return q + s + q
}

// pyList renders a list of strings like Python's repr of a list.
func pyList(items []string) string {
	parts := make([]string, len(items))
	for i, s := range items {
		parts[i] = pyRepr(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
