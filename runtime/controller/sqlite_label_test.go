package controller

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"
)

// Labels in SQLite: a new table has the layout of ipyparallel 7.1 to 9.0 (no label column,
// the label read back from the request metadata); a 9.1 table keeps its label column, which
// we fill as 9.1 does (a string as text, None as NULL) and read back.
func TestSQLiteLabelColumnByLayout(t *testing.T) {
	rec := func(id, label string) *Record {
		md := json.RawMessage(`{"after":[]}`)
		if label != "" {
			md = json.RawMessage(`{"after":[],"label":` + label + `}`)
		}
		return &Record{MsgID: id, Submitted: stamp(1), Metadata: md}
	}
	for _, tc := range []struct {
		name      string
		preset    sqliteLayout // table made before we open the file (nil: none)
		wantCols  int
		wantLabel any // the label column of "s", if there is one
	}{
		{"new file", nil, len(layoutNoLabel), nil},
		{"7.1 table", layoutNoLabel, len(layoutNoLabel), nil},
		{"9.1 table", layoutWithLabel, len(layoutWithLabel), "mylabel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "tasks.db")
			if tc.preset != nil {
				makeTable(t, path, "ipython-tasks", tc.preset)
			}
			d, err := openSQLiteDB(SQLiteSettings{}, dir, quietLog, nil)
			if err != nil {
				t.Fatal(err)
			}
			d.add(rec("s", `"mylabel"`))
			d.add(rec("n", `null`))
			d.add(rec("i", `7`))
			d.add(rec("none", ""))
			if err := d.close(); err != nil {
				t.Fatal(err)
			}

			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var cols int
			if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('ipython-tasks')`).Scan(&cols); err != nil {
				t.Fatal(err)
			}
			if cols != tc.wantCols {
				t.Fatalf("table has %d columns, want %d", cols, tc.wantCols)
			}
			if cols == len(layoutWithLabel) {
				labels := map[string]any{}
				rows, err := db.Query(`SELECT msg_id, label FROM "ipython-tasks"`)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var id string
					var label any
					rows.Scan(&id, &label)
					labels[id] = label
				}
				rows.Close()
				if labels["s"] != tc.wantLabel || labels["n"] != nil || labels["none"] != nil || labels["i"] != "7" {
					t.Errorf("label column: %v", labels)
				}
			}

			d, err = openSQLiteDB(SQLiteSettings{}, dir, quietLog, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.close()
			for id, want := range map[string]any{"s": "mylabel", "n": nil, "none": nil} {
				r, err := d.get(id)
				if err != nil {
					t.Fatal(err)
				}
				if got := r.value("label"); got != want {
					t.Errorf("label of %s read back = %#v, want %#v", id, got, want)
				}
			}
			found, err := d.find(map[string]any{"label": "mylabel"})
			if err != nil || len(found) != 1 || found[0].MsgID != "s" {
				t.Errorf("find by label: %v, %v", ids(found), err)
			}
		})
	}
}

func TestLabelOfRequestMetadata(t *testing.T) {
	for md, want := range map[string]string{
		`{"label":"a b"}`:                 `"a b"`,
		`{"after":[],"label":"x","z":1}`:  `"x"`,
		`{"label":"caf\u00e9 \"q\""}`:     `"caf\u00e9 \"q\""`,
		`{"label":null}`:                  ``,
		`{}`:                              ``,
		`{"label":["a",1]}`:               `["a",1]`,
		`{"label":""}`:                    `""`,
		`not json`:                        ``,
		`{"label":"dup","label":"twice"}`: `"twice"`,
	} {
		if got := string(labelOf(json.RawMessage(md))); got != want {
			t.Errorf("labelOf(%s) = %s, want %s", md, got, want)
		}
	}
}
