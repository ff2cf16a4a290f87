package audit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/daytradinginc/daytrader/trading"
	"github.com/jackc/pgx/v5"
)

// DumpFileMode is the permission of dump files: the audit history is not for
// every local user to read.
const DumpFileMode = 0o640

// DumpXML writes the audit history of user, or of everyone when user is "",
// to w as a logfile.xsd document, oldest first. Rows stream from one query
// (one consistent snapshot) straight into the encoder, so the history is
// never held in memory. It returns how many events it wrote; on error the
// output is incomplete.
func (s *Store) DumpXML(ctx context.Context, w io.Writer, user string) (count int64, err error) {
	sql := "SELECT " + storedEventColumns + " FROM audit_events ORDER BY id"
	var args []any
	if user != "" {
		sql = "SELECT " + storedEventColumns + " FROM audit_events WHERE username = $1 ORDER BY id"
		args = append(args, user)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return 0, fmt.Errorf("audit: dumping the log: %w", err)
	}
	enc := NewXMLEncoder(w)
	scan := newEventScanner()
	if _, err := pgx.ForEachRow(rows, scan.targets(), func() error {
		ev, err := scan.event()
		if err != nil {
			return err
		}
		if err := enc.Encode(ev.Event); err != nil {
			return fmt.Errorf("event %d: %w", ev.ID, err)
		}
		count++
		return nil
	}); err != nil {
		return count, fmt.Errorf("audit: dumping the log: %w", err)
	}
	if err := enc.Close(); err != nil {
		return count, fmt.Errorf("audit: dumping the log: %w", err)
	}
	return count, nil
}

// DumpToFile writes DumpXML for user ("" = everyone) to the file filename
// directly inside dir, creating dir if needed, and returns the file's absolute
// path. filename must pass trading.ValidFilename (a leading "./" is dropped);
// a name that would leave dir is refused before anything is written. The file
// appears complete or not at all: it is written under a temporary name, synced
// and renamed. All file operations go through an os.Root on dir, so neither
// the name nor a symlink inside dir can reach outside it (an existing symlink
// named filename is replaced, not followed).
func (s *Store) DumpToFile(ctx context.Context, dir, filename, user string) (path string, count int64, err error) {
	if err := trading.ValidFilename(filename); err != nil {
		return "", 0, fmt.Errorf("audit: refusing dump file: %w", err)
	}
	if dir == "" {
		return "", 0, errors.New("audit: no dump directory given")
	}
	name := trading.CleanFilename(filename)
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", 0, fmt.Errorf("audit: dump directory %q: %w", dir, err)
	}
	path = filepath.Join(absDir, name)
	if filepath.Dir(path) != absDir || filepath.Base(path) != name {
		return "", 0, fmt.Errorf("audit: refusing dump file %q: it is not a file directly inside %s", filename, absDir)
	}
	if err := os.MkdirAll(absDir, 0o755); err != nil {
		return "", 0, fmt.Errorf("audit: creating dump directory: %w", err)
	}
	root, err := os.OpenRoot(absDir)
	if err != nil {
		return "", 0, fmt.Errorf("audit: opening dump directory: %w", err)
	}
	defer root.Close()

	// The temporary name starts with a dot, which ValidFilename refuses, so
	// it can never be a dump's own name.
	tmpName := ".dumplog-" + rand.Text() + ".tmp"
	f, err := root.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, DumpFileMode)
	if err != nil {
		return "", 0, fmt.Errorf("audit: creating dump file: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			f.Close()
			root.Remove(tmpName)
		}
	}()
	count, err = s.DumpXML(ctx, f, user)
	if err != nil {
		return "", count, err
	}
	if err := f.Sync(); err != nil {
		return "", count, fmt.Errorf("audit: writing dump file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", count, fmt.Errorf("audit: writing dump file: %w", err)
	}
	if err := root.Rename(tmpName, name); err != nil {
		return "", count, fmt.Errorf("audit: renaming dump file into place: %w", err)
	}
	renamed = true
	// Make the rename itself durable.
	if d, err := root.Open("."); err == nil {
		d.Sync()
		d.Close()
	}
	return path, count, nil
}
