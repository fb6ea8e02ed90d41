//! Turns the reviewed model catalog (`src/catalog/models.toml`, the file
//! people edit) into compact JSON in `OUT_DIR`, which the library embeds:
//! a run then reads the catalog with the JSON parser it already uses for
//! every reply, instead of parsing TOML into a document at each start.

use std::path::PathBuf;

fn main() {
    const SOURCE: &str = "src/catalog/models.toml";
    println!("cargo::rerun-if-changed={SOURCE}");
    let text = std::fs::read_to_string(SOURCE).expect("src/catalog/models.toml is readable");
    let table: toml::Table = match toml::from_str(&text) {
        Ok(table) => table,
        Err(error) => panic!("src/catalog/models.toml is not valid TOML: {error}"),
    };
    let json = serde_json::to_string(&table).expect("a TOML table is JSON");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("models.json"), json).expect("OUT_DIR is writable");
}
