package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/argon2"

	"github.com/daytradinginc/daytrader/trading"
)

// The roles of web_users.role.
const (
	RoleTrader = "trader"
	RoleAdmin  = "admin"
)

// Password length limits: at least 8 characters; the upper bound only stops
// a megabyte "password" from costing a megabyte of hashing.
const (
	minPasswordLen = 8
	maxPasswordLen = 256
)

// ErrUserExists is returned by registration when the user name is taken.
var ErrUserExists = errors.New("user name is taken")

// ErrAccountExists is returned by registration when the name is the id of an
// existing trading account: only an administrator gives it a web login.
var ErrAccountExists = errors.New("user name belongs to an existing trading account")

// CheckUsername says what is wrong with a user name, if anything: it is the
// trading user id, so it follows the same rule ([A-Za-z0-9]{1,64}).
func CheckUsername(name string) error {
	if !trading.ValidUser(name) {
		return errors.New("user name must be 1 to 64 letters or digits (A-Z, a-z, 0-9)")
	}
	return nil
}

// CheckPassword says what is wrong with a new password, if anything.
func CheckPassword(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minPasswordLen:
		return fmt.Errorf("password must be at least %d characters", minPasswordLen)
	case n > maxPasswordLen:
		return fmt.Errorf("password must be at most %d characters", maxPasswordLen)
	}
	return nil
}

// CreateUser creates a web login, or updates the password and role of an
// existing one (so a CLI or the configured administrator can reset them).
// When the password changes, the user's sessions end.
func CreateUser(ctx context.Context, db *pgxpool.Pool, username, password, role string) error {
	if err := CheckUsername(username); err != nil {
		return err
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	if role != RoleTrader && role != RoleAdmin {
		return fmt.Errorf("role %q must be %q or %q", role, RoleTrader, RoleAdmin)
	}
	users := &userStore{db: db}
	existing, err := users.get(ctx, username)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return err
	default:
		if verifyPassword(existing.passwordHash, password) {
			if existing.role == role {
				return nil // nothing to change: keep the user's sessions
			}
			_, err := db.Exec(ctx, `UPDATE web_users SET role = $2 WHERE username = $1`, username, role)
			return err
		}
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO web_users (username, password_hash, role) VALUES ($1, $2, $3)
			ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role`,
			username, hash, role)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM web_sessions WHERE username = $1`, username)
		return err
	})
}

type userStore struct{ db *pgxpool.Pool }

type user struct {
	name         string
	passwordHash string
	role         string
}

func (s *userStore) get(ctx context.Context, name string) (user, error) {
	u := user{name: name}
	err := s.db.QueryRow(ctx, `SELECT password_hash, role FROM web_users WHERE username = $1`, name).
		Scan(&u.passwordHash, &u.role)
	return u, err
}

// register creates a trader's web login. It refuses a name that a web user
// has (ErrUserExists) or that accountExists says belongs to a trading account
// (ErrAccountExists); an error from accountExists refuses it too.
//
// The row is inserted first, in a transaction, and the account check runs
// before the commit: the uncommitted row holds the name (a concurrent
// registration or login creation of it waits for this one to end), and no
// one can sign in as the name until the check has found no account. An
// account opened after the check is a workload sending commands to an
// existing web user, the operator's act as at any later time, not a stranger
// taking over money that was there before.
func (s *userStore) register(ctx context.Context, name, password string,
	accountExists func(context.Context, string) (bool, error)) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if err := insertUser(ctx, tx, name, hash, RoleTrader); err != nil {
			return err
		}
		exists, err := accountExists(ctx, name)
		switch {
		case err != nil:
			return fmt.Errorf("checking for a trading account %s: %w", name, err)
		case exists:
			return ErrAccountExists
		}
		return nil
	})
}

// create makes a web login for name (an administrator's action, also for an
// existing trading account); ErrUserExists if name already has one, which
// it leaves as it is.
func (s *userStore) create(ctx context.Context, name, password, role string) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return insertUser(ctx, s.db, name, hash, role)
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// insertUser adds a web login; ErrUserExists if the name has one.
func insertUser(ctx context.Context, db execer, name, hash, role string) error {
	tag, err := db.Exec(ctx, `
		INSERT INTO web_users (username, password_hash, role) VALUES ($1, $2, $3)
		ON CONFLICT (username) DO NOTHING`, name, hash, role)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrUserExists
	}
	return nil
}

// authenticate returns the user when name and password match. A missing
// user costs the same hashing work as a wrong password, so response times do
// not tell which names exist.
func (s *userStore) authenticate(ctx context.Context, name, password string) (user, bool, error) {
	if trading.ValidUser(name) && len(password) <= 4*maxPasswordLen {
		u, err := s.get(ctx, name)
		switch {
		case err == nil:
			return u, verifyPassword(u.passwordHash, password), nil
		case !errors.Is(err, pgx.ErrNoRows):
			return user{}, false, err
		}
	}
	verifyPassword(decoyHash(), password)
	return user{}, false, nil
}

// ErrWrongPassword is returned by a password change whose current password
// is not the user's.
var ErrWrongPassword = errors.New("the current password is wrong")

// changePassword gives name the password next if current is its password
// now, and ends the user's other sessions: every one but keep (the token
// hash of the session that asked), so whoever else knew the old password
// and signed in with it is out. It returns how many sessions it ended; on
// ErrWrongPassword (or any error) nothing changed. The row stays locked
// from the check to the commit, so two changes at once cannot both pass
// the check with the same old password.
func (s *userStore) changePassword(ctx context.Context, name, current, next string, keep []byte) (int64, error) {
	var ended int64
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var hash string
		if err := tx.QueryRow(ctx, `SELECT password_hash FROM web_users WHERE username = $1 FOR UPDATE`, name).Scan(&hash); err != nil {
			return err
		}
		if !verifyPassword(hash, current) {
			return ErrWrongPassword
		}
		newHash, err := hashPassword(next)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE web_users SET password_hash = $2 WHERE username = $1`, name, newHash); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE username = $1 AND token_hash <> $2`, name, keep)
		ended = tag.RowsAffected()
		return err
	})
	return ended, err
}

type userListing struct {
	Name      string
	Role      string
	CreatedAt time.Time
}

// find is name's web login as the admin pages show it; found=false if it
// has none.
func (s *userStore) find(ctx context.Context, name string) (userListing, bool, error) {
	u := userListing{Name: name}
	err := s.db.QueryRow(ctx, `SELECT role, created_at FROM web_users WHERE username = $1`, name).
		Scan(&u.Role, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return userListing{}, false, nil
	}
	return u, err == nil, err
}

func (s *userStore) list(ctx context.Context) ([]userListing, error) {
	rows, err := s.db.Query(ctx, `SELECT username, role, created_at FROM web_users ORDER BY username`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (userListing, error) {
		var u userListing
		err := row.Scan(&u.Name, &u.Role, &u.CreatedAt)
		return u, err
	})
}

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1
// lane), which costs tens of milliseconds here. They are stored with each
// hash, so raising them later keeps old hashes verifiable.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

var b64 = base64.RawStdEncoding

// hashPassword returns the PHC string $argon2id$v=19$m=..,t=..,p=..$salt$key.
func hashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verifyPassword reports whether password matches a hashPassword string.
func verifyPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var memory, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil ||
		memory == 0 || memory > 1<<20 || passes == 0 || passes > 16 || threads == 0 {
		return false
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, passes, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

var decoyHash = sync.OnceValue(func() string {
	h, err := hashPassword(rand.Text())
	if err != nil {
		panic(err)
	}
	return h
})
