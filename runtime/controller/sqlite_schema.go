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
// ipyparallel 9.1 added the last column, label; 7.1 to 9.0 have the others.
var sqliteColumns = sqliteLayout{
	{"msg_id", "text"}, {"header", "dict text"}, {"metadata", "dict text"}, {"content", "dict text"},
	{"buffers", "bufs blob"}, {"submitted", "timestamp"}, {"client_uuid", "text"}, {"engine_uuid", "text"},
	{"started", "timestamp"}, {"completed", "timestamp"}, {"resubmitted", "text"}, {"received", "timestamp"},
	{"result_header", "dict text"}, {"result_metadata", "dict text"}, {"result_content", "dict text"},
	{"result_buffers", "bufs blob"}, {"queue", "text"}, {"execute_input", "text"}, {"execute_result", "text"},
	{"error", "text"}, {"stdout", "text"}, {"stderr", "text"}, {"label", "text"},
}

type sqliteColumn struct{ name, decl string }

// sqliteLayout is the columns a table has: one of the two layouts below.
type sqliteLayout []sqliteColumn

var (
	// layoutWithLabel is ipyparallel 9.1's table: the label in a column of its own.
	layoutWithLabel = sqliteColumns
	// layoutNoLabel is the table of ipyparallel 7.1 to 9.0, which every Python controller
	// before 9.1 reads (9.1 sets it aside, as it does 9.0's own tables). A record's label is
	// its request metadata's "label", so nothing is lost: it is read back from there.
	layoutNoLabel = sqliteColumns[:len(sqliteColumns)-1]
	// layoutForNewTables is the layout of the tables we create: the one that every Python
	// controller up to 9.0 reads, Debian 12's 7.1 among them (the one this project is tested
	// against). Either Python reads the other's layout only by setting its table aside.
	layoutForNewTables = layoutNoLabel
)

func (l sqliteLayout) hasLabel() bool { return len(l) == len(layoutWithLabel) }

// quoteIdent quotes a table name for SQL (ipyparallel's default one has a dash).
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func (l sqliteLayout) columnList() string {
	names := make([]string, len(l))
	for i, c := range l {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// selectList is columnList for reading: timestamps as plain text, since the driver would
// turn a column declared "timestamp" into a time value and lose the text as written.
func (l sqliteLayout) selectList() string {
	names := make([]string, len(l))
	for i, c := range l {
		names[i] = c.name
		if c.decl == "timestamp" {
			names[i] = "CAST(" + c.name + " AS TEXT)"
		}
	}
	return strings.Join(names, ", ")
}

// tableLayout tells whether table is absent (usable: it will be made with
// layoutForNewTables) or has exactly one of the two layouts, and which; mismatch says how
// it differs otherwise.
func tableLayout(db *sql.DB, table string) (layout sqliteLayout, mismatch string, err error) {
	rows, err := db.Query("SELECT name, type FROM pragma_table_info(?)", table)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var names, types []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, "", err
		}
		names, types = append(names, name), append(types, typ)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	switch len(names) {
	case 0:
		return layoutForNewTables, "", nil
	case len(layoutNoLabel):
		layout = layoutNoLabel
	case len(layoutWithLabel):
		layout = layoutWithLabel
	default:
		return nil, fmt.Sprintf("it has %d columns, not %d (ipyparallel 7.1 to 9.0) or %d (9.1)",
			len(names), len(layoutNoLabel), len(layoutWithLabel)), nil
	}
	for i, c := range layout {
		// Case aside: SQLite 3.37 and later report the standard type names in capitals
		// ("TEXT" for text), which makes ipyparallel (7.1 and 9.1 alike) reject every
		// existing table.
		if names[i] != c.name || !strings.EqualFold(types[i], c.decl) {
			return nil, fmt.Sprintf("column %d is %q %q, not %q %q", i+1, names[i], types[i], c.name, c.decl), nil
		}
	}
	return layout, "", nil
}

// chooseTable returns the table to use and its layout: the one asked for, or, if a table
// of that name has another layout, the first of name_1, name_2, ... that is free or
// matches, as ipyparallel does (so a foreign table is left untouched and its records are
// not served).
func chooseTable(db *sql.DB, want string, log *slog.Logger) (string, sqliteLayout, error) {
	table := want
	for i := 1; ; i++ {
		layout, why, err := tableLayout(db, table)
		if err != nil {
			return "", nil, err
		}
		if layout != nil {
			return table, layout, nil
		}
		next := fmt.Sprintf("%s_%d", want, i)
		log.Warn("task database table has another layout; using another table", "table", table, "why", why, "instead", next)
		table = next
	}
}

// createTable makes table with layout if it is not there yet.
func createTable(db *sql.DB, table string, layout sqliteLayout) error {
	defs := make([]string, len(layout))
	for i, c := range layout {
		defs[i] = c.name + " " + c.decl
		if c.name == "msg_id" {
			defs[i] += " PRIMARY KEY"
		}
	}
	_, err := db.Exec("CREATE TABLE IF NOT EXISTS " + quoteIdent(table) + " (" + strings.Join(defs, ", ") + ")")
	return err
}
