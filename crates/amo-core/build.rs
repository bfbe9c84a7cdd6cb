//! Embeds every catalogue in `locales/`: adding a language is adding one file there.

use std::{env, fs, path::PathBuf};

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../locales");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut langs: Vec<(String, PathBuf)> = fs::read_dir(&dir)
        .expect("locales/ folder")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    langs.sort();
    let mut out = String::from("pub(crate) static CATALOGUES: &[(&str, &str)] = &[\n");
    for (code, path) in &langs {
        println!("cargo:rerun-if-changed={}", path.display());
        out.push_str(&format!(
            "    ({code:?}, include_str!({:?})),\n",
            path.canonicalize().unwrap()
        ));
    }
    out.push_str("];\n");
    fs::write(
        PathBuf::from(env::var("OUT_DIR").unwrap()).join("catalogues.rs"),
        out,
    )
    .unwrap();
}
