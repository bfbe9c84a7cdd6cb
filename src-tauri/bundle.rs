//! The page the app embeds: `ui/` as written, with its ES modules (`ui/js/*.js`) joined
//! into one classic script, `app.js`, so the window fetches one file instead of nine.
//!
//! Each module keeps its own scope (a function whose result is its exports); `import`
//! lines become reads of those results. It understands the subset the page uses: one-line
//! or bracketed `import { a, b as c } from './x.js';` at the start of a line, and `export`
//! in front of `function`, `async function`, `const`, `let` or `class` declarations.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The `<script>` in `ui/index.html` that loads the modules one by one.
const MODULE_TAG: &str = r#"<script type="module" src="js/main.js"></script>"#;
/// What loads the joined script instead; `defer` runs it after parsing, as a module is.
const BUNDLE_TAG: &str = r#"<script defer src="app.js"></script>"#;
const ENTRY: &str = "main.js";

struct Module {
    /// `const { a, b: c } = modules['x.js'];` for each import.
    imports: Vec<(String, String)>,
    exports: Vec<String>,
    body: String,
}

/// Writes the page into `out`: every file of `ui/` but `js/`, `index.html` loading
/// `app.js`, and `app.js`. A file whose content is unchanged is not written again.
pub fn build(ui: &Path, out: &Path) -> Result<(), String> {
    fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for entry in fs::read_dir(ui).map_err(|e| format!("{}: {e}", ui.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() || name == "index.html" {
            continue;
        }
        write_if_changed(&out.join(&name), &read(&path)?)?;
    }
    let html = read(&ui.join("index.html"))?;
    if !html.contains(MODULE_TAG) {
        return Err(format!("ui/index.html no longer has {MODULE_TAG}"));
    }
    write_if_changed(
        &out.join("index.html"),
        &html.replace(MODULE_TAG, BUNDLE_TAG),
    )?;
    write_if_changed(&out.join("app.js"), &join(&ui.join("js"))?)
}

/// The modules under `js` as one script, each after the modules it imports.
pub fn join(js: &Path) -> Result<String, String> {
    let mut modules = BTreeMap::new();
    for entry in fs::read_dir(js).map_err(|e| format!("{}: {e}", js.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|x| x == "js") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let module = parse(&read(&path)?).map_err(|e| format!("ui/js/{name}: {e}"))?;
            modules.insert(name, module);
        }
    }
    let mut order = Vec::new();
    visit(ENTRY, &modules, &mut Vec::new(), &mut order)?;
    let mut out = String::from(
        "// Joined by src-tauri/bundle.rs from ui/js/*.js at build time; edit those files.\n\
         (() => {\n'use strict';\nconst modules = {};\n",
    );
    for name in &order {
        let m = &modules[name];
        out.push_str(&format!(
            "\n// ---- {name}\nmodules['{name}'] = (() => {{\n"
        ));
        for (from, names) in &m.imports {
            out.push_str(&format!("const {{ {names} }} = modules['{from}'];\n"));
        }
        out.push_str(&m.body);
        out.push_str(&format!("return {{ {} }};\n}})();\n", m.exports.join(", ")));
    }
    out.push_str("})();\n");
    Ok(out)
}

fn visit(
    name: &str,
    modules: &BTreeMap<String, Module>,
    path: &mut Vec<String>,
    order: &mut Vec<String>,
) -> Result<(), String> {
    if order.iter().any(|n| n == name) {
        return Ok(());
    }
    if path.iter().any(|n| n == name) {
        return Err(format!("ui/js: an import cycle through {name}"));
    }
    let module = modules
        .get(name)
        .ok_or_else(|| format!("ui/js/{name} is imported but missing"))?;
    path.push(name.to_owned());
    for (from, _) in &module.imports {
        visit(from, modules, path, order)?;
    }
    path.pop();
    order.push(name.to_owned());
    Ok(())
}

fn parse(source: &str) -> Result<Module, String> {
    let mut module = Module {
        imports: Vec::new(),
        exports: Vec::new(),
        body: String::new(),
    };
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("import ") {
            let mut statement = line.to_owned();
            while !statement.trim_end().ends_with(';') {
                let next = lines.next().ok_or("an import that never ends")?;
                statement.push(' ');
                statement.push_str(next.trim());
            }
            module.imports.push(import(&statement)?);
            module.body.push('\n'); // keeps line numbers close to the source's
        } else if let Some(rest) = line.strip_prefix("export ") {
            module.exports.push(exported_name(rest)?);
            module.body.push_str(rest);
            module.body.push('\n');
        } else {
            module.body.push_str(line);
            module.body.push('\n');
        }
    }
    Ok(module)
}

/// `import { a, b as c } from './x.js';` → (`x.js`, `a, b: c`).
fn import(statement: &str) -> Result<(String, String), String> {
    let bad = || format!("unsupported import: {statement}");
    let open = statement.find('{').ok_or_else(bad)?;
    let close = statement.find('}').ok_or_else(bad)?;
    let names: Vec<String> = statement[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.replace(" as ", ": "))
        .collect();
    let from = statement[close..]
        .split(['\'', '"'])
        .nth(1)
        .and_then(|p| p.strip_prefix("./"))
        .ok_or_else(bad)?;
    Ok((from.to_owned(), names.join(", ")))
}

/// The name an `export` line declares.
fn exported_name(declaration: &str) -> Result<String, String> {
    let rest = declaration.strip_prefix("async ").unwrap_or(declaration);
    let rest = ["function ", "const ", "let ", "class "]
        .iter()
        .find_map(|k| rest.strip_prefix(k))
        .ok_or_else(|| format!("unsupported export: export {declaration}"))?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
        .collect();
    if name.is_empty() {
        return Err(format!("unsupported export: export {declaration}"));
    }
    Ok(name)
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system's temporary one, holding `files`.
    fn dir_with(files: &[(&str, &str)]) -> PathBuf {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "amo-bundle-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        dir
    }

    /// The order in which `script` defines its modules.
    fn order(script: &str) -> Vec<&str> {
        script
            .lines()
            .filter_map(|l| l.strip_prefix("// ---- "))
            .collect()
    }

    #[test]
    fn imports_become_reads_of_the_modules_exports() {
        let m = parse(
            "import { a, b as c } from './x.js';\n\
             import {\n  d,\n  e as f,\n} from \"./y.js\";\n\
             use(a, c, d, f);\n",
        )
        .unwrap();
        assert_eq!(
            m.imports,
            [
                ("x.js".to_owned(), "a, b: c".to_owned()),
                ("y.js".to_owned(), "d, e: f".to_owned()),
            ]
        );
        assert!(!m.body.contains("import"));
        assert!(m.body.contains("use(a, c, d, f);"));
    }

    #[test]
    fn each_export_form_the_page_uses_is_named_and_kept() {
        let m = parse(
            "export function f() {}\n\
             export async function g() {}\n\
             export const $ = (id) => id;\n\
             export let n = 1;\n\
             export class C {}\n\
             const hidden = 2;\n",
        )
        .unwrap();
        assert_eq!(m.exports, ["f", "g", "$", "n", "C"]);
        assert!(!m.body.contains("export"));
        assert!(m.body.contains("async function g() {}"));
        assert!(m.body.contains("const hidden = 2;"));
    }

    #[test]
    fn forms_it_does_not_understand_are_refused() {
        for source in [
            "export default function () {}\n",
            "export { a };\n",
            "import x from './x.js';\n",
            "import * as x from './x.js';\n",
            "import { a } from 'x.js';\n",
            "import { a,\n  b\n",
        ] {
            assert!(parse(source).is_err(), "{source:?}");
        }
    }

    #[test]
    fn each_module_comes_once_after_those_it_imports() {
        let js = dir_with(&[
            (
                "main.js",
                "import { b } from './b.js';\nimport { c } from './c.js';\n",
            ),
            ("b.js", "import { d } from './d.js';\nexport const b = d;\n"),
            ("c.js", "import { d } from './d.js';\nexport const c = d;\n"),
            ("d.js", "export const d = 1;\n"),
            ("unused.txt", "not a module"),
        ]);
        let script = join(&js).unwrap();
        assert_eq!(order(&script), ["d.js", "b.js", "c.js", "main.js"]);
        assert!(script.contains("const { d } = modules['d.js'];"));
        assert!(script.contains("return { b };"));
    }

    #[test]
    fn a_missing_module_is_named() {
        let js = dir_with(&[("main.js", "import { a } from './gone.js';\n")]);
        let e = join(&js).unwrap_err();
        assert!(e.contains("ui/js/gone.js is imported but missing"), "{e}");
    }

    #[test]
    fn an_import_cycle_is_refused() {
        let js = dir_with(&[
            ("main.js", "import { a } from './a.js';\n"),
            ("a.js", "import { b } from './b.js';\nexport const a = 1;\n"),
            ("b.js", "import { a } from './a.js';\nexport const b = 2;\n"),
        ]);
        let e = join(&js).unwrap_err();
        assert!(e.contains("import cycle"), "{e}");
    }

    /// The joined script runs as the modules would: in order, each in its own scope, with
    /// renamed imports. Needs Node.js (`scripts/setup` installs it).
    // Unix only: the page is joined on the build machine, and the Windows tests run under
    // Wine, which has no Node.js of its own.
    #[cfg(unix)]
    #[test]
    fn the_joined_script_runs_as_the_modules_would() {
        let js = dir_with(&[
            (
                "main.js",
                "import { greet as hello, count } from './b.js';\n\
                 const local = 'main';\n\
                 console.log(hello(local), count());\n",
            ),
            (
                "b.js",
                "import { name } from './a.js';\n\
                 const local = 'b';\n\
                 let calls = 0;\n\
                 export function greet(who) { calls += 1; return `${name}:${who}:${local}`; }\n\
                 export const count = () => calls;\n",
            ),
            (
                "a.js",
                "export const name = 'a';\nconsole.log('a first');\n",
            ),
        ]);
        let script = js.join("app.js");
        fs::write(&script, join(&js).unwrap()).unwrap();
        let out = std::process::Command::new("node")
            .arg(&script)
            .output()
            .expect("node (Node.js) runs the joined script");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "a first\na:main:b 1\n"
        );
    }

    #[test]
    fn the_page_loads_the_joined_script_and_keeps_its_other_files() {
        let ui = dir_with(&[
            (
                "index.html",
                &format!("<head>{MODULE_TAG}</head><body></body>"),
            ),
            ("styles.css", "body {}"),
            ("js/main.js", "import { a } from './a.js';\n"),
            ("js/a.js", "export const a = 1;\n"),
        ]);
        let out = ui.join("dist");
        build(&ui, &out).unwrap();
        let html = fs::read_to_string(out.join("index.html")).unwrap();
        assert_eq!(html, format!("<head>{BUNDLE_TAG}</head><body></body>"));
        assert_eq!(
            fs::read_to_string(out.join("styles.css")).unwrap(),
            "body {}"
        );
        assert!(!out.join("js").exists());
        let app = fs::read_to_string(out.join("app.js")).unwrap();
        assert_eq!(order(&app), ["a.js", "main.js"]);
    }

    #[test]
    fn a_page_that_no_longer_loads_main_js_is_refused() {
        let ui = dir_with(&[
            ("index.html", "<script src=\"js/main.js\"></script>"),
            ("js/main.js", ""),
        ]);
        let e = build(&ui, &ui.join("dist")).unwrap_err();
        assert!(e.contains("no longer has"), "{e}");
    }

    #[test]
    fn every_module_of_the_page_is_joined() {
        let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/js");
        let script = join(&js).unwrap();
        let mut joined = order(&script);
        assert_eq!(joined.last(), Some(&ENTRY));
        joined.sort_unstable();
        let mut files: Vec<String> = fs::read_dir(&js)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".js"))
            .collect();
        files.sort_unstable();
        assert_eq!(joined, files);
    }
}
