package controller

import "time"

// openStore makes the task-record store that db_class chose.
func (c *Controller) openStore() (store, error) {
	switch {
	case c.cfg.NoDB:
		return noDB{}, nil
	case c.cfg.SQLite:
		loop := c.loop
		after := func(d time.Duration, f func()) { loop.After(d, f) }
		s := SQLiteSettings{Filename: c.cfg.SQLiteFile, Location: c.cfg.SQLiteLocation, Table: c.cfg.SQLiteTable}
		db, err := openSQLiteDB(s, c.cfg.ProfileDir, c.log, after)
		if err != nil {
			return nil, err
		}
		c.log.Info("task records in SQLite", "file", db.path, "table", db.table)
		return db, nil
	}
	return newDictDB(c.cfg.RecordLimit, c.cfg.SizeLimit), nil
}
