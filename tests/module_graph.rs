//! No two files of a crate import each other, directly or around a loop (STYLE.md,
//! habit 11: a folder's `mod.rs` is its front door, files that add to a type import
//! it downward).
//!
//! The sources are read as text: comments and string literals are blanked out, the
//! rest is cut into tokens, and every `use crate::…`, `use super::…`, `use self::…`,
//! `use child::…` and every path written inline (`crate::a::b::f()`,
//! `super::X::NAME`, `child::f()`) is resolved to the file that defines what it
//! names. A name re-exported by a `pub use` is followed to the file it comes from, so
//! `use super::Thing` reaches the file that defines `Thing`, not the `mod.rs` that
//! re-exports it. `mod` declarations are no edges, and neither are the `pub use`
//! lines of a `mod.rs` / `lib.rs` (they are the front door); a file whose only items
//! are `mod` declarations and `pub use` re-exports is a front door and has no edges
//! at all. Then a search for strongly connected components finds every loop, and
//! each is printed as a list of files with the line that makes each step.
//!
//! Within one crate only: crates cannot import each other in a loop.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The tokens of a Rust source, without comments, string, char and number literals.
fn lex(src: &str) -> Vec<Token> {
    let s: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    // Skips a quoted string whose opening quote is at `i`; returns the index after it.
    let skip_string = |mut i: usize, line: &mut usize| -> usize {
        i += 1;
        while i < s.len() {
            match s[i] {
                '\\' => i += 2,
                '"' => return i + 1,
                c => {
                    if c == '\n' {
                        *line += 1;
                    }
                    i += 1;
                }
            }
        }
        i
    };
    // Skips a raw string `r#…#"…"#…#` whose first `#` or `"` is at `i`.
    let skip_raw = |mut i: usize, line: &mut usize| -> usize {
        let mut hashes = 0;
        while i < s.len() && s[i] == '#' {
            hashes += 1;
            i += 1;
        }
        i += 1; // the opening quote
        while i < s.len() {
            if s[i] == '"' && (1..=hashes).all(|k| s.get(i + k) == Some(&'#')) {
                return i + 1 + hashes;
            }
            if s[i] == '\n' {
                *line += 1;
            }
            i += 1;
        }
        i
    };
    while i < s.len() {
        let c = s[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && s.get(i + 1) == Some(&'/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && s.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < s.len() {
                if s[i] == '/' && s.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if s[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if c == '"' {
            i = skip_string(i, &mut line);
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if s.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < s.len() && s[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if s.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < s.len() && is_ident_char(s[i]) {
                    i += 1;
                }
            }
        } else if c.is_ascii_digit() {
            while i < s.len() && is_ident_char(s[i]) {
                i += 1;
            }
        } else if is_ident_start(c) {
            let start = i;
            while i < s.len() && is_ident_char(s[i]) {
                i += 1;
            }
            let word: String = s[start..i].iter().collect();
            let next = s.get(i).copied();
            match (word.as_str(), next) {
                ("r" | "br" | "cr", Some('"')) => i = skip_raw(i, &mut line),
                ("r" | "br" | "cr", Some('#')) if matches!(s.get(i + 1), Some('#') | Some('"')) => {
                    i = skip_raw(i, &mut line)
                }
                ("r", Some('#')) => {
                    // A raw identifier: r#type.
                    let start = i + 1;
                    i += 1;
                    while i < s.len() && is_ident_char(s[i]) {
                        i += 1;
                    }
                    out.push(Token {
                        tok: Tok::Ident(s[start..i].iter().collect()),
                        line,
                    });
                }
                ("b" | "c", Some('"')) => i = skip_string(i, &mut line),
                ("b", Some('\'')) => {
                    i += 1;
                    if s.get(i + 1) == Some(&'\\') {
                        i += 2;
                    } else {
                        i += 1;
                    }
                    while i < s.len() && s[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                }
                _ => out.push(Token {
                    tok: Tok::Ident(word),
                    line,
                }),
            }
        } else if c == ':' && s.get(i + 1) == Some(&':') {
            out.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(c),
                line,
            });
            i += 1;
        }
    }
    out
}

fn ident(t: Option<&Token>) -> Option<&str> {
    match t.map(|t| &t.tok) {
        Some(Tok::Ident(s)) => Some(s),
        _ => None,
    }
}

fn punct(t: Option<&Token>, c: char) -> bool {
    matches!(t.map(|t| &t.tok), Some(Tok::Punct(p)) if *p == c)
}

fn path_sep(t: Option<&Token>) -> bool {
    matches!(t.map(|t| &t.tok), Some(Tok::PathSep))
}

/// The index after the group that opens at `i` (`(`, `[` or `{`).
fn skip_group(toks: &[Token], i: usize) -> usize {
    let mut depth = 0i32;
    let mut j = i;
    while j < toks.len() {
        match toks[j].tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    j
}

/// The index of the `;` that ends the statement from `i` (outside any group).
fn statement_end(toks: &[Token], mut i: usize) -> usize {
    while i < toks.len() {
        match toks[i].tok {
            Tok::Punct(';') => return i,
            Tok::Punct('(' | '[' | '{') => i = skip_group(toks, i),
            _ => i += 1,
        }
    }
    i
}

/// One path of a `use` tree: its segments and whether it ends in `*`.
#[derive(Debug, Clone)]
struct UsePath {
    segs: Vec<String>,
    glob: bool,
    /// The name it binds (the alias, or the last segment).
    name: Option<String>,
}

/// Expands the `use` tree at `toks[*p..]` under `prefix`.
fn use_tree(toks: &[Token], p: &mut usize, prefix: Vec<String>, out: &mut Vec<UsePath>) {
    let mut path = prefix;
    loop {
        match toks.get(*p).map(|t| &t.tok) {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                *p += 1;
                if path_sep(toks.get(*p)) {
                    path.push(s);
                    *p += 1;
                    continue;
                }
                let mut name = if s == "self" {
                    path.last().cloned()
                } else {
                    Some(s.clone())
                };
                if s != "self" {
                    path.push(s);
                }
                if ident(toks.get(*p)) == Some("as") {
                    name = ident(toks.get(*p + 1)).map(str::to_string);
                    *p += 2;
                }
                out.push(UsePath {
                    segs: path,
                    glob: false,
                    name,
                });
                return;
            }
            Some(Tok::Punct('*')) => {
                *p += 1;
                out.push(UsePath {
                    segs: path,
                    glob: true,
                    name: None,
                });
                return;
            }
            Some(Tok::Punct('{')) => {
                *p += 1;
                loop {
                    match toks.get(*p).map(|t| &t.tok) {
                        None => return,
                        Some(Tok::Punct('}')) => {
                            *p += 1;
                            return;
                        }
                        Some(Tok::Punct(',')) => *p += 1,
                        _ => {
                            let before = *p;
                            use_tree(toks, p, path.clone(), out);
                            if *p == before {
                                *p += 1;
                            }
                        }
                    }
                }
            }
            Some(Tok::PathSep) => *p += 1, // `use ::std::…`
            _ => return,
        }
    }
}

// ---------------------------------------------------------------------------
// Modules and files
// ---------------------------------------------------------------------------

struct Module {
    file: usize,
    parent: Option<usize>,
    children: BTreeMap<String, usize>,
    /// Names bound by `pub use`: name -> (path, the module the path is written in).
    reexports: HashMap<String, Vec<String>>,
}

struct SourceFile {
    path: PathBuf,
    module: usize,
    toks: Vec<Token>,
}

/// One reference from a file to another file.
#[derive(Debug, Clone)]
struct Edge {
    line: usize,
    what: String,
}

struct Crate {
    /// File names are printed relative to this folder.
    base: PathBuf,
    modules: Vec<Module>,
    files: Vec<SourceFile>,
}

fn is_front_door_name(path: &Path) -> bool {
    matches!(
        path.file_name().and_then(|n| n.to_str()),
        Some("mod.rs" | "lib.rs" | "main.rs")
    )
}

/// True when the items of `toks[i..end]` are only `mod` declarations, re-exports
/// (`pub use`), `extern crate` and inline modules made of the same.
fn only_doors(toks: &[Token], mut i: usize, end: usize) -> bool {
    while i < end {
        if punct(toks.get(i), '#') {
            i += 1;
            if punct(toks.get(i), '!') {
                i += 1;
            }
            i = skip_group(toks, i);
            continue;
        }
        let mut j = i;
        let public = ident(toks.get(j)) == Some("pub");
        if public {
            j += 1;
            if punct(toks.get(j), '(') {
                j = skip_group(toks, j);
            }
        }
        match ident(toks.get(j)) {
            Some("mod") => {
                if punct(toks.get(j + 2), ';') {
                    i = j + 3;
                } else if punct(toks.get(j + 2), '{') {
                    let close = skip_group(toks, j + 2);
                    if !only_doors(toks, j + 3, close - 1) {
                        return false;
                    }
                    i = close;
                } else {
                    return false;
                }
            }
            Some("use") if public => i = statement_end(toks, j) + 1,
            Some("extern") => i = statement_end(toks, j) + 1,
            _ => return false,
        }
    }
    true
}

impl Crate {
    /// Reads the crate whose root file is `root` (its `lib.rs` or `main.rs`), following
    /// `mod` declarations.
    fn read(root: &Path, base: &Path) -> Crate {
        let mut krate = Crate {
            base: base.to_path_buf(),
            modules: vec![Module {
                file: 0,
                parent: None,
                children: BTreeMap::new(),
                reexports: HashMap::new(),
            }],
            files: Vec::new(),
        };
        let mut queue = VecDeque::from([(root.to_path_buf(), 0usize)]);
        while let Some((path, module)) = queue.pop_front() {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let file = krate.files.len();
            krate.modules[module].file = file;
            let toks = lex(&text);
            // Where the files of this file's child modules live.
            let dir = if is_front_door_name(&path) {
                path.parent().unwrap().to_path_buf()
            } else {
                path.with_extension("")
            };
            // `mod` declarations, inline modules included.
            let mut stack: Vec<(usize, i32, PathBuf)> = vec![(module, -1, dir)];
            let mut depth = 0i32;
            let mut i = 0;
            while i < toks.len() {
                match &toks[i].tok {
                    Tok::Punct('{') => depth += 1,
                    Tok::Punct('}') => {
                        depth -= 1;
                        if stack.len() > 1 && stack.last().unwrap().1 == depth {
                            stack.pop();
                        }
                    }
                    Tok::Ident(m) if m == "mod" && !path_sep(toks.get(i + 1)) => {
                        if let Some(name) = ident(toks.get(i + 1)) {
                            let name = name.to_string();
                            let (parent, _, pdir) = stack.last().unwrap().clone();
                            let id = krate.modules.len();
                            krate.modules.push(Module {
                                file,
                                parent: Some(parent),
                                children: BTreeMap::new(),
                                reexports: HashMap::new(),
                            });
                            krate.modules[parent].children.insert(name.clone(), id);
                            if punct(toks.get(i + 2), ';') {
                                let flat = pdir.join(format!("{name}.rs"));
                                let nested = pdir.join(&name).join("mod.rs");
                                if flat.exists() {
                                    queue.push_back((flat, id));
                                } else if nested.exists() {
                                    queue.push_back((nested, id));
                                }
                                i += 3;
                                continue;
                            }
                            if punct(toks.get(i + 2), '{') {
                                stack.push((id, depth, pdir.join(&name)));
                                depth += 1;
                                i += 3;
                                continue;
                            }
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            krate.files.push(SourceFile { path, module, toks });
        }
        krate.collect_reexports();
        krate
    }

    fn rel(&self, file: usize) -> String {
        let p = &self.files[file].path;
        p.strip_prefix(&self.base)
            .unwrap_or(p)
            .display()
            .to_string()
    }

    /// Walks the tokens of `file`, calling `f(module, use path, is a pub use, line)`
    /// for each path of a `use` and each path written inline that starts with
    /// `crate`, `super`, `self` or a child module's name.
    fn walk(&self, file: usize, mut f: impl FnMut(usize, &UsePath, bool, usize)) {
        let toks = &self.files[file].toks;
        let mut stack: Vec<(usize, i32)> = vec![(self.files[file].module, -1)];
        let mut depth = 0i32;
        let mut i = 0;
        while i < toks.len() {
            let module = stack.last().unwrap().0;
            match &toks[i].tok {
                Tok::Punct('{') => depth += 1,
                Tok::Punct('}') => {
                    depth -= 1;
                    if stack.len() > 1 && stack.last().unwrap().1 == depth {
                        stack.pop();
                    }
                }
                Tok::Ident(m) if m == "mod" && punct(toks.get(i + 2), '{') => {
                    if let Some(id) =
                        ident(toks.get(i + 1)).and_then(|n| self.modules[module].children.get(n))
                    {
                        stack.push((*id, depth));
                        depth += 1;
                        i += 3;
                        continue;
                    }
                }
                Tok::Ident(u) if u == "use" => {
                    let mut public =
                        ident(i.checked_sub(1).and_then(|k| toks.get(k))) == Some("pub");
                    if punct(i.checked_sub(1).and_then(|k| toks.get(k)), ')') {
                        // pub(crate) use, pub(super) use
                        let mut k = i - 1;
                        while k > 0 && !punct(toks.get(k), '(') {
                            k -= 1;
                        }
                        public = k > 0 && ident(toks.get(k - 1)) == Some("pub");
                    }
                    let line = toks[i].line;
                    let end = statement_end(toks, i);
                    let mut paths = Vec::new();
                    let mut p = i + 1;
                    use_tree(&toks[..end], &mut p, Vec::new(), &mut paths);
                    for path in &paths {
                        f(module, path, public, line);
                    }
                    i = end + 1;
                    continue;
                }
                Tok::Ident(first) => {
                    let starts = matches!(first.as_str(), "crate" | "super" | "self")
                        || self.modules[module].children.contains_key(first);
                    let prev = i.checked_sub(1).and_then(|k| toks.get(k));
                    let after_path = path_sep(prev) || punct(prev, '$') || punct(prev, '.');
                    if starts && !after_path && path_sep(toks.get(i + 1)) {
                        let mut segs = vec![first.clone()];
                        let mut j = i + 1;
                        while path_sep(toks.get(j)) {
                            match ident(toks.get(j + 1)) {
                                Some(s) => segs.push(s.to_string()),
                                None => break,
                            }
                            j += 2;
                        }
                        let path = UsePath {
                            name: segs.last().cloned(),
                            segs,
                            glob: false,
                        };
                        f(module, &path, false, toks[i].line);
                        i = j;
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }

    fn collect_reexports(&mut self) {
        let mut found = Vec::new();
        for file in 0..self.files.len() {
            self.walk(file, |module, path, public, _| {
                if public && !path.glob {
                    if let Some(name) = &path.name {
                        found.push((module, name.clone(), path.segs.clone()));
                    }
                }
            });
        }
        for (module, name, segs) in found {
            self.modules[module].reexports.entry(name).or_insert(segs);
        }
    }

    /// The file that defines what `segs` (written in `module`) names, if it is in
    /// this crate.
    fn resolve(&self, module: usize, segs: &[String], hops: usize) -> Option<usize> {
        let (mut m, rest) = match segs.first()?.as_str() {
            "crate" => (0, &segs[1..]),
            "self" => (module, &segs[1..]),
            "super" => {
                let mut m = module;
                let mut k = 0;
                while segs.get(k).map(String::as_str) == Some("super") {
                    m = self.modules[m].parent?;
                    k += 1;
                }
                (m, &segs[k..])
            }
            first if self.modules[module].children.contains_key(first) => (module, segs),
            _ => return None, // another crate
        };
        for s in rest {
            if let Some(&c) = self.modules[m].children.get(s) {
                m = c;
                continue;
            }
            // An item of `m`: follow a re-export to where the item comes from.
            if let Some(src) = self.modules[m].reexports.get(s) {
                if hops < 16 {
                    return self.resolve(m, src, hops + 1);
                }
            }
            return Some(self.modules[m].file);
        }
        Some(self.modules[m].file)
    }

    /// Every reference from one file of the crate to another: (from, to) -> the first
    /// line that makes it.
    fn edges(&self) -> BTreeMap<(usize, usize), Edge> {
        let mut edges = BTreeMap::new();
        for file in 0..self.files.len() {
            let path = &self.files[file].path;
            let toks = &self.files[file].toks;
            if is_front_door_name(path) && only_doors(toks, 0, toks.len()) {
                continue; // a front door
            }
            let door = is_front_door_name(path);
            self.walk(file, |module, use_path, public, line| {
                if door && public {
                    return; // a re-export of the front door
                }
                if let Some(to) = self.resolve(module, &use_path.segs, 0) {
                    if to != file {
                        edges.entry((file, to)).or_insert_with(|| Edge {
                            line,
                            what: use_path.segs.join("::") + if use_path.glob { "::*" } else { "" },
                        });
                    }
                }
            });
        }
        edges
    }

    /// Every loop, as files `[a, b, …]` (a imports b imports … imports a): for each
    /// edge inside a strongly connected component, the shortest way back.
    fn loops(&self) -> Vec<String> {
        let edges = self.edges();
        let n = self.files.len();
        let mut out_of: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(a, b) in edges.keys() {
            out_of[a].push(b);
        }
        let scc = tarjan(&out_of);
        let mut cycles: BTreeSet<Vec<usize>> = BTreeSet::new();
        for &(a, b) in edges.keys() {
            if scc[a] != scc[b] {
                continue;
            }
            // Shortest path b -> a inside the component.
            let mut prev = vec![usize::MAX; n];
            let mut queue = VecDeque::from([b]);
            prev[b] = b;
            while let Some(x) = queue.pop_front() {
                if x == a {
                    break;
                }
                for &y in &out_of[x] {
                    if prev[y] == usize::MAX && scc[y] == scc[a] {
                        prev[y] = x;
                        queue.push_back(y);
                    }
                }
            }
            let mut cycle = vec![a];
            let mut x = a;
            while x != b {
                x = prev[x];
                cycle.push(x);
            }
            cycle.reverse(); // b … a, then a -> b closes it
            let cycle: Vec<usize> = std::iter::once(a)
                .chain(cycle.into_iter().take_while(|&x| x != a))
                .collect();
            // Start the loop at its smallest file so each loop is listed once.
            let k = (0..cycle.len()).min_by_key(|&k| cycle[k]).unwrap();
            let mut rotated = cycle[k..].to_vec();
            rotated.extend_from_slice(&cycle[..k]);
            cycles.insert(rotated);
        }
        cycles
            .into_iter()
            .map(|c| {
                let mut s = String::new();
                for (k, &f) in c.iter().enumerate() {
                    let next = c[(k + 1) % c.len()];
                    let e = &edges[&(f, next)];
                    s += &format!("{}:{} ({}) -> ", self.rel(f), e.line, e.what);
                }
                s + &self.rel(c[0])
            })
            .collect()
    }
}

/// The strongly connected component of each node.
fn tarjan(out_of: &[Vec<usize>]) -> Vec<usize> {
    struct State<'a> {
        out_of: &'a [Vec<usize>],
        index: Vec<usize>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        comp: Vec<usize>,
        ncomp: usize,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = s.next;
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for k in 0..s.out_of[v].len() {
            let w = s.out_of[v][k];
            if s.index[w] == usize::MAX {
                visit(s, w);
                s.low[v] = s.low[v].min(s.low[w]);
            } else if s.on_stack[w] {
                s.low[v] = s.low[v].min(s.index[w]);
            }
        }
        if s.low[v] == s.index[v] {
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                s.comp[w] = s.ncomp;
                if w == v {
                    break;
                }
            }
            s.ncomp += 1;
        }
    }
    let n = out_of.len();
    let mut s = State {
        out_of,
        index: vec![usize::MAX; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        comp: vec![0; n],
        ncomp: 0,
    };
    for v in 0..n {
        if s.index[v] == usize::MAX {
            visit(&mut s, v);
        }
    }
    s.comp
}

// ---------------------------------------------------------------------------
// The workspace
// ---------------------------------------------------------------------------

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The loops of the crates rooted at `roots` (relative to the workspace), printed,
/// minus those in `allowed` (each a loop's files, in any order).
fn loops_of(roots: &[&str], allowed: &[&[&str]]) -> Vec<String> {
    let mut found = Vec::new();
    for root in roots {
        let krate = Crate::read(&workspace().join(root), &workspace());
        for l in krate.loops() {
            let files: BTreeSet<&str> = l
                .split(" -> ")
                .map(|step| step.split(':').next().unwrap_or(step))
                .collect();
            let ok = allowed
                .iter()
                .any(|a| a.iter().copied().collect::<BTreeSet<&str>>() == files);
            println!("{}{l}", if ok { "allowed: " } else { "" });
            if !ok {
                found.push(l);
            }
        }
    }
    found
}

fn assert_no_loops(roots: &[&str], allowed: &[&[&str]]) {
    let found = loops_of(roots, allowed);
    assert!(
        found.is_empty(),
        "{} import loop(s) between files:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn core_files_import_downward() {
    assert_no_loops(&["core/src/lib.rs"], &[]);
}

#[test]
fn macros_files_import_downward() {
    assert_no_loops(&["core/macros/src/lib.rs"], &[]);
}

#[test]
fn io_files_import_downward() {
    assert_no_loops(&["io/src/lib.rs"], &[]);
}

#[test]
fn scheduler_files_import_downward() {
    assert_no_loops(&["scheduler/src/lib.rs"], &[]);
}

#[test]
fn facade_files_import_downward() {
    let mut roots = vec!["src/lib.rs".to_string()];
    for entry in std::fs::read_dir(workspace().join("src/bin")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            roots.push(format!(
                "src/bin/{}",
                path.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    let roots: Vec<&str> = roots.iter().map(String::as_str).collect();
    assert_no_loops(&roots, &[]);
}

#[test]
fn collections_files_import_downward() {
    assert_no_loops(&["collections/src/lib.rs"], &[]);
}

// ---------------------------------------------------------------------------
// The checker itself, on a small crate written for it
// ---------------------------------------------------------------------------

fn write_crate(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("brisk-module-graph-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn the_checker_finds_direct_loops_loops_through_front_doors_and_nothing_else() {
    let dir = write_crate(
        "sample",
        &[
            (
                "lib.rs",
                "mod a;\nmod b;\npub mod d;\nmod e;\nmod f;\npub use a::A;\n",
            ),
            // a <-> b, one side inline, one through the crate root's re-export.
            ("a.rs", "use crate::b::B;\npub struct A;\n"),
            ("b.rs", "pub struct B;\nfn f() { let _ = crate::A; }\n"),
            // x <-> y through the front door d/mod.rs.
            (
                "d/mod.rs",
                "//! Front door.\nmod x;\nmod y;\npub use x::X;\npub use self::y::{Y, Z as W};\n",
            ),
            ("d/x.rs", "use super::W;\npub struct X;\n"),
            (
                "d/y.rs",
                "pub struct Y;\npub struct Z;\nfn g() -> super::X { super::X }\n",
            ),
            // Not loops: comments, strings, tests of a file, a child used by its parent.
            (
                "e.rs",
                "// use crate::f::F;\n/* crate::f::F */\nconst S: &str = \"crate::f::F\";\n\
                 const R: &str = r#\"super::f\"#;\nmod inner { use super::*; }\n\
                 #[cfg(test)]\nmod tests { use super::*; }\nuse crate::f::F;\n",
            ),
            (
                "f.rs",
                "pub struct F;\nfn h<'a>(x: &'a str) -> char { '\"' }\n",
            ),
        ],
    );
    let loops = Crate::read(&dir.join("lib.rs"), &dir).loops();
    assert_eq!(
        loops,
        [
            "a.rs:1 (crate::b::B) -> b.rs:2 (crate::A) -> a.rs",
            "d/x.rs:1 (super::W) -> d/y.rs:3 (super::X) -> d/x.rs",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}
