package controller

import (
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
)

// sqliteColumns is the layout of ipyparallel's SQLiteDB table: each column's name and
// declared type, in order. The declared types are what its Python reader keys its
// conversions on ("dict": JSON text, "bufs": a pickled list of bytes, "timestamp": ISO 8601
// text), and what it checks before it uses an existing table; display_data has no column.
var sqliteColumns = []struct{ name, decl string }{
	{"msg_id", "text"}, {"header", "dict text"}, {"metadata", "dict text"}, {"content", "dict text"},
	{"buffers", "bufs blob"}, {"submitted", "timestamp"}, {"client_uuid", "text"}, {"engine_uuid", "text"},
	{"started", "timestamp"}, {"completed", "timestamp"}, {"resubmitted", "text"}, {"received", "timestamp"},
	{"result_header", "dict text"}, {"result_metadata", "dict text"}, {"result_content", "dict text"},
	{"result_buffers", "bufs blob"}, {"queue", "text"}, {"execute_input", "text"}, {"execute_result", "text"},
	{"error", "text"}, {"stdout", "text"}, {"stderr", "text"},
}

// quoteIdent quotes a table name for SQL (ipyparallel's default one has a dash).
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func columnList() string {
	names := make([]string, len(sqliteColumns))
	for i, c := range sqliteColumns {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// selectList is columnList for reading: timestamps as plain text, since the driver would
// turn a column declared "timestamp" into a time value and lose the text as written.
func selectList() string {
	names := make([]string, len(sqliteColumns))
	for i, c := range sqliteColumns {
		names[i] = c.name
		if c.decl == "timestamp" {
			names[i] = "CAST(" + c.name + " AS TEXT)"
		}
	}
	return strings.Join(names, ", ")
}

// tableMatches tells whether table is absent (usable: it will be made) or has exactly the
// layout above; mismatch says how it differs.
func tableMatches(db *sql.DB, table string) (usable bool, mismatch string, err error) {
	rows, err := db.Query("SELECT name, type FROM pragma_table_info(?)", table)
	if err != nil {
		return false, "", err
	}
	defer rows.Close()
	var names, types []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return false, "", err
		}
		names, types = append(names, name), append(types, typ)
	}
	if err := rows.Err(); err != nil {
		return false, "", err
	}
	if len(names) == 0 {
		return true, "", nil
	}
	if len(names) != len(sqliteColumns) {
		return false, fmt.Sprintf("it has %d columns, not %d", len(names), len(sqliteColumns)), nil
	}
	for i, c := range sqliteColumns {
		// Case aside: SQLite 3.37 and later report the standard type names in capitals
		// ("TEXT" for text), which makes ipyparallel 7.1 reject every existing table.
		if names[i] != c.name || !strings.EqualFold(types[i], c.decl) {
			return false, fmt.Sprintf("column %d is %q %q, not %q %q", i+1, names[i], types[i], c.name, c.decl), nil
		}
	}
	return true, "", nil
}

// chooseTable returns the table to use: the one asked for, or, if a table of that name has
// another layout, the first of name_1, name_2, ... that is free or matches, as ipyparallel
// does (so a foreign table is left untouched and its records are not served).
func chooseTable(db *sql.DB, want string, log *slog.Logger) (string, error) {
	table := want
	for i := 1; ; i++ {
		ok, why, err := tableMatches(db, table)
		if err != nil {
			return "", err
		}
		if ok {
			return table, nil
		}
		next := fmt.Sprintf("%s_%d", want, i)
		log.Warn("task database table has another layout; using another table", "table", table, "why", why, "instead", next)
		table = next
	}
}

// createTable makes table with the layout above if it is not there yet.
func createTable(db *sql.DB, table string) error {
	defs := make([]string, len(sqliteColumns))
	for i, c := range sqliteColumns {
		defs[i] = c.name + " " + c.decl
		if c.name == "msg_id" {
			defs[i] += " PRIMARY KEY"
		}
	}
	_, err := db.Exec("CREATE TABLE IF NOT EXISTS " + quoteIdent(table) + " (" + strings.Join(defs, ", ") + ")")
	return err
}
