package chaos

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The SQL check: every SQL text that reaches a database call in the
// repository's non-test Go code must be built only from constants (string
// literals, constants, and concatenations of them), with values passed as
// pgx parameters ($1, $2, ...). A text may also be assembled from pieces
// that are themselves constant, joined with strings.Join, or formatted with
// fmt.Sprintf when the format has only %d verbs and the arguments are
// numbers (a placeholder's index). Anything else, say fmt.Sprintf("... '%s'",
// name) or "... " + userInput, is reported. It is a syntactic check (go/ast,
// no type information) that follows local variables, closure parameters and
// function parameters to their call sites in the same package.

// sqlMethods are the database calls the check looks at, with the index of
// their SQL argument when the first argument is a context.
var sqlMethods = map[string]int{
	"Exec": 1, "Query": 1, "QueryRow": 1, // pgx (ctx, sql, args...); database/sql without ctx: 0
	"ExecContext": 1, "QueryContext": 1, "QueryRowContext": 1, "PrepareContext": 1,
	"Prepare": 2, // pgx: (ctx, name, sql)
	"Queue":   0, // pgx.Batch: (sql, args...)
}

// sqlAllowed are the calls whose SQL is built from an identifier, which SQL
// cannot take as a parameter. Each is checked to still exist.
var sqlAllowed = map[string]string{
	"internal/pgdb/pgdb.go:Create": "CREATE/DROP DATABASE of a name checked against ^[a-z_][a-z0-9_]{0,62}$ first",
}

// sqlFinding is one database call and whether its SQL is safe.
type sqlFinding struct {
	Where string // file:line
	Func  string // file:function, the allowlist's key
	Safe  bool
	Why   string // for an unsafe one: the expression that is not constant
}

func TestSQLIsParameterized(t *testing.T) {
	root := repoRoot(t)
	findings, err := checkSQLTree(root)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	safe := 0
	for _, f := range findings {
		switch {
		case f.Safe:
			safe++
		case sqlAllowed[f.Func] != "":
			used[f.Func] = true
		default:
			t.Errorf("%s (%s): SQL built from a non-constant %s; pass values as $n parameters", f.Where, f.Func, f.Why)
		}
	}
	for k := range sqlAllowed {
		if !used[k] {
			t.Logf("allowlist entry %s matched nothing (renamed or fixed?)", k)
		}
	}
	// Not vacuous: the audit store, web sessions and users run a couple of
	// dozen statements.
	if safe < 15 {
		t.Errorf("only %d constant SQL statements found: is the check still finding the database calls?", safe)
	}
	t.Logf("%d database calls with constant SQL, %d allowlisted identifier DDL", safe, len(used))
}

// TestSQLCheckCatchesInjection proves the check reports the usual ways of
// building SQL from values and accepts the usual safe ones.
func TestSQLCheckCatchesInjection(t *testing.T) {
	src := `package p

import ("context"; "fmt"; "strings")

const table = "audit_events"

func good(ctx context.Context, db DB, user string, n int) {
	db.Exec(ctx, "DELETE FROM web_sessions WHERE username = $1", user)
	db.Query(ctx, "SELECT * FROM " + table + " WHERE id = $1", n)
	sql := "SELECT 1 FROM " + table
	var conds []string
	where := func(c string) { conds = append(conds, fmt.Sprintf(c, len(conds)+1)) }
	where("username = $%d")
	sql += " WHERE " + strings.Join(conds, " AND ")
	sql += fmt.Sprintf(" LIMIT $%d", len(conds)+1)
	db.Query(ctx, sql, user)
	var b Batch
	b.Queue("INSERT INTO t VALUES ($1)", n)
}

func sprintfString(ctx context.Context, db DB, user string) {
	db.Exec(ctx, fmt.Sprintf("DELETE FROM t WHERE username = '%s'", user))
}

func concatenated(ctx context.Context, db DB, user string) {
	db.QueryRow(ctx, "SELECT * FROM t WHERE username = '" + user + "'")
}

func viaVariable(ctx context.Context, db DB, order string) {
	q := "SELECT * FROM t ORDER BY "
	q += order
	db.Query(ctx, q)
}

func sprintfDigitsOfAString(ctx context.Context, db DB, user string) {
	db.Query(ctx, fmt.Sprintf("SELECT %d", user))
}

func run(ctx context.Context, db DB, stmt string) { db.Exec(ctx, stmt) }

func caller(ctx context.Context, db DB, name string) { run(ctx, db, "DROP TABLE " + name) }

func batched(b *Batch, col string) { b.Queue("SELECT " + col) }
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	findings, err := checkSQLTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]bool{}
	for _, f := range findings {
		fn := f.Func[strings.IndexByte(f.Func, ':')+1:]
		got[fn] = append(got[fn], f.Safe)
	}
	want := map[string][]bool{
		"good":                   {true, true, true, true},
		"sprintfString":          {false},
		"concatenated":           {false},
		"viaVariable":            {false},
		"sprintfDigitsOfAString": {false},
		"run":                    {false},
		"batched":                {false},
	}
	for fn, w := range want {
		if !slices.Equal(got[fn], w) {
			t.Errorf("%s: safe = %v, want %v", fn, got[fn], w)
		}
	}
}

// checkSQLTree checks every non-test Go file under root, package by package.
func checkSQLTree(root string) ([]sqlFinding, error) {
	dirs := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			dirs[filepath.Dir(path)] = append(dirs[filepath.Dir(path)], path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []sqlFinding
	for _, files := range dirs {
		fset := token.NewFileSet()
		pkg := &sqlPackage{fset: fset, root: root, consts: map[string]bool{}, funcs: map[string][]*ast.FuncDecl{}}
		for _, path := range files {
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return nil, err
			}
			pkg.files = append(pkg.files, f)
		}
		pkg.index()
		out = append(out, pkg.check()...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Where < out[j].Where })
	return out, nil
}

type sqlPackage struct {
	fset   *token.FileSet
	root   string
	files  []*ast.File
	consts map[string]bool            // package-level constants
	funcs  map[string][]*ast.FuncDecl // functions and methods by name
}

func (p *sqlPackage) index() {
	for _, f := range p.files {
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				if d.Tok == token.CONST {
					for _, spec := range d.Specs {
						for _, n := range spec.(*ast.ValueSpec).Names {
							p.consts[n.Name] = true
						}
					}
				}
			case *ast.FuncDecl:
				p.funcs[d.Name.Name] = append(p.funcs[d.Name.Name], d)
			}
		}
	}
}

func (p *sqlPackage) check() []sqlFinding {
	var out []sqlFinding
	for _, f := range p.files {
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sqlArg := sqlArgument(call)
				if sqlArg == nil {
					return true
				}
				pos := p.fset.Position(call.Pos())
				rel, _ := filepath.Rel(p.root, pos.Filename)
				finding := sqlFinding{Where: fmt.Sprintf("%s:%d", rel, pos.Line), Func: rel + ":" + fn.Name.Name}
				if why := p.unsafe(sqlArg, fn, map[string]bool{}); why == "" {
					finding.Safe = true
				} else {
					finding.Why = why
				}
				out = append(out, finding)
				return true
			})
		}
	}
	return out
}

// sqlArgument returns the SQL argument of a database call, nil if call is
// not one.
func sqlArgument(call *ast.CallExpr) ast.Expr {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	i, ok := sqlMethods[sel.Sel.Name]
	if !ok || len(call.Args) == 0 {
		return nil
	}
	if i > 0 && !isContext(call.Args[0]) {
		i = 0 // database/sql's Exec(query, args...)
	}
	if i >= len(call.Args) {
		return nil
	}
	return call.Args[i]
}

// isContext reports whether e looks like a context argument: ctx, xCtx,
// r.Context(), context.Background() and the like.
func isContext(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return strings.HasSuffix(strings.ToLower(e.Name), "ctx")
	case *ast.CallExpr:
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "context" {
				return true
			}
			return sel.Sel.Name == "Context"
		}
	}
	return false
}

// unsafe returns "" when e is built from constants only (as described at the
// top of this file), else the first offending expression. fn is the
// top-level function e appears in.
func (p *sqlPackage) unsafe(e ast.Expr, fn *ast.FuncDecl, seen map[string]bool) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING || e.Kind == token.INT {
			return ""
		}
	case *ast.ParenExpr:
		return p.unsafe(e.X, fn, seen)
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			if why := p.unsafe(e.X, fn, seen); why != "" {
				return why
			}
			return p.unsafe(e.Y, fn, seen)
		}
	case *ast.CompositeLit:
		for _, elt := range e.Elts {
			if why := p.unsafe(elt, fn, seen); why != "" {
				return why
			}
		}
		return ""
	case *ast.Ident:
		return p.unsafeIdent(e.Name, fn, seen)
	case *ast.CallExpr:
		return p.unsafeCall(e, fn, seen)
	}
	return p.text(e)
}

var onlyDigitVerbs = regexp.MustCompile(`%[^d%]`)

func (p *sqlPackage) unsafeCall(call *ast.CallExpr, fn *ast.FuncDecl, seen map[string]bool) string {
	switch name := p.text(call.Fun); name {
	case "append":
		for _, a := range call.Args {
			if why := p.unsafe(a, fn, seen); why != "" {
				return why
			}
		}
		return ""
	case "len", "cap", "strconv.Itoa", "strconv.FormatInt":
		return "" // digits only
	case "strings.Join":
		for _, a := range call.Args {
			if why := p.unsafe(a, fn, seen); why != "" {
				return why
			}
		}
		return ""
	case "fmt.Sprintf":
		if len(call.Args) == 0 {
			return p.text(call)
		}
		for _, format := range p.literals(call.Args[0], fn, map[string]bool{}) {
			if format == nil {
				return p.text(call)
			}
			s, err := strconv.Unquote(format.Value)
			if err != nil || onlyDigitVerbs.MatchString(strings.ReplaceAll(s, "%%", "")) {
				return p.text(call)
			}
		}
		for _, a := range call.Args[1:] {
			if c, ok := a.(*ast.CallExpr); ok && (p.text(c.Fun) == "len" || p.text(c.Fun) == "cap") {
				continue
			}
			if b, ok := a.(*ast.BinaryExpr); ok && isIntArithmetic(b) {
				continue
			}
			if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.INT {
				continue
			}
			return p.text(call) // %d of a string prints the string
		}
		return ""
	}
	return p.text(call)
}

// isIntArithmetic is len(x)+1 and the like.
func isIntArithmetic(b *ast.BinaryExpr) bool {
	ok := func(e ast.Expr) bool {
		switch e := e.(type) {
		case *ast.BasicLit:
			return e.Kind == token.INT
		case *ast.CallExpr:
			id, isID := e.Fun.(*ast.Ident)
			return isID && (id.Name == "len" || id.Name == "cap")
		case *ast.BinaryExpr:
			return isIntArithmetic(e)
		}
		return false
	}
	return ok(b.X) && ok(b.Y)
}

// literals returns the string literals e can hold (following variables and
// parameters like unsafe does); a nil entry means something else.
func (p *sqlPackage) literals(e ast.Expr, fn *ast.FuncDecl, seen map[string]bool) []*ast.BasicLit {
	switch e := e.(type) {
	case *ast.BasicLit:
		return []*ast.BasicLit{e}
	case *ast.Ident:
		var out []*ast.BasicLit
		for _, v := range p.valuesOf(e.Name, fn, seen) {
			out = append(out, p.literals(v.expr, v.fn, seen)...)
		}
		if len(out) == 0 {
			return []*ast.BasicLit{nil}
		}
		return out
	}
	return []*ast.BasicLit{nil}
}

func (p *sqlPackage) unsafeIdent(name string, fn *ast.FuncDecl, seen map[string]bool) string {
	if name == "nil" || p.consts[name] {
		return ""
	}
	key := fn.Name.Name + "." + name
	if seen[key] {
		return "" // a variable built from itself (x = append(x, ...)): its other values decide
	}
	seen[key] = true
	values := p.valuesOf(name, fn, seen)
	if values == nil {
		return name + " (no value this check can follow)"
	}
	for _, v := range values {
		if v.expr == nil {
			continue // declared without a value
		}
		if why := p.unsafe(v.expr, v.fn, seen); why != "" {
			return why
		}
	}
	return ""
}

// value is one expression a name is given, in the function fn.
type value struct {
	expr ast.Expr
	fn   *ast.FuncDecl
}

// valuesOf lists what the name is assigned in fn (=, :=, +=, var), and for
// a parameter (of fn or of a closure in it) the arguments of its calls. It
// returns nil when it finds no value at all.
func (p *sqlPackage) valuesOf(name string, fn *ast.FuncDecl, seen map[string]bool) []value {
	var out []value
	found := false
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for i, lhs := range n.Lhs {
				if id, ok := lhs.(*ast.Ident); ok && id.Name == name && len(n.Rhs) == len(n.Lhs) {
					found = true
					out = append(out, value{n.Rhs[i], fn})
				} else if ok && id.Name == name {
					found = true
					out = append(out, value{&ast.BadExpr{}, fn}) // x, y := f(): not followed
				}
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if id.Name == name {
					found = true
					if i < len(n.Values) {
						out = append(out, value{n.Values[i], fn})
					} else {
						out = append(out, value{nil, fn})
					}
				}
			}
		case *ast.FuncLit:
			if idx := paramIndex(n.Type, name); idx >= 0 {
				found = true
				out = append(out, p.closureArgs(n, idx, fn)...)
			}
		}
		return true
	})
	if idx := paramIndex(fn.Type, name); idx >= 0 {
		found = true
		out = append(out, p.callArgs(fn, idx)...)
	}
	if !found {
		return nil
	}
	return out
}

func paramIndex(ft *ast.FuncType, name string) int {
	i := 0
	for _, field := range ft.Params.List {
		if len(field.Names) == 0 {
			i++
			continue
		}
		for _, n := range field.Names {
			if n.Name == name {
				return i
			}
			i++
		}
	}
	return -1
}

// closureArgs are the arguments at idx of every call of the closure lit,
// found through the variable it is assigned to in fn.
func (p *sqlPackage) closureArgs(lit *ast.FuncLit, idx int, fn *ast.FuncDecl) []value {
	var varName string
	ast.Inspect(fn, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok {
			for i, rhs := range as.Rhs {
				if rhs == lit && i < len(as.Lhs) {
					if id, ok := as.Lhs[i].(*ast.Ident); ok {
						varName = id.Name
					}
				}
			}
		}
		return true
	})
	out := []value{{&ast.BadExpr{}, fn}} // a closure whose calls cannot be found is not safe
	if varName == "" {
		return out
	}
	out = out[:0]
	ast.Inspect(fn, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == varName && idx < len(call.Args) {
				out = append(out, value{call.Args[idx], fn})
			}
		}
		return true
	})
	return out
}

// callArgs are the arguments at idx of every call of the function (or
// method) target anywhere in the package.
func (p *sqlPackage) callArgs(target *ast.FuncDecl, idx int) []value {
	out := []value{{&ast.BadExpr{}, target}} // a function nobody in the package calls could get anything
	var calls []value
	for _, f := range p.files {
		for _, decl := range f.Decls {
			caller, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			ast.Inspect(caller, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || idx >= len(call.Args) {
					return true
				}
				var name string
				switch fun := call.Fun.(type) {
				case *ast.Ident:
					name = fun.Name
				case *ast.SelectorExpr:
					name = fun.Sel.Name
				}
				if name == target.Name.Name {
					calls = append(calls, value{call.Args[idx], caller})
				}
				return true
			})
		}
	}
	if len(calls) == 0 {
		return out
	}
	return calls
}

// text is e as source, for messages and for matching function names.
func (p *sqlPackage) text(e ast.Node) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return p.text(e.X) + "." + e.Sel.Name
	case *ast.CallExpr:
		return p.text(e.Fun) + "(...)"
	case *ast.BadExpr:
		return "a value this check cannot follow"
	}
	return fmt.Sprintf("%T at %s", e, p.fset.Position(e.Pos()))
}
